#!/bin/bash
# What crmpid costs: the same 4-rank Open MPI job (halo) checkpointed and
# restored by crmpi running as root (CRIU in crmpi's own JVM) and as an
# ordinary user through crmpid (seal, sealed-copy restore, credential
# checks), in one run, alternating, at 16 MiB and 256 MiB per rank. Prints
# the figures and writes them to docs/benchmarks-crmpid.md.
#
# usage: scripts/benchmark-crmpid.sh [ROUNDS [CHECKPOINTS]]
#   (default 4 rounds per size and mode, 5 checkpoints per job)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROUNDS=${1:-4}
CHECKPOINTS=${2:-5}
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

# run_one MODE MIB ROUND: prints "totals|frozens|frozen outside the dump|restore" (seconds, space-separated)
run_one() {
  local mode=$1 mib=$2 round=$3 job="h$2r$3" dir="$B/$1/$2-$3" as=() pid
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
  for _ in $(seq 1 "$CHECKPOINTS"); do
    "${as[@]}" env CRMPI_STATE_DIR="$dir/state" "$CRMPI" checkpoint "$job" >/dev/null
  done
  local who=root
  [ "$mode" = user ] && who=$BENCH_USER
  pkill -9 -u "$who" -f "^$HALO 1000000" -n || true
  for _ in $(seq 1 900); do grep -q "every node tree is restored and runs again" "$dir/err" && break; sleep 0.1; done
  local r
  r=$(restore_seconds "$dir/state/jobs/$job/crmpi.log")
  kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
  # The coordinator's own figures, to the millisecond, from the job's history.
  python3 - "$dir/state/jobs/$job/history.jsonl" "$r" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
rows = [r for r in rows if r["kind"] == "committed"]
s = lambda key: " ".join("%.3f" % (key(r) / 1000) for r in rows)
print(s(lambda r: r["totalMillis"]) + "|" + s(lambda r: r["frozenMillis"]) + "|"
      + s(lambda r: r["frozenMillis"] - r["dumpMillis"]) + "|" + sys.argv[2])
PY
}

RESULTS="$B/results.tsv"
: > "$RESULTS"
for MIB in 16 256; do
  for round in $(seq 1 "$ROUNDS"); do
    for mode in root user; do
      log "$MIB MiB per rank, round $round, as $mode"
      res=$(run_one "$mode" "$MIB" "$round")
      IFS='|' read -r totals frozens outside restore <<< "$res"
      log "  checkpoints $totals s; frozen $frozens s; restore $restore s"
      for v in $totals; do echo "$MIB $mode checkpoint $v $round"; done >> "$RESULTS"
      for v in $frozens; do echo "$MIB $mode frozen $v $round"; done >> "$RESULTS"
      for v in $outside; do echo "$MIB $mode outside $v $round"; done >> "$RESULTS"
      echo "$MIB $mode restore $restore $round" >> "$RESULTS"
    done
  done
done

OUT="$ROOT/docs/benchmarks-crmpid.md"
# The reading below the marker is written by a person, for the figures of the run it names: kept as it is.
READING="$(sed -n '/^<!-- reading -->$/,$p' "$OUT" 2>/dev/null || true)"
{
  echo "# What crmpid costs"
  echo
  echo "Produced by \`scripts/benchmark-crmpid.sh $ROUNDS $CHECKPOINTS\` on $(date -u +%Y-%m-%d) ($(nproc) cores,"
  echo "Linux $(uname -r), $(mpirun --version | head -1)). One 4-rank job of \`mpi-tests/src/main/c/halo.c\` in"
  echo "local mode, checkpointed $CHECKPOINTS times with \`crmpi checkpoint\`, then a rank is killed with SIGKILL"
  echo "and the job restored; $ROUNDS rounds per size and mode, root and user alternating, so"
  echo "$((ROUNDS * CHECKPOINTS)) checkpoints and $ROUNDS restores per cell. Each cell is the median, with the"
  echo "middle half of the runs (25th to 75th percentile) in parentheses."
  echo
  python3 - "$RESULTS" <<'PY'
import collections, statistics, sys
data = collections.defaultdict(list)
by_round = collections.defaultdict(list)
for line in open(sys.argv[1]):
    mib, mode, metric, value, rnd = line.split()
    data[(int(mib), mode, metric)].append(float(value))
    by_round[(int(mib), mode, metric, int(rnd))].append(float(value))
def cell(values):
    if len(values) < 4:
        return "%.3f (%s)" % (statistics.median(values), " ".join("%.2f" % v for v in values))
    q = statistics.quantiles(values, n=4)
    return "%.3f (%.2f-%.2f)" % (statistics.median(values), q[0], q[2])
metrics = ["checkpoint", "frozen", "outside", "restore"]
print("| memory per rank | who runs the job | checkpoint, s | ranks frozen, s | frozen outside the dump, s | restore, s |")
print("|---|---|---|---|---|---|")
for mib in sorted({k[0] for k in data}):
    med = {}
    for mode, label in (("root", "root, CRIU in crmpi"), ("user", "ordinary user, through crmpid")):
        med[mode] = [statistics.median(data[(mib, mode, m)]) for m in metrics]
        print("| %d MiB | %s | %s |" % (mib, label, " | ".join(cell(data[(mib, mode, m)]) for m in metrics)))
    def cost(i):
        a, b = med["root"][i], med["user"][i]
        return "%+.0f%% (%+.3f s)" % ((b - a) * 100 / a, b - a) if a > 0 else "%+.3f s" % (b - a)
    print("| %d MiB | **crmpid's cost** | %s |" % (mib, " | ".join(cost(i) for i in range(len(metrics)))))
    # Paired by round: root and user ran one after the other, so a round's difference leaves out the
    # machine's drift between rounds.
    def paired(m):
        rounds = sorted({k[3] for k in by_round if k[0] == mib and k[2] == m})
        d = []
        for r in rounds:
            a, b = by_round.get((mib, "root", m, r)), by_round.get((mib, "user", m, r))
            if a and b:
                d.append((statistics.median(b) - statistics.median(a)) * 100 / statistics.median(a))
        if len(d) < 4:
            return "-"
        q = statistics.quantiles(d, n=4)
        return "%+.1f%% (%+.0f to %+.0f)" % (statistics.median(d), q[0], q[2])
    print("| %d MiB | crmpid's cost, paired by round | %s |" % (mib, " | ".join(paired(m) for m in metrics)))
PY
  echo
  echo "- *root*: crmpi runs CRIU and crmpi-ns itself (the job runs as root)."
  echo "- *ordinary user*: the job, its coordinator and the store run as the user; crmpid (root) dumps into a"
  echo "  root-only directory, seals the image (SHA-256 of every file, through descriptors it opened before the"
  echo "  owner could touch them) and hands it over; a restore verifies the seal, stages every file in a root-only"
  echo "  directory (a hard link made root's, a read lease proving no writer is left, its digest checked: no"
  echo "  copy on the image's file system), restores from there and checks every restored process's credentials"
  echo "  before the thaw. The user's crmpi then skips its own digest pass over the images (crmpid's replaces it)."
  echo "- *checkpoint*: \`crmpi checkpoint\` wall time as the coordinator measures it (quiesce to commit)."
  echo "- *ranks frozen*: from the quiesce request to the ranks running again (the time the job does not compute)."
  echo "- *frozen outside the dump*: that time less the nodes' dump step (the quiesce, the freeze, the thaw and"
  echo "  the ranks' continue callbacks); through crmpid the freeze and the thaw are one request each."
  echo "- *restore*: from the verification of the epoch's files to every node tree running again."
  echo "- *paired by round*: each round runs the root job and then the user's; the row gives the median over the"
  echo "  rounds of the user's round median against root's in the same round, in percent (the middle half of the"
  echo "  rounds in parentheses). It leaves out the machine's drift from round to round."
  if [ -n "$READING" ]; then
    echo
    echo "$READING"
  fi
} > "$OUT"
cat "$OUT"
