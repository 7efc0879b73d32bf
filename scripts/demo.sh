#!/bin/bash
# The crmpi demo on the embedded local mode: a real 4-rank Open MPI job runs
# under crmpi with a checkpoint every 2 seconds; one rank is killed with
# SIGKILL; crmpi restores the job from its last committed checkpoint; the
# status table is shown and the output is compared byte for byte with an
# uninterrupted run of the same program without crmpi.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/setup.sh"
make -s -C "$ROOT/mpi-tests/src/main/c" OUT="$ROOT/mpi-tests/target/bin"

DEMO="$ROOT/build/demo"
rm -rf "$DEMO"
mkdir -p "$DEMO/work" "$DEMO/reference"
export CRMPI_STATE_DIR="$DEMO/state"
RING="$ROOT/mpi-tests/target/bin/ring"
ITERS=4000

echo "== the uninterrupted reference run (no crmpi)"
(cd "$DEMO/reference" && OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
  mpirun -np 4 --oversubscribe "$RING" "$ITERS" > /dev/null)

echo "== crmpi run --name ring --interval 2s -- mpirun -np 4 ring $ITERS"
cd "$DEMO/work"
"$ROOT/bin/crmpi" run --name ring --interval 2s --keep 3 --max-restarts 5 -- \
  mpirun -np 4 --oversubscribe "$RING" "$ITERS" &
CRMPI=$!

# Wait for two committed checkpoints, then kill one rank with SIGKILL.
for _ in $(seq 1 600); do
  n=$(grep -c '"kind":"committed"' "$CRMPI_STATE_DIR/jobs/ring/history.jsonl" 2>/dev/null || true)
  [ "${n:-0}" -ge 2 ] && break
  sleep 0.1
done
RANK=$(pgrep -f "^$RING $ITERS" | tail -1 || true)
if [ -n "$RANK" ]; then
  echo "== kill -9 of rank pid $RANK"
  kill -9 "$RANK"
fi
wait "$CRMPI"

echo "== crmpi status ring"
"$ROOT/bin/crmpi" status ring
echo "== crmpi manifest ring (newest epoch)"
"$ROOT/bin/crmpi" manifest ring | head -12
if cmp "$DEMO/reference/ring.out" "$DEMO/work/ring.out"; then
  echo "== ring.out is byte-identical to the uninterrupted run"
else
  echo "== ring.out DIFFERS from the uninterrupted run" >&2
  exit 1
fi
