"""Computes the expected outputs in cases.json with the Python tool (the reference).

Run: /tmp/pyvenv/qr/bin/python libs/qontract-templates/tests/data/compute_expected.py
(qontract-reconcile 0.10.1 from PyPI, with `lookup_secret` replaced by current upstream's, which
reads the whole secret and treats `LATEST` as the latest version). Cases marked `"by_hand": true`
are not computed: their expectation follows current upstream's code where 0.10.1 differs or
cannot run here (noted in the case's `note`).

Each case renders `body` with `vars` through reconcile.utils.jinja2.utils.process_jinja2_template
(or process_extracurlyjinja2_template), with a secret reader serving SECRETS (the same data
the Rust test writes into OpenBao) and a GraphQL API serving QUERY_FILES / QUERY_RESULTS.
The output, or the error message, is written to cases.json.
"""

import json
import pathlib

import reconcile.utils.jinja2.utils as ju
from reconcile.utils import gql
from reconcile.utils.secret_reader import SecretNotFound

HERE = pathlib.Path(__file__).parent

# current upstream's lookup_secret (reconcile/utils/jinja2/utils.py, without the run cache):
# 0.10.1 reads one field with `read` and does not treat "LATEST" as the latest version.
def current_lookup_secret(path, key, version=None, tvars=None, allow_not_found=False,
                          settings=None, secret_reader=None, cache=None):
    if tvars is not None:
        path = ju.process_jinja2_template(body=path, vars=tvars, settings=settings, secret_reader=secret_reader)
        key = ju.process_jinja2_template(body=key, vars=tvars, settings=settings, secret_reader=secret_reader)
        if version and not isinstance(version, int):
            version = ju.process_jinja2_template(body=version, vars=tvars, settings=settings, secret_reader=secret_reader)
    if version is not None and str(version).upper() == "LATEST":
        version = None
    try:
        secret_data = secret_reader.read_all({"path": path, "field": "", "version": version})
    except SecretNotFound:
        secret_data = None
    if secret_data is None:
        if allow_not_found:
            return None
        raise ju.FetchSecretError(f"secret not found: {path}")
    if key not in secret_data:
        if allow_not_found:
            return None
        raise ju.FetchSecretError(f"secret field not found: {path}/{key}")
    return secret_data[key]


ju.lookup_secret = current_lookup_secret

cases = json.loads((HERE / "cases.json").read_text())
SECRETS = cases["secrets"]
QUERY_FILES = cases["query_files"]


class FakeSecretReader:
    def read_all(self, secret):
        key = secret["path"] + ("" if secret.get("version") is None else "@" + str(secret["version"]))
        if key not in SECRETS:
            raise SecretNotFound(secret["path"])
        return SECRETS[key]

    def read(self, secret):
        data = self.read_all(secret)
        return data[secret["field"]]


class FakeGql:
    def get_resource(self, path):
        return {"path": path, "content": QUERY_FILES[path]}

    def query(self, text):
        return {"result": {"query": text}}


gql.get_api = lambda: FakeGql()

for case in cases["cases"]:
    if case.get("by_hand"):
        continue
    fn = ju.process_extracurlyjinja2_template if case.get("flavour") == "extracurlyjinja2" else ju.process_jinja2_template
    try:
        out = fn(body=case["body"], vars=json.loads(json.dumps(case.get("vars", {}))), secret_reader=FakeSecretReader())
        case["expected"] = out
        case.pop("expected_error", None)
    except Exception as e:  # noqa: BLE001
        case["expected_error"] = str(e)
        case.pop("expected", None)

(HERE / "cases.json").write_text(json.dumps(cases, indent=2, ensure_ascii=False) + "\n")
print(f"{len(cases['cases'])} cases")
