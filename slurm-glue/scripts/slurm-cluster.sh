#!/usr/bin/env bash
# slurm-cluster.sh - start/stop a real, throw-away Slurm test cluster of several
# compute nodes on this one machine (everything on loopback).
#
#   slurm-cluster.sh up [NODES]   start munged + slurmctld + NODES slurmd (default 3)
#   slurm-cluster.sh down         stop everything that `up` started, remove the dir
#   slurm-cluster.sh status       sinfo + squeue
#   slurm-cluster.sh kill-node nX  simulate a node failure: SIGKILL nX's slurmd and
#                                 every process running on nX (job steps, node trees)
#   slurm-cluster.sh revive-node nX  start a killed node's slurmd again and wait
#                                 until Slurm has it idle (a later test's node)
#   slurm-cluster.sh kill-control nX  SIGKILL only nX's control processes (slurmd,
#                                 slurmstepd, crmpi's agent and crmpi-ns) and leave
#                                 the processes of node trees (their own namespaces)
#   slurm-cluster.sh env          print the exports a client needs (eval-able)
#   slurm-cluster.sh install [--mpi]  only install missing packages (apt-get)
#
# Progress messages go to stderr; `up` and `env` print only `export ...` lines on
# stdout, so `eval "$(slurm-cluster.sh up)"` works.
#
# Environment (all optional):
#   CRMPI_SLURM_DIR           cluster directory            (/tmp/crmpi-slurm)
#   CRMPI_SLURM_CTLD_PORT     slurmctld port               (16817)
#   CRMPI_SLURMD_PORT_BASE    port of n1; nX gets base+X-1 (16818)
#   CRMPI_SLURM_CPUS          CPUs declared per node        (2)
#   CRMPI_SLURM_AUTH          munge | none                  (munge; falls back to
#                             none with a warning when munged cannot be started)
#   CRMPI_SLURM_UP_TIMEOUT    seconds to wait for idle nodes (60)
#   CRMPI_SLURM_DEBUG         slurmctld/slurmd log level    (info)
#   CRMPI_SLURM_NO_INSTALL=1  never run apt-get, fail if Slurm is missing
#   CRMPI_SLURM_KEEP_ON_FAILURE=1  a failed `up` leaves the cluster for inspection
#                             (default: print the log tails, then tear it down)
#   CRMPI_SLURM_SPANK         a SPANK plugin .so to load (`optional` line in
#                             plugstack.conf; default: empty plugstack.conf)
#
# The daemons are tracked by the PIDs recorded in $CRMPI_SLURM_DIR/pids; each
# daemon runs in its own mount+UTS namespace, whose ids are recorded too, so that
# `down` also finds every slurmstepd / job process they spawned.  Nothing is ever
# killed by name.
set -euo pipefail
set +m

CLUSTER_DIR=${CRMPI_SLURM_DIR:-/tmp/crmpi-slurm}
CTLD_PORT=${CRMPI_SLURM_CTLD_PORT:-16817}
SLURMD_PORT_BASE=${CRMPI_SLURMD_PORT_BASE:-16818}
NODE_CPUS=${CRMPI_SLURM_CPUS:-2}
AUTH=${CRMPI_SLURM_AUTH:-munge}
UP_TIMEOUT=${CRMPI_SLURM_UP_TIMEOUT:-60}
DEBUG_LEVEL=${CRMPI_SLURM_DEBUG:-info}
CTLD_HOST=ctld
MARKER=.crmpi-slurm-cluster
# The job network's bridge (crmpi's multi-node jobs attach their node trees to it).
BRIDGE=crbr$CTLD_PORT

# Normalise the directory (no trailing slash, absolute) and refuse silly values,
# because `down` removes it.
case "$CLUSTER_DIR" in
    /*) ;;
    *) CLUSTER_DIR="$PWD/$CLUSTER_DIR" ;;
esac
CLUSTER_DIR=${CLUSTER_DIR%/}
case "$CLUSTER_DIR" in
    ""|/|/tmp|/root|/home|/usr|/etc|/var|/run|/opt)
        echo "slurm-cluster: refusing to use '${CRMPI_SLURM_DIR:-}' as cluster dir" >&2; exit 2 ;;
esac

CONF_DIR=$CLUSTER_DIR/etc
SLURM_CONF_FILE=$CONF_DIR/slurm.conf
PID_DIR=$CLUSTER_DIR/pids
MUNGE_DIR=$CLUSTER_DIR/munge
MUNGE_SOCKET=$MUNGE_DIR/munge.socket
CTLD_DIR=$CLUSTER_DIR/ctld
NODES_DIR=$CLUSTER_DIR/nodes

# Clients must never run without SLURM_CONF: they would fall back to a DNS SRV
# lookup, which leaves the machine.
export SLURM_CONF=$SLURM_CONF_FILE

log()  { echo "slurm-cluster: $*" >&2; }
die()  { echo "slurm-cluster: ERROR: $*" >&2; exit 1; }

# ---------------------------------------------------------------- packages ---
# ensure_packages [PKG...]: Slurm + munge, plus any extra Debian packages given.
ensure_packages() {
    local missing=() p
    for p in slurmctld slurmd slurm-client munge "$@"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$p")
        fi
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "${CRMPI_SLURM_NO_INSTALL:-0}" = 1 ]; then
        die "missing packages: ${missing[*]} (CRMPI_SLURM_NO_INSTALL=1)"
    fi
    [ "$(id -u)" = 0 ] || die "missing packages ${missing[*]}; install them as root"
    log "installing ${missing[*]} with apt-get"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >&2
    # On a machine with systemd, Debian's postinst may start the system-wide
    # munge/slurmd/slurmctld on their default sockets and ports (6817/6818);
    # they do not collide with this cluster and are never touched by it.
}

# ------------------------------------------------------- process bookkeeping ---
# starttime (field 22 of /proc/PID/stat) identifies a process across PID reuse.
proc_starttime() {
    local stat fields
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    # after "pid (comm) " the fields start at #3 (state); starttime is #22
    read -r -a fields <<< "$stat"
    echo "${fields[19]}"
}

ns_of() { # ns_of PID mnt|uts -> inode number
    local l
    l=$(readlink "/proc/$1/ns/$2" 2>/dev/null) || return 1
    l=${l#*[}; echo "${l%]}"
}

SELF_MNT_NS=$(ns_of $$ mnt || echo none)
SELF_UTS_NS=$(ns_of $$ uts || echo none)

# record NAME PID [ns]: writes pids/NAME as "PID STARTTIME [MNTNS UTSNS]".
# With "ns", waits until PID has entered its own namespaces (unshare done).
record_pid() {
    local name=$1 pid=$2 want_ns=${3:-} st mnt uts i
    # already gone: record it as dead so that a reused PID is never touched
    st=$(proc_starttime "$pid") || { echo "$pid dead" > "$PID_DIR/$name"; return 0; }
    if [ -n "$want_ns" ]; then
        for i in $(seq 1 100); do
            mnt=$(ns_of "$pid" mnt || true); uts=$(ns_of "$pid" uts || true)
            if [ -n "$mnt" ] && [ "$mnt" != "$SELF_MNT_NS" ] && [ -n "$uts" ] && [ "$uts" != "$SELF_UTS_NS" ]; then
                echo "$pid $st $mnt $uts" > "$PID_DIR/$name"
                return 0
            fi
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.05
        done
    fi
    echo "$pid $st" > "$PID_DIR/$name"
}

# alive NAME -> 0 if the recorded process is still the one we started
alive() {
    local f=$PID_DIR/$1 pid st rest cur
    [ -f "$f" ] || return 1
    read -r pid st rest < "$f" || return 1
    cur=$(proc_starttime "$pid") || return 1
    [ "$cur" = "$st" ]
}

recorded_pid() { local pid rest; read -r pid rest < "$PID_DIR/$1"; echo "$pid"; }

# Every process in one of the recorded (mnt,uts) namespace pairs.
ns_members() {
    [ -d "$PID_DIR" ] || return 0
    local pairs="" f pid st mnt uts
    for f in "$PID_DIR"/*; do
        [ -f "$f" ] || continue
        read -r pid st mnt uts < "$f" || true
        if [ -z "${mnt:-}" ] || [ -z "${uts:-}" ]; then continue; fi
        # never the namespace this script runs in
        if [ "$mnt" = "$SELF_MNT_NS" ] || [ "$uts" = "$SELF_UTS_NS" ]; then continue; fi
        pairs="$pairs $mnt:$uts"
    done
    [ -n "$pairs" ] || return 0
    # one `ls` over all processes: "/proc/PID/ns/mnt -> mnt:[INODE]"
    # shellcheck disable=SC2012
    { ls -l /proc/[0-9]*/ns/mnt /proc/[0-9]*/ns/uts 2>/dev/null || true; } |
        awk -v pairs="$pairs" -v self="$$" '
            { n = split($(NF-2), a, "/"); pid = a[3]; kind = a[5]
              v = $NF; gsub(/.*\[|\]/, "", v)
              if (kind == "mnt") m[pid] = v; else u[pid] = v }
            END { np = split(pairs, want, " ")
                  for (i = 1; i <= np; i++) ok[want[i]] = 1
                  for (pid in m) if (pid != self && ((m[pid] ":" u[pid]) in ok)) print pid }'
}

# ------------------------------------------------------------------- config ---
write_config() {
    local n=$1 i auth_type cred_type auth_info
    if [ "$AUTH" = munge ]; then
        auth_type=auth/munge; cred_type=cred/munge
        auth_info="socket=$MUNGE_SOCKET,cred_expire=5"
    else
        auth_type=auth/none; cred_type=cred/none
        auth_info="cred_expire=5"
    fi
    {
        cat <<EOF
# Generated by slurm-cluster.sh - a throw-away test cluster on loopback.
ClusterName=crmpi
SlurmctldHost=$CTLD_HOST(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=$auth_type
CredType=$cred_type
AuthInfo=$auth_info
# bind daemons to the address their name resolves to (127.0.0.1), not 0.0.0.0
CommunicationParameters=NoInAddrAny,NoCtldInAddrAny

StateSaveLocation=$CTLD_DIR/state
SlurmctldPidFile=$CTLD_DIR/slurmctld.pid
SlurmctldLogFile=$CTLD_DIR/slurmctld.log
SlurmctldDebug=$DEBUG_LEVEL
SlurmdSpoolDir=$NODES_DIR/%n/spool
SlurmdPidFile=$NODES_DIR/%n/slurmd.pid
SlurmdLogFile=$NODES_DIR/%n/slurmd.log
SlurmdDebug=$DEBUG_LEVEL
# per-node TmpFS: also the default PMIx client tmpdir base (%n is expanded)
TmpFS=$NODES_DIR/%n/tmp
SlurmdParameters=config_overrides

# no cgroups, running as root
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SwitchType=switch/none
MpiDefault=none
MailProg=/bin/true
PlugStackConfig=$CONF_DIR/plugstack.conf

# fast reactions for tests
SlurmdTimeout=5
MessageTimeout=5
KillWait=5
InactiveLimit=0
MinJobAge=300
WaitTime=0
ReturnToService=2
JobRequeue=1
SchedulerType=sched/backfill
SchedulerParameters=bf_interval=1,sched_interval=1

# preemption: jobs in "low" are requeued by jobs in "high"
PreemptType=preempt/partition_prio
PreemptMode=REQUEUE
SlurmctldParameters=preempt_send_user_signal

NodeName=DEFAULT CPUs=$NODE_CPUS RealMemory=1000 State=UNKNOWN
EOF
        for i in $(seq 1 "$n"); do
            echo "NodeName=n$i NodeHostname=n$i NodeAddr=127.0.0.1 Port=$((SLURMD_PORT_BASE + i - 1))"
        done
        cat <<EOF
PartitionName=low  Nodes=ALL Default=YES MaxTime=INFINITE State=UP PriorityTier=1 PreemptMode=REQUEUE GraceTime=10
PartitionName=high Nodes=ALL Default=NO  MaxTime=INFINITE State=UP PriorityTier=10 PreemptMode=OFF
EOF
    } > "$SLURM_CONF_FILE"

    # PMIx plugin settings (srun --mpi=pmix). The client tmpdir base comes from
    # the per-node TmpFS above; PMIxCliTmpDirBase would override it but does
    # not expand %n.
    cat > "$CONF_DIR/mpi.conf" <<EOF
PMIxTimeout=60
PMIxDirectConn=true
EOF
    # SPANK plugins: CRMPI_SLURM_SPANK names one .so, loaded as `optional`.
    if [ -n "${CRMPI_SLURM_SPANK:-}" ]; then
        [ -f "$CRMPI_SLURM_SPANK" ] || fail_up "CRMPI_SLURM_SPANK: no such file: $CRMPI_SLURM_SPANK"
        echo "optional $(readlink -f "$CRMPI_SLURM_SPANK")" > "$CONF_DIR/plugstack.conf"
    else
        : > "$CONF_DIR/plugstack.conf"
    fi

    # hosts file bind-mounted over /etc/hosts inside each daemon's namespace
    {
        echo "127.0.0.1 localhost $CTLD_HOST $(seq -f 'n%g' -s ' ' 1 "$n")"
        echo "::1 localhost ip6-localhost ip6-loopback"
    } > "$CONF_DIR/hosts"

    cat > "$CLUSTER_DIR/env.sh" <<EOF
export SLURM_CONF=$SLURM_CONF_FILE
export OMPI_MCA_btl_tcp_if_include=lo
export OMPI_MCA_oob_tcp_if_include=lo
export CRMPI_JOB_BRIDGE=$BRIDGE
EOF
}

# The job network: one bridge that every node's job veths attach to (on a real
# cluster it would span the hosts; here all nodes share this machine).
create_bridge() {
    if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
        ip link add "$BRIDGE" type bridge || die "cannot create the job network bridge $BRIDGE"
    fi
    ip link set "$BRIDGE" up
    echo "$BRIDGE" > "$CLUSTER_DIR/bridge"
}

delete_bridge() {
    local b
    [ -f "$CLUSTER_DIR/bridge" ] || return 0
    read -r b < "$CLUSTER_DIR/bridge"
    if [ -n "$b" ] && ip link show "$b" >/dev/null 2>&1; then
        ip link delete "$b" type bridge 2>/dev/null || log "WARNING: could not delete bridge $b"
    fi
}

# descendants PID...: the given processes and all their descendants.
descendants() {
    ps -e -o pid=,ppid= | awk -v roots="$*" '
        { parent[$1] = $2; pids[NR] = $1 }
        END { n = split(roots, r, " "); for (i = 1; i <= n; i++) keep[r[i]] = 1
              changed = 1
              while (changed) { changed = 0
                  for (i in pids) { p = pids[i]
                      if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; changed = 1 } } }
              for (p in keep) print p }'
}

# ------------------------------------------------------------------ daemons ---
start_munged() {
    mkdir -p "$MUNGE_DIR"; chmod 0755 "$MUNGE_DIR"
    if command -v mungekey >/dev/null 2>&1; then
        mungekey --create --keyfile="$MUNGE_DIR/munge.key" --force >/dev/null 2>&1 ||
            dd if=/dev/urandom of="$MUNGE_DIR/munge.key" bs=1024 count=1 status=none
    else
        dd if=/dev/urandom of="$MUNGE_DIR/munge.key" bs=1024 count=1 status=none
    fi
    chmod 0400 "$MUNGE_DIR/munge.key"
    setsid munged --foreground --force \
        --socket="$MUNGE_SOCKET" --key-file="$MUNGE_DIR/munge.key" \
        --pid-file="$MUNGE_DIR/munged.pid" --log-file="$MUNGE_DIR/munged.log" \
        --seed-file="$MUNGE_DIR/munged.seed" --num-threads=4 \
        </dev/null >>"$MUNGE_DIR/munged.out" 2>&1 &
    record_pid munged $!
    local i
    for i in $(seq 1 100); do
        if [ -S "$MUNGE_SOCKET" ] && munge -n --socket="$MUNGE_SOCKET" 2>/dev/null |
                unmunge --socket="$MUNGE_SOCKET" >/dev/null 2>&1; then
            return 0
        fi
        alive munged || break
        sleep 0.1
    done
    return 1
}

# run_in_ns NAME HOSTNAME LOGFILE CMD... : start CMD in its own mount+UTS
# namespace with hostname HOSTNAME, a private /run and our hosts file.
run_in_ns() {
    local name=$1 host=$2 out=$3; shift 3
    # shellcheck disable=SC2016
    setsid unshare --mount --uts --propagation private sh -c '
        set -e
        hostname "$1"
        mount -t tmpfs -o mode=0755 tmpfs /run
        mount --bind "$2" /etc/hosts
        shift 2
        exec "$@"' sh "$host" "$CONF_DIR/hosts" "$@" </dev/null >>"$out" 2>&1 &
    record_pid "$name" $! ns
}

start_slurmctld() {
    mkdir -p "$CTLD_DIR/state"
    run_in_ns slurmctld "$CTLD_HOST" "$CTLD_DIR/slurmctld.out" \
        slurmctld -D -i -f "$SLURM_CONF_FILE"
}

start_slurmd() {
    local node=$1
    mkdir -p "$NODES_DIR/$node/spool" "$NODES_DIR/$node/tmp"
    chmod 0755 "$NODES_DIR/$node/spool"; chmod 1777 "$NODES_DIR/$node/tmp"
    run_in_ns "slurmd-$node" "$node" "$NODES_DIR/$node/slurmd.out" \
        slurmd -D -N "$node" -f "$SLURM_CONF_FILE"
}

show_log_tails() {
    # the daemon's own log file, else what it wrote on stdout/stderr
    local log out d logs=("$MUNGE_DIR/munged.log" "$CTLD_DIR/slurmctld.log")
    for d in "$NODES_DIR"/*/; do [ -d "$d" ] && logs+=("${d%/}/slurmd.log"); done
    for log in "${logs[@]}"; do
        out=${log%.log}.out
        [ -s "$log" ] || log=$out
        [ -s "$log" ] || continue
        echo "----- last lines of $log" >&2
        tail -n "${CRMPI_SLURM_LOG_LINES:-12}" "$log" >&2
    done
}

is_healthy() {
    [ -f "$CLUSTER_DIR/$MARKER" ] && [ -f "$CLUSTER_DIR/nodes.count" ] || return 1
    local n i
    n=$(cat "$CLUSTER_DIR/nodes.count")
    alive slurmctld || return 1
    if [ "$(cat "$CLUSTER_DIR/auth" 2>/dev/null)" = munge ]; then alive munged || return 1; fi
    for i in $(seq 1 "$n"); do alive "slurmd-n$i" || return 1; done
    timeout 10 scontrol ping >/dev/null 2>&1
}

idle_count() {
    timeout 10 sinfo -h -N -o '%N %T' 2>/dev/null | sort -u | awk '$2=="idle"{c++} END{print c+0}'
}

fail_up() {
    log "ERROR: $*"
    show_log_tails
    if [ "${CRMPI_SLURM_KEEP_ON_FAILURE:-0}" = 1 ]; then
        log "CRMPI_SLURM_KEEP_ON_FAILURE=1: leaving $CLUSTER_DIR; run '$0 down' to clean up"
    else
        log "tearing the partial cluster down"
        do_down >/dev/null 2>&1 || true
    fi
    exit 1
}

print_env() { cat "$CLUSTER_DIR/env.sh"; }

# ----------------------------------------------------------------- commands ---
do_up() {
    local n=${1:-3} explicit=$# i t0 elapsed
    case "$n" in ''|*[!0-9]*) die "NODES must be a positive number, got '$n'" ;; esac
    [ "$n" -ge 1 ] || die "NODES must be >= 1"
    t0=$(date +%s)

    if [ -e "$CLUSTER_DIR" ] && [ ! -f "$CLUSTER_DIR/$MARKER" ] &&
       [ -n "$(ls -A "$CLUSTER_DIR" 2>/dev/null)" ]; then
        die "$CLUSTER_DIR exists and was not made by this script; refusing to use it"
    fi
    if [ -f "$CLUSTER_DIR/$MARKER" ]; then
        if is_healthy; then
            local have; have=$(cat "$CLUSTER_DIR/nodes.count")
            if [ "$explicit" -gt 0 ] && [ "$have" != "$n" ]; then
                die "cluster already up in $CLUSTER_DIR with $have nodes (asked for $n); run '$0 down' first"
            fi
            log "cluster already up in $CLUSTER_DIR ($have nodes)"
            print_env
            return 0
        fi
        log "found a stale or partial cluster in $CLUSTER_DIR; cleaning it up first"
        do_down
    fi

    ensure_packages
    [ "$(id -u)" = 0 ] || die "must run as root (namespaces, SlurmUser=root)"

    mkdir -p "$CLUSTER_DIR"
    touch "$CLUSTER_DIR/$MARKER"      # from here on `down` may clean up
    chmod 0755 "$CLUSTER_DIR"
    mkdir -p "$CONF_DIR" "$PID_DIR" "$CTLD_DIR" "$NODES_DIR"
    echo "$n" > "$CLUSTER_DIR/nodes.count"
    create_bridge

    if [ "$AUTH" = munge ]; then
        if ! start_munged; then
            log "WARNING: munged did not start (see $MUNGE_DIR/munged.log); falling back to AuthType=auth/none"
            show_log_tails
            if alive munged; then kill "$(recorded_pid munged)" 2>/dev/null || true; fi
            AUTH=none
        fi
    fi
    [ "$AUTH" = munge ] || [ "$AUTH" = none ] || die "CRMPI_SLURM_AUTH must be munge or none"
    echo "$AUTH" > "$CLUSTER_DIR/auth"
    write_config "$n"

    log "starting slurmctld on 127.0.0.1:$CTLD_PORT (auth: $AUTH)"
    start_slurmctld
    for i in $(seq 1 150); do
        timeout 5 scontrol ping >/dev/null 2>&1 && break
        alive slurmctld || fail_up "slurmctld exited"
        [ "$i" -lt 150 ] || fail_up "slurmctld did not answer within 15 s"
        sleep 0.1
    done

    log "starting $n slurmd (n1..n$n, ports $SLURMD_PORT_BASE..$((SLURMD_PORT_BASE + n - 1)))"
    for i in $(seq 1 "$n"); do start_slurmd "n$i"; done

    while :; do
        local idle; idle=$(idle_count)
        [ "$idle" -ge "$n" ] && break
        for i in $(seq 1 "$n"); do
            alive "slurmd-n$i" || fail_up "slurmd n$i exited"
        done
        alive slurmctld || fail_up "slurmctld exited"
        elapsed=$(( $(date +%s) - t0 ))
        if [ "$elapsed" -ge "$UP_TIMEOUT" ]; then
            sinfo -N -l >&2 2>/dev/null || true
            fail_up "only $idle of $n nodes idle after ${UP_TIMEOUT}s"
        fi
        sleep 0.5
    done
    log "cluster up: $n nodes idle after $(( $(date +%s) - t0 ))s (dir $CLUSTER_DIR)"
    print_env
}

do_down() {
    if [ ! -e "$CLUSTER_DIR" ]; then
        log "cluster is down (no $CLUSTER_DIR)"
        return 0
    fi
    if [ ! -f "$CLUSTER_DIR/$MARKER" ]; then
        die "$CLUSTER_DIR was not made by this script; not touching it"
    fi
    local f name pid st mnt uts round members
    mkdir -p "$PID_DIR"
    # 0. a daemon that `up` started but could not record (up killed at the
    #    wrong moment) is still found through the pidfile the daemon wrote into
    #    the cluster dir, if its command line points into the cluster dir.
    for f in "$MUNGE_DIR/munged.pid" "$CTLD_DIR/slurmctld.pid" "$NODES_DIR"/*/slurmd.pid; do
        [ -f "$f" ] || continue
        read -r pid < "$f" 2>/dev/null || continue
        case "$pid" in ''|*[!0-9]*) continue ;; esac
        grep -qF "$CLUSTER_DIR/" "/proc/$pid/cmdline" 2>/dev/null || continue
        grep -qs "^$pid " "$PID_DIR"/* && continue     # already recorded
        mnt=$(ns_of "$pid" mnt || true); uts=$(ns_of "$pid" uts || true)
        st=$(proc_starttime "$pid") || continue
        if [ -n "$mnt" ] && [ "$mnt" != "$SELF_MNT_NS" ] && [ -n "$uts" ] && [ "$uts" != "$SELF_UTS_NS" ]; then
            echo "$pid $st $mnt $uts" > "$PID_DIR/pidfile-$pid"
        else
            echo "$pid $st" > "$PID_DIR/pidfile-$pid"
        fi
    done
    # 1. polite stop of the daemons we recorded (slurmds first)
    for f in "$PID_DIR"/slurmd-* "$PID_DIR"/pidfile-* "$PID_DIR"/slurmctld "$PID_DIR"/munged; do
        [ -f "$f" ] || continue
        name=${f##*/}
        if alive "$name"; then
            kill -TERM "$(recorded_pid "$name")" 2>/dev/null || true
        fi
    done
    # 2. wait up to 5 s, then SIGKILL the stragglers
    for round in $(seq 1 50); do
        local any=0
        for f in "$PID_DIR"/*; do
            [ -f "$f" ] || continue
            alive "${f##*/}" && any=1
        done
        [ "$any" = 0 ] && break
        sleep 0.1
    done
    for f in "$PID_DIR"/*; do
        [ -f "$f" ] || continue
        name=${f##*/}
        if alive "$name"; then kill -KILL "$(recorded_pid "$name")" 2>/dev/null || true; fi
    done
    # 3. everything else left in the daemons' namespaces (slurmstepd, job tasks)
    #    and below them (node trees in namespaces of their own)
    for round in $(seq 1 50); do
        members=$(ns_members)
        # shellcheck disable=SC2086
        [ -z "$members" ] || members=$(descendants $members | grep -vx "$$" || true)
        [ -z "$members" ] && break
        if [ "$round" = 1 ]; then
            # shellcheck disable=SC2086
            kill -TERM $members 2>/dev/null || true
            sleep 0.3
        else
            # shellcheck disable=SC2086
            kill -KILL $members 2>/dev/null || true
            sleep 0.1
        fi
    done
    members=$(ns_members)
    if [ -n "$members" ]; then
        log "WARNING: processes still alive in the cluster namespaces: $members"
    fi
    # Clients (srun, salloc, ...) that someone started against this cluster are
    # not ours to kill; name them, so that a hanging test is easy to explain.
    local p clients=""
    for p in /proc/[0-9]*; do
        case "$(cat "$p/comm" 2>/dev/null)" in
            srun|salloc|sbatch|sattach|scontrol|squeue|sinfo|scancel) ;;
            *) continue ;;
        esac
        if tr '\0' '\n' < "$p/environ" 2>/dev/null | grep -qxF "SLURM_CONF=$SLURM_CONF_FILE"; then
            clients="$clients ${p#/proc/}"
        fi
    done
    if [ -n "$clients" ]; then
        log "WARNING: Slurm clients of this cluster still running (not started by this script, not killed):$clients"
    fi
    delete_bridge
    rm -rf "$CLUSTER_DIR"
    log "cluster down ($CLUSTER_DIR removed)"
}

# A node failure: nX's slurmd and everything on nX (its namespace's processes
# and their descendants, node trees included) are stopped at once, then killed.
# The processes of node nX: those in its slurmd's mount and UTS namespaces.
node_processes() {
    local node=$1 f pid st mnt uts
    case "$node" in n[0-9]*) ;; *) die "usage: $0 kill-node|kill-control nX" ;; esac
    f=$PID_DIR/slurmd-$node
    [ -f "$f" ] || die "no slurmd $node in $CLUSTER_DIR"
    alive "slurmd-$node" || die "slurmd $node is not running"
    read -r pid st mnt uts < "$f"
    # shellcheck disable=SC2012
    { ls -l /proc/[0-9]*/ns/mnt /proc/[0-9]*/ns/uts 2>/dev/null || true; } |
        awk -v pair="$mnt:$uts" -v self="$$" '
            { n = split($(NF-2), a, "/"); p = a[3]; kind = a[5]; v = $NF; gsub(/.*\[|\]/, "", v)
              if (kind == "mnt") m[p] = v; else u[p] = v }
            END { for (p in m) if (p != self && (m[p] ":" u[p]) == pair) print p }'
}

do_kill_node() {
    local node=${1:-} victims
    victims=$(node_processes "$node")
    # shellcheck disable=SC2086
    victims=$(descendants $victims | grep -vx "$$" || true)
    # shellcheck disable=SC2086
    kill -STOP $victims 2>/dev/null || true
    # shellcheck disable=SC2086
    kill -KILL $victims 2>/dev/null || true
    log "node $node killed ($(echo $victims | wc -w) processes)"
}

# A killed node comes back: its slurmd starts again in new namespaces, and
# Slurm (ReturnToService=2) takes it back once it registers.
do_revive_node() {
    local node=${1:-} i state
    case "$node" in n[0-9]*) ;; *) die "usage: $0 revive-node nX" ;; esac
    [ -d "$NODES_DIR/$node" ] || die "no node $node in $CLUSTER_DIR"
    alive "slurmd-$node" || start_slurmd "$node"
    for i in $(seq 1 120); do
        state=$(timeout 10 sinfo -h -n "$node" -o '%T' 2>/dev/null | head -1)
        case "$state" in
            idle) log "node $node is back (idle)"; return 0 ;;
            down*|drain*) timeout 10 scontrol update nodename="$node" state=resume >/dev/null 2>&1 || true ;;
        esac
        alive "slurmd-$node" || die "slurmd $node exited while coming back"
        sleep 0.5
    done
    die "node $node is not idle 60 s after its slurmd started again (state: ${state:-unknown})"
}

# The control plane of a node dies (slurmd, its step daemons, crmpi's agent and
# the node-tree runtime are SIGKILLed) while the processes of the job's node
# trees, which live in namespaces of their own, are left running: crmpi's
# fencing must end them.
do_kill_control() {
    local node=${1:-} victims
    victims=$(node_processes "$node" | grep -vx "$$" || true)
    # shellcheck disable=SC2086
    kill -STOP $victims 2>/dev/null || true
    # shellcheck disable=SC2086
    kill -KILL $victims 2>/dev/null || true
    log "control processes of node $node killed ($(echo $victims | wc -w) processes)"
}

do_status() {
    if [ ! -f "$CLUSTER_DIR/$MARKER" ]; then
        log "cluster is down (no $CLUSTER_DIR)"; return 3
    fi
    local rc=0
    if is_healthy; then log "cluster up in $CLUSTER_DIR"; else log "cluster NOT healthy"; rc=1; fi
    timeout 10 sinfo -N -o '%N %P %T %C' || rc=1
    timeout 10 squeue -o '%.8i %.9P %.20j %.8T %.10M %.6D %R' || rc=1
    return $rc
}

do_env() {
    if [ -f "$CLUSTER_DIR/env.sh" ]; then
        print_env
    else
        log "cluster is not up; these are the exports it would use"
        echo "export SLURM_CONF=$SLURM_CONF_FILE"
    fi
}

usage() {
    sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
    up)     do_up "$@" ;;
    down)   do_down ;;
    status) do_status ;;
    kill-node) do_kill_node "$@" ;;
    kill-control) do_kill_control "$@" ;;
    revive-node) do_revive_node "$@" ;;
    env)    do_env ;;
    install)
        # install Slurm + munge (and with --mpi Open MPI + mpicc) if missing
        if [ "${1:-}" = --mpi ]; then ensure_packages openmpi-bin libopenmpi-dev; else ensure_packages; fi ;;
    *)      usage ;;
esac
