#!/usr/bin/env sh
# Debian packages the tests start: the Prometheus Pushgateway (daemon metrics push test) and
# PostgreSQL (the database of the Unleash server the kill-switch tests start; the tests run
# their own cluster with initdb/postgres on a free port, never the system one).
# Idempotent: installs only what is missing.
set -eu

postgres_initdb() {
    command -v initdb 2>/dev/null && return 0
    # Debian keeps the server binaries out of PATH.
    ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1
}
if ! command -v prometheus-pushgateway >/dev/null 2>&1; then
    echo "installing: prometheus-pushgateway"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends prometheus-pushgateway >/dev/null
    # The package enables a system service; tests start their own instance on a free port.
    if command -v systemctl >/dev/null 2>&1; then
        systemctl stop prometheus-pushgateway >/dev/null 2>&1 || true
    fi
fi
if [ -z "$(postgres_initdb)" ]; then
    echo "installing: postgresql"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    # The package may start a system cluster; the tests start their own on a free port.
    if command -v systemctl >/dev/null 2>&1; then
        systemctl stop postgresql >/dev/null 2>&1 || true
    fi
fi
if [ -z "$(postgres_initdb)" ]; then
    echo "error: initdb still not found after installing postgresql" >&2
    exit 1
fi
echo "system packages present: $(command -v prometheus-pushgateway), $(postgres_initdb)"
