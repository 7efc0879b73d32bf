#!/usr/bin/env bash
# slurm-smoke.sh - end-to-end check of the local Slurm test cluster:
#   1. up (3 nodes)
#   2. srun -N3 hostname                      -> n1 n2 n3 (one UTS namespace per node)
#   3. sbatch + srun --mpi=pmix -N2 -n4 hello -> 4 ranks on 2 nodes, Allreduce ok
#      (and the same with mpirun inside the allocation)
#   4. preemption: a job in partition "low" is requeued when a job in "high"
#      needing all nodes (--exclusive) arrives; the high job runs
#   5. down, and no recorded process is left
# Every job is submitted by the ordinary user crmpi-test1 (created when
# missing); only the daemons run as root. Prints the time of each step; exits non-zero on the first failure.
#
# It uses its own cluster dir and ports so it never touches a cluster a
# developer has up:  CRMPI_SLURM_SMOKE_DIR (/tmp/crmpi-slurm-smoke),
# CRMPI_SLURM_SMOKE_CTLD_PORT (26817; the slurmds use the next ports).
# CRMPI_SLURM_SMOKE_KEEP=1 leaves the cluster up at the end (or on failure).
set -euo pipefail
set +m

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CLUSTER=$HERE/slurm-cluster.sh
export CRMPI_SLURM_DIR=${CRMPI_SLURM_SMOKE_DIR:-/tmp/crmpi-slurm-smoke}
export CRMPI_SLURM_CTLD_PORT=${CRMPI_SLURM_SMOKE_CTLD_PORT:-26817}
export CRMPI_SLURMD_PORT_BASE=$((CRMPI_SLURM_CTLD_PORT + 1))
NODES=3
# never run a client without SLURM_CONF (else: DNS SRV lookup off the machine)
export SLURM_CONF=$CRMPI_SLURM_DIR/etc/slurm.conf

T_START=$(date +%s.%N)
T_STEP=$T_START
STEP=""
RESULTS=()

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f", b-a}'; }
log() { echo "[smoke $(secs "$T_START" "$(now)")s] $*" >&2; }

step() {
    STEP=$1; T_STEP=$(now)
    log "== $STEP"
}
step_ok() {
    local d; d=$(secs "$T_STEP" "$(now)")
    RESULTS+=("$(printf '  %-40s %6ss  ok' "$STEP" "$d")")
    log "ok: $STEP (${d}s)"
    STEP=""
}

JOBS_DIR=$CRMPI_SLURM_DIR/smoke
SMOKE_USER=crmpi-test1
FAILED=0
fail() {
    FAILED=1
    log "FAILED: ${STEP:-?}: $*"
    if [ -d "$CRMPI_SLURM_DIR" ]; then
        { echo "--- sinfo"; timeout 10 sinfo -N -l; echo "--- squeue"; timeout 10 squeue; } >&2 2>/dev/null || true
        local f
        for f in "$JOBS_DIR"/*.out; do
            [ -f "$f" ] || continue
            echo "--- $f" >&2; tail -n 20 "$f" >&2
        done
        echo "--- last lines of $CRMPI_SLURM_DIR/ctld/slurmctld.log" >&2
        tail -n 25 "$CRMPI_SLURM_DIR/ctld/slurmctld.log" >&2 2>/dev/null || true
    fi
    exit 1
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ "${CRMPI_SLURM_SMOKE_KEEP:-0}" = 1 ]; then
        log "CRMPI_SLURM_SMOKE_KEEP=1: cluster left up in $CRMPI_SLURM_DIR (SLURM_CONF=$SLURM_CONF)"
    elif [ -d "$CRMPI_SLURM_DIR" ]; then
        [ -n "$STEP" ] || step "down"
        "$CLUSTER" down || rc=1
        [ "$STEP" = down ] && step_ok
    fi
    echo "" >&2
    echo "slurm smoke timings:" >&2
    printf '%s\n' "${RESULTS[@]}" >&2
    if [ "$rc" = 0 ] && [ "$FAILED" = 0 ]; then
        echo "slurm smoke: PASSED in $(secs "$T_START" "$(now)")s" >&2
    else
        echo "slurm smoke: FAILED in $(secs "$T_START" "$(now)")s" >&2
        [ "$rc" = 0 ] && rc=1
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'fail "interrupted"' INT TERM

# job_field JOBID FIELD -> value of FIELD=... in `scontrol show job`
job_field() {
    timeout 10 scontrol -o show job "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n1
}

# wait_state JOBID TIMEOUT STATE... : wait until the job is in one of STATEs
wait_state() {
    local id=$1 to=$2 st="" t0; shift 2
    t0=$(date +%s)
    while [ $(( $(date +%s) - t0 )) -lt "$to" ]; do
        st=$(job_field "$id" JobState)
        local s
        for s in "$@"; do [ "$st" = "$s" ] && return 0; done
        case "$st" in FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE)
            log "job $id is $st"; return 1 ;;
        esac
        sleep 0.5
    done
    log "job $id still '$st' after ${to}s (wanted: $*)"
    return 1
}

# ------------------------------------------------------------------------ 1
step "up ($NODES nodes)"
if [ -d "$CRMPI_SLURM_DIR" ]; then
    log "leftover $CRMPI_SLURM_DIR from an earlier run; taking it down first"
    "$CLUSTER" down
fi
"$CLUSTER" install --mpi || fail "installing packages failed"
ENV_LINES=$("$CLUSTER" up "$NODES") || fail "slurm-cluster.sh up failed"
eval "$ENV_LINES"
[ "$SLURM_CONF" = "$CRMPI_SLURM_DIR/etc/slurm.conf" ] || fail "unexpected SLURM_CONF=$SLURM_CONF"
"$CLUSTER" up "$NODES" >/dev/null 2>&1 || fail "second 'up' (idempotent) did not exit 0"
mkdir -p "$JOBS_DIR"
# Every job of the smoke test is an ordinary user's, as on a real cluster (slurmd runs as root).
id "$SMOKE_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$SMOKE_USER"
chown "$SMOKE_USER:" "$JOBS_DIR"
AS_USER=(runuser -u "$SMOKE_USER" -- env SLURM_CONF="$SLURM_CONF")
# remember what is running, to check after `down`
RECORDED=$(cat "$CRMPI_SLURM_DIR"/pids/* | awk '{print $1":"$2}' | tr '\n' ' ')
step_ok

# ------------------------------------------------------------------------ 2
step "srun -N$NODES hostname"
HOSTS=$(timeout 60 "${AS_USER[@]}" srun -N"$NODES" hostname | sort | tr '\n' ' ') || fail "srun failed"
HOSTS=${HOSTS% }
[ "$HOSTS" = "n1 n2 n3" ] || fail "expected 'n1 n2 n3', got '$HOSTS'"
log "hosts: $HOSTS"
step_ok

# ------------------------------------------------------------------------ 3
step "sbatch srun --mpi=pmix -N2 -n4 hello"
command -v mpicc >/dev/null || fail "mpicc not found (apt-get install libopenmpi-dev openmpi-bin)"
cat > "$JOBS_DIR/hello.c" <<'EOF'
#include <mpi.h>
#include <stdio.h>
int main(int argc, char **argv) {
    int rank, size, len, sum = 0;
    char name[MPI_MAX_PROCESSOR_NAME];
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    MPI_Get_processor_name(name, &len);
    MPI_Allreduce(&rank, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    printf("hello rank %d of %d on %s sum %d\n", rank, size, name, sum);
    MPI_Finalize();
    return 0;
}
EOF
mpicc -O1 -o "$JOBS_DIR/hello" "$JOBS_DIR/hello.c" || fail "mpicc failed"
MPI_JOB=$("${AS_USER[@]}" sbatch --parsable -p high -J mpi-hello -N2 -n4 -t 2 -D "$JOBS_DIR" \
    -o "$JOBS_DIR/mpi-hello.out" \
    --wrap "srun --mpi=pmix -N2 -n4 $JOBS_DIR/hello") || fail "sbatch failed"
log "submitted job $MPI_JOB"
wait_state "$MPI_JOB" 90 COMPLETED || fail "MPI job $MPI_JOB did not complete"
OUT=$JOBS_DIR/mpi-hello.out
[ "$(grep -c '^hello rank [0-3] of 4 on n[0-9]* sum 6$' "$OUT")" = 4 ] ||
    fail "expected 4 'hello rank R of 4 ... sum 6' lines in $OUT"
[ "$(grep '^hello rank' "$OUT" | awk '{print $3}' | sort -u | tr '\n' ' ')" = "0 1 2 3 " ] ||
    fail "ranks are not 0..3"
NHOSTS=$(grep '^hello rank' "$OUT" | awk '{print $7}' | sort -u | wc -l)
[ "$NHOSTS" = 2 ] || fail "ranks ran on $NHOSTS hosts, expected 2"
log "$(grep '^hello rank' "$OUT" | sort | tr '\n' ';')"
step_ok

# ----------------------------------------------------------------------- 3b
step "sbatch mpirun -np 4 hello"
MPIRUN_JOB=$("${AS_USER[@]}" sbatch --parsable -p high -J mpirun-hello -N2 -n4 -t 2 -D "$JOBS_DIR" \
    -o "$JOBS_DIR/mpirun-hello.out" \
    --wrap "mpirun -np 4 $JOBS_DIR/hello") || fail "sbatch failed"
wait_state "$MPIRUN_JOB" 90 COMPLETED || fail "mpirun job $MPIRUN_JOB did not complete"
OUT=$JOBS_DIR/mpirun-hello.out
[ "$(grep -c '^hello rank [0-3] of 4 on n[0-9]* sum 6$' "$OUT")" = 4 ] ||
    fail "expected 4 'hello rank R of 4 ... sum 6' lines in $OUT"
NHOSTS=$(grep '^hello rank' "$OUT" | awk '{print $7}' | sort -u | wc -l)
[ "$NHOSTS" = 2 ] || fail "mpirun ranks ran on $NHOSTS hosts, expected 2"
step_ok

# ------------------------------------------------------------------------ 4
step "preemption (low requeued by high)"
# shellcheck disable=SC2016  # expanded by the job, not here
LOW=$("${AS_USER[@]}" sbatch --parsable -p low -J low -N"$NODES" --requeue -D "$JOBS_DIR" \
    -o "$JOBS_DIR/low.out" --open-mode=append \
    --wrap 'echo "low start restart=${SLURM_RESTART_COUNT:-0} on $(hostname)"; sleep 300') ||
    fail "sbatch low failed"
wait_state "$LOW" 30 RUNNING || fail "low job $LOW did not start"
log "low job $LOW running on $(job_field "$LOW" NodeList)"
T_HIGH=$(now)
HIGH=$("${AS_USER[@]}" sbatch --parsable -p high -J high -N"$NODES" --exclusive -t 2 -D "$JOBS_DIR" \
    -o "$JOBS_DIR/high.out" --wrap 'srun hostname') || fail "sbatch high failed"
log "high job $HIGH submitted (needs all nodes exclusively)"
wait_state "$HIGH" 60 COMPLETED || fail "high job $HIGH did not complete"
log "high job completed $(secs "$T_HIGH" "$(now)")s after submission (GraceTime=10 on low)"
HIGH_HOSTS=$(sort "$JOBS_DIR/high.out" | tr '\n' ' ')
[ "$HIGH_HOSTS" = "n1 n2 n3 " ] || fail "high job output: '$HIGH_HOSTS'"
LOW_STATE=$(job_field "$LOW" JobState)
LOW_RESTARTS=$(job_field "$LOW" Restarts)
log "low job $LOW: JobState=$LOW_STATE Restarts=$LOW_RESTARTS"
if [ "${LOW_RESTARTS:-0}" -ge 1 ] || [ "$LOW_STATE" = PENDING ] || [ "$LOW_STATE" = REQUEUED ]; then
    :
else
    fail "low job was not requeued (JobState=$LOW_STATE Restarts=$LOW_RESTARTS)"
fi
grep -q 'DUE TO PREEMPTION' "$JOBS_DIR/low.out" || fail "low job output does not mention preemption"
"${AS_USER[@]}" scancel "$LOW" || true
step_ok

# ------------------------------------------------------------------------ 5
step "down"
"$CLUSTER" down || fail "slurm-cluster.sh down failed"
[ ! -e "$CRMPI_SLURM_DIR" ] || fail "$CRMPI_SLURM_DIR still exists after down"
for r in $RECORDED; do
    pid=${r%%:*}; st=${r#*:}
    cur=$(awk '{sub(/.*\) /, ""); print $20}' "/proc/$pid/stat" 2>/dev/null || true)
    if [ -n "$cur" ] && [ "$cur" = "$st" ]; then fail "process $pid still alive after down"; fi
done
step_ok
