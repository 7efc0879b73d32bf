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

# Ping-pong at every size, the three configurations interleaved round by round (drift on the machine
# hits all three alike); each run reports, per size, the median of 11 samples of many round trips.
PP_ROUNDS=${PP_ROUNDS:-5}
for round in $(seq 1 "$PP_ROUNDS"); do
  for config in plain preloaded crmpi; do
    log "ping-pong round $round of $PP_ROUNDS ($config)"
    run "$config" "pp-$config-$round" 2 "$BIN/pingpong" 20000 11
  done
done
PP_TABLE=$(python3 - "$B" "$PP_ROUNDS" <<'PY2'
import statistics, sys
base, rounds = sys.argv[1], int(sys.argv[2])
lat = {}
for config in ("plain", "preloaded", "crmpi"):
    for r in range(1, rounds + 1):
        for line in open("%s/pp-%s-%d/stdout" % (base, config, r)):
            f = line.split()
            if len(f) == 3 and f[0].isdigit():
                lat.setdefault((config, int(f[0])), []).append(float(f[1]))
def pct(c, p):
    return "%+.1f%%" % ((c - p) * 100 / p)
for size in sorted({k[1] for k in lat}):
    p, pre, c = (statistics.median(lat[(x, size)]) for x in ("plain", "preloaded", "crmpi"))
    print("| %d | %.0f | %.0f (%s) | %.0f (%s) |" % (size, p, pre, pct(pre, p), c, pct(c, p)))
PY2
)

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
  echo "## Ping-pong latency at every size (\`pingpong\`, 2 ranks, shared memory)"
  echo
  echo "One-way latency in ns: each run takes, per size, the median of 11 samples of 20,000 round trips"
  echo "(2,000 from 32 KiB, 200 from 256 KiB), so the timer's resolution is spread over the messages; the"
  echo "three configurations run interleaved, $PP_ROUNDS rounds, and each cell is the median of the rounds."
  echo "In parentheses: the difference from *plain*."
  echo
  echo "| bytes | plain, ns | preloaded, ns | crmpi, ns |"
  echo "|---|---|---|---|"
  echo "$PP_TABLE"
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
