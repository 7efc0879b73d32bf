#!/bin/bash
# Installs crit, CRIU's image tool, for the tests that edit checkpoint images
# the way an attacker would (OrdinaryUserTest rewrites a process's
# credentials to root). crit comes from Debian's criu package, unpacked into
# build/crit (never installed over the CRIU crmpi uses), and runs with the
# system's python3 and python3-protobuf. Idempotent; needs root and the
# Debian archive. scripts/test.sh runs it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/build/crit"
if [ -f "$DEST/usr/lib/python3/dist-packages/pycriu/cli.py" ] && /usr/bin/python3 -c 'import google.protobuf' 2>/dev/null; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if ! dpkg -s python3-protobuf >/dev/null 2>&1; then
  apt-get install -y -q python3-protobuf >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q python3-protobuf >/dev/null; }
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && { apt-get download criu >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get download criu >/dev/null 2>&1; }; })
rm -rf "$DEST"
mkdir -p "$DEST"
dpkg -x "$tmp"/criu_*.deb "$DEST"
[ -f "$DEST/usr/lib/python3/dist-packages/pycriu/cli.py" ] || { echo "install-crit: no pycriu in Debian's criu package" >&2; exit 1; }
echo "install-crit: crit in $DEST"
