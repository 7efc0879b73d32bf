#!/bin/bash
# What crmpid costs: the same 4-rank Open MPI job (halo) checkpointed and
# restored by crmpi running as root (CRIU in crmpi's own JVM) and as an
# ordinary user through crmpid (seal, sealed-copy restore, credential
# checks), in one run, alternating, at 16 MiB and 256 MiB per rank. Prints
# the figures and writes them to docs/benchmarks-crmpid.md.
#
# usage: scripts/benchmark-crmpid.sh [ROUNDS]   (default 2 rounds per size and mode)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROUNDS=${1:-2}
"$ROOT/scripts/setup.sh" >/dev/null
make -s -C "$ROOT/mpi-tests/src/main/c" OUT="$ROOT/mpi-tests/target/bin"
CRMPI="$ROOT/bin/crmpi"
HALO="$ROOT/mpi-tests/target/bin/halo"
B="$ROOT/build/bench-crmpid"
BENCH_USER=crmpi-bench
id "$BENCH_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$BENCH_USER"
rm -rf "$B"; mkdir -p "$B"; chmod 0755 "$B"
log() { echo "benchmark-crmpid: $*" >&2; }
edge_for() { awk -v m="$1" 'BEGIN { printf "%d", sqrt(m * 1048576 / 16) }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { printf "%.2f", (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
# Seconds from "verifying" to "every node tree is restored and runs again" in a job's log.
restore_seconds() {
  awk '/: verifying .* of checkpoint files/ { s = $1 } /: every node tree is restored and runs again/ { e = $1 }
       END { split(s, a, "T"); split(e, b, "T"); sub(/Z/, "", a[2]); sub(/Z/, "", b[2]);
             split(a[2], x, ":"); split(b[2], y, ":");
             printf "%.2f", (y[1]*3600 + y[2]*60 + y[3]) - (x[1]*3600 + x[2]*60 + x[3]) }' "$1"
}

# run_one MODE MIB ROUND: prints "total1 total2 total3|frozen1 frozen2 frozen3|restore"
run_one() {
  local mode=$1 mib=$2 round=$3 job="h$2r$3" dir="$B/$1/$2-$3" as=() pid line t=() f=()
  mkdir -p "$dir/state" "$dir/work"
  if [ "$mode" = user ]; then
    chown -R "$BENCH_USER:" "$dir/state" "$dir/work"
    as=(runuser -u "$BENCH_USER" --)
  fi
  (cd "$dir/work" && exec "${as[@]}" env CRMPI_STATE_DIR="$dir/state" OMPI_ALLOW_RUN_AS_ROOT=1 \
    OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "$CRMPI" run --name "$job" --interval none --keep 2 --max-restarts 1 -- \
    mpirun -np 4 --oversubscribe -x HALO_N="$(edge_for "$mib")" "$HALO" 1000000 > "$dir/out" 2> "$dir/err") &
  pid=$!
  for _ in $(seq 1 900); do grep -q "50/1000000" "$dir/out" 2>/dev/null && break; sleep 0.1; done
  for _ in 1 2 3; do
    line=$("${as[@]}" env CRMPI_STATE_DIR="$dir/state" "$CRMPI" checkpoint "$job")
    t+=("$(echo "$line" | sed -n 's/.* in \([0-9.]*\) s .*/\1/p')")
    f+=("$(echo "$line" | sed -n 's/.*frozen \([0-9.]*\) s.*/\1/p')")
  done
  local who=root
  [ "$mode" = user ] && who=$BENCH_USER
  pkill -9 -u "$who" -f "^$HALO 1000000" -n || true
  for _ in $(seq 1 900); do grep -q "every node tree is restored and runs again" "$dir/err" && break; sleep 0.1; done
  local r
  r=$(restore_seconds "$dir/state/jobs/$job/crmpi.log")
  kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
  echo "${t[*]}|${f[*]}|$r"
}

ROWS=()
for MIB in 16 256; do
  declare -A T=() F=() R=()
  for round in $(seq 1 "$ROUNDS"); do
    for mode in root user; do
      log "$MIB MiB per rank, round $round, as $mode"
      res=$(run_one "$mode" "$MIB" "$round")
      log "  checkpoints ${res%%|*} s; restore ${res##*|} s"
      T[$mode]="${T[$mode]:-} ${res%%|*}"
      rest=${res#*|}
      F[$mode]="${F[$mode]:-} ${rest%%|*}"
      R[$mode]="${R[$mode]:-} ${res##*|}"
    done
  done
  # shellcheck disable=SC2086
  for mode in root user; do
    tm=$(median ${T[$mode]}); fm=$(median ${F[$mode]}); rm_=$(median ${R[$mode]})
    eval "TM_$mode=$tm FM_$mode=$fm RM_$mode=$rm_"
    label="root, CRIU in crmpi"; [ "$mode" = user ] && label="ordinary user, through crmpid"
    ROWS+=("| $MIB MiB | $label | $tm (${T[$mode]# }) | $fm | $rm_ (${R[$mode]# }) |")
  done
  pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0) printf "%+.0f%%", (b - a) * 100 / a; else print "-" }'; }
  ROWS+=("| $MIB MiB | **crmpid's cost** | $(pct "$TM_root" "$TM_user") | $(pct "$FM_root" "$FM_user") | $(pct "$RM_root" "$RM_user") |")
  unset T F R
done

OUT="$ROOT/docs/benchmarks-crmpid.md"
{
  echo "# What crmpid costs"
  echo
  echo "Produced by \`scripts/benchmark-crmpid.sh $ROUNDS\` on $(date -u +%Y-%m-%d) ($(nproc) cores,"
  echo "Linux $(uname -r), $(mpirun --version | head -1)). One 4-rank job of \`mpi-tests/src/main/c/halo.c\` in"
  echo "local mode, checkpointed 3 times with \`crmpi checkpoint\`, then a rank is killed with SIGKILL and the"
  echo "job restored; $ROUNDS rounds per size and mode, root and user alternating. Figures are medians (all runs in"
  echo "parentheses)."
  echo
  echo "| memory per rank | who runs the job | checkpoint, s | ranks frozen, s | restore, s |"
  echo "|---|---|---|---|---|"
  printf '%s\n' "${ROWS[@]}"
  echo
  echo "- *root*: crmpi runs CRIU and crmpi-ns itself (the job runs as root)."
  echo "- *ordinary user*: the job, its coordinator and the store run as the user; crmpid (root) dumps into a"
  echo "  root-only directory, seals the image (SHA-256 of every file, through descriptors it opened before the"
  echo "  owner could touch them) and hands it over; a restore verifies the seal, stages every file in a root-only"
  echo "  directory (a hard link made root's, a read lease proving no writer is left, its digest checked: no"
  echo "  copy on the image's file system), restores from there and checks every restored process's credentials"
  echo "  before the thaw. The user's crmpi then skips its own digest pass over the images (crmpid's replaces it)."
  echo "- *checkpoint*: \`crmpi checkpoint\` wall time as the coordinator measures it (freeze to commit)."
  echo "- *restore*: from the verification of the epoch's files to every node tree running again."
} > "$OUT"
cat "$OUT"
