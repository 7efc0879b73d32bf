#!/bin/bash
# Measures crmpi's checkpoint and restore on one 4-rank Open MPI job (the
# halo program) at 16 MiB and 256 MiB per rank, next to a raw `criu dump` of
# the same node tree and `dd` with fsync of the same number of bytes, in the
# same run; and the job's run time without crmpi, under crmpi without
# checkpoints and under crmpi with a checkpoint every 2 s. Prints the figures
# and writes them to docs/benchmarks.md.
#
# Every job runs as the ordinary user crmpi-bench (created here), its node
# tree through crmpid, as on a cluster. Only the raw `criu dump` beside it
# runs as root (CRIU needs it; it dumps that user's tree with --leave-running
# and runs nothing of the job).
#
# usage: scripts/benchmark.sh [SIZES_MIB...]   (default: 16 256)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/setup.sh" >/dev/null
make -s -C "$ROOT/mpi-tests/src/main/c" OUT="$ROOT/mpi-tests/target/bin"
. "$ROOT/build/criu/env"
SIZES=("${@:-16 256}")
[ $# -eq 0 ] && SIZES=(16 256)
CRMPI="$ROOT/bin/crmpi"
HALO="$ROOT/mpi-tests/target/bin/halo"
B="$ROOT/build/bench"
BENCH_USER=crmpi-bench
id "$BENCH_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$BENCH_USER"
rm -rf "$B"; mkdir -p "$B/state"; chmod 0755 "$B"; chown "$BENCH_USER:" "$B/state"
export CRMPI_STATE_DIR="$B/state"
AS=(runuser -u "$BENCH_USER" -- env CRMPI_STATE_DIR="$CRMPI_STATE_DIR")
# userdir DIR...: new directories of the bench user
userdir() { mkdir -p "$@"; chown "$BENCH_USER:" "$@"; }
ROWS=()
LROWS=()
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
log() { echo "benchmark: $*" >&2; }

# halo holds two N x N grids of doubles per rank: 16 MiB per rank is N=1024.
edge_for() { awk -v m="$1" 'BEGIN { printf "%d", sqrt(m * 1048576 / 16) }'; }

# Seconds from the "verifying" line of a restore to "every node tree is restored and runs again" in a job's
# log (the probation that follows, 5 s by default, is not part of the restore).
restore_seconds() {
  awk '/: verifying .* of checkpoint files/ { s = $1 } /: every node tree is restored and runs again/ { e = $1 }
       END { gsub(/[TZ]/, " ", s); gsub(/[TZ]/, " ", e);
             split(s, a, " "); split(e, b, " "); split(a[2], x, ":"); split(b[2], y, ":");
             printf "%.2f", (y[1]*3600 + y[2]*60 + y[3]) - (x[1]*3600 + x[2]*60 + x[3]) }' "$1"
}

# Seconds to read the image files under $1 with their pages dropped from the cache first (the faster of two
# reads, so the bound is the strict one), as many files at a time as there are cores (as a restore reads
# them), in reads of 16 MiB (faster here than cat's 128 KiB: the kernel reads further ahead): the bound a
# restore is held to (1.2 x this + 1 s).
read_seconds() {
  local f t0 t1 best=""
  sync
  for _ in 1 2; do
    find "$1" -type f -name '*.img' | while read -r f; do dd if="$f" iflag=nocache count=0 status=none; done
    t0=$(now); find "$1" -type f -name '*.img' -printf '%s %p\n' | sort -rn | cut -d' ' -f2- | \
      xargs -r -d '\n' -P "$(nproc)" -I{} dd if={} of=/dev/null bs=16M status=none; t1=$(now)
    best=$(awk -v a="$best" -v b="$(secs "$t0" "$t1")" 'BEGIN { print (a == "" || b < a) ? b : a }')
  done
  echo "$best"
}
# "staging S + CRIU C" (seconds) of job $1's last restore, from crmpid's log line for it
restore_parts() {
  { cat /var/log/crmpid.log 2>/dev/null || journalctl -u crmpid --no-pager 2>/dev/null; } |
    sed -n "s/.*job $1 node [^ ]* epoch [0-9]*: image of .* staged and checked in \([0-9]*\) ms, restored by CRIU in \([0-9]*\) ms.*/\1 \2/p" |
    tail -1 | awk '{ printf "%.2f + %.2f", $1 / 1000, $2 / 1000 }'
}
# The seconds crmpid took to digest and seal each of job $1's checkpoints after their commit (its log's Seal lines)
seal_seconds() {
  { cat /var/log/crmpid.log 2>/dev/null || journalctl -u crmpid --no-pager 2>/dev/null; } |
    sed -n "s/.*: Seal job $1 node [^ ]* done in \([0-9]*\) ms.*/\1/p" | head -3 |
    awk '{ printf "%s%.2f", (NR > 1 ? " " : ""), $1 / 1000 }'
}
# restore_ratio RESTORE READ: RESTORE / (1.2 * READ + 1)
restore_ratio() { awk -v r="$1" -v d="$2" 'BEGIN { printf "%.2f", r / (1.2 * d + 1) }'; }

# The init of the node tree that runs process $1: the ancestor that is pid 1 in its own pid namespace.
tree_init() {
  local pid=$1
  while [ "$pid" -gt 1 ]; do
    [ "$(awk '/^NSpid:/ { print $NF }' "/proc/$pid/status")" = 1 ] && { echo "$pid"; return 0; }
    pid=$(awk '/^PPid:/ { print $2 }' "/proc/$pid/status")
  done
  return 1
}

external_args() { # criu --external options for the tree rooted at $1
  local pid=$1 wd=$2
  while read -r _ _ _ _ mp rest; do
    fstype=$(echo "$rest" | sed 's/.* - //' | cut -d' ' -f1)
    source=$(echo "$rest" | sed 's/.* - //' | cut -d' ' -f2)
    [ "$mp" = / ] && continue
    [ "$fstype" = proc ] && [ "$mp" = /proc ] && continue
    [ "$fstype" = tmpfs ] && case "$source" in crmpi-*) continue;; esac
    echo "--external mnt[$mp]:$mp"
  done < "/proc/$pid/mountinfo" | sort -u
}

DISK="$(df -h "$B" | awk 'NR==2 { print $1 " (" $2 ")" }')"

for MIB in "${SIZES[@]}"; do
  N=$(edge_for "$MIB")
  JOB="bench$MIB"
  W="$B/$JOB/work"; userdir "$B/$JOB" "$W"
  log "$MIB MiB per rank (HALO_N=$N): starting the job of $BENCH_USER under crmpi"
  # The previous step's images may still be on their way to the disk: that writeback ends first.
  sync
  (cd "$W" && exec "${AS[@]}" "$CRMPI" run --name "$JOB" --interval none --keep 2 --max-restarts 1 -- \
    mpirun -np 4 --oversubscribe -x HALO_N="$N" "$HALO" 1000000 > "$B/$JOB/out" 2> "$B/$JOB/err") &
  JPID=$!
  for _ in $(seq 1 600); do grep -q "50/1000000" "$B/$JOB/out" 2>/dev/null && break; sleep 0.1; done
  CKPT=() ; FROZEN=() ; SIZE=""
  for i in 1 2 3; do
    line=$("${AS[@]}" "$CRMPI" checkpoint "$JOB")
    log "  crmpi checkpoint: $line"
    SIZE=$(echo "$line" | sed -n 's/.*committed: \(.*\) in .*/\1/p')
    CKPT+=("$(echo "$line" | sed -n 's/.* in \([0-9.]*\) s .*/\1/p')")
    FROZEN+=("$(echo "$line" | sed -n 's/.*frozen \([0-9.]*\) s.*/\1/p')")
  done
  BYTES=$(du -sb "$(ls -d "$CRMPI_STATE_DIR/jobs/$JOB/checkpoints/epochs/"* | tail -1)" | cut -f1)
  INIT=$(tree_init "$(pgrep -u "$BENCH_USER" -f "^$HALO 1000000" -n)")
  RAW="$B/raw-$MIB"; mkdir -p "$RAW"
  # shellcheck disable=SC2046
  # As crmpid runs it: with the prlimit shim, for hosts whose root lacks CAP_SYS_RESOURCE (docs/security.md).
  # Once unmeasured first: CRIU's first run on a host probes the kernel for about 2 s (crmpid's CRIU has
  # done that long before).
  # shellcheck disable=SC2046
  LD_PRELOAD="$ROOT/native/target/bin/libcrmpi-prlimit-compat.so" "$CRMPI_CRIU" dump -t "$INIT" -D "$RAW" -o dump.log \
    --leave-running --tcp-established --network-lock nftables --ghost-limit 268435456 $(external_args "$INIT" "$W")
  rm -rf "$RAW"; mkdir -p "$RAW"
  t0=$(now); LD_PRELOAD="$ROOT/native/target/bin/libcrmpi-prlimit-compat.so" "$CRMPI_CRIU" dump -t "$INIT" -D "$RAW" -o dump.log --leave-running --tcp-established \
    --network-lock nftables --ghost-limit 268435456 $(external_args "$INIT" "$W"); t1=$(now)
  sync -f "$RAW"; t2=$(now)
  RAWDUMP=$(secs "$t0" "$t1"); RAWSYNC=$(secs "$t0" "$t2")
  RAWBYTES=$(du -sb "$RAW" | cut -f1)
  rm -rf "$RAW"
  t0=$(now); dd if=/dev/zero of="$B/dd.bin" bs=1M count=$((RAWBYTES / 1048576)) conv=fsync status=none; t1=$(now)
  DD=$(secs "$t0" "$t1"); rm -f "$B/dd.bin"
  log "  kill -9 of one rank: crmpi restores the job"
  pkill -9 -u "$BENCH_USER" -f "^$HALO 1000000" -n || true
  for _ in $(seq 1 600); do grep -q "restored; the job continues" "$B/$JOB/err" && break; sleep 0.1; done
  RESTORE=$(restore_seconds "$CRMPI_STATE_DIR/jobs/$JOB/crmpi.log")
  kill "$JPID" 2>/dev/null || true; wait "$JPID" 2>/dev/null || true
  READ=$(read_seconds "$(ls -d "$CRMPI_STATE_DIR/jobs/$JOB/checkpoints/epochs/"* | tail -1)")
  ROWS+=("| $MIB MiB | $(awk -v b="$BYTES" 'BEGIN{printf "%.0f MiB", b/1048576}') | ${CKPT[*]} | ${FROZEN[*]} | $(seal_seconds "$JOB") | $RAWDUMP | $RAWSYNC | $DD | $RESTORE | $(restore_parts "$JOB") | $READ | $(restore_ratio "$RESTORE" "$READ") |")

  # The same job with a node-local level on the same disk (--local-dir): commits at the node-local level,
  # the flush to the state directory follows in the background.
  LJOB="local$MIB"; LW="$B/$LJOB/work"; userdir "$B/$LJOB" "$LW"; mkdir -p "$B/local"; chmod 1777 "$B/local"
  log "$MIB MiB per rank: the same job with --local-dir $B/local"
  sync
  (cd "$LW" && exec "${AS[@]}" "$CRMPI" run --name "$LJOB" --interval none --keep 2 --max-restarts 1 \
    --local-dir "$B/local" -- mpirun -np 4 --oversubscribe -x HALO_N="$N" "$HALO" 1000000 \
    > "$B/$LJOB/out" 2> "$B/$LJOB/err") &
  LPID=$!
  for _ in $(seq 1 600); do grep -q "50/1000000" "$B/$LJOB/out" 2>/dev/null && break; sleep 0.1; done
  LCKPT=() ; LFROZEN=() ; LRATIO=()
  for i in 1 2 3; do
    line=$("${AS[@]}" "$CRMPI" checkpoint "$LJOB")
    log "  crmpi checkpoint: $line"
    c=$(echo "$line" | sed -n 's/.* in \([0-9.]*\) s .*/\1/p')
    LCKPT+=("$c"); LFROZEN+=("$(echo "$line" | sed -n 's/.*frozen \([0-9.]*\) s.*/\1/p')")
    LRATIO+=("$(awk -v c="$c" -v r="$RAWSYNC" 'BEGIN { printf "%.2f", c / r }')")
    # the next checkpoint after this one's flush: the figure is the commit, not a flush racing it
    for _ in $(seq 1 600); do [ "$(grep -c "epoch $((i)): flushed to the state directory" "$B/$LJOB/err")" -ge 1 ] && break; sleep 0.1; done
  done
  FLUSH=$(sed -n 's/.*flushed to the state directory: .* in \([0-9.]*\) s;.*/\1/p' "$B/$LJOB/err" | tr '\n' ' ')
  log "  kill -9 of one rank: crmpi restores the job from the node-local level"
  pkill -9 -u "$BENCH_USER" -f "^$HALO 1000000" -n || true
  for _ in $(seq 1 600); do grep -q "restored; the job continues" "$B/$LJOB/err" && break; sleep 0.1; done
  LRESTORE=$(restore_seconds "$CRMPI_STATE_DIR/jobs/$LJOB/crmpi.log")
  grep -q "node local: restoring from $B/local/" "$CRMPI_STATE_DIR/jobs/$LJOB/crmpi.log" ||
    { log "the restore of $LJOB did not come from the node-local level:"; grep restoring "$CRMPI_STATE_DIR/jobs/$LJOB/crmpi.log" >&2; exit 1; }
  kill "$LPID" 2>/dev/null || true; wait "$LPID" 2>/dev/null || true
  LREAD=$(read_seconds "$(ls -d "$B/local/crmpi-$(id -u "$BENCH_USER")/$LJOB/epochs/"* | tail -1)")
  LROWS+=("| $MIB MiB | ${LCKPT[*]} | ${LFROZEN[*]} | $(seal_seconds "$LJOB") | $RAWSYNC | ${LRATIO[*]} | ${FLUSH% } | $LRESTORE | $(restore_parts "$LJOB") | $LREAD | $(restore_ratio "$LRESTORE" "$LREAD") |")
done

log "run time of 300 halo iterations (16 MiB per rank) without and with crmpi"
run_time() { local t0 t1; t0=$(now); "$@" > /dev/null 2>&1; t1=$(now); secs "$t0" "$t1"; }
userdir "$B/plain" "$B/none" "$B/every2s"
PLAIN=$(cd "$B/plain" && run_time "${AS[@]}" mpirun -np 4 --oversubscribe -x HALO_N=1024 "$HALO" 300)
NONE=$(cd "$B/none" && run_time "${AS[@]}" "$CRMPI" run --name ovh-none --interval none -- mpirun -np 4 --oversubscribe -x HALO_N=1024 "$HALO" 300)
EVERY=$(cd "$B/every2s" && run_time "${AS[@]}" "$CRMPI" run --name ovh-2s --interval 2s -- mpirun -np 4 --oversubscribe -x HALO_N=1024 "$HALO" 300)
SAME=$(cmp -s "$B/plain/halo.out" "$B/every2s/halo.out" && echo "byte-identical" || echo "DIFFERENT")

OUT="$ROOT/docs/benchmarks.md"
{
  echo "# Benchmarks"
  echo
  echo "Produced by \`scripts/benchmark.sh\` on $(date -u +%Y-%m-%d) ($(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB,"
  echo "Linux $(uname -r), CRIU $("$CRMPI_CRIU" --version | sed -n 's/Version: //p'), $(mpirun --version | head -1),"
  echo "disk $DISK). One 4-rank job of \`mpi-tests/src/main/c/halo.c\` in local mode, run by the ordinary user"
  echo "$BENCH_USER through crmpid (the raw \`criu dump\` beside it runs as root on that user's tree)."
  echo
  echo "## Checkpoint and restore"
  echo
  echo "| memory per rank | image | crmpi checkpoint, s (3 runs) | ranks frozen, s | seal after the commit, s | raw \`criu dump\`, s | raw dump + sync, s | \`dd\` same bytes with fsync, s | crmpi restore, s | of which staging + CRIU, s | read the image, s | restore ÷ (1.2 × read + 1 s) |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${ROWS[@]}"
  echo
  echo "- *crmpi checkpoint*: \`crmpi checkpoint\` wall time as the coordinator measures it: freeze, CRIU dump,"
  echo "  working-directory snapshot, fsync of every file, manifest commit."
  echo "- *ranks frozen*: from the freeze to the thaw; the ranks run again while the image is fsynced."
  echo "- *seal after the commit*: crmpid's SHA-256 of every image file and its seal over them, which make the"
  echo "  epoch restorable (docs/protocol.md); it follows the commit, while the ranks run (from crmpid's log)."
  echo "  The first checkpoint of a run freezes the ranks longer at 1 GiB per rank, and the cause is this machine,"
  echo "  a virtual machine whose memory the host backs only when the guest first touches a page (and, it seems, takes back"
  echo "  when the guest frees it): CRIU's writes of the first dump land in page-cache pages never touched before,"
  echo "  and perf shows the time in the kernel's copy into them. Measured here: \`dd\` of 4 GiB into the page"
  echo "  cache, without fsync, takes 9.9-14 s on fresh pages and 0.8 s on pages just freed. The \`dd\` column ran"
  echo "  after the checkpoints, on warm pages."
  echo "- *raw criu dump*: the same CRIU binary dumping the same tree with --leave-running, no fsync, no digests;"
  echo "  *+ sync* adds the fsync of its images (the durable equivalent)."
  echo "- *dd*: \`dd if=/dev/zero bs=1M conv=fsync\` of the raw image's size: the disk's bound for writing it durably."
  echo "- *restore*: from the decision to restore (after a rank was killed with SIGKILL) to the restored tree running,"
  echo "  including the verification of every image file's SHA-256 and the rollback of the working directory (the"
  echo "  probation after it, 5 s by default, is not counted). Its two parts, from crmpid's log: the staging"
  echo "  (every image file taken out of the owner's reach and its SHA-256 checked, the disk reading ahead of"
  echo "  the hash) and CRIU's own restore, which puts every page back into the ranks' memory: on this VM that"
  echo "  memory is touched for the first time, as with the first checkpoint."
  echo "- *read the image*: the restored epoch's image files read with \`dd bs=16M\`, $(nproc) at a time, after their pages"
  echo "  were dropped from the cache (the faster of two reads, after the job ended): the time to read the image."
  echo "  The issue's goal for a restore is at most 1.2 × that + 1 s (the last column at most 1.00)."
  echo "- *raw criu dump*: CRIU run by hand as root on the user's tree, which lives in crmpid's namespaces; it"
  echo "  spends about 2 s more than crmpid's own CRIU run on the same tree, whatever the image's size."
  echo
  echo "## With a node-local level (\`--local-dir\` on the same disk)"
  echo
  echo "| memory per rank | commit at the node-local level, s (3 runs) | ranks frozen, s | seal after the commit, s | raw dump + sync, s | commit ÷ raw dump + sync | flush to the state directory afterwards, s | restore from the node-local level, s | of which staging + CRIU, s | read the image, s | restore ÷ (1.2 × read + 1 s) |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${LROWS[@]}"
  echo
  echo "- *commit at the node-local level*: freeze, CRIU dump into the node-local directory, fsync of every"
  echo "  file, manifest commit; crmpid's seal and the flush to the state directory run after it, while the job"
  echo "  runs (their times in their columns). The issue's goal for the ratio is at most 1.10."
  echo "- *restore from the node-local level*: a rank killed with SIGKILL after the third checkpoint; the job"
  echo "  restores from its node-local copy, measured as above, and beside it the time to read that copy."
  echo
  echo "## Run time without and with crmpi"
  echo
  echo "| 300 halo iterations, 16 MiB per rank | wall time, s |"
  echo "|---|---|"
  echo "| mpirun without crmpi | $PLAIN |"
  echo "| under crmpi, no checkpoints | $NONE |"
  echo "| under crmpi, a checkpoint every 2 s | $EVERY |"
  echo
  echo "The output of the run with checkpoints is $SAME to the one without crmpi."
  echo
  echo "What crmpid costs next to root's in-process CRIU: [benchmarks-crmpid.md](benchmarks-crmpid.md)"
  echo "(\`scripts/benchmark-crmpid.sh\`). What a working directory full of inputs costs at a checkpoint"
  echo "(nothing: only the files the job writes are read): [benchmarks-workdir.md](benchmarks-workdir.md)"
  echo "(\`scripts/benchmark-workdir.sh\`)."
  echo "Wall times include the JVM's start (about 0.5 s) and the container setup."
} > "$OUT"
cat "$OUT"
