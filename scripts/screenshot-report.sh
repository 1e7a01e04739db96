#!/usr/bin/env bash
# Renders the HTML report of the procurement example and takes a screenshot of it
# in headless Chromium (Debian's `chromium` package), to look at the page as a
# reader would. Fails when the page or the PNG is missing or the PNG is tiny.
#
# Usage: scripts/screenshot-report.sh [OUTPUT_DIR]   (default: target/report-screenshot)
# Not part of `cargo test`: it needs Chromium, which it installs with apt-get
# when it is missing and the script runs as root.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

out_dir="${1:-target/report-screenshot}"
mkdir -p "$out_dir"
out_dir="$(cd "$out_dir" && pwd)"
html="$out_dir/procurement-report.html"
png="$out_dir/procurement-report.png"
# Below this size the PNG contains a blank or error page rather than the report.
min_png_bytes=50000

if ! command -v chromium >/dev/null; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    apt-get update
    apt-get install -y chromium
  else
    echo "screenshot-report: chromium is missing; install Debian's chromium package" >&2
    exit 1
  fi
fi

cargo build --locked --release
set +e
"${CARGO_TARGET_DIR:-target}/release/semslo" report --policy policies/procurement --records examples/procurement/runs.jsonl \
  --format html --output "$html"
status=$?
set -e
# Exit 1 only means the example misses its SLOs, which it does on purpose.
if [ "$status" -ne 0 ] && [ "$status" -ne 1 ]; then
  echo "screenshot-report: semslo report exited $status" >&2
  exit 1
fi
if [ ! -s "$html" ]; then
  echo "screenshot-report: no HTML was written to $html" >&2
  exit 1
fi

profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
rm -f "$png"
chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
  --disable-component-update --disable-sync --no-first-run --user-data-dir="$profile" \
  --hide-scrollbars --screenshot="$png" --window-size=1280,2400 "file://$html" 2>"$out_dir/chromium.log" || true

if [ ! -f "$png" ]; then
  echo "screenshot-report: chromium wrote no screenshot; see $out_dir/chromium.log" >&2
  exit 1
fi
size=$(stat -c %s "$png")
if [ "$size" -lt "$min_png_bytes" ]; then
  echo "screenshot-report: $png has only $size bytes, expected at least $min_png_bytes" >&2
  exit 1
fi
echo "screenshot-report: $png ($size bytes) from $html"
