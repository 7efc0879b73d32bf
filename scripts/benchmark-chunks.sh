#!/usr/bin/env bash
# Measures what the chunk store saves: a 2-rank Open MPI job (dirtier) that
# holds MIB MiB per rank and rewrites 1% of its memory every second is
# checkpointed every 3 s with a node-local level, and each checkpoint is
# flushed to the state directory. For each flush: the bytes written to the
# state directory divided by the image's size, with incompressible (random)
# and compressible (smooth) memory, and the same job flushed as whole files
# (--flush-format files) in the same run, and pages rewritten scattered at random. Prints the figures and writes them
# to docs/benchmark-chunks.md.
#
# The jobs run as the ordinary user crmpi-bench, through crmpid.
#
# usage: scripts/benchmark-chunks.sh [MIB_PER_RANK [SECONDS]]   (default: 256 45)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/setup.sh" >/dev/null
make -s -C "$ROOT/mpi-tests/src/main/c" OUT="$ROOT/mpi-tests/target/bin"
MIB="${1:-256}"
RUN_SECONDS="${2:-45}"
CRMPI="$ROOT/bin/crmpi"
DIRTIER="$ROOT/mpi-tests/target/bin/dirtier"
B="$ROOT/build/bench-chunks"
BENCH_USER=crmpi-bench
id "$BENCH_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$BENCH_USER"
rm -rf "$B"; mkdir -p "$B/state" "$B/local"; chmod 0755 "$B"; chmod 1777 "$B/local"; chown "$BENCH_USER:" "$B/state"
export CRMPI_STATE_DIR="$B/state"
AS=(runuser -u "$BENCH_USER" -- env CRMPI_STATE_DIR="$CRMPI_STATE_DIR")
log() { echo "benchmark-chunks: $*" >&2; }
ROWS=()

# field NAME LINE: the value of a number field of one history.jsonl line
field() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" <<< "$2"; }

# memory, where it is rewritten, flush format
CASES=("random window chunks" "random window files" "smooth window chunks" "random scattered chunks")
for CASE in "${CASES[@]}"; do
  read -r DATA PATTERN FORMAT <<< "$CASE"
  JOB="$DATA-$PATTERN-$FORMAT"; W="$B/$JOB"; mkdir -p "$W"; chown "$BENCH_USER:" "$W"
  log "$JOB: $MIB MiB per rank, 1% rewritten per second, a checkpoint every 3 s, for $RUN_SECONDS s"
  (cd "$W" && "${AS[@]}" "$CRMPI" run --name "$JOB" --interval 3s --keep 2 --max-restarts 0 \
    --local-dir "$B/local" --flush-format "$FORMAT" -- \
    mpirun -np 2 --oversubscribe "$DIRTIER" "$MIB" "$RUN_SECONDS" 10 "$DATA" "$PATTERN" > "$W/out" 2> "$W/err") \
    || { log "$JOB failed:"; tail -20 "$W/err" >&2; exit 1; }
  HISTORY="$B/state/jobs/$JOB/history.jsonl"
  declare -A IMAGE=()
  while read -r line; do
    IMAGE[$(field epoch "$line")]=$(field bytes "$line")
  done < <(grep '"kind":"committed"' "$HISTORY")
  RATIOS=(); TIMES=()
  while read -r line; do
    e=$(field epoch "$line"); w=$(field bytes "$line"); t=$(field totalMillis "$line")
    [ -n "${IMAGE[$e]:-}" ] || continue
    RATIOS+=("$(awk -v w="$w" -v i="${IMAGE[$e]}" 'BEGIN { printf "%.3f", w / i }')")
    TIMES+=("$(awk -v t="$t" 'BEGIN { printf "%.2f", t / 1000 }')")
  done < <(grep '"kind":"flushed"' "$HISTORY")
  unset IMAGE
  [ "${#RATIOS[@]}" -ge 3 ] || { log "$JOB: only ${#RATIOS[@]} flushes; run longer"; exit 1; }
  IMG=$(grep '"kind":"committed"' "$HISTORY" | tail -1 | sed -n 's/.*"bytes":\([0-9]*\).*/\1/p')
  REST=("${RATIOS[@]:1}")
  STEADY=$(printf '%s\n' "${REST[@]}" | awk '{ s += $1; if ($1 > m) m = $1 } END { printf "%.3f (max %.3f)", s / NR, m }')
  FT=$(printf '%s\n' "${TIMES[@]:1}" | awk '{ s += $1 } END { printf "%.2f", s / NR }')
  log "$JOB: image $((IMG / 1048576)) MiB; written / image per flush: ${RATIOS[*]}"
  ROWS+=("| $DATA | $PATTERN | $FORMAT | $((IMG / 1048576)) MiB | ${#RATIOS[@]} | ${RATIOS[0]} | $STEADY | ${TIMES[0]} | $FT |")
done

OUT="$ROOT/docs/benchmark-chunks.md"
{
  echo "# Benchmark: the chunk store"
  echo
  echo "Produced by \`scripts/benchmark-chunks.sh $MIB $RUN_SECONDS\` on $(date -u +%Y-%m-%d) ($(nproc) cores,"
  echo "Linux $(uname -r), $(mpirun --version | head -1), disk $(df -h "$B" | awk 'NR==2 { print $1 }'))."
  echo "A 2-rank job of \`mpi-tests/src/main/c/dirtier.c\` holding $MIB MiB per rank rewrites 1% of its memory every"
  echo "second (a window moving through its buffer) and is checkpointed every 3 s with \`--local-dir\`; every"
  echo "checkpoint is flushed to the state directory. Run by the ordinary user $BENCH_USER through crmpid."
  echo
  echo "| memory | rewritten | flush format | image | flushes | written / image, first flush | written / image, later flushes (mean) | first flush, s | later flushes, s (mean) |"
  echo "|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${ROWS[@]}"
  echo
  echo "- *written*: the bytes the flush wrote to the state directory (new chunks after compression, recipes,"
  echo "  small images copied whole), from the job's history; *image*: the epoch's image and working-directory"
  echo "  snapshot. Goal for later flushes with incompressible memory: at most 0.2."
  echo "- *random* memory is incompressible (a PRNG's bytes): only deduplication saves anything. *smooth* memory is"
  echo "  doubles of a slowly varying function, which zstd (level 1) compresses where it saves an eighth of a chunk."
  echo "- *window*: each second's 1% is one contiguous stretch (a window moving through the buffer, as a solver"
  echo "  sweeping its arrays writes); *scattered*: the same number of bytes as single 4 KiB pages picked at random"
  echo "  (the worst case: a chunk averages about 8 pages, and one changed page makes the whole chunk new)."
  echo "- The first flush of a job has nothing to build on and writes every chunk once."
  echo "- *files*: the same job flushed with \`--flush-format files\` (every image whole), for comparison."
  echo "- The flush runs while the job runs; its time is not time the ranks are stopped."
} > "$OUT"
cat "$OUT"
