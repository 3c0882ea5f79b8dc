#!/usr/bin/env bash
# The whole test suite: installs the Debian packages some tests drive (PgBouncer, a Secret
# Service, openssl) if they are missing, then runs every test. The PostgreSQL tests use the
# server on 127.0.0.1:5432 (superuser postgres, or MEM0_TEST_ADMIN_URL) and create and drop
# their own databases.
#
# The integration tests are one crate (tests/it) whose tests run on parallel threads. Most of
# their time is spent waiting (for child processes, PostgreSQL, time limits), so more threads
# than cores pay off: on two cores tests/it took about 125-165 s with 2 threads, 100 s with 4
# and 80 s with 6. RUST_TEST_THREADS set by the caller wins. cargo-nextest is slower here: it
# runs each test in a process of its own, which starts the private PostgreSQL cluster once per
# test instead of once per run (213 s against about 115 s with 2 threads).
set -euo pipefail
cd "$(dirname "$0")/.."
.ci/install-test-deps.sh
export RUST_TEST_THREADS="${RUST_TEST_THREADS:-6}"
exec cargo test --locked "$@"
