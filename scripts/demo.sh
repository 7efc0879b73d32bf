#!/bin/bash
# The crmpi demo on the embedded local mode: a real 4-rank Open MPI job of an
# ordinary user (crmpi-demo, created here) runs under crmpi with a
# checkpoint every 2 seconds, its node tree run as that user by crmpid (the
# node daemon that scripts/setup.sh starts); one rank is killed with
# SIGKILL; crmpi restores the job from its last committed checkpoint; the
# status table is shown and the output is compared byte for byte with an
# uninterrupted run of the same program without crmpi.
#
# With CRMPI_HOME set to an installed crmpi (the unpacked tarball, or
# /opt/crmpi) the demo runs that installation's bin/crmpi instead of this
# checkout's, and sets nothing up (scripts/package-test.sh does so against
# a crmpid of the installation's own, named by CRMPI_DAEMON_SOCKET).
# DEMO_DIR moves the demo's files (default build/demo). The demo empties
# that directory before it starts, so it refuses one that holds anything
# it did not make (its marker file .crmpi-demo is missing).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -z "${CRMPI_HOME:-}" ]; then
  "$ROOT/scripts/setup.sh"
fi
CRMPI_BIN="${CRMPI_HOME:-$ROOT}/bin/crmpi"
make -s -C "$ROOT/mpi-tests/src/main/c" OUT="$ROOT/mpi-tests/target/bin"

DEMO="${DEMO_DIR:-$ROOT/build/demo}"
DEMO_USER=crmpi-demo
id "$DEMO_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$DEMO_USER"
MARKER="$DEMO/.crmpi-demo"
if [ -n "${DEMO_DIR:-}" ] && [ -e "$DEMO" ] && [ ! -f "$MARKER" ] && [ -n "$(ls -A "$DEMO" 2>/dev/null)" ]; then
  echo "demo: $DEMO is not empty and was not made by this demo (no $MARKER);" \
    "choose an empty or new directory with DEMO_DIR=..." >&2
  exit 2
fi
rm -rf "$DEMO"
mkdir -p "$DEMO/work" "$DEMO/reference" "$DEMO/state"
touch "$MARKER"
chmod 0755 "$DEMO"
chown "$DEMO_USER:" "$DEMO/work" "$DEMO/reference" "$DEMO/state"
export CRMPI_STATE_DIR="$DEMO/state"
AS_USER=(runuser -u "$DEMO_USER" -- env CRMPI_STATE_DIR="$CRMPI_STATE_DIR")
if [ -n "${CRMPI_DAEMON_SOCKET:-}" ]; then
  AS_USER+=(CRMPI_DAEMON_SOCKET="$CRMPI_DAEMON_SOCKET")
fi
RING="$ROOT/mpi-tests/target/bin/ring"
ITERS=4000

echo "== as user $DEMO_USER: the uninterrupted reference run (no crmpi)"
(cd "$DEMO/reference" && runuser -u "$DEMO_USER" -- mpirun -np 4 --oversubscribe "$RING" "$ITERS" > /dev/null)

echo "== as user $DEMO_USER: $CRMPI_BIN run --name ring --interval 2s -- mpirun -np 4 ring $ITERS"
cd "$DEMO/work"
"${AS_USER[@]}" "$CRMPI_BIN" run --name ring --interval 2s --keep 3 --max-restarts 5 -- \
  mpirun -np 4 --oversubscribe "$RING" "$ITERS" &
CRMPI=$!

# Wait for two committed checkpoints, then kill one rank with SIGKILL.
for _ in $(seq 1 600); do
  n=$(grep -c '"kind":"committed"' "$CRMPI_STATE_DIR/jobs/ring/history.jsonl" 2>/dev/null || true)
  [ "${n:-0}" -ge 2 ] && break
  sleep 0.1
done
echo "== the job's processes (run as $DEMO_USER by crmpid)"
ps -o user,pid,cmd -u "$DEMO_USER" | grep -E "mpirun|$RING" | grep -v grep || true
RANK=$(pgrep -u "$DEMO_USER" -f "^$RING $ITERS" | tail -1 || true)
if [ -z "$RANK" ]; then
  echo "== no rank of the job found to kill (did it end before two checkpoints?)" >&2
  wait "$CRMPI" || true
  exit 1
fi
echo "== kill -9 of rank pid $RANK"
kill -9 "$RANK"
wait "$CRMPI"
if ! grep -q '"kind":"restart","epoch":[1-9]' "$CRMPI_STATE_DIR/jobs/ring/history.jsonl"; then
  echo "== the job was not restored from a checkpoint" >&2
  exit 1
fi

echo "== crmpi status ring"
"${AS_USER[@]}" "$CRMPI_BIN" status ring
echo "== crmpi manifest ring (newest epoch)"
"${AS_USER[@]}" "$CRMPI_BIN" manifest ring | head -12
if cmp "$DEMO/reference/ring.out" "$DEMO/work/ring.out"; then
  echo "== ring.out is byte-identical to the uninterrupted run"
else
  echo "== ring.out DIFFERS from the uninterrupted run" >&2
  exit 1
fi
