#!/bin/bash
# Installs and starts crmpid on this machine, idempotently (called by
# scripts/setup.sh; docs/install.md describes a cluster installation):
#  - /etc/crmpi/key, the image key (64 random bytes, root 0600), unless there
#    is one (on a cluster, copy the same key to every node instead);
#  - /etc/crmpi/crmpi.conf, crmpid's settings, unless there is one;
#  - crmpid itself: the systemd unit crmpid.service where systemd runs, else
#    a background process (pid in /run/crmpi/crmpid.pid, log in
#    /var/log/crmpid.log), restarted when the build is newer than it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log() { echo "install-crmpid: $*" >&2; }
[ "$(id -u)" = 0 ] || { log "run as root"; exit 1; }

install -d -m 0700 -o root -g root /etc/crmpi
if [ ! -s /etc/crmpi/key ]; then
  log "creating the image key /etc/crmpi/key (copy this file to every node of a cluster)"
  (umask 077 && head -c 64 /dev/urandom > /etc/crmpi/key.new && mv /etc/crmpi/key.new /etc/crmpi/key)
fi
chown root:root /etc/crmpi/key
chmod 0600 /etc/crmpi/key
if [ ! -e /etc/crmpi/crmpi.conf ]; then
  cp "$ROOT/scripts/crmpi.conf.example" /etc/crmpi/crmpi.conf
  chmod 0644 /etc/crmpi/crmpi.conf
fi
install -d -m 0755 -o root -g root /run/crmpi

JAR="$ROOT/plugin/target/crmpi-plugin.jar"
SOCK=/run/crmpi/crmpid.sock
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
  UNIT=/etc/systemd/system/crmpid.service
  sed "s|@ROOT@|$ROOT|g" "$ROOT/scripts/crmpid.service" > "$UNIT.new"
  if ! cmp -s "$UNIT.new" "$UNIT" 2>/dev/null; then
    mv "$UNIT.new" "$UNIT"
    systemctl daemon-reload
  else
    rm -f "$UNIT.new"
  fi
  systemctl enable -q crmpid.service
  if [ "$JAR" -nt /run/crmpi/crmpid.started ] 2>/dev/null || ! systemctl -q is-active crmpid.service; then
    systemctl restart crmpid.service
    touch /run/crmpi/crmpid.started
  fi
else
  PIDFILE=/run/crmpi/crmpid.pid
  PID="$(cat "$PIDFILE" 2>/dev/null || true)"
  RUNNING=0
  CMDLINE=""
  if [ -n "$PID" ] && [ -r "/proc/$PID/cmdline" ]; then
    CMDLINE="$(tr '\0' ' ' < "/proc/$PID/cmdline")"
  fi
  if [[ "$CMDLINE" == *"io.crmpi.cli.Main daemon"* ]]; then
    RUNNING=1
  fi
  # One crmpid per machine: one of another installation, or older than the build, makes way.
  if [ "$RUNNING" = 1 ] && { [[ "$CMDLINE" != *"-Dcrmpi.home=$ROOT "* ]] || [ "$JAR" -nt "$PIDFILE" ]; }; then
    log "restarting crmpid (pid $PID) for this build"
    kill "$PID"
    for _ in $(seq 1 100); do [ -d "/proc/$PID" ] || break; sleep 0.1; done
    RUNNING=0
  fi
  if [ "$RUNNING" = 0 ]; then
    log "starting crmpid (no systemd here; log in /var/log/crmpid.log)"
    rm -f "$SOCK"
    setsid "$ROOT/bin/crmpid" </dev/null >>/var/log/crmpid.log 2>&1 &
    echo $! > "$PIDFILE"
  fi
fi
for _ in $(seq 1 300); do
  [ -S "$SOCK" ] && break
  sleep 0.1
done
if [ ! -S "$SOCK" ]; then
  log "crmpid did not come up; its log:"
  tail -20 /var/log/crmpid.log >&2 2>/dev/null || journalctl -u crmpid -n 20 >&2 || true
  exit 1
fi
log "crmpid listens on $SOCK"
