#!/bin/bash
# Installs what the tests need (idempotently) and runs every test: unit tests
# and the integration tests with real CRIU and Open MPI.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CRMPI_SKIP_BUILD=1 "$ROOT/scripts/setup.sh"
cd "$ROOT"
mvn -B verify
