#!/bin/bash
# What crmpi and its tests could leave on this machine, one item per line:
# cgroups named crmpi*, network interfaces named cr* (job bridges and the
# host ends of node trees' veths), nftables tables of crmpi or of CRIU's
# network lock (inet CRIU-*) in this network namespace, mounts of crmpi's
# tests (tmpfs crmpi-*, the EIO test's file system), node-local checkpoint
# directories of the tests and benchmarks in /dev/shm (crmpi*), and
# processes of the test users (crmpi-test1, crmpi-test2, crmpi-demo,
# crmpi-bench).
#
# usage: scripts/leftovers.sh                  list them (exit 0)
#        scripts/leftovers.sh --since FILE [S] list those not in FILE (an
#                                              earlier listing), waiting up
#                                              to S seconds (default 20) for
#                                              them to go; exit 1 if any stay
set -uo pipefail

# Each source may list nothing (grep and ps then exit 1): that is no failure.
list() {
  { find /sys/fs/cgroup -name 'crmpi*' -type d 2>/dev/null | sed 's/^/cgroup /'; } || true
  { ip -o link show 2>/dev/null | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | grep '^cr' | sed 's/^/link /'; } || true
  { nft list tables 2>/dev/null | awk '$1 == "table" && ($3 ~ /^CRIU/ || $3 ~ /crmpi/) { print "nft " $2 " " $3 }'; } || true
  awk '$1 ~ /crmpi|eiofs/ || $3 ~ /eiofs/ { print "mount " $2 " (" $1 ")" }' /proc/mounts || true
  { find /dev/shm -maxdepth 1 -name 'crmpi*' 2>/dev/null | sed 's/^/shm /'; } || true
  for u in crmpi-test1 crmpi-test2 crmpi-demo crmpi-bench; do
    id "$u" >/dev/null 2>&1 || continue
    { ps -o pid=,comm= -u "$u" 2>/dev/null | awk -v u="$u" '{ print "process " u " " $2 }'; } || true
  done
  return 0
}

case "${1:-}" in
  "") list | sort -u; exit 0 ;;
  --since)
    before=${2:?usage: $0 --since FILE [SECONDS]}
    wait=${3:-20}
    for _ in $(seq 0 "$wait"); do
      new=$(list | sort -u | comm -13 "$before" -)
      [ -z "$new" ] && exit 0
      sleep 1
    done
    echo "leftovers: these were not here before and are still here after ${wait} s:" >&2
    echo "$new" | sed 's/^/  /' >&2
    exit 1 ;;
  *) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
