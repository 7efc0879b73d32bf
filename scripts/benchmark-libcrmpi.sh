#!/bin/bash
# Measures libcrmpi: the cost of its interposition on point-to-point latency
# and bandwidth (NetPIPE, Debian's netpipe-openmpi) and on an MPI_Allreduce
# loop, with and without the library, in the same run; and the time a
# quiesce takes at 4 and 16 ranks. Writes docs/benchmarks-libcrmpi.md.
#
# Three configurations of the same binaries:
#   plain      mpirun, no libcrmpi
#   preloaded  LD_PRELOAD=libcrmpi.so, no crmpi agent (the library stays passive)
#   crmpi      under `crmpi run --interval none` with libcrmpi active (counting,
#              wait loops), no checkpoint taken during the measurement
#
# Every job runs as the ordinary user crmpi-bench (created here), its node
# tree through crmpid; nothing of the job runs as root.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/setup.sh" >/dev/null
if ! command -v NPopenmpi >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get -q install -y netpipe-openmpi >/dev/null
fi
make -s -C "$ROOT/mpi-tests/src/main/c" OUT="$ROOT/mpi-tests/target/bin"
B="$ROOT/build/bench-libcrmpi"
BENCH_USER=crmpi-bench
id "$BENCH_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$BENCH_USER"
rm -rf "$B"; mkdir -p "$B/state"; chmod 0755 "$B"; chown "$BENCH_USER:" "$B/state"
export CRMPI_STATE_DIR="$B/state"
AS=(runuser -u "$BENCH_USER" -- env CRMPI_STATE_DIR="$CRMPI_STATE_DIR")
CRMPI="$ROOT/bin/crmpi"
LIB="$ROOT/native/target/bin/libcrmpi.so"
BIN="$ROOT/mpi-tests/target/bin"
log() { echo "benchmark-libcrmpi: $*" >&2; }

# run CONFIG NAME RANKS PROGRAM ARGS...: runs in $B/NAME, output in $B/NAME/stdout
run() {
  local config=$1 name=$2 ranks=$3; shift 3
  local dir="$B/$name"; mkdir -p "$dir"; chown "$BENCH_USER:" "$dir"
  case "$config" in
    plain) (cd "$dir" && "${AS[@]}" mpirun -np "$ranks" --oversubscribe "$@" > stdout 2>&1) ;;
    preloaded) (cd "$dir" && "${AS[@]}" mpirun -np "$ranks" --oversubscribe -x LD_PRELOAD="$LIB" "$@" > stdout 2>&1) ;;
    crmpi) (cd "$dir" && "${AS[@]}" "$CRMPI" run --name "$name" --interval none -- \
      mpirun -np "$ranks" --oversubscribe -x LD_PRELOAD="$LIB" "$@" > stdout 2> stderr) ;;
  esac
}

# NetPIPE: latency of 1-byte messages (us) and bandwidth at 1 MiB (Mbit/s), from np.out.
np_latency() { awk '$1 == 1 { printf "%.3f", $3 * 1e6 }' "$1/np.out"; }
np_bandwidth() { awk '$1 == 1048576 { printf "%.0f", $2 }' "$1/np.out"; }

NP_ROWS=(); AR_ROWS=()
for config in plain preloaded crmpi; do
  log "NetPIPE ($config)"
  run "$config" "np-$config" 2 "$(command -v NPopenmpi)" -u 1048576
  NP_ROWS+=("| $config | $(np_latency "$B/np-$config") | $(np_bandwidth "$B/np-$config") |")
  log "allreduce loop ($config)"
  run "$config" "ar-$config" 2 "$BIN/allreduce_bench" 20000 8
  AR_ROWS+=("| $config | $(sed -n 's/.*: \([0-9.]*\) us per call/\1/p' "$B/ar-$config/stdout") |")
done

Q_ROWS=()
for ranks in 4 16; do
  name="quiesce$ranks"
  log "quiesce time at $ranks ranks"
  mkdir -p "$B/$name"; chown "$BENCH_USER:" "$B/$name"
  (cd "$B/$name" && exec "${AS[@]}" "$CRMPI" run --name "$name" --interval none --prepare-timeout 60s -- \
    mpirun -np "$ranks" --oversubscribe -x LD_PRELOAD="$LIB" "$BIN/inflight" 100000 > stdout 2> stderr) &
  JOB=$!
  for _ in $(seq 1 600); do grep -q "25/100000" "$B/$name/stdout" 2>/dev/null && break; sleep 0.1; done
  for _ in 1 2 3 4 5; do "${AS[@]}" "$CRMPI" checkpoint "$name" >/dev/null; done
  kill "$JOB"; wait "$JOB" 2>/dev/null || true
  TIMES=$(sed -n "s/.*quiesced $ranks ranks in \([0-9]*\) ms/\1/p" "$CRMPI_STATE_DIR/jobs/$name/crmpi.log" | tr '\n' ' ')
  Q_ROWS+=("| $ranks | $TIMES |")
done

OUT="$ROOT/docs/benchmarks-libcrmpi.md"
{
  echo "# libcrmpi benchmarks"
  echo
  echo "Produced by \`scripts/benchmark-libcrmpi.sh\` on $(date -u +%Y-%m-%d) ($(nproc) cores, Linux $(uname -r),"
  echo "$(mpirun --version | head -1)). *plain*: no libcrmpi; *preloaded*: \`LD_PRELOAD=libcrmpi.so\` without an"
  echo "agent (the library answers \"not present\" and passes every call through); *crmpi*: under \`crmpi run\`, the"
  echo "library active (bookmarks, interruptible wait loops), no checkpoint during the measurement."
  echo
  echo "## Point to point (NetPIPE \`NPopenmpi\`, 2 ranks, shared memory)"
  echo
  echo "| configuration | latency, 1 byte, us | bandwidth, 1 MiB, Mbit/s |"
  echo "|---|---|---|"
  printf '%s\n' "${NP_ROWS[@]}"
  echo
  echo "## MPI_Allreduce of 8 doubles (2 ranks, best of 5 rounds of 20000 calls)"
  echo
  echo "| configuration | us per call |"
  echo "|---|---|"
  printf '%s\n' "${AR_ROWS[@]}"
  echo
  echo "## Quiesce time (\`inflight\`, messages always in flight; 5 checkpoints each)"
  echo
  echo "From PREPARE to every rank drained and disconnected, as the agent logs it (\"quiesced N ranks in X ms\")."
  echo "The machine has 2 cores: 16 ranks are heavily oversubscribed."
  echo
  echo "| ranks | quiesce, ms |"
  echo "|---|---|"
  printf '%s\n' "${Q_ROWS[@]}"
} > "$OUT"
cat "$OUT"
