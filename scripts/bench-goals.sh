#!/usr/bin/env bash
# The end of `make bench`: every goal the benches recorded (target/bench-goals.tsv, written by
# domain/benches/common/goals.rs), as one table; exits non-zero when any was missed or none was
# recorded.
set -euo pipefail
file=${1:-target/bench-goals.tsv}
if [ ! -s "$file" ]; then
  echo "no bench goals were recorded in $file" >&2
  exit 1
fi
echo
echo "Goals of this run:"
table() { printf 'bench\tfigure\tmeasured\tgoal\tverdict\n'; cat "$file"; }
if command -v column >/dev/null; then table | column -t -s $'\t'; else table; fi
missed=$(grep -c $'\tMISSED$' "$file" || true)
if [ "$missed" -gt 0 ]; then
  echo "$missed goal(s) missed" >&2
  exit 1
fi
echo "every goal met"
