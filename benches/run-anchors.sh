#!/usr/bin/env bash
# Runs the anchor benchmark (the harness in ../shared/bench, or $SEMSLO_BENCH_HARNESS)
# with semslo added as two more anchors, one core and two cores, in the same run as
# the anchors, and prints the harness's table. The harness checks that every
# anchor reports the same counts.
#
# usage: benches/run-anchors.sh [N]        (default N = 200000 records, about 757 MB)
# env:   RUNS=3, ONLY=..., SKIP=...        passed on to the harness
#        SEMSLO_BENCH_HARNESS=DIR          the harness folder (default ../shared/bench)
#        SEMSLO_BENCH_WORK=DIR             data, results and builds (default target/bench)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HARNESS="${SEMSLO_BENCH_HARNESS:-$ROOT/../shared/bench}"
WORK="${SEMSLO_BENCH_WORK:-$ROOT/target/bench}"
N="${1:-200000}"

[ -x "$HARNESS/run-anchors.sh" ] || { echo "run-anchors: no harness at $HARNESS (set SEMSLO_BENCH_HARNESS)" >&2; exit 1; }
mkdir -p "$WORK/data" "$WORK/results" "$WORK/target" "$WORK/policy/data"

echo "== build semslo (release)" >&2
(cd "$ROOT" && cargo build --release --locked --quiet)
# A relative CARGO_TARGET_DIR is relative to the project, where cargo ran.
case "${CARGO_TARGET_DIR:-target}" in
  /*) SEMSLO="$CARGO_TARGET_DIR/release/semslo" ;;
  *) SEMSLO="$ROOT/${CARGO_TARGET_DIR:-target}/release/semslo" ;;
esac
cp "$ROOT/benches/procurement/bench.slo" "$WORK/policy/"

# The harness generates its reference data beside the records; the wrapper copies it
# into the policy's directory (policies read data only from there) and runs semslo.
# The generated runs carry violations on purpose, so semslo's exit status 1 (violations
# found) is a success here. The harness treats any other non-zero status as a failure.
cat > "$WORK/semslo-anchor.sh" <<WRAPPER
#!/usr/bin/env bash
set -uo pipefail
cp "\$1/deprioritized_vendors.txt" "\$1/price_bands.csv" "$WORK/policy/data/" || exit 2
"$SEMSLO" check --policy "$WORK/policy" --records "\$2" --format counts --jobs "\$3"
status=\$?
[ "\$status" -eq 1 ] && exit 0
exit "\$status"
WRAPPER
chmod +x "$WORK/semslo-anchor.sh"

cat > "$WORK/anchors.txt" <<ANCHORS
semslo-1-core|rules|$WORK/semslo-anchor.sh {REF} {FILE} 1
semslo-2-cores|rules|$WORK/semslo-anchor.sh {REF} {FILE} 2
ANCHORS

DATA_DIR="$WORK/data" RESULTS_DIR="$WORK/results" CARGO_TARGET_DIR="$WORK/target" \
  EXTRA_ANCHORS="$WORK/anchors.txt" "$HARNESS/run-anchors.sh" "$N"
