#!/bin/bash
# Prepares a fresh Debian 12 machine (JDK 17, Maven and gcc already there) for
# crmpi, idempotently: Open MPI, nftables (CRIU's network lock), libslurm-dev
# (the SPANK plugin's header), libfuse3-dev (the EIO test's file system), CRIU >= 4.2, the build, and crmpid (the node
# daemon: its image key /etc/crmpi/key, its settings /etc/crmpi/crmpi.conf,
# and the daemon itself, as a systemd service where systemd runs, else in
# the background). Then bin/crmpi works for root and for ordinary users.
# Must run as root.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log() { echo "setup: $*" >&2; }

if [ "$(id -u)" != 0 ]; then
  log "crmpi checkpoints with CRIU, which needs root: run this as root"
  exit 1
fi

NEEDED="openmpi-bin libopenmpi-dev mpich libmpich-dev nftables iproute2 util-linux libslurm-dev libfuse3-dev"
MISSING=""
for p in $NEEDED; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || MISSING="$MISSING $p"
done
if [ -n "$MISSING" ]; then
  log "installing Debian packages:$MISSING"
  apt-get -q update >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends $MISSING >/dev/null
fi

"$ROOT/scripts/install-criu.sh"

if [ "${CRMPI_SKIP_BUILD:-}" != 1 ]; then
  log "building crmpi (mvn package, tests skipped)"
  (cd "$ROOT" && mvn -q -B -DskipTests package)
fi
if [ "${CRMPI_SKIP_DAEMON:-}" = 1 ]; then
  :
elif [ ! -f "$ROOT/plugin/target/crmpi-plugin.jar" ]; then
  # CRMPI_SKIP_BUILD (scripts/test.sh builds with mvn verify; its tests start crmpids of their own).
  log "not built yet: crmpid is installed by the next full setup (or scripts/install-crmpid.sh after a build)"
else
  "$ROOT/scripts/install-crmpid.sh"
fi
log "ready: $ROOT/bin/crmpi"
