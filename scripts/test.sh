#!/bin/bash
# Installs what the tests need (idempotently) and runs every test: the C and
# Java unit tests, the integration tests with real CRIU, Open MPI and MPICH
# (mvn verify), and the smoke test of the real Slurm test cluster.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CRMPI_SKIP_BUILD=1 "$ROOT/scripts/setup.sh"
cd "$ROOT"
mvn -B verify
"$ROOT/slurm-glue/scripts/slurm-smoke.sh"
