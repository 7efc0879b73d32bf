#!/bin/bash
# Runs local-mode integration tests (mpi-tests, jobs of the ordinary user
# crmpi-test1 under the test's own crmpid) many times in a row and counts
# the passes: the loop that tells a scenario that passes every time from one
# that passes most of the time. Not part of CI (CI runs each once). A run
# that leaves something behind (scripts/leftovers.sh: a cgroup, a veth, an
# nftables table, a mount, a test user's process) fails.
#
# usage: scripts/stress-local.sh [-o FILE] TESTS N [MAVEN-OPTION...]
#   e.g. scripts/stress-local.sh SlurmAgentFaultTest 3 -Dcrmpi.agentFaults=all
#   TESTS  surefire's -Dtest value, e.g. DumpTimeoutTest or 'WorkdirRollbackTest,FaultMatrixTest'
#   N      runs
#   -o     append the result line to FILE (e.g. docs/reliability.md)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT=""
while getopts "o:" opt; do
  case $opt in
    o) OUT=$OPTARG ;;
    *) echo "usage: scripts/stress-local.sh [-o FILE] TESTS N" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
TESTS=${1:?usage: scripts/stress-local.sh [-o FILE] TESTS N}
N=${2:?usage: scripts/stress-local.sh [-o FILE] TESTS N}
shift 2
EXTRA=("$@")
case "$N" in ''|*[!0-9]*) echo "stress-local: N must be a positive number" >&2; exit 2 ;; esac
"$ROOT/scripts/setup.sh" > "$ROOT/build/stress-local-setup.log" 2>&1 || { echo "stress-local: setup failed: $ROOT/build/stress-local-setup.log" >&2; exit 1; }
cd "$ROOT"
LOGS="$ROOT/build/stress-local"
mkdir -p "$LOGS"
pass=0
for i in $(seq 1 "$N"); do
  start=$(date +%s)
  "$ROOT/scripts/leftovers.sh" > "$LOGS/before-$i.txt"
  if mvn -B -o verify -pl mpi-tests -am -Dtest="$TESTS" -Dsurefire.failIfNoSpecifiedTests=false \
      ${EXTRA[@]+"${EXTRA[@]}"} > "$LOGS/run-$i.log" 2>&1; then
    if "$ROOT/scripts/leftovers.sh" --since "$LOGS/before-$i.txt" 20 2>> "$LOGS/run-$i.log"; then
      pass=$((pass + 1)); verdict=pass
    else
      verdict="FAIL: leftovers (log: $LOGS/run-$i.log)"
    fi
  else
    verdict="FAIL (log: $LOGS/run-$i.log)"
  fi
  echo "stress-local: $TESTS run $i of $N: $verdict in $(( $(date +%s) - start )) s" >&2
done
line="| $(date -u +%Y-%m-%d) | $(git -C "$ROOT" rev-parse --short HEAD) | \`$TESTS${EXTRA[*]+ ${EXTRA[*]}}\` | $pass of $N |"
echo "$line"
[ -n "$OUT" ] && echo "$line" >> "$OUT"
[ "$pass" = "$N" ]
