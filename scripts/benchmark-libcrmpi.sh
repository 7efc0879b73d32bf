#!/bin/bash
# Measures libcrmpi: the cost of its interposition on point-to-point latency
# and bandwidth (NetPIPE, Debian's netpipe-openmpi) and on an MPI_Allreduce
# loop, with and without the library, in the same run. Writes
# docs/benchmarks-libcrmpi.md (the quiesce: scripts/benchmark-quiesce.sh).
#
# Four configurations of the same binaries:
#   plain      mpirun, no libcrmpi
#   preloaded  LD_PRELOAD=libcrmpi.so, no crmpi agent (the library stays passive)
#   bare       under `crmpi run --interval none` without libcrmpi: crmpi's
#              namespaces, cgroup and supervisor, no interposition
#   crmpi      under `crmpi run --interval none` with libcrmpi active (counting,
#              wait loops), no checkpoint taken during the measurement
# The interposition's cost is crmpi against bare (the same environment);
# crmpi against plain adds what the environment costs.
#
# Every measured program starts SETTLE seconds (default 5) after its job:
# on a machine with few cores, crmpi's JVM spends its first seconds compiling,
# and a measurement taken then would charge that start to the library.
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

SETTLE=${SETTLE:-5}
CONFIGS=(plain preloaded bare crmpi)
# run CONFIG NAME RANKS PROGRAM ARGS...: runs in $B/NAME, output in $B/NAME/stdout; the program starts
# SETTLE seconds after the job
run() {
  local config=$1 name=$2 ranks=$3; shift 3
  local dir="$B/$name"; mkdir -p "$dir"; chown "$BENCH_USER:" "$dir"
  local settled=(sh -c 'sleep "$0"; exec "$@"' "$SETTLE" "$@")
  case "$config" in
    plain) (cd "$dir" && "${AS[@]}" mpirun -np "$ranks" --oversubscribe "${settled[@]}" > stdout 2>&1) ;;
    preloaded) (cd "$dir" && "${AS[@]}" mpirun -np "$ranks" --oversubscribe -x LD_PRELOAD="$LIB" "${settled[@]}" \
      > stdout 2>&1) ;;
    bare) (cd "$dir" && "${AS[@]}" "$CRMPI" run --name "$name" --interval none -- \
      mpirun -np "$ranks" --oversubscribe "${settled[@]}" > stdout 2> stderr) ;;
    crmpi) (cd "$dir" && "${AS[@]}" "$CRMPI" run --name "$name" --interval none -- \
      mpirun -np "$ranks" --oversubscribe -x LD_PRELOAD="$LIB" "${settled[@]}" > stdout 2> stderr) ;;
  esac
}

# NetPIPE: latency of 1-byte messages (us) and bandwidth at 1 MiB (Mbit/s), from np.out.
np_latency() { awk -v n="$2" '$1 == n { printf "%.3f", $3 * 1e6 }' "$1/np.out"; }
np_bandwidth() { awk '$1 == 1048576 { printf "%.0f", $2 }' "$1/np.out"; }

NP_ROWS=(); AR_ROWS=()
for config in "${CONFIGS[@]}"; do
  log "NetPIPE ($config)"
  run "$config" "np-$config" 2 "$(command -v NPopenmpi)" -u 1048576
  NP_ROWS+=("| $config | $(np_latency "$B/np-$config" 1) | $(np_latency "$B/np-$config" 2) | $(np_bandwidth "$B/np-$config") |")
  log "allreduce loop ($config)"
  run "$config" "ar-$config" 2 "$BIN/allreduce_bench" 20000 8
  AR_ROWS+=("| $config | $(sed -n 's/.*: \([0-9.]*\) us per call/\1/p' "$B/ar-$config/stdout") |")
done

# Ping-pong at every size. Each run measures every sample twice, back to back in the same process:
# through MPI_Send/MPI_Recv (through libcrmpi when it is preloaded) and through PMPI_Send/PMPI_Recv
# (past it), so the interposition's cost is measured at the same moment on the same cores. plain shows
# the noise floor (nothing in between), nonblocking the MPI library's own PMPI_Isend/PMPI_Irecv + test
# loop (libcrmpi's shape of a blocking call) without libcrmpi. Runs interleave round by round.
PP_ROUNDS=${PP_ROUNDS:-5}
PP_CONFIGS=(plain nonblocking nb-send nb-recv preloaded crmpi)
for round in $(seq 1 "$PP_ROUNDS"); do
  for config in "${PP_CONFIGS[@]}"; do
    log "ping-pong round $round of $PP_ROUNDS ($config)"
    case "$config" in
      nonblocking) run plain "pp-$config-$round" 2 "$BIN/pingpong" 20000 11 nonblocking ;;
      nb-send) run plain "pp-$config-$round" 2 "$BIN/pingpong" 20000 11 nonblocking-send ;;
      nb-recv) run plain "pp-$config-$round" 2 "$BIN/pingpong" 20000 11 nonblocking-recv ;;
      *) run "$config" "pp-$config-$round" 2 "$BIN/pingpong" 20000 11 ;;
    esac
  done
done
PP_TABLE=$(python3 - "$B" "$PP_ROUNDS" <<'PY2'
import statistics, sys
base, rounds = sys.argv[1], int(sys.argv[2])
cost, direct = {}, {}
for config in ("plain", "nonblocking", "nb-send", "nb-recv", "preloaded", "crmpi"):
    for r in range(1, rounds + 1):
        for line in open("%s/pp-%s-%d/stdout" % (base, config, r)):
            f = line.split()
            if len(f) == 5 and f[0].isdigit():
                size, through, past = int(f[0]), float(f[1]), float(f[3])
                cost.setdefault((config, size), []).append((through - past) * 100 / past)
                direct.setdefault((config, size), []).append(past)
for size in sorted({k[1] for k in cost}):
    row = ["%d" % size, "%.0f" % statistics.median(direct[("plain", size)])]
    for config in ("plain", "nonblocking", "nb-send", "nb-recv", "preloaded", "crmpi"):
        c = cost[(config, size)]
        row.append("%+.1f%% (%+.1f to %+.1f)" % (statistics.median(c), min(c), max(c)))
    print("| " + " | ".join(row) + " |")
PY2
)

OUT="$ROOT/docs/benchmarks-libcrmpi.md"
{
  echo "# libcrmpi benchmarks"
  echo
  echo "Produced by \`scripts/benchmark-libcrmpi.sh\` on $(date -u +%Y-%m-%d) ($(nproc) cores, Linux $(uname -r),"
  echo "$(mpirun --version | head -1)). *plain*: no libcrmpi; *preloaded*: \`LD_PRELOAD=libcrmpi.so\` without an"
  echo "agent (the library answers \"not present\" and passes every call through); *bare*: under \`crmpi run\`"
  echo "without libcrmpi (crmpi's namespaces, cgroup and supervisor, no interposition); *crmpi*: under"
  echo "\`crmpi run\`, the library active (bookmarks, interruptible wait loops), no checkpoint during the"
  echo "measurement. The interposition's cost is *crmpi* against *bare*, the same environment; the goal is at"
  echo "most 1 % at every size. Each program starts $SETTLE s after its job, once crmpi's JVM has finished"
  echo "starting (on 2 cores its first seconds of compiling would otherwise be charged to the library)."
  echo
  echo "## Point to point (NetPIPE \`NPopenmpi\`, 2 ranks, shared memory)"
  echo
  echo "NetPIPE's first point (1 byte) is its first measurement of the run, a single timing that also"
  echo "pays every first-time cost on the path (libcrmpi's included); the second (2 bytes) comes after it."
  echo
  echo "| configuration | latency, 1 byte, us | latency, 2 bytes, us | bandwidth, 1 MiB, Mbit/s |"
  echo "|---|---|---|---|"
  printf '%s\n' "${NP_ROWS[@]}"
  echo
  echo "## Interposition cost at every size (\`pingpong\`, 2 ranks, shared memory)"
  echo
  echo "Each run takes every sample twice, back to back in one process: through \`MPI_Send\`/\`MPI_Recv\`"
  echo "(libcrmpi's wrappers when it is loaded) and through \`PMPI_Send\`/\`PMPI_Recv\` (past them). A"
  echo "sample is 20,000 round trips (2,000 from 32 KiB, 200 from 256 KiB), each size takes the median of"
  echo "11 samples per path, and every round trip carries data that the far rank changes and the near one"
  echo "checks. A cell is the extra one-way latency of the first path over the second: the median of"
  echo "$PP_ROUNDS runs (interleaved with the other configurations), with the lowest and the highest in"
  echo "parentheses. *plain*: no libcrmpi, so the two paths are the same code and the cell is the noise;"
  echo "*nonblocking*: no libcrmpi, the first path is what libcrmpi makes of a blocking call (\`PMPI_Isend\`"
  echo "or \`PMPI_Irecv\` and a \`PMPI_Test\` loop) without anything else of libcrmpi; *nb-send* and *nb-recv*:"
  echo "the same for only the send or only the receive; *crmpi*: under \`crmpi run\` with libcrmpi active, the"
  echo "interposition's whole cost."
  echo
  echo "| bytes | one-way latency, plain, ns | plain (noise) | nonblocking | nb-send | nb-recv | preloaded | crmpi |"
  echo "|---|---|---|---|---|---|---|---|"
  echo "$PP_TABLE"
  echo
  echo "## MPI_Allreduce of 8 doubles (2 ranks, best of 5 rounds of 20000 calls)"
  echo
  echo "| configuration | us per call |"
  echo "|---|---|"
  printf '%s\n' "${AR_ROWS[@]}"
  echo
  echo "The quiesce's time: [benchmarks-quiesce.md](benchmarks-quiesce.md) (\`scripts/benchmark-quiesce.sh\`)."
} > "$OUT"
cat "$OUT"
