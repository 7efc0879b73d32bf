#!/bin/bash
# Checks the packages scripts/package.sh builds: the tarball unpacked in a
# fresh place runs its own crmpi, CRIU and man pages, a program compiles and
# links against libcrmpi through its pkg-config file, and the Debian package
# holds what it must with the unit pointing at /opt/crmpi; the demo and a
# Slurm test then run against the unpacked files alone. Run by
# scripts/test.sh after the build.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fail() { echo "package-test: FAILED: $*" >&2; exit 1; }
if ! command -v pkg-config >/dev/null; then
  apt-get -q update >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends pkg-config >/dev/null
fi
# After scripts/test.sh's mvn verify the build is there: package it as it is.
if [ -f "$ROOT/plugin/target/crmpi-plugin.jar" ]; then
  CRMPI_SKIP_BUILD=1 "$ROOT/scripts/package.sh"
else
  "$ROOT/scripts/package.sh"
fi
T="$(mktemp -d /tmp/crmpi-package-test.XXXXXX)"
trap 'rm -rf "$T"' EXIT
tar -C "$T" -xzf "$ROOT"/build/package/crmpi-*-linux-x86_64.tar.gz
P="$(echo "$T"/crmpi-*)"
[ "$("$P/bin/crmpi" --version | grep -c '^crmpi ')" = 1 ] || fail "the unpacked bin/crmpi does not run"
if [ -d "$ROOT/build/criu/root" ]; then
  [ "$("$P/build/criu/bin/criu" --version | grep -c 'Version: 4\.')" = 1 ] || fail "the unpacked CRIU does not run"
fi
[ "$(zcat "$P/share/man/man1/crmpi-run.1.gz" | tr -d '\\' | grep -c -- '--keep-after-success')" -gt 0 ] || fail "crmpi-run(1) lacks run's options"
bash -c ". '$P/share/bash-completion/completions/crmpi' && complete -p crmpi" >/dev/null || fail "no bash completion"
printf '#include <crmpi.h>\n#include <mpi.h>\nint main(int c, char **v) { MPI_Init(&c, &v); MPI_Finalize(); return 0; }\n' \
  > "$T/t.c"
# shellcheck disable=SC2046
mpicc "$T/t.c" -o "$T/t" $(PKG_CONFIG_PATH="$P/lib/pkgconfig" pkg-config --cflags --libs crmpi) \
  || fail "a program does not build with pkg-config crmpi"
[ "$(ldd "$T/t" | grep -c "$P/.*libcrmpi.so")" -gt 0 ] || fail "the program does not link the unpacked libcrmpi.so"
DEB="$(echo "$ROOT"/build/package/crmpi_*_amd64.deb)"
LIST="$(dpkg-deb -c "$DEB")"
UNIT="$(dpkg-deb --fsys-tarfile "$DEB" | tar -xO ./lib/systemd/system/crmpid.service)"
grep -q './usr/bin/crmpi -> /opt/crmpi/bin/crmpi' <<<"$LIST" || fail "the .deb lacks /usr/bin/crmpi"
grep -q '^ExecStart=/opt/crmpi/bin/crmpid$' <<<"$UNIT" || fail "the .deb's unit does not start /opt/crmpi/bin/crmpid"
for f in ./opt/crmpi/slurm/crmpi_spank.so ./opt/crmpi/include/crmpi.h ./usr/share/man/man1/crmpi.1.gz \
    ./usr/lib/x86_64-linux-gnu/pkgconfig/crmpi.pc; do
  grep -q " $f\$" <<<"$LIST" || fail "the .deb lacks $f"
done
# The demo against the unpacked files alone: their crmpid (on a socket of this test's), their bin/crmpi
# as an ordinary user, their CRIU, crmpi-ns and jars; the checkout gives only the MPI test program.
chmod 0755 "$T"
mkdir -m 0755 "$T/run"
head -c 64 /dev/urandom > "$T/key"
chmod 0600 "$T/key"
: > "$T/crmpi.conf"
"$P/bin/crmpid" --config "$T/crmpi.conf" --socket "$T/run/crmpid.sock" --state-dir "$T/crmpid-state" \
  --key "$T/key" > "$T/crmpid.log" 2>&1 &
CRMPID=$!
trap 'kill "$CRMPID" 2>/dev/null || true; wait "$CRMPID" 2>/dev/null || true; rm -rf "$T"' EXIT
for _ in $(seq 1 600); do
  [ -S "$T/run/crmpid.sock" ] && break
  kill -0 "$CRMPID" 2>/dev/null || { cat "$T/crmpid.log" >&2; fail "the unpacked crmpid did not start"; }
  sleep 0.1
done
[ -S "$T/run/crmpid.sock" ] || fail "the unpacked crmpid did not listen within 60 s"
if ! CRMPI_HOME="$P" CRMPI_DAEMON_SOCKET="$T/run/crmpid.sock" DEMO_DIR="$T/demo" "$ROOT/scripts/demo.sh" \
    > "$T/demo.log" 2>&1; then
  tail -40 "$T/demo.log" >&2
  echo "--- crmpid's log" >&2
  tail -20 "$T/crmpid.log" >&2
  fail "the demo failed against the unpacked installation"
fi
grep -E "^== (kill|ring.out)" "$T/demo.log" | sed "s/^/package-test: demo: /"
grep -q "Launch" "$T/crmpid.log" || fail "the demo's job did not go through the unpacked crmpid"
# One Slurm test against the unpacked files: a 2-node job of an ordinary user on the real Slurm test
# cluster, checkpointed every 2 s by the unpacked bin/crmpi and a crmpid started from the unpacked bin/crmpid.
log_slurm="$T/slurm-test.log"
if ! (cd "$ROOT" && mvn -B -q verify -pl mpi-tests -am -Dtest='SlurmMultiNodeTest#periodic*' \
    -Dsurefire.failIfNoSpecifiedTests=false -Dcrmpi.home="$P") > "$log_slurm" 2>&1; then
  tail -60 "$log_slurm" >&2
  fail "the Slurm test failed against the unpacked installation"
fi
echo "package-test: SlurmMultiNodeTest (periodic checkpoints of a 2-node job) passed with crmpi.home=$P"
echo "package-test: PASSED (tarball relocated to $P, the demo and a Slurm test run there, $(basename "$DEB"))"
