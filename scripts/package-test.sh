#!/bin/bash
# Checks the packages scripts/package.sh builds: the tarball unpacked in a
# fresh place runs its own crmpi, CRIU and man pages, a program compiles and
# links against libcrmpi through its pkg-config file, and the Debian package
# holds what it must with the unit pointing at /opt/crmpi. Run by
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
echo "package-test: PASSED (tarball relocated to $P, $(basename "$DEB"))"
