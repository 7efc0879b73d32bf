#!/bin/bash
# Installs what the tests need (idempotently; crit for the image-tampering
# test) and runs every test: the C and
# Java unit tests, the integration tests with real CRIU, Open MPI and MPICH
# (mvn verify, including the multi-node Slurm tests), and the smoke test of
# the real Slurm test cluster and of the SPANK plugin (one after the other:
# they share ports), and the packages (scripts/package-test.sh). Fails when
# the tests leave anything behind that was not there before they started
# (scripts/leftovers.sh: cgroups, veths, nftables tables, mounts, processes
# of the test users).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CRMPI_SKIP_BUILD=1 "$ROOT/scripts/setup.sh"
"$ROOT/scripts/install-crit.sh"
cd "$ROOT"
mkdir -p "$ROOT/build"
"$ROOT/scripts/leftovers.sh" > "$ROOT/build/leftovers-before.txt"
mvn -B verify
"$ROOT/slurm-glue/scripts/slurm-smoke.sh"
"$ROOT/slurm-glue/scripts/slurm-spank-test.sh"
"$ROOT/scripts/package-test.sh"
"$ROOT/scripts/leftovers.sh" --since "$ROOT/build/leftovers-before.txt" 30
echo "test: every test passed, and nothing was left behind"
