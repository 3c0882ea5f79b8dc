#!/usr/bin/env bash
# Installs the Debian packages the integration tests need, and only those that are missing:
#   pgbouncer      tests/it/connections.rs (session and transaction pooling in front of PostgreSQL)
#   gnome-keyring  tests/it/keychain.rs (a real Secret Service under dbus-run-session)
#   dbus-daemon    dbus-run-session for tests/it/keychain.rs (normally already installed)
#   openssl        tests/it/support/cluster.rs (CA, server and client certificates)
#   haproxy        tests/it/http.rs (a load balancer in front of two team-server replicas)
# Idempotent and quiet: running it again on a machine that has them does nothing.
set -euo pipefail

wanted=(pgbouncer gnome-keyring dbus-daemon openssl haproxy)
missing=()
for package in "${wanted[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-test-deps: missing ${missing[*]}; run this script as root (or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi

echo "install-test-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
