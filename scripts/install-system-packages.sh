#!/usr/bin/env sh
# Debian packages the tests start: the Prometheus Pushgateway (daemon metrics push test).
# Idempotent: installs only what is missing.
set -eu
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
echo "system packages present: $(command -v prometheus-pushgateway)"
