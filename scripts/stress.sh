#!/bin/bash
# Runs crmpi's Slurm failure scenarios many times in a row on the real test
# cluster of this machine (slurm-glue/scripts/slurm-cluster.sh) and counts the
# passes. Not part of CI (CI runs each scenario once, in mvn verify); this is
# the loop that tells a scenario that passes every time from one that passes
# most of the time.
#
# usage: scripts/stress.sh [-s SCENARIOS] [-l LAYOUTS] [-i ITERATIONS] [-u USER] [-o FILE] N
#
#   N             runs of each scenario on each layout
#   -s SCENARIOS  comma-separated, default all:
#                   periodic  checkpoints every 2 s, no failure
#                   preempt   an exclusive high-priority job preempts the job
#                             after its first checkpoint (vacate, requeue, resume)
#                   walltime  --time=1 --signal=B:USR1@50: vacated before every
#                             walltime limit and requeued until it has finished
#                   nodefail  a node of the job (not the batch node) is killed
#                             whole after two checkpoints (requeue, restore elsewhere)
#                   control   the control processes of such a node (slurmd, step
#                             daemons, crmpi agent, crmpi-ns) are SIGKILLed and
#                             its ranks left alive: crmpi must fence them
#   -l LAYOUTS    comma-separated node counts of the job, default 2,3 (2 ranks per node)
#   -i ITERATIONS ring iterations (default 1500)
#   -u USER       submit the jobs as this ordinary user (created when missing),
#                 their node trees run by a crmpid that the script starts;
#                 default crmpi-test1. "-u root" submits them as root, which
#                 runs CRIU itself (no crmpid): the single-user installation
#   -o FILE       also append the results table to FILE (e.g. docs/reliability.md)
#
# A run passes when the job COMPLETED, its ring.out is byte-identical to the
# same ring run without crmpi or Slurm, the scenario's event happened (a
# checkpoint, a vacate and resume, a lost node and a restore), and no process
# of the job is left on the machine 15 s after the job ended. A failed run's
# directory is kept under build/stress/; passing ones are removed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SCENARIOS=periodic,preempt,walltime,nodefail,control
LAYOUTS=2,3
ITER=1500
OUT=""
AS_USER=crmpi-test1
while getopts "s:l:i:u:o:" opt; do
  case $opt in
    s) SCENARIOS=$OPTARG ;;
    l) LAYOUTS=$OPTARG ;;
    i) ITER=$OPTARG ;;
    o) OUT=$OPTARG ;;
    u) AS_USER=$OPTARG ;;
    *) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ "$AS_USER" != root ] || AS_USER=""
N=${1:-}
case "$N" in ''|*[!0-9]*) echo "stress: N (runs per scenario) must be a positive number" >&2; exit 2 ;; esac

"$ROOT/scripts/setup.sh" >/dev/null
make -s -C "$ROOT/mpi-tests/src/main/c" OUT="$ROOT/mpi-tests/target/bin"
export CRMPI_SLURM_DIR=/tmp/crmpi-slurm-stress CRMPI_SLURM_CTLD_PORT=46817 CRMPI_SLURMD_PORT_BASE=46818
# Only root's own jobs (-u root) need Open MPI's consent to run as root.
[ -n "$AS_USER" ] || export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
CLUSTER="$ROOT/slurm-glue/scripts/slurm-cluster.sh"
RING="$ROOT/mpi-tests/target/bin/ring"
B="$ROOT/build/stress"
log() { echo "stress: $*" >&2; }
trap '"$CLUSTER" down >/dev/null 2>&1 || true' EXIT
mkdir -p "$B"

MAXN=0
for l in ${LAYOUTS//,/ }; do [ "$l" -gt "$MAXN" ] && MAXN=$l; done
# One node more than the largest job: a job that lost a node is restored on the spare.
"$CLUSTER" down >/dev/null 2>&1 || true
eval "$("$CLUSTER" up $((MAXN + 1)))"
CLUSTER_NODES=$((MAXN + 1))

# -u: the jobs' user, and a crmpid of this run (one serves every node of the test cluster).
SUBMIT=()
DAEMON_PID=""
if [ -n "$AS_USER" ]; then
  id "$AS_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$AS_USER"
  chmod 0755 "$B"
  D="$B/crmpid"; rm -rf "$D"; mkdir -p "$D/run"; chmod 0755 "$D" "$D/run"
  (umask 077 && head -c 64 /dev/urandom > "$D/key")
  echo "job_bridge = $CRMPI_JOB_BRIDGE" > "$D/crmpi.conf"
  "$ROOT/bin/crmpid" --config "$D/crmpi.conf" --socket "$D/run/crmpid.sock" --state-dir "$D/state" \
    --key "$D/key" >> "$D/crmpid.log" 2>&1 &
  DAEMON_PID=$!
  # crmpid first: 'down' ends every process of the cluster's environment, this script included.
  trap 'kill "$DAEMON_PID" 2>/dev/null || true; "$CLUSTER" down >/dev/null 2>&1 || true' EXIT
  for _ in $(seq 1 300); do [ -S "$D/run/crmpid.sock" ] && break; sleep 0.1; done
  [ -S "$D/run/crmpid.sock" ] || { log "crmpid did not start: $(tail -5 "$D/crmpid.log")"; exit 1; }
  SUBMIT=(runuser -u "$AS_USER" --)
fi

# reference RANKS ITERATIONS: ring.out of the same ring without crmpi or Slurm
reference() {
  local r="$B/reference-$1-$2"
  if [ ! -f "$r/ring.out" ]; then
    mkdir -p "$r"
    if [ -n "$AS_USER" ]; then
      chown "$AS_USER:" "$r"
      (cd "$r" && runuser -u "$AS_USER" -- mpirun --oversubscribe -np "$1" "$RING" "$2" >/dev/null)
    else
      (cd "$r" && mpirun --oversubscribe -np "$1" "$RING" "$2" >/dev/null)
    fi
  fi
  echo "$r/ring.out"
}

state() { scontrol show job "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | cut -d= -f2; }
# await_text FILE TEXT COUNT SECONDS
await_text() {
  local n t0; t0=$(date +%s)
  while :; do
    n=$(grep -c -- "$2" "$1" 2>/dev/null || true)
    [ "${n:-0}" -ge "$3" ] && return 0
    [ $(( $(date +%s) - t0 )) -lt "$4" ] || return 1
    sleep 0.2
  done
}
# await_end JOB SECONDS: prints the final state
await_end() {
  local s t0; t0=$(date +%s)
  while :; do
    s=$(state "$1")
    case "$s" in COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE) echo "$s"; return 0 ;; esac
    if [ $(( $(date +%s) - t0 )) -ge "$2" ]; then echo "STUCK-$s"; return 0; fi
    sleep 0.5
  done
}
# leftovers DIR: pids of processes whose working directory is the job's
leftovers() {
  local p c
  for p in /proc/[0-9]*; do
    c=$(readlink "$p/cwd" 2>/dev/null) || continue
    case "$c" in "$1"/work|"$1"/work/*) echo "${p#/proc/}" ;; esac
  done
}

# run_once SCENARIO NODES RUN: 0 when the run passed; the reason on stdout otherwise
run_once() {
  local sc=$1 nodes=$2 d="$B/$1-$2n-$3" job s host extra=() args="--interval 2s --keep 3 --max-restarts 5"
  rm -rf "$d"; mkdir -p "$d/work"
  case $sc in
    walltime) extra=("#SBATCH --time=1" "#SBATCH --signal=B:USR1@50"); args="--interval none --max-restarts 5" ;;
    *) extra=("#SBATCH --signal=B:USR1@5") ;;
  esac
  local iter=$ITER
  [ "$sc" = walltime ] && iter=$((ITER * 3))
  {
    echo "#!/bin/bash"
    echo "#SBATCH -p low -N$nodes --ntasks-per-node=2 --requeue --open-mode=append -o $d/job.out"
    printf '%s\n' "${extra[@]}"
    [ -z "$AS_USER" ] || echo "export CRMPI_DAEMON_SOCKET=$B/crmpid/run/crmpid.sock"
    echo "cd $d/work"
    echo "exec $ROOT/bin/crmpi run --state-dir $d/state $args -- mpirun -np $((2 * nodes)) $RING $iter"
  } > "$d/job.sh"
  [ -z "$AS_USER" ] || chown -R "$AS_USER:" "$d"
  job=$("${SUBMIT[@]}" sbatch --parsable "$d/job.sh")
  case $sc in
    preempt)
      await_text "$d/job.out" "committed" 1 120 || { echo "no checkpoint before the preemption"; return 1; }
      sbatch --parsable -p high -N"$CLUSTER_NODES" --exclusive -o "$d/high.out" --wrap "sleep 2" >/dev/null ;;
    nodefail|control)
      await_text "$d/job.out" "committed" 2 120 || { echo "no two checkpoints before the failure"; return 1; }
      host=$(grep -o 'node node1 is n[0-9]*' "$d/job.out" | tail -1 | awk '{print $4}')
      [ -n "$host" ] || { echo "no host of node1 in the log"; return 1; }
      if [ "$sc" = nodefail ]; then "$CLUSTER" kill-node "$host" 2>/dev/null
      else "$CLUSTER" kill-control "$host" 2>/dev/null; fi ;;
  esac
  s=$(await_end "$job" 600)
  if [ "$sc" = nodefail ] || [ "$sc" = control ]; then
    # The killed node's slurmd comes back for the next run (the cluster keeps its nodes).
    "$CLUSTER" down >/dev/null 2>&1 || true
    eval "$("$CLUSTER" up "$CLUSTER_NODES")"
  fi
  [ "$s" = COMPLETED ] || { echo "job ended $s"; return 1; }
  cmp -s "$(reference $((2 * nodes)) "$iter")" "$d/work/ring.out" || { echo "ring.out differs from the run without crmpi"; return 1; }
  case $sc in
    periodic) grep -q "committed" "$d/job.out" || { echo "no checkpoint"; return 1; } ;;
    preempt|walltime) grep -q "vacated after its checkpoint" "$d/job.out" && grep -q "restored; the job continues" "$d/job.out" ||
        { echo "not vacated and resumed"; return 1; } ;;
    nodefail|control) grep -q "restored; the job continues" "$d/job.out" || { echo "not restored"; return 1; } ;;
  esac
  sleep 15
  local left; left=$(leftovers "$d")
  [ -z "$left" ] || { echo "processes of the job left running: $left"; return 1; }
  rm -rf "$d"
  return 0
}

ROWS=()
for nodes in ${LAYOUTS//,/ }; do
  for sc in ${SCENARIOS//,/ }; do
    pass=0 fails=""
    for i in $(seq 1 "$N"); do
      t0=$(date +%s)
      if why=$(run_once "$sc" "$nodes" "$i"); then
        pass=$((pass + 1)); log "$sc, $nodes nodes, run $i/$N: pass ($(( $(date +%s) - t0 )) s)"
      else
        fails="$fails; run $i: $why"; log "$sc, $nodes nodes, run $i/$N: FAIL: $why (kept in $B/$sc-${nodes}n-$i)"
      fi
    done
    ROWS+=("| $sc | $nodes nodes, $((2 * nodes)) ranks | $pass of $N | ${fails#; } |")
  done
done

table() {
  echo "Measured by \`scripts/stress.sh -s $SCENARIOS -l $LAYOUTS -i $ITER${AS_USER:+ -u $AS_USER} $N\` on $(date -u +%Y-%m-%d) ($(nproc) cores, $(uname -r)):"
  echo
  echo "| scenario | job | passes | failures |"
  echo "|---|---|---|---|"
  printf '%s\n' "${ROWS[@]}"
}
table
if [ -n "$OUT" ]; then { echo; table; } >> "$OUT"; fi
for r in "${ROWS[@]}"; do case "$r" in *"| $N of $N |"*) ;; *) exit 1 ;; esac; done
