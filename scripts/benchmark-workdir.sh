#!/bin/bash
# What a job's working directory costs at a checkpoint: the same 4-rank Open
# MPI job (ring, one output file) of an ordinary user through crmpid,
# checkpointed 3 times with `crmpi checkpoint`, once in an empty working
# directory and once next to GIB GiB of inputs it only reads. crmpi records
# only the files the job writes, so the inputs should cost nothing; for
# scale, the same run also measures what copying the inputs once takes
# (what a whole-directory snapshot would write at every epoch). Prints the
# figures and writes them to docs/benchmarks-workdir.md.
#
# usage: scripts/benchmark-workdir.sh [GIB] [ROUNDS]   (default 10 GiB, 2 rounds)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GIB=${1:-10}
ROUNDS=${2:-2}
"$ROOT/scripts/setup.sh" >/dev/null
make -s -C "$ROOT/mpi-tests/src/main/c" OUT="$ROOT/mpi-tests/target/bin"
CRMPI="$ROOT/bin/crmpi"
RING="$ROOT/mpi-tests/target/bin/ring"
B="$ROOT/build/bench-workdir"
BENCH_USER=crmpi-bench
id "$BENCH_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$BENCH_USER"
rm -rf "$B"; mkdir -p "$B/inputs"; chmod 0755 "$B"
log() { echo "benchmark-workdir: $*" >&2; }
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { printf "%.2f", (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

log "writing $GIB GiB of inputs"
t0=$(now)
for i in $(seq 1 "$GIB"); do
  dd if=/dev/zero of="$B/inputs/input-$i.dat" bs=16M count=64 conv=fsync status=none
done
WRITE_S=$(secs "$t0" "$(now)")
sync; echo 3 > /proc/sys/vm/drop_caches
t0=$(now)
mkdir -p "$B/copy"; cp -r "$B/inputs/." "$B/copy/"; sync
COPY_S=$(secs "$t0" "$(now)")
rm -rf "$B/copy"
log "inputs written in $WRITE_S s; one copy of them takes $COPY_S s"

# run_one KIND ROUND: prints "total1 total2 total3|frozen1 frozen2 frozen3|run seconds"
run_one() {
  local kind=$1 round=$2 job="w$1$2" dir="$B/$1-$2" as=(runuser -u "$BENCH_USER" --) pid line t=() f=() t0
  mkdir -p "$dir/state" "$dir/work"
  if [ "$kind" = inputs ]; then
    for f_ in "$B"/inputs/*.dat; do ln "$f_" "$dir/work/"; done
  fi
  chown -R "$BENCH_USER:" "$dir/state" "$dir/work" "$B/inputs"
  t0=$(now)
  (cd "$dir/work" && exec "${as[@]}" env CRMPI_STATE_DIR="$dir/state" "$CRMPI" run --name "$job" --interval none \
    --keep 2 -- mpirun -np 4 --oversubscribe "$RING" 6000 > "$dir/out" 2> "$dir/err") &
  pid=$!
  for _ in $(seq 1 900); do grep -q "iteration 100" "$dir/work/ring.out" 2>/dev/null && break; sleep 0.1; done
  for _ in 1 2 3; do
    line=$("${as[@]}" env CRMPI_STATE_DIR="$dir/state" "$CRMPI" checkpoint "$job")
    t+=("$(echo "$line" | sed -n 's/.* in \([0-9.]*\) s .*/\1/p')")
    f+=("$(echo "$line" | sed -n 's/.*frozen \([0-9.]*\) s.*/\1/p')")
  done
  wait "$pid"
  echo "${t[*]}|${f[*]}|$(secs "$t0" "$(now)")"
  rm -rf "$dir"
}

log "the job without crmpi (as $BENCH_USER, like the runs under crmpi)"
mkdir -p "$B/plain"; chown "$BENCH_USER:" "$B/plain"
t0=$(now)
(cd "$B/plain" && runuser -u "$BENCH_USER" -- mpirun -np 4 --oversubscribe "$RING" 6000 > /dev/null)
PLAIN_S=$(secs "$t0" "$(now)")

ROWS=()
declare -A T=() F=() W=()
for round in $(seq 1 "$ROUNDS"); do
  for kind in empty inputs; do
    log "round $round, $kind working directory"
    res=$(run_one "$kind" "$round")
    log "  checkpoints ${res%%|*} s"
    T[$kind]="${T[$kind]:-} ${res%%|*}"
    rest=${res#*|}
    F[$kind]="${F[$kind]:-} ${rest%%|*}"
    W[$kind]="${W[$kind]:-} ${res##*|}"
  done
done
# shellcheck disable=SC2086
for kind in empty inputs; do
  label="empty"; [ "$kind" = inputs ] && label="$GIB GiB of inputs the job only reads"
  ROWS+=("| $label | $(median ${T[$kind]}) (${T[$kind]# }) | $(median ${F[$kind]}) | $(median ${W[$kind]}) |")
done
rm -rf "$B"

OUT="$ROOT/docs/benchmarks-workdir.md"
{
  echo "# What the working directory costs at a checkpoint"
  echo
  echo "Produced by \`scripts/benchmark-workdir.sh $GIB $ROUNDS\` on $(date -u +%Y-%m-%d) ($(nproc) cores,"
  echo "Linux $(uname -r), $(mpirun --version | head -1)). One 4-rank job of \`mpi-tests/src/main/c/ring.c\`"
  echo "(6000 iterations, one output file) of an ordinary user through crmpid, checkpointed 3 times with"
  echo "\`crmpi checkpoint\`; $ROUNDS rounds per working directory, alternating. Figures are medians (all"
  echo "checkpoints in parentheses)."
  echo
  echo "| working directory | checkpoint, s | ranks frozen, s | whole run, s |"
  echo "|---|---|---|---|"
  printf '%s\n' "${ROWS[@]}"
  echo
  echo "For scale, in the same run:"
  echo
  echo "- the job without crmpi: $PLAIN_S s;"
  echo "- writing the $GIB GiB of inputs (dd, fsync): $WRITE_S s;"
  echo "- copying them once from a cold cache (\`cp -r\`, sync): $COPY_S s: what a snapshot of the whole"
  echo "  directory would add to every checkpoint (the rule before manifest format 2; hard links made later"
  echo "  epochs cheaper, but the first one paid it in full, with the ranks frozen)."
  echo
  echo "crmpi records only the files the job's processes hold open for writing (docs/user-guide.md, \"What a"
  echo "restore rolls back\"): the inputs are never read, copied or digested, so both rows should be equal"
  echo "within noise."
} > "$OUT"
cat "$OUT"
