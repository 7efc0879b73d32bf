#!/bin/bash
# How long coordinating one global checkpoint takes at scale, without any
# image I/O: the real coordinator (prepare, dump, resume, persist, commit
# and retention) against 16, 128 and 1024 simulated node agents in one JVM,
# each answering every request on another thread after 0 or 200 us (a
# network round trip), with the real checkpoint store on a tmpfs (the
# manifest of every node is written, fsynced and renamed; no disk). Writes
# docs/benchmarks-coordination.md.
#
# usage: scripts/benchmark-coordination.sh [EPOCHS]   (default 200 per configuration)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
EPOCHS=${1:-200}
cd "$ROOT"
mvn -q -B -o package -DskipTests -pl plugin -am
mvn -q -B -o test-compile -pl coordinated-cr -am
DIR=$(mktemp -d /dev/shm/crmpi-coordination.XXXXXX)
trap 'rm -rf "$DIR"' EXIT
CP="$ROOT/coordinated-cr/target/test-classes:$ROOT/plugin/target/lib/*"
echo "benchmark-coordination: $EPOCHS epochs per configuration (after 30 to warm up)" >&2
ROWS=$(java -Xmx1g -cp "$CP" io.crmpi.coordinator.CoordinationBenchmark "$DIR" "$EPOCHS" 16,128,1024 0,200)
OUT="$ROOT/docs/benchmarks-coordination.md"
{
  echo "# Coordination at scale"
  echo
  echo "Produced by \`scripts/benchmark-coordination.sh $EPOCHS\` on $(date -u +%Y-%m-%d) ($(nproc) cores,"
  echo "$(java -version 2>&1 | head -1), Linux $(uname -r)). The real \`CheckpointCoordinator\` commits"
  echo "$EPOCHS global checkpoints in a row (after 30 to warm up) against N simulated node agents in one"
  echo "JVM (\`SimulatedAgent\`: every request answered on a pool of 4 threads after a fixed delay, no file"
  echo "touched), with the real \`FileCheckpointStore\` on a tmpfs: each epoch's manifest of N nodes is"
  echo "written, fsynced and renamed, and retention (keep 2) deletes the epoch before. No image is written:"
  echo "this is the cost of the protocol itself, from the prepare to the commit."
  echo
  echo "| agents | reply delay, us | epochs | median, ms | 90th percentile, ms | 99th percentile, ms | max, ms |"
  echo "|---|---|---|---|---|---|---|"
  echo "$ROWS"
  echo
  echo "Each epoch is five rounds to every agent (prepare, dump, resume, persist, and the commit's own"
  echo "work); a reply delay d adds about 4 d to an epoch. The goal (issue \"Checkpoints at node speed\") is"
  echo "prepare to commit in at most 250 ms at 1,024 agents."
} > "$OUT"
cat "$OUT"
