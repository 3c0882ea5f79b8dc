#!/usr/bin/env bash
# The whole test suite: installs the Debian packages some tests drive (PgBouncer, a Secret
# Service, openssl) if they are missing, then runs every test. The PostgreSQL tests use the
# server on 127.0.0.1:5432 (superuser postgres, or MEM0_TEST_ADMIN_URL) and create and drop
# their own databases.
set -euo pipefail
cd "$(dirname "$0")/.."
.ci/install-test-deps.sh
exec cargo test --locked "$@"
