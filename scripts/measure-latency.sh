#!/usr/bin/env bash
# Measures three latencies of the release build and prints a table with median, min and max:
#   1. Whole-process wall time of `semslo check` on the procurement example (target 20 ms).
#   2. `semslo lint` of a generated set of 1,000 rules (target 200 ms).
#   3. Hot reload: from rewriting a policy file to the first GET /v1/policy that returns
#      the new hash, against `semslo serve` on 127.0.0.1 (target 200 ms).
# Options: --runs N (timed runs of 1 and 2, default 20), --reloads N (default 20),
# --rules N (generated rules, default 1000), --debounce DURATION (passed to `semslo serve`;
# default: the server's own), --poll-interval SECONDS (sleep between polls, default 0: the
# next poll starts when the last response arrives), --no-build.
# Needs bash 5 (EPOCHREALTIME), curl and awk. Every server it starts listens on 127.0.0.1
# only and is stopped with SIGTERM at the end.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

runs=20
reloads=20
rules=1000
debounce=""
poll_interval=0
build=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --reloads) reloads=$2; shift 2 ;;
    --rules) rules=$2; shift 2 ;;
    --debounce) debounce=$2; shift 2 ;;
    --poll-interval) poll_interval=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    *)
      echo "measure-latency.sh: unknown option $1 (expected --runs, --reloads, --rules, --debounce, --poll-interval or --no-build)" >&2
      exit 2
      ;;
  esac
done
for tool in curl awk; do
  command -v "$tool" >/dev/null || { echo "measure-latency.sh: $tool not found on PATH" >&2; exit 2; }
done
[[ -n "${EPOCHREALTIME:-}" ]] || { echo "measure-latency.sh: needs bash 5 or newer for EPOCHREALTIME" >&2; exit 2; }

if [[ $build == 1 ]]; then
  cargo build --locked --release --bin semslo --example generate_rules
fi
release="${CARGO_TARGET_DIR:-target}/release"
semslo="$release/semslo"
generator="$release/examples/generate_rules"
records=examples/procurement/runs.jsonl

work=$(mktemp -d /tmp/semslo-latency.XXXXXX)
server_pid=""
cleanup() {
  if [[ -n $server_pid ]]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# Milliseconds between two EPOCHREALTIME readings (seconds with microseconds).
elapsed_ms() {
  awk -v start="$1" -v end="$2" 'BEGIN { printf "%.2f\n", (end - start) * 1000 }'
}

# Prints "median min max" of the numbers in a file, one a line.
summarize() {
  sort -g "$1" | awk '{ value[NR] = $1 }
    END {
      if (NR == 0) { print "- - -"; exit }
      median = (NR % 2) ? value[(NR + 1) / 2] : (value[NR / 2] + value[NR / 2 + 1]) / 2
      printf "%.1f %.1f %.1f\n", median, value[1], value[NR]
    }'
}

rows="$work/rows"
: > "$rows"
# Appends a table row: label, sample file, target in ms.
add_row() {
  local label=$1 samples=$2 target=$3 median min max result count
  read -r median min max < <(summarize "$samples")
  count=$(wc -l < "$samples")
  result="no"
  if [[ $median != "-" ]] && awk -v m="$median" -v t="$target" 'BEGIN { exit !(m < t) }'; then
    result="yes"
  fi
  [[ $target == "-" ]] && result="-"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$count" "$median" "$min" "$max" "$target" "$result" >> "$rows"
}

# Times `runs` runs of a command after one warm-up run, into the named sample file. Exit
# codes in `allowed` (space-separated) count as success; any other stops the script.
time_command() {
  local samples=$1 allowed=$2
  shift 2
  : > "$samples"
  local i start end status
  for ((i = 0; i <= runs; i++)); do
    start=$EPOCHREALTIME
    status=0
    "$@" > "$work/out" 2> "$work/err" || status=$?
    end=$EPOCHREALTIME
    if [[ " $allowed " != *" $status "* ]]; then
      echo "measure-latency.sh: '$*' exited with $status; its standard error:" >&2
      cat "$work/err" >&2
      exit 1
    fi
    # The first run only warms the page cache.
    if ((i > 0)); then
      elapsed_ms "$start" "$end" >> "$samples"
    fi
  done
}

# Peak resident set size in KiB of one run, when GNU time is installed.
peak_rss_kib() {
  if [[ -x /usr/bin/time ]]; then
    /usr/bin/time -f '%M' -o "$work/rss" "$@" > /dev/null 2>&1 || true
    # GNU time writes "Command exited with non-zero status N" before the figure.
    tail -n 1 "$work/rss"
  else
    echo "-"
  fi
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "revision: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- src 2>/dev/null || echo ' (src/ has uncommitted changes)')"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

# 1. Start-up and the main job.
time_command "$work/version" "0" "$semslo" --version
add_row "semslo --version (process floor)" "$work/version" "-"
time_command "$work/counts" "0 1" "$semslo" check --policy policies/procurement --records "$records" --format counts
add_row "check --format counts (procurement, 1,000 runs)" "$work/counts" 20
counts_rss=$(peak_rss_kib "$semslo" check --policy policies/procurement --records "$records" --format counts)
time_command "$work/main_job" "0 1" "$semslo" check --policy policies/procurement --records "$records"
add_row "check, README main job (text output)" "$work/main_job" 20
main_rss=$(peak_rss_kib "$semslo" check --policy policies/procurement --records "$records")

# 2. Lint of a generated set.
generated="$work/generated"
"$generator" "$generated" --rules "$rules" > /dev/null
lint_status=0
"$semslo" lint --format plain "$generated" > "$work/lint.txt" 2>&1 || lint_status=$?
if [[ $lint_status != 0 ]]; then
  echo "measure-latency.sh: semslo lint found errors in the generated set (exit $lint_status):" >&2
  cat "$work/lint.txt" >&2
  exit 1
fi
lint_summary=$(tail -n 1 "$work/lint.txt")
time_command "$work/lint" "0" "$semslo" lint "$generated"
add_row "lint $rules generated rules" "$work/lint" 200
lint_rss=$(peak_rss_kib "$semslo" lint "$generated")

# 3. Hot reload.
# Starts `semslo serve` on a policy directory and sets `server_pid` and `address`.
start_server() {
  local policy=$1 log=$2 i
  local options=(serve --listen 127.0.0.1:0 --policy "$policy" --store "$work/store.db" --log-format json)
  [[ -n $debounce ]] && options+=(--debounce "$debounce")
  rm -f "$work"/store.db*
  RUST_LOG=info "$semslo" "${options[@]}" > /dev/null 2> "$log" &
  server_pid=$!
  address=""
  for ((i = 0; i < 200; i++)); do
    address=$(grep -o '"message":"semslo serve listening","address":"127\.0\.0\.1:[0-9]*"' "$log" 2>/dev/null | head -n 1 | sed 's/.*"address":"//; s/"$//') || true
    [[ -n $address ]] && return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.05
  done
  echo "measure-latency.sh: semslo serve did not report a listening address; its log:" >&2
  cat "$log" >&2
  exit 1
}

stop_server() {
  kill -TERM "$server_pid"
  wait "$server_pid" || true
  server_pid=""
}

# Prints the top-level "hash" of GET /v1/policy, or nothing when the request fails.
live_hash() {
  local body
  body=$(curl -s --max-time 2 "http://$address/v1/policy") || return 0
  [[ $body =~ ^\{[^\[]*\"hash\":\"(sha256:[0-9a-f]+)\" ]] && echo "${BASH_REMATCH[1]}"
  return 0
}

# Prints the time in seconds since the epoch of the server's log line that applied `hash`.
applied_at() {
  local log=$1 hash=$2 timestamp
  timestamp=$(grep -F '"message":"policy set reloaded"' "$log" | grep -F "\"hash\":\"$hash\"" | head -n 1 \
    | sed 's/^{"timestamp":"\([^"]*\)".*/\1/')
  [[ -n $timestamp ]] && date -d "$timestamp" +%s.%N
  return 0
}

# Rewrites `file` in place `reloads` times, each time appending " (revision N)" to its first
# rule title, and records the milliseconds until GET /v1/policy returns a new hash. Also
# records the number of polls, the milliseconds from the write to the server's log line of
# the applied reload, and the reload's own duration as GET /v1/policy reports it.
measure_reloads() {
  local policy=$1 file=$2 samples=$3 log=$4
  local original="$work/original.slo" next="$work/next.slo"
  local i start end hash previous polls logged
  cp "$file" "$original"
  : > "$samples"
  : > "$samples.polls"
  : > "$samples.logged"
  : > "$samples.server"
  start_server "$policy" "$log"
  previous=$(live_hash)

  for ((i = 1; i <= reloads; i++)); do
    awk -v revision="$i" '!done && /^  title +"/ { sub(/"[ \t]*$/, " (revision " revision ")\""); done = 1 } { print }' \
      "$original" > "$next"

    polls=0
    start=$EPOCHREALTIME
    cat "$next" > "$file"
    while :; do
      hash=$(live_hash)
      polls=$((polls + 1))
      [[ -n $hash && $hash != "$previous" ]] && break
      [[ $poll_interval == 0 ]] || sleep "$poll_interval"
      if awk -v s="$start" -v now="$EPOCHREALTIME" 'BEGIN { exit !(now - s > 10) }'; then
        echo "measure-latency.sh: no new policy hash 10 s after rewriting $file; server log:" >&2
        tail -n 20 "$log" >&2
        exit 1
      fi
    done
    end=$EPOCHREALTIME

    elapsed_ms "$start" "$end" >> "$samples"
    echo "$polls" >> "$samples.polls"
    curl -s --max-time 2 "http://$address/v1/policy" \
      | grep -o '"last":{"outcome":"applied"[^}]*"duration_seconds":[0-9.e-]*' \
      | sed 's/.*"duration_seconds"://' \
      | awk '{ printf "%.2f\n", $1 * 1000 }' >> "$samples.server" || true
    logged=$(applied_at "$log" "$hash")
    [[ -n $logged ]] && elapsed_ms "$start" "$logged" >> "$samples.logged"
    previous=$hash

    # Lets the watcher settle so the next write starts from a quiet state.
    sleep 0.5
  done

  reload_counts=$(curl -s --max-time 2 "http://$address/v1/policy" | grep -o '"counts":{[^}]*}' || echo "-")
  stop_server
}

procurement="$work/procurement"
cp -r policies/procurement "$procurement"
measure_reloads "$procurement" "$procurement/procurement.slo" "$work/reload_small" "$work/serve_small.log"
small_counts=$reload_counts
add_row "reload, procurement (6 rules, 20 tests)" "$work/reload_small" 200
measure_reloads "$generated" "$generated/rules_00.slo" "$work/reload_large" "$work/serve_large.log"
large_counts=$reload_counts
add_row "reload, generated ($rules rules)" "$work/reload_large" 200

echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
{
  printf 'measurement\truns\tmedian ms\tmin ms\tmax ms\ttarget ms\tmedian under target\n'
  cat "$rows"
} | if command -v column > /dev/null; then column -t -s $'\t'; else cat; fi
echo
echo "peak RSS (KiB): check --format counts $counts_rss, main job $main_rss, lint $lint_rss"
echo "lint of the generated set: $lint_summary"
read -r small_polls _ < <(summarize "$work/reload_small.polls")
read -r large_polls _ < <(summarize "$work/reload_large.polls")
read -r small_server _ < <(summarize "$work/reload_small.server")
read -r large_server _ < <(summarize "$work/reload_large.server")
read -r small_logged _ < <(summarize "$work/reload_small.logged")
read -r large_logged _ < <(summarize "$work/reload_large.logged")
echo "reload, procurement: median $small_polls polls; write to 'policy set reloaded' log line median $small_logged ms;" \
  "reload itself median $small_server ms; $small_counts"
echo "reload, generated: median $large_polls polls; write to 'policy set reloaded' log line median $large_logged ms;" \
  "reload itself median $large_server ms; $large_counts"
echo "debounce: ${debounce:-server default (50ms)}; poll interval: ${poll_interval} s"
