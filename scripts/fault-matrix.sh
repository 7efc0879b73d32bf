#!/bin/bash
# Runs the fault matrix (mpi-tests FaultMatrixTest: one fault at each phase
# of a real job's second checkpoint, the step failing or crmpi killed) and
# puts its table into docs/reliability.md, between the fault-matrix markers.
# CI runs the same test in mvn verify; this script refreshes the document.
#
# usage: scripts/fault-matrix.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/setup.sh" >/dev/null
cd "$ROOT"
mvn -B -o verify -pl mpi-tests -am -Dtest=FaultMatrixTest -Dsurefire.failIfNoSpecifiedTests=false \
  > "$ROOT/build/fault-matrix.log" 2>&1 || { echo "fault-matrix: FAILED (build/fault-matrix.log)" >&2; exit 1; }
TABLE="$ROOT/mpi-tests/target/fault-matrix.md"
DOC="$ROOT/docs/reliability.md"
{
  sed '/<!-- fault-matrix -->/q' "$DOC"
  echo "Run by \`scripts/fault-matrix.sh\` on $(date -u +%Y-%m-%d), build $(git rev-parse --short HEAD):"
  echo
  cat "$TABLE"
  sed -n '/<!-- \/fault-matrix -->/,$p' "$DOC"
} > "$DOC.tmp"
mv "$DOC.tmp" "$DOC"
cat "$TABLE"
