#!/bin/bash
# End-to-end timings of crmpi's Slurm scenarios on the real test cluster
# (slurm-glue/scripts/slurm-cluster.sh, 3 nodes on this machine): a 2-node,
# 4-rank Open MPI ring job run without crmpi, under crmpi without and with
# periodic checkpoints, preempted by an exclusive higher-priority job, and
# with one of its nodes killed mid-run. Every crmpi run's output is compared
# with the run without crmpi. Prints the figures and writes them to
# docs/benchmarks-slurm.md.
#
# usage: scripts/benchmark-slurm.sh [ITERATIONS]   (default: 3000)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ITER=${1:-3000}
"$ROOT/scripts/setup.sh" >/dev/null
make -s -C "$ROOT/mpi-tests/src/main/c" OUT="$ROOT/mpi-tests/target/bin"
export CRMPI_SLURM_DIR=/tmp/crmpi-slurm-bench CRMPI_SLURM_CTLD_PORT=56817 CRMPI_SLURMD_PORT_BASE=56818
CLUSTER="$ROOT/slurm-glue/scripts/slurm-cluster.sh"
B="$ROOT/build/bench-slurm"
log() { echo "benchmark-slurm: $*" >&2; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
trap '"$CLUSTER" down >/dev/null 2>&1 || true' EXIT
eval "$("$CLUSTER" up 3)"
rm -rf "$B"; mkdir -p "$B"
ROWS=()

# job NAME CRMPI_ARGS: writes NAME/job.sh (empty CRMPI_ARGS: mpirun without crmpi)
job() {
  local d="$B/$1"; mkdir -p "$d/work"
  local launch="mpirun -np 4 $ROOT/mpi-tests/target/bin/ring $ITER"
  [ "$2" = "-" ] || launch="$ROOT/bin/crmpi run --state-dir $d/state $2 -- $launch"
  cat > "$d/job.sh" <<JOB
#!/bin/bash
#SBATCH -p low -N2 --ntasks-per-node=2 --requeue --open-mode=append -o $d/job.out
#SBATCH --signal=B:USR1@5
cd $d/work
exec $launch
JOB
  echo "$d"
}
submit() { sbatch --parsable "$1/job.sh"; }
state() { scontrol show job "$1" | grep -o 'JobState=[A-Z]*' | cut -d= -f2; }
await_done() { # JOBID DIR
  local t0; t0=$(now)
  while [ "$(state "$1")" != COMPLETED ]; do
    sleep 0.5
    if [ "$(secs "$t0" "$(now)" | cut -d. -f1)" -gt 600 ]; then log "job $1 did not complete"; tail "$2/job.out"; exit 1; fi
  done
}
await_text() { # FILE TEXT COUNT
  local n t0; t0=$(date +%s)
  while :; do
    n=$(grep -c -- "$2" "$1" 2>/dev/null || true)
    [ "${n:-0}" -ge "$3" ] && return 0
    if [ $(( $(date +%s) - t0 )) -gt 600 ]; then log "no '$2' in $1 after 600 s"; tail "$1" >&2; exit 1; fi
    sleep 0.2
  done
}
same() { cmp -s "$B/plain/work/ring.out" "$1/work/ring.out" && echo identical || echo DIFFERENT; }
checkpoint_stats() { # DIR: count, mean total and mean frozen seconds of committed epochs
  grep -h '"kind":"committed"' "$1"/state/jobs/*/history.jsonl 2>/dev/null |
    awk -F'"frozenMillis":|"totalMillis":' '{ split($2, f, /[,}]/); split($3, t, /[,}]/); n++; T += t[1]; F += f[1] }
      END { if (n) printf "%d checkpoints, %.2f s each (frozen %.2f s)", n, T / n / 1000, F / n / 1000; else printf "no checkpoint" }'
}

log "without crmpi"
d=$(job plain -); t0=$(now); j=$(submit "$d"); await_done "$j" "$d"; T_PLAIN=$(secs "$t0" "$(now)")
ROWS+=("| mpirun without crmpi | $T_PLAIN | | reference output |")

log "crmpi, no checkpoints"
d=$(job none "--interval none"); t0=$(now); j=$(submit "$d"); await_done "$j" "$d"; t=$(secs "$t0" "$(now)")
ROWS+=("| crmpi, no checkpoint | $t | agents and node trees on 2 nodes | $(same "$d") |")

log "crmpi, a checkpoint every 5 s"
d=$(job periodic "--interval 5s"); t0=$(now); j=$(submit "$d"); await_done "$j" "$d"; t=$(secs "$t0" "$(now)")
ROWS+=("| crmpi, checkpoint every 5 s | $t | $(checkpoint_stats "$d") | $(same "$d") |")

log "preemption"
d=$(job preempt "--interval 5s"); t0=$(now); j=$(submit "$d"); await_text "$d/job.out" "committed" 1
tp=$(now); sbatch --parsable -p high -N3 --exclusive -o "$d/high.out" --wrap "sleep 5" >/dev/null
await_text "$d/job.out" "vacated after its checkpoint" 1; tv=$(now)
await_text "$d/job.out" "restored; the job continues" 1; tr=$(now)
await_done "$j" "$d"; t=$(secs "$t0" "$(now)")
ROWS+=("| preempted once (GraceTime 10) | $t | signal to vacated $(secs "$tp" "$tv") s, vacated to resumed $(secs "$tv" "$tr") s (the high job ran 5 s) | $(same "$d") |")

log "node failure"
d=$(job nodefail "--interval 5s"); t0=$(now); j=$(submit "$d"); await_text "$d/job.out" "committed" 2
host=$(grep -o 'node node1 is n[0-9]*' "$d/job.out" | head -1 | awk '{print $4}')
tk=$(now); "$CLUSTER" kill-node "$host" 2>/dev/null
await_text "$d/job.out" "lost" 1; tl=$(now)
await_text "$d/job.out" "restored; the job continues" 1; tr=$(now)
await_done "$j" "$d"; t=$(secs "$t0" "$(now)")
ROWS+=("| node $host killed after 2 checkpoints | $t | noticed in $(secs "$tk" "$tl") s, restored on other nodes $(secs "$tk" "$tr") s after the kill | $(same "$d") |")

{
  echo "# Slurm scenarios, end to end"
  echo
  echo "Measured by \`scripts/benchmark-slurm.sh $ITER\` on $(date -u +%Y-%m-%d) ($(nproc) cores, $(uname -r)):"
  echo "a 2-node, 4-rank Open MPI ring job ($ITER iterations) on the Slurm test cluster of this"
  echo "machine (3 slurmd, SlurmdTimeout 5 s, GraceTime 10 s), from sbatch to COMPLETED."
  echo
  echo "| scenario | seconds | detail | output vs. without crmpi |"
  echo "|---|---|---|---|"
  printf '%s\n' "${ROWS[@]}"
  echo
  echo "All nodes share this machine's 2 cores, so the figures include the"
  echo "scheduler's own intervals (sched_interval=1 s) and, for the node"
  echo "failure, Slurm's time to mark the node DOWN and requeue the job."
} | tee "$ROOT/docs/benchmarks-slurm.md"
