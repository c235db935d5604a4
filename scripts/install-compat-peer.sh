#!/usr/bin/env sh
# Installs the peer of the differential suite (`make compat`, tests/compat): the real Python
# qontract-reconcile 0.10.1 from PyPI in a python3.11 venv, plus the shims it needs on PATH:
#   oc      answers `version --client` with 4.12.46 (the version gate of 0.10.1), runs
#           `adm groups new|add-users|remove-users` as oc does (oc-adm-groups.py: create, or
#           get + replace, of the user.openshift.io Group) and hands every other call to kubectl
#   amtool  answers `--version` with 0.24.0 (openshift-resources' version gate; unused otherwise)
# Idempotent. Prints the directory to put first on PATH (the venv's bin, which holds the shims).
#   QONTRACT_COMPAT_VENV  venv directory (default: $HOME/.cache/qontract-compat/venv)
#   PYTHON311             interpreter used to create it (default: python3.11)
set -eu

VENV="${QONTRACT_COMPAT_VENV:-$HOME/.cache/qontract-compat/venv}"
PYTHON311="${PYTHON311:-python3.11}"
VERSION=0.10.1

if ! command -v kubectl >/dev/null 2>&1; then
    echo "installing: kubectl" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends kubectl >&2
fi

if ! "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('qontract-reconcile') != '$VERSION')" 2>/dev/null; then
    echo "installing: qontract-reconcile==$VERSION into $VENV" >&2
    mkdir -p "$(dirname "$VENV")"
    "$PYTHON311" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "qontract-reconcile==$VERSION" >&2
fi

KUBECTL="$(command -v kubectl)"
cat > "$VENV/bin/oc" <<SHIM
#!/usr/bin/env bash
# oc shim for qontract-reconcile $VERSION (written by scripts/install-compat-peer.sh).
# kubectl sends typed writes (\`create namespace\`) as protobuf, which the loopback API server
# does not decode, and has no \`new-project\`: both become \`create -f -\` of the JSON object
# oc itself would send (a Namespace, a ProjectRequest). Writes skip kubectl's client-side
# validation (the loopback server serves no /openapi).
args=("\$@")
for i in "\${!args[@]}"; do
    case "\${args[\$i]}" in
    --client)
        echo "Client Version: 4.12.46"
        exit 0
        ;;
    new-project)
        exec "$KUBECTL" "\${args[@]:0:\$i}" create --validate=false -f - \\
            <<<"{\"apiVersion\": \"project.openshift.io/v1\", \"kind\": \"ProjectRequest\", \"metadata\": {\"name\": \"\${args[\$((i + 1))]}\"}}"
        ;;
    create)
        if [ "\${args[\$((i + 1))]}" = namespace ]; then
            exec "$KUBECTL" "\${args[@]:0:\$i}" create --validate=false -f - \\
                <<<"{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"\${args[\$((i + 2))]}\"}}"
        fi
        exec "$KUBECTL" "\$@" --validate=false
        ;;
    apply | replace)
        exec "$KUBECTL" "\$@" --validate=false
        ;;
    adm)
        if [ "\${args[\$((i + 1))]}" = groups ]; then
            exec "$VENV/bin/python" "$VENV/bin/oc-adm-groups.py" "$KUBECTL" "\${args[@]:0:\$i}" -- "\${args[@]:\$((i + 2))}"
        fi
        ;;
    esac
done
exec "$KUBECTL" "\$@"
SHIM
cat > "$VENV/bin/oc-adm-groups.py" <<'SHIM'
"""`oc adm groups new|add-users|remove-users GROUP [USER...]` over kubectl, as oc 4.12 does it
(written by scripts/install-compat-peer.sh). Usage: KUBECTL [GLOBAL FLAGS...] -- VERB GROUP USERS...

new:          POST a Group whose `users` are the given ones (`null` when none, as oc's typed
              client sends an empty OptionalNames)
add-users:    GET the Group, append each user it does not list yet, PUT it
remove-users: GET the Group, keep the users not given (`[]` when none left), PUT it
"""
import json
import subprocess
import sys

kubectl = sys.argv[1]
sep = sys.argv.index("--")
base = [kubectl, *sys.argv[2:sep]]
verb, group, *users = sys.argv[sep + 1 :]
if verb == "new":
    obj = {
        "apiVersion": "user.openshift.io/v1",
        "kind": "Group",
        "metadata": {"name": group},
        "users": users or None,
    }
    cmd = ["create", "--validate=false", "-f", "-"]
elif verb in ("add-users", "remove-users"):
    got = subprocess.run([*base, "get", "group", group, "-o", "json"], capture_output=True)
    if got.returncode != 0:
        sys.stderr.buffer.write(got.stderr)
        sys.exit(got.returncode)
    obj = json.loads(got.stdout)
    current = obj.get("users") or []
    if verb == "add-users":
        obj["users"] = current + [u for u in users if u not in current]
    else:
        obj["users"] = [u for u in current if u not in users]
    cmd = ["replace", "--validate=false", "-f", "-"]
else:
    sys.exit(f"oc shim: adm groups {verb} is not supported")
sys.exit(subprocess.run([*base, *cmd], input=json.dumps(obj).encode()).returncode)
SHIM
cat > "$VENV/bin/amtool" <<'SHIM'
#!/bin/sh
# amtool shim for qontract-reconcile (written by scripts/install-compat-peer.sh)
echo "amtool, version 0.24.0 (branch: HEAD, revision: compat-shim)"
SHIM
chmod +x "$VENV/bin/oc" "$VENV/bin/amtool"
echo "$VENV/bin"
