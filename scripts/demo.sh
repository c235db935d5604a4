#!/usr/bin/env bash
# `make demo`: the README demo end to end on a fresh machine. Builds the binaries, starts the
# sandbox cluster (our loopback Kubernetes API server on 127.0.0.1:16443, the address
# examples/config.toml names), then for every integration of examples/: the dry run, the apply
# and the converged dry run (`--detailed-exitcode` must say 0: nothing left to do). Stops the
# sandbox it started on any exit (trap).
#
# The sandbox serves OpenShift's user.openshift.io (--openshift-users): Groups for
# openshift-groups, and the Users the script seeds through the API (curl, no kubectl) for
# openshift-users: one no longer entitled (deleted), one entitled and one admin (both kept).
# openshift-serviceaccount-tokens applies twice: its first run requests a token for the
# ServiceAccount openshift-resources created, its second copies that token.
# vault-replication is not in the demo: it copies secrets between two Vault servers, and the
# demo has none (app-interface-settings say vault: false; secrets come from config.toml).
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=16443
INTEGRATIONS=(
    openshift-namespaces
    openshift-resources
    openshift-vault-secrets
    openshift-prometheus-rules
    openshift-network-policies
    openshift-rolebindings
    openshift-limitranges
    openshift-resourcequotas
    openshift-routes
    openshift-clusterrolebindings
    openshift-groups
    openshift-users
    openshift-serviceaccount-tokens
    integrations-manager
)
# How many applies before the converged dry run (default 1).
declare -A APPLIES=([openshift-serviceaccount-tokens]=2)

cargo build -p qontract-reconcile --bin qontract-reconcile \
    -p qontract-kube-testserver --bin kube-testserver
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
BIN="$TARGET_DIR/debug/qontract-reconcile"

if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    echo "demo: 127.0.0.1:$PORT is already in use (a sandbox from an earlier run?); stop it first" >&2
    exit 1
fi
"$TARGET_DIR/debug/kube-testserver" --http --port "$PORT" --token sandbox-token --openshift-users &
SANDBOX=$!
trap 'kill "$SANDBOX" 2>/dev/null || true; wait "$SANDBOX" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then break; fi
    kill -0 "$SANDBOX" 2>/dev/null || { echo "demo: the sandbox did not start" >&2; exit 1; }
    sleep 0.1
done

# A user.openshift.io object (User or Identity) created on the sandbox through its API.
seed() {
    local resource=$1 body=$2
    echo "\$ curl -X POST http://127.0.0.1:$PORT/apis/user.openshift.io/v1/$resource  # $(
        sed -n 's/.*"metadata": *{"name": *"\([^"]*\)".*/\1/p' <<<"$body")"
    curl -sSf -o /dev/null -X POST -H "Authorization: Bearer sandbox-token" \
        -H "Content-Type: application/json" \
        "http://127.0.0.1:$PORT/apis/user.openshift.io/v1/$resource" -d "$body"
}

# Users who logged in through the cluster's GitHub identity provider: ada (entitled through
# her roles), grace (no role any more: openshift-users deletes her and her identity), and an
# admin (label admin=true: never touched).
echo
echo "=== seeding the sandbox's OpenShift users"
for user in ada-example grace-example sandbox-admin; do
    labels='{}'
    [ "$user" = sandbox-admin ] && labels='{"admin": "true"}'
    seed users "{\"apiVersion\": \"user.openshift.io/v1\", \"kind\": \"User\", \"metadata\": {\"name\": \"$user\", \"labels\": $labels}, \"identities\": [\"github:$user\"]}"
    seed identities "{\"apiVersion\": \"user.openshift.io/v1\", \"kind\": \"Identity\", \"metadata\": {\"name\": \"github:$user\"}, \"providerName\": \"github\", \"providerUserName\": \"$user\", \"user\": {\"name\": \"$user\"}}"
done

run() {
    echo
    echo "\$ qontract-reconcile --config examples/config.toml $*"
    "$BIN" --config examples/config.toml "$@"
}

for integration in "${INTEGRATIONS[@]}"; do
    echo
    echo "=== $integration"
    run --dry-run "$integration"
    for _ in $(seq "${APPLIES[$integration]:-1}"); do
        run "$integration"
    done
    set +e
    run --dry-run --detailed-exitcode "$integration"
    status=$?
    set -e
    if [ "$status" -ne 0 ]; then
        echo "demo: $integration did not converge (the dry run after the apply exited $status)" >&2
        exit 1
    fi
done
echo
echo "demo: every integration planned, applied and converged; sandbox stopped."
