#!/usr/bin/env bash
# `make demo`: the README demo end to end on a fresh machine. Builds the binaries, starts the
# sandbox cluster (our loopback Kubernetes API server on 127.0.0.1:16443, the address
# examples/config.toml names), then for every integration of examples/: the dry run, the apply
# and the converged dry run (`--detailed-exitcode` must say 0: nothing left to do). Stops the
# sandbox it started on any exit (trap).
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
    integrations-manager
)

cargo build -p qontract-reconcile --bin qontract-reconcile \
    -p qontract-kube-testserver --bin kube-testserver
BIN=target/debug/qontract-reconcile

if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    echo "demo: 127.0.0.1:$PORT is already in use (a sandbox from an earlier run?); stop it first" >&2
    exit 1
fi
target/debug/kube-testserver --http --port "$PORT" --token sandbox-token &
SANDBOX=$!
trap 'kill "$SANDBOX" 2>/dev/null || true; wait "$SANDBOX" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then break; fi
    kill -0 "$SANDBOX" 2>/dev/null || { echo "demo: the sandbox did not start" >&2; exit 1; }
    sleep 0.1
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
    run "$integration"
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
