#!/bin/bash
# Builds crmpi's installable packages from this checkout, idempotently:
#   build/package/crmpi-VERSION-linux-x86_64.tar.gz   relocatable: unpack anywhere, run bin/crmpi
#   build/package/crmpi_VERSION_amd64.deb             installs into /opt/crmpi
# Both hold bin/crmpi and bin/crmpid, crmpi's jars, the native helpers
# (crmpi-ns, crmpi-rsh), libcrmpi.so (Open MPI and MPICH) with crmpi.h and a
# pkg-config file, the SPANK plugin, the systemd unit of crmpid, man pages
# made from the command's own help (picocli), bash completion, the docs, and
# the private CRIU 4.2 that scripts/install-criu.sh prepares (Debian 12's is
# too old). Needs root only for the build's packages (scripts/setup.sh).
#
# usage: scripts/package.sh
set -euo pipefail
umask 022 # the package's files and DEBIAN/ must be readable (dpkg-deb refuses a 0700 DEBIAN)
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log() { echo "package: $*" >&2; }
VERSION="$(sed -n 's|^  <version>\(.*\)</version>|\1|p' "$ROOT/pom.xml" | head -1)"
VERSION="${VERSION%-SNAPSHOT}"
OUT="$ROOT/build/package"
NAME="crmpi-$VERSION"
STAGE="$OUT/stage/$NAME"
PREFIX=/opt/crmpi

for tool in dpkg-deb fakeroot asciidoctor; do
  if ! command -v "$tool" >/dev/null; then
    log "installing $tool"
    apt-get -q update >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends \
      "$(case $tool in dpkg-deb) echo dpkg ;; *) echo "$tool" ;; esac)" >/dev/null
  fi
done

CRMPI_SKIP_DAEMON=1 "$ROOT/scripts/setup.sh"
rm -rf "$OUT/stage" "$OUT"/crmpi-*-linux-x86_64.tar.gz "$OUT"/crmpi_*_amd64.deb
mkdir -p "$STAGE"/{bin,plugin/target,native/target/bin,include,lib/pkgconfig,slurm,systemd}
mkdir -p "$STAGE"/share/{man/man1,bash-completion/completions}

log "staging $NAME"
cp "$ROOT/bin/crmpi" "$ROOT/bin/crmpid" "$STAGE/bin/"
cp "$ROOT/plugin/target/crmpi-plugin.jar" "$STAGE/plugin/target/"
cp -r "$ROOT/plugin/target/lib" "$STAGE/plugin/target/"
for f in crmpi-ns crmpi-rsh libcrmpi.so libcrmpi-mpich.so libcrmpi-prlimit-compat.so; do
  cp "$ROOT/native/target/bin/$f" "$STAGE/native/target/bin/"
done
cp "$ROOT/native/target/bin/include/crmpi.h" "$STAGE/include/"
cp "$ROOT/slurm-glue/target/spank/crmpi_spank.so" "$STAGE/slurm/"
cp -r "$ROOT/docs" "$ROOT/README.md" "$STAGE/"
mkdir -p "$STAGE/scripts"
cp "$ROOT/scripts/crmpi.conf.example" "$STAGE/scripts/"
if [ -d "$ROOT/build/criu/root" ]; then
  # The private CRIU, made relocatable: its wrapper finds the prefix next to itself.
  mkdir -p "$STAGE/build/criu/bin"
  cp -r "$ROOT/build/criu/root" "$STAGE/build/criu/root"
  cat > "$STAGE/build/criu/bin/criu" <<'WRAP'
#!/bin/sh -p
# CRIU from the prefix next to this script, through the prefix's own dynamic loader.
R="$(dirname "$(readlink -f "$0")")/../root"
L="$R/usr/lib/x86_64-linux-gnu"
exec "$L/ld-linux-x86-64.so.2" --library-path "$L" "$R/usr/sbin/criu" "$@"
WRAP
  chmod 0755 "$STAGE/build/criu/bin/criu"
  # Sourced by bin/crmpi and bin/crmpid, where ROOT is the installation.
  cat > "$STAGE/build/criu/env" <<'ENV'
CRMPI_CRIU="$ROOT/build/criu/bin/criu"
CRMPI_LIBCRIU="$ROOT/build/criu/root/usr/lib/x86_64-linux-gnu/libcriu.so.2"
ENV
else
  log "this build uses the system's CRIU: the packages carry none, and need criu >= 4.2 on every node"
fi

# pkg-config: mpicc $(pkg-config --cflags --libs crmpi) app.c (crmpi-mpich for MPICH's mpicc), found relative
# to the file itself in the tarball.
for variant in crmpi:crmpi:"Open MPI" crmpi-mpich:crmpi-mpich:MPICH; do
  IFS=: read -r pc lib mpi <<<"$variant"
  cat > "$STAGE/lib/pkgconfig/$pc.pc" <<PC
prefix=\${pcfiledir}/../..
includedir=\${prefix}/include
libdir=\${prefix}/native/target/bin

Name: $pc
Description: libcrmpi, crmpi's MPI checkpoint/continue/restart callbacks ($mpi build)
Version: $VERSION
Cflags: -I\${includedir}
Libs: -L\${libdir} -Wl,-rpath,\${libdir} -l$lib
PC
done
sed "s|@ROOT@|$PREFIX|g" "$ROOT/scripts/crmpid.service" > "$STAGE/systemd/crmpid.service"

log "man pages and bash completion from the command's own help (picocli)"
TOOLS="$OUT/tools"
PICOCLI_VERSION="$(sed -n 's|.*<picocli.version>\(.*\)</picocli.version>.*|\1|p' "$ROOT/pom.xml")"
CODEGEN="$TOOLS/picocli-codegen-$PICOCLI_VERSION.jar"
if [ ! -f "$CODEGEN" ]; then
  (cd "$ROOT" && mvn -q -B dependency:copy -Dartifact="info.picocli:picocli-codegen:$PICOCLI_VERSION" \
    -DoutputDirectory="$TOOLS")
fi
CP="$ROOT/plugin/target/crmpi-plugin.jar:$ROOT/plugin/target/lib/*:$CODEGEN"
rm -rf "$OUT/adoc"; mkdir -p "$OUT/adoc"
java -cp "$CP" picocli.codegen.docgen.manpage.ManPageGenerator -d "$OUT/adoc" io.crmpi.cli.Main
for a in "$OUT"/adoc/*.adoc; do
  asciidoctor -b manpage -o "$STAGE/share/man/man1/$(basename "${a%.adoc}").1" "$a"
done
gzip -9nf "$STAGE"/share/man/man1/*.1
java -cp "$CP" picocli.AutoComplete -f -n crmpi -o "$STAGE/share/bash-completion/completions/crmpi" io.crmpi.cli.Main

TARBALL="$OUT/$NAME-linux-x86_64.tar.gz"
tar -C "$OUT/stage" --owner=0 --group=0 -czf "$TARBALL" "$NAME"
log "tarball: $TARBALL"

DEB="$OUT/deb"
rm -rf "$DEB"; mkdir -p "$DEB/DEBIAN" "$DEB$PREFIX" "$DEB/usr/bin" "$DEB/lib/systemd/system" \
  "$DEB/usr/share/man/man1" "$DEB/usr/share/bash-completion/completions" "$DEB/usr/lib/x86_64-linux-gnu/pkgconfig"
cp -a "$STAGE"/. "$DEB$PREFIX/"
ln -s "$PREFIX/bin/crmpi" "$DEB/usr/bin/crmpi"
ln -s "$PREFIX/bin/crmpid" "$DEB/usr/bin/crmpid"
mv "$DEB$PREFIX/systemd/crmpid.service" "$DEB/lib/systemd/system/"
cp "$STAGE"/share/man/man1/* "$DEB/usr/share/man/man1/"
cp "$STAGE/share/bash-completion/completions/crmpi" "$DEB/usr/share/bash-completion/completions/"
for pc in crmpi crmpi-mpich; do
  # The system's copy names the prefix: pcfiledir would be /usr/lib's.
  sed "s|^prefix=.*|prefix=$PREFIX|" "$STAGE/lib/pkgconfig/$pc.pc" > "$DEB/usr/lib/x86_64-linux-gnu/pkgconfig/$pc.pc"
done
cat > "$DEB/DEBIAN/control" <<CONTROL
Package: crmpi
Version: $VERSION
Architecture: amd64
Maintainer: crmpi developers <crmpi@localhost>
Depends: openjdk-17-jre-headless | java17-runtime-headless, nftables, iproute2, util-linux
Recommends: openmpi-bin | mpich
Suggests: slurm-wlm
Section: admin
Priority: optional
Description: coordinated checkpoint/restart for MPI jobs (CRIU, Open MPI, MPICH, Slurm)
 crmpi checkpoints whole MPI jobs with CRIU, coordinated across nodes, and
 restarts them after a failure, a preemption or a walltime limit. The node
 daemon crmpid is the only privileged part; jobs run as their owners.
 See $PREFIX/docs/install.md.
CONTROL
cat > "$DEB/DEBIAN/postinst" <<POSTINST
#!/bin/sh
set -e
# The image key and the settings are the admin's: created once, never overwritten (docs/install.md).
if [ "\$1" = configure ]; then
  install -d -m 0700 -o root -g root /etc/crmpi
  if [ ! -s /etc/crmpi/key ]; then
    (umask 077 && head -c 64 /dev/urandom > /etc/crmpi/key.new && mv /etc/crmpi/key.new /etc/crmpi/key)
    echo "crmpi: created the image key /etc/crmpi/key: copy the same file to every node (docs/install.md)"
  fi
  [ -e /etc/crmpi/crmpi.conf ] || install -m 0644 $PREFIX/scripts/crmpi.conf.example /etc/crmpi/crmpi.conf
  if [ -d /run/systemd/system ]; then
    systemctl daemon-reload || true
    echo "crmpi: 'systemctl enable --now crmpid' starts the node daemon"
  fi
fi
POSTINST
chmod 0755 "$DEB/DEBIAN/postinst"
cat > "$DEB/DEBIAN/prerm" <<'PRERM'
#!/bin/sh
set -e
# Removing crmpi stops its daemon first (the node trees it runs end; their jobs restart from their checkpoints).
if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
  systemctl disable --now crmpid 2>/dev/null || true
fi
PRERM
chmod 0755 "$DEB/DEBIAN/prerm"
DEBFILE="$OUT/crmpi_${VERSION}_amd64.deb"
fakeroot dpkg-deb --build -Zxz "$DEB" "$DEBFILE" >/dev/null
log "debian package: $DEBFILE"
dpkg-deb --info "$DEBFILE" | sed -n 's/^ \(Package\|Version\|Depends\):/  \1:/p' >&2
