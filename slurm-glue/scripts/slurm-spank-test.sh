#!/usr/bin/env bash
# slurm-spank-test.sh - end-to-end test of the crmpi SPANK plugin on a real
# Slurm test cluster (2 nodes, brought up and torn down by this script):
#   - srun/sbatch --help list --checkpoint-interval and --checkpoint-engine
#   - sbatch --checkpoint-interval=15s --checkpoint-engine=app: the batch script
#     and the steps it runs see CRMPI_CHECKPOINT_INTERVAL=15s CRMPI_ENGINE=app
#     (also with --export=NONE)
#   - srun --checkpoint-interval=2m: every task sees it; the option wins over
#     an inherited variable
#   - salloc --checkpoint-engine=criu: the command sees CRMPI_ENGINE=criu
#   - bad values: sbatch/srun fail with the plugin's message, nothing is submitted
#   - without the options: no variable is set, inherited ones pass unchanged
# Every job is submitted by an ordinary user (crmpi-test1, created when
# missing), as on a real cluster; slurmd runs as root.
# Prints each check; exits non-zero on the first failure. Always tears its
# cluster down, and checks that no recorded daemon survived.
#
# Usage: slurm-spank-test.sh [PLUGIN.so]
#   default: slurm-glue/target/spank/crmpi_spank.so, built with make if missing.
# Must run as root (like slurm-cluster.sh). Uses its own cluster dir
# (/tmp/crmpi-slurm-spank) and ports 26817.. so it never touches a developer's
# cluster; it cannot run at the same time as slurm-smoke.sh, which uses the
# same ports.
set -euo pipefail
set +m

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GLUE=$(dirname "$HERE")
CLUSTER=$HERE/slurm-cluster.sh
export CRMPI_SLURM_DIR=/tmp/crmpi-slurm-spank
export CRMPI_SLURM_CTLD_PORT=26817
export CRMPI_SLURMD_PORT_BASE=26818
NODES=2
# never run a client without SLURM_CONF (else: DNS SRV lookup off the machine)
export SLURM_CONF=$CRMPI_SLURM_DIR/etc/slurm.conf
# the variables under test must come from the plugin only
unset CRMPI_CHECKPOINT_INTERVAL CRMPI_ENGINE SLURM_SPANK_CRMPI_CHECKPOINT_INTERVAL SLURM_SPANK_CRMPI_ENGINE

T0=$(date +%s)
log() { echo "[spank-test $(( $(date +%s) - T0 ))s] $*" >&2; }
ok() { log "ok: $*"; }
fail() {
    log "FAILED: $*"
    if [ -d "$CRMPI_SLURM_DIR" ]; then
        local f
        for f in "$JOBS_DIR"/*; do
            [ -f "$f" ] || continue
            echo "--- plugin variables in $f" >&2; grep -E 'CRMPI_(CHECKPOINT_INTERVAL|ENGINE)|SPANK|error' "$f" >&2 || true
        done
        echo "--- crmpi/spank lines of the slurmd logs" >&2
        grep -hi 'crmpi\|spank' "$CRMPI_SLURM_DIR"/nodes/*/slurmd.log >&2 2>/dev/null || true
    fi
    exit 1
}

JOB_USER=crmpi-test1
AS_USER="runuser -u $JOB_USER --"

PLUGIN=${1:-$GLUE/target/spank/crmpi_spank.so}
if [ ! -f "$PLUGIN" ] && [ $# -eq 0 ]; then
    log "building $PLUGIN"
    make -s -C "$GLUE/src/main/c" >&2 || fail "building the plugin failed"
fi
[ -f "$PLUGIN" ] || fail "no plugin at $PLUGIN"
[ "$(id -u)" = 0 ] || fail "must run as root (the test cluster needs namespaces)"

# A private copy, so that a rebuild (mvn clean) during the test cannot pull the
# plugin from under slurmstepd.
PLUGIN_DIR=$(mktemp -d /tmp/crmpi-spank-test.XXXXXX)
cp "$PLUGIN" "$PLUGIN_DIR/crmpi_spank.so"
# Installed like a site's plugin: every user's sbatch and srun load it.
chmod 0755 "$PLUGIN_DIR"; chmod 0644 "$PLUGIN_DIR/crmpi_spank.so"
JOBS_DIR=$CRMPI_SLURM_DIR/spank-test
RECORDED=""

cleanup() {
    local rc=$? pid start
    trap - EXIT INT TERM
    if [ -d "$CRMPI_SLURM_DIR" ]; then
        log "down"
        "$CLUSTER" down || rc=1
    fi
    for pid in $RECORDED; do
        start=${pid#*:}; pid=${pid%%:*}
        # starttime, field 22 of /proc/PID/stat (field 20 after "PID (comm) ")
        if [ "$(awk '{sub(/.*\) /, ""); print $20}' "/proc/$pid/stat" 2>/dev/null || true)" = "$start" ]; then
            log "FAILED: daemon $pid survived 'down'"; rc=1
        fi
    done
    [ ! -d "$CRMPI_SLURM_DIR" ] || { log "FAILED: $CRMPI_SLURM_DIR still exists"; rc=1; }
    rm -rf "$PLUGIN_DIR"
    if [ "$rc" = 0 ]; then
        echo "slurm spank test: PASSED in $(( $(date +%s) - T0 ))s" >&2
    else
        echo "slurm spank test: FAILED in $(( $(date +%s) - T0 ))s" >&2
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'fail "interrupted"' INT TERM

# crmpi_vars FILE -> the plugin's variables in an `env` output, sorted, on one line
crmpi_vars() { { grep -E '^CRMPI_(CHECKPOINT_INTERVAL|ENGINE)=' "$1" || true; } | sort | tr '\n' ' ' | sed 's/ $//'; }
# job_count -> number of jobs slurmctld knows (finished ones stay for MinJobAge=300 s)
job_count() { timeout 10 scontrol -o show jobs 2>/dev/null | grep -c '^JobId=' || true; }
# expect_vars WHAT FILE EXPECTED
expect_vars() {
    local got; got=$(crmpi_vars "$2")
    [ "$got" = "$3" ] || fail "$1: expected '$3', got '$got' (see $2)"
    ok "$1: ${3:-neither variable}"
}

# ------------------------------------------------------------------- up
if [ -d "$CRMPI_SLURM_DIR" ]; then
    log "leftover $CRMPI_SLURM_DIR from an earlier run; taking it down first"
    "$CLUSTER" down
fi
log "up $NODES nodes with CRMPI_SLURM_SPANK=$PLUGIN_DIR/crmpi_spank.so"
ENV_LINES=$(CRMPI_SLURM_SPANK=$PLUGIN_DIR/crmpi_spank.so "$CLUSTER" up "$NODES") ||
    fail "slurm-cluster.sh up failed"
eval "$ENV_LINES"
[ "$SLURM_CONF" = "$CRMPI_SLURM_DIR/etc/slurm.conf" ] || fail "unexpected SLURM_CONF=$SLURM_CONF"
RECORDED=$(cat "$CRMPI_SLURM_DIR"/pids/* | awk '{print $1":"$2}' | tr '\n' ' ')
id "$JOB_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$JOB_USER"
chmod 0755 "$CRMPI_SLURM_DIR"
mkdir -p "$JOBS_DIR"
chown "$JOB_USER:" "$JOBS_DIR"
grep -qx "optional $PLUGIN_DIR/crmpi_spank.so" "$CRMPI_SLURM_DIR/etc/plugstack.conf" ||
    fail "plugstack.conf does not load the plugin as optional: $(cat "$CRMPI_SLURM_DIR/etc/plugstack.conf")"
ok "plugstack.conf: $(cat "$CRMPI_SLURM_DIR/etc/plugstack.conf")"

# ------------------------------------------------------------------- --help
for cmd in srun sbatch salloc; do
    HELP=$($AS_USER $cmd --help 2>&1) || true
    grep -q -- '--checkpoint-interval=POLICY' <<<"$HELP" || fail "$cmd --help does not list --checkpoint-interval"
    grep -q -- '--checkpoint-engine=ENGINE' <<<"$HELP" || fail "$cmd --help does not list --checkpoint-engine"
    ok "$cmd --help lists --checkpoint-interval and --checkpoint-engine"
done

# ------------------------------------------------------------------- sbatch
# The script prints its environment, then that of a step (srun) it runs.
SCRIPT='env; echo ---step---; srun -n1 /usr/bin/env'
split_job_output() { # FILE -> FILE.script FILE.step
    sed '/^---step---$/,$d' "$1" > "$1.script"
    sed '1,/^---step---$/d' "$1" > "$1.step"
}
OUT=$JOBS_DIR/sbatch.out
timeout 90 $AS_USER sbatch --wait -N1 -o "$OUT" --checkpoint-interval=15s --checkpoint-engine=app --wrap "$SCRIPT" \
    >/dev/null || fail "sbatch --checkpoint-interval=15s --checkpoint-engine=app failed"
split_job_output "$OUT"
expect_vars "sbatch --checkpoint-interval=15s --checkpoint-engine=app, batch script" "$OUT.script" \
    "CRMPI_CHECKPOINT_INTERVAL=15s CRMPI_ENGINE=app"
expect_vars "sbatch --checkpoint-interval=15s --checkpoint-engine=app, srun step in it" "$OUT.step" \
    "CRMPI_CHECKPOINT_INTERVAL=15s CRMPI_ENGINE=app"
grep -qx "SLURM_JOB_USER=$JOB_USER" "$OUT.script" || fail "the batch job did not run as $JOB_USER (see $OUT)"
ok "the batch job ran as $JOB_USER"

OUT=$JOBS_DIR/sbatch-export-none.out
timeout 90 $AS_USER sbatch --wait -N1 -o "$OUT" --export=NONE --checkpoint-interval=auto:mtbf=6h --wrap 'env' \
    >/dev/null || fail "sbatch --export=NONE --checkpoint-interval=auto:mtbf=6h failed"
expect_vars "sbatch --export=NONE --checkpoint-interval=auto:mtbf=6h, batch script" "$OUT" \
    "CRMPI_CHECKPOINT_INTERVAL=auto:mtbf=6h"

OUT=$JOBS_DIR/sbatch-none.out
timeout 90 $AS_USER sbatch --wait -N1 -o "$OUT" --wrap "$SCRIPT" >/dev/null || fail "sbatch without options failed"
split_job_output "$OUT"
expect_vars "sbatch without options, batch script" "$OUT.script" ""
expect_vars "sbatch without options, srun step in it" "$OUT.step" ""
if grep -q 'SPANK_CRMPI' "$OUT"; then fail "sbatch without options: a SPANK_CRMPI variable is set (see $OUT)"; fi

# ------------------------------------------------------------------- srun
OUT=$JOBS_DIR/srun.out
timeout 60 $AS_USER srun -N"$NODES" --checkpoint-interval=2m env > "$OUT" || fail "srun --checkpoint-interval=2m env failed"
[ "$(grep -c '^CRMPI_CHECKPOINT_INTERVAL=2m$' "$OUT")" = "$NODES" ] ||
    fail "srun -N$NODES --checkpoint-interval=2m: expected $NODES tasks with CRMPI_CHECKPOINT_INTERVAL=2m (see $OUT)"
grep -q '^CRMPI_ENGINE=' "$OUT" && fail "srun --checkpoint-interval=2m: CRMPI_ENGINE is set (see $OUT)"
ok "srun -N$NODES --checkpoint-interval=2m: every task has CRMPI_CHECKPOINT_INTERVAL=2m, no CRMPI_ENGINE"

OUT=$JOBS_DIR/srun-override.out
CRMPI_CHECKPOINT_INTERVAL=1h timeout 60 $AS_USER srun -n1 '--checkpoint-interval=cron:0 0/30 * * * ?' --checkpoint-engine=criu \
    env > "$OUT" || fail "srun --checkpoint-interval='cron:0 0/30 * * * ?' failed"
expect_vars "CRMPI_CHECKPOINT_INTERVAL=1h srun --checkpoint-interval='cron:0 0/30 * * * ?' --checkpoint-engine=criu" \
    "$OUT" "CRMPI_CHECKPOINT_INTERVAL=cron:0 0/30 * * * ? CRMPI_ENGINE=criu"

OUT=$JOBS_DIR/srun-none.out
timeout 60 $AS_USER srun -n1 env > "$OUT" || fail "srun env failed"
expect_vars "srun without options" "$OUT" ""
OUT=$JOBS_DIR/srun-inherited.out
CRMPI_ENGINE=app timeout 60 $AS_USER srun -n1 env > "$OUT" || fail "srun env failed"
expect_vars "CRMPI_ENGINE=app srun without options (inherited, untouched)" "$OUT" "CRMPI_ENGINE=app"

# ------------------------------------------------------------------- salloc
OUT=$JOBS_DIR/salloc.out
timeout 60 $AS_USER salloc -N1 --checkpoint-engine=criu env > "$OUT" 2>/dev/null || fail "salloc --checkpoint-engine=criu failed"
expect_vars "salloc --checkpoint-engine=criu, its command" "$OUT" "CRMPI_ENGINE=criu"

# ------------------------------------------------------------------- bad values
# bad CMD OPTION EXPECTED_MESSAGE: CMD with OPTION fails, says EXPECTED_MESSAGE, submits nothing
bad() {
    local cmd=$1 opt=$2 want=$3 before err rc=0
    before=$(job_count)
    case $cmd in
        sbatch) err=$(timeout 30 $AS_USER sbatch "$opt" --wrap 'true' 2>&1 >/dev/null) || rc=$? ;;
        srun) err=$(timeout 30 $AS_USER srun -n1 "$opt" true 2>&1 >/dev/null) || rc=$? ;;
    esac
    [ "$rc" != 0 ] || fail "$cmd $opt succeeded"
    grep -qF -- "$want" <<<"$err" || fail "$cmd $opt: expected '$want' in its message, got: $err"
    grep -qF -- "accepted:" <<<"$err" || fail "$cmd $opt: the message does not say what is accepted: $err"
    [ "$(job_count)" = "$before" ] || fail "$cmd $opt: a job was submitted anyway"
    ok "$cmd $opt refused, nothing submitted: $(grep -F -- "$want" <<<"$err" | head -n1)"
}
bad sbatch --checkpoint-interval=soon "crmpi: bad --checkpoint-interval 'soon': neither a duration nor a policy name"
bad sbatch --checkpoint-interval=10x "crmpi: bad --checkpoint-interval '10x': interval '10x' is not a duration"
bad sbatch --checkpoint-interval=cron: "crmpi: bad --checkpoint-interval 'cron:': cron: needs a Quartz cron expression"
bad sbatch --checkpoint-interval=auto:mtbf=0s "auto mtbf '0s' is shorter than 1s"
bad sbatch --checkpoint-engine=dmtcp "crmpi: bad --checkpoint-engine 'dmtcp': not a checkpoint engine; accepted: criu or app"
bad srun --checkpoint-interval=soon "crmpi: bad --checkpoint-interval 'soon'"

# no job may be left behind
[ -z "$(timeout 10 squeue -h 2>/dev/null)" ] || fail "jobs still queued: $(squeue -h)"
log "all checks passed"
