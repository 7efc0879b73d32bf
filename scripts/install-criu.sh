#!/bin/bash
# Installs CRIU >= 4.2 for crmpi, idempotently, and writes build/criu/env
# (CRMPI_CRIU and CRMPI_LIBCRIU) for bin/crmpi.
#
# Uses the system's criu when `criu check` passes and it is new enough (its
# libcriu must be installed too). Otherwise fetches Debian unstable's criu and
# libcriu2 with their library closure using a private apt configuration (own
# sources list, lists and cache directories; the system's apt setup is never
# touched) and unpacks them into build/criu/root, run through that prefix's
# own dynamic loader by the wrapper build/criu/bin/criu.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX="$ROOT/build/criu"
MIN_VERSION=40200

log() { echo "install-criu: $*" >&2; }

version_number() { # "Version: 4.2.1" -> 40201
  sed -n 's/^Version: *\([0-9]*\)\.\([0-9]*\)\(\.\([0-9]*\)\)\{0,1\}.*/\1 \2 \4/p' |
    awk '{ printf "%d\n", $1 * 10000 + $2 * 100 + ($3 == "" ? 0 : $3) }'
}

usable() { # $1 = criu binary, $2 = libcriu
  local v
  [ -x "$1" ] && [ -r "$2" ] || return 1
  v="$("$1" --version 2>/dev/null | version_number)"
  [ -n "$v" ] && [ "$v" -ge "$MIN_VERSION" ] || return 1
  "$1" check >/dev/null 2>&1
}

write_env() {
  mkdir -p "$PREFIX"
  printf 'CRMPI_CRIU=%s\nCRMPI_LIBCRIU=%s\n' "$1" "$2" > "$PREFIX/env.tmp"
  mv "$PREFIX/env.tmp" "$PREFIX/env"
  log "using $("$1" --version | head -1) at $1"
}

if [ -r "$PREFIX/env" ]; then
  # shellcheck disable=SC1091
  . "$PREFIX/env"
  if usable "$CRMPI_CRIU" "$CRMPI_LIBCRIU"; then
    log "already installed: $CRMPI_CRIU"
    exit 0
  fi
fi

SYSTEM_CRIU="$(command -v criu || true)"
SYSTEM_LIB="/usr/lib/x86_64-linux-gnu/libcriu.so.2"
if [ -n "$SYSTEM_CRIU" ] && usable "$SYSTEM_CRIU" "$SYSTEM_LIB"; then
  write_env "$SYSTEM_CRIU" "$SYSTEM_LIB"
  exit 0
fi

ARCH="$(dpkg --print-architecture)"
MULTIARCH="$(gcc -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)"
APT="$PREFIX/apt"
mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$APT/etc/sources.list.d" \
  "$APT/etc/preferences.d" "$APT/etc/apt.conf.d" "$APT/debs"
: > "$APT/status"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian unstable main" \
  > "$APT/etc/sources.list"
cat > "$APT/apt.conf" <<CONF
Dir::Etc "$APT/etc";
Dir::Etc::SourceList "$APT/etc/sources.list";
Dir::Etc::SourceParts "$APT/etc/sources.list.d";
Dir::Etc::Parts "$APT/etc/apt.conf.d";
Dir::Etc::Preferences "$APT/etc/preferences";
Dir::Etc::PreferencesParts "$APT/etc/preferences.d";
Dir::State "$APT";
Dir::State::Lists "$APT/lists";
Dir::State::status "$APT/status";
Dir::Cache "$APT/cache";
APT::Architecture "$ARCH";
APT::Architectures { "$ARCH"; };
APT::Sandbox::User "root";
// Mirrors that serve a frozen snapshot have an expired Valid-Until; signatures are still checked.
Acquire::Check-Valid-Until "false";
CONF
export APT_CONFIG="$APT/apt.conf"
log "fetching the package lists of Debian unstable (private apt configuration in $APT)"
apt-get -q update >/dev/null
PACKAGES="$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
  --no-breaks --no-replaces --no-enhances criu libcriu2 | grep -v '^[ <]' | sort -u)"
log "downloading $(echo "$PACKAGES" | wc -l) packages: $(echo $PACKAGES)"
rm -rf "$APT/debs" && mkdir -p "$APT/debs"
(cd "$APT/debs" && apt-get -q download $PACKAGES >/dev/null)
rm -rf "$PREFIX/root.new"
mkdir -p "$PREFIX/root.new"
for deb in "$APT/debs"/*.deb; do
  dpkg-deb -x "$deb" "$PREFIX/root.new"
done
rm -rf "$PREFIX/root"
mv "$PREFIX/root.new" "$PREFIX/root"
LIB="$PREFIX/root/usr/lib/$MULTIARCH"
mkdir -p "$PREFIX/bin"
cat > "$PREFIX/bin/criu.tmp" <<WRAP
#!/bin/sh -p
# CRIU from $PREFIX/root, run through the prefix's own dynamic loader.
# (-p: crmpid may run CRIU as root with the real uid of a job's owner; the
# shell must keep root's effective uid.)
exec "$LIB/ld-linux-x86-64.so.2" --library-path "$LIB" "$PREFIX/root/usr/sbin/criu" "\$@"
WRAP
chmod +x "$PREFIX/bin/criu.tmp"
mv "$PREFIX/bin/criu.tmp" "$PREFIX/bin/criu"
if ! usable "$PREFIX/bin/criu" "$LIB/libcriu.so.2"; then
  log "the unpacked CRIU does not pass 'criu check' on this kernel:"
  "$PREFIX/bin/criu" check >&2 || true
  exit 1
fi
write_env "$PREFIX/bin/criu" "$LIB/libcriu.so.2"
