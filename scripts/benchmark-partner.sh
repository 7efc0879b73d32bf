#!/bin/bash
# What a partner copy (--partner-copy, storage level PARTNER) costs next to
# the disk: a node's part of an epoch copied to a partner port and fetched
# back (the restart after a node loss), both ends on this machine over
# loopback and on the same disk, beside reading the same bytes from the disk
# (page cache dropped) and writing them with an fsync. Writes
# docs/benchmarks-partner.md.
#
# usage: scripts/benchmark-partner.sh [SIZES_MIB] [RUNS]   (default 256,1024 and 3)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SIZES=${1:-256,1024}
RUNS=${2:-3}
cd "$ROOT"
mvn -q -B -o package -DskipTests -pl plugin -am
mvn -q -B -o test-compile -pl coordinated-cr -am
DIR=$(mktemp -d /var/tmp/crmpi-partner-bench.XXXXXX)
trap 'rm -rf "$DIR"' EXIT
CP="$ROOT/coordinated-cr/target/test-classes:$ROOT/plugin/target/lib/*"
echo "benchmark-partner: sizes $SIZES MiB, $RUNS runs each (after one to warm up), in $DIR" >&2
ROWS=$(java -XX:+UseSerialGC -Xmx1g -cp "$CP" io.crmpi.remote.PartnerBenchmark "$DIR" "$SIZES" "$RUNS")
DISK=$(df --output=source "$DIR" | tail -1)
OUT="$ROOT/docs/benchmarks-partner.md"
{
  echo "# Partner copies"
  echo
  echo "Produced by \`scripts/benchmark-partner.sh $SIZES $RUNS\` on $(date -u +%Y-%m-%d) ($(nproc) cores,"
  echo "$(java -version 2>&1 | head -1), Linux $(uname -r), disk $DISK). A node's part of an epoch (4 image"
  echo "files of random bytes) is copied to a partner port (\`PartnerLink.put\`: the copy made after each"
  echo "commit) and fetched back (\`PartnerLink.get\`: what a restart after a node loss does first), both ends"
  echo "in one JVM over loopback, writing to the same disk; the copy is fsynced (it is a storage level), the"
  echo "fetched part is not (the restore reads it at once, and crmpid verifies every digest before CRIU"
  echo "does). Beside it, in the same run:"
  echo "reading the part from the disk with its pages dropped from the cache, and writing it once with an"
  echo "fsync (the disk's bounds), and the same files sent over a plain loopback socket into files of their"
  echo "own (\`sendfile\` on one end, one direct buffer on the other, no handshake, framing or checks: the"
  echo "least a fetch can take here, without crmpi). Times in seconds, one per run."
  echo
  echo "| part | read from disk | write + fsync | plain socket copy | copy to the partner | fetch from the partner | fetch ÷ (1.2 × read + 1 s) |"
  echo "|---|---|---|---|---|---|---|"
  echo "$ROWS"
  echo
  echo "The issue's goal is a restart from L2 in at most 1.2 × the time to read the image + 1 s; the last"
  echo "column is the fetch alone against that bound (the restore from the fetched copy then reads it as a"
  echo "restore from L1 does). Both ends share this machine's $(nproc) cores and its one disk: the fetch"
  echo "writes what the partner reads, so on two nodes each side has its disk and cores to itself. The"
  echo "data travels in binary frames of 1 MiB (no base64), each with a CRC32C that the frame header's"
  echo "HMAC-SHA256 covers; the bytes are authenticated end to end instead, against the sealed manifest's"
  echo "SHA-256 before a restore uses them. Not encrypted. The JVM runs with the agent's options"
  echo "(\`-XX:+UseSerialGC\`). Until 2026-12-02 every frame's bytes had an HMAC-SHA256 of their own: at"
  echo "1 GiB the copy took 2.5-2.7 s and the fetch 2.7-3.3 s on this machine."
  echo
  echo "Before the fetch, the benchmark writes and deletes a scratch file of the part's size, and every run"
  echo "deletes what it wrote. This VM's memory is backed by the host at first touch (docs/benchmarks.md):"
  echo "writing into page-cache pages never used before is 2-3 times slower than into pages just freed."
  echo "Without the scratch file, the partner's copy took the freed pages and the fetch, next, paid for fresh"
  echo "ones: measured 2.5-3.1 s at 1 GiB, and then 0.9-1.1 s for the same fetch repeated at once, against"
  echo "0.8-1.2 s for the plain socket copy. On a node that has been running jobs the page cache is warm."
} > "$OUT"
echo "benchmark-partner: wrote $OUT" >&2
cat "$OUT"
