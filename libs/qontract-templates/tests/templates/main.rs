//! Templates render what upstream renders: every case of `tests/data/cases.json` (inputs, and
//! the output or error the Python tool produced, see `tests/data/compute_expected.py`) is
//! rendered here and compared byte for byte. The I/O helpers run once against an in-memory
//! context and once through [`TokioContext`] against a real OpenBao and a GraphQL server.

#[path = "../../../qontract-secrets/tests/support/services.rs"]
mod services;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use qontract_templates::{
    ContextError, Flavour, RenderOptions, Renderer, SecretSource, TemplateContext, TokioContext,
};
use serde_json::{Value, json};

fn cases() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/cases.json"
    ))
    .expect("tests/data/cases.json");
    serde_json::from_str(&text).expect("cases.json is JSON")
}

fn flavour(case: &Value) -> Flavour {
    match case["flavour"].as_str() {
        Some("extracurlyjinja2") => Flavour::ExtraCurlyJinja2,
        _ => Flavour::Jinja2,
    }
}

/// Render `case` and compare with its expectation; returns a failure description.
fn check(renderer: &Renderer, case: &Value) -> Option<String> {
    let name = case["name"].as_str().unwrap_or("?");
    let body = case["body"].as_str().expect("body");
    let vars = case["vars"].as_object().cloned().unwrap_or_default();
    let result = renderer.render(body, vars, flavour(case), RenderOptions::default());
    match (case.get("expected"), case.get("expected_error"), result) {
        (Some(expected), _, Ok(out)) if expected.as_str() == Some(out.as_str()) => None,
        (Some(expected), _, Ok(out)) => Some(format!(
            "{name}: rendered\n  {out:?}\nupstream rendered\n  {expected}"
        )),
        (Some(expected), _, Err(e)) => Some(format!(
            "{name}: failed with {e}\nupstream rendered\n  {expected}"
        )),
        (None, Some(_), Err(e)) => {
            let text = e.to_string();
            let wanted: Vec<&str> = case["error_contains"]
                .as_array()
                .map(|l| l.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let by_hand = case["by_hand"].as_bool().unwrap_or(false);
            let expected = case["expected_error"].as_str().unwrap_or_default();
            if !text.starts_with("error processing jinja2 template: ") {
                return Some(format!(
                    "{name}: error does not read like upstream's: {text}"
                ));
            }
            if by_hand && !text.contains(expected) {
                return Some(format!("{name}: error {text:?} lacks {expected:?}"));
            }
            wanted
                .iter()
                .find(|w| !text.contains(**w))
                .map(|w| format!("{name}: error {text:?} lacks {w:?}"))
        }
        (None, Some(expected), Ok(out)) => Some(format!(
            "{name}: rendered {out:?}, upstream failed with {expected}"
        )),
        (None, None, _) => Some(format!("{name}: case has no expectation")),
    }
}

/// The services of `cases.json` in memory.
struct MemoryContext {
    secrets: BTreeMap<String, BTreeMap<String, String>>,
    files: BTreeMap<String, String>,
    reads: Mutex<Vec<String>>,
}

impl MemoryContext {
    fn new(cases: &Value) -> Self {
        let secrets = serde_json::from_value(cases["secrets"].clone()).expect("secrets");
        let files = serde_json::from_value(cases["query_files"].clone()).expect("files");
        Self {
            secrets,
            files,
            reads: Mutex::new(Vec::new()),
        }
    }
}

impl TemplateContext for MemoryContext {
    fn read_secret(
        &self,
        path: &str,
        version: Option<u64>,
    ) -> Result<Option<BTreeMap<String, String>>, ContextError> {
        let key = match version {
            Some(v) => format!("{path}@{v}"),
            None => path.to_owned(),
        };
        self.reads.lock().unwrap().push(key.clone());
        Ok(self.secrets.get(&key).cloned())
    }

    fn resource_content(&self, path: &str) -> Result<String, ContextError> {
        self.files
            .get(path)
            .cloned()
            .ok_or_else(|| format!("resource {path} not found").into())
    }

    fn graphql(&self, query: &str) -> Result<Value, ContextError> {
        Ok(json!({ "result": { "query": query } }))
    }

    fn url_makes_sense(&self, url: &str) -> Result<bool, ContextError> {
        Ok(url.contains("good"))
    }
}

#[test]
fn every_upstream_case_renders_identically() {
    let cases = cases();
    let ctx = Arc::new(MemoryContext::new(&cases));
    let renderer = Renderer::new(ctx.clone());
    let failures: Vec<String> = cases["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .filter_map(|case| check(&renderer, case))
        .collect();
    assert!(
        failures.is_empty(),
        "{} case(s) differ from upstream:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    // One read per (path, version) for the whole run, as upstream's Jinja2TemplateCache:
    // `latest` and no version share one entry.
    let reads = ctx.reads.lock().unwrap().clone();
    let mut unique = reads.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        reads.len(),
        unique.len(),
        "repeated secret reads: {reads:?}"
    );
}

#[tokio::test]
async fn url_helper_probes_with_a_get_as_upstream_url_makes_sense() {
    // A server answering 200 on /sha256 and 404 elsewhere; a closed port refuses connections.
    let server =
        qontract_test_support::FakeQontractServer::start("sha", |_| (200, json!({}))).await;
    let base = server.graphql_url().trim_end_matches("/graphql").to_owned();
    let closed = format!("http://127.0.0.1:{}/", services::free_port());
    let ctx = TokioContext::new(tokio::runtime::Handle::current(), SecretSource::None, None);
    let renderer = Renderer::new(Arc::new(ctx));
    let body = format!(
        "{{{{ url('{base}/sha256') }}}} {{{{ url('  {base}/sha256  ') }}}} {{{{ url('{base}/missing') }}}} {{{{ url('{closed}') }}}} {{{{ url('  ') }}}}"
    );
    let out = tokio::task::spawn_blocking(move || {
        renderer.render(
            &body,
            serde_json::Map::new(),
            Flavour::Jinja2,
            RenderOptions::default(),
        )
    })
    .await
    .unwrap()
    .unwrap();
    // upstream: status < 404 is True, 404 False, a connection error False, an empty URL False
    // without a request; the URL is stripped first (so the second call is a cache hit).
    assert_eq!(out, "True True False False False");
    let probes = server
        .request_lines()
        .iter()
        .filter(|l| l.starts_with("GET /sha256"))
        .count();
    assert_eq!(probes, 1, "{:?}", server.request_lines());
}

#[test]
fn without_services_io_helpers_are_errors_naming_them() {
    let renderer = Renderer::default();
    for (body, helper) in [
        ("{{ vault('a/b', 'c') }}", "vault()"),
        ("{{ query('/q.gql') }}", "query()"),
        ("{{ url('https://x.example') }}", "url()"),
        ("{{ sloth_alerts({}) }}", "sloth_alerts()"),
        ("{{ s3_ls('a', 'b', 'c') }}", "s3_ls()"),
    ] {
        let err = renderer
            .render(
                body,
                serde_json::Map::new(),
                Flavour::Jinja2,
                RenderOptions::default(),
            )
            .unwrap_err()
            .to_string();
        assert!(err.contains(helper), "{body}: {err}");
    }
}

#[test]
fn render_options_are_upstreams_template_render_options() {
    let renderer = Renderer::default();
    let body = "{% if true %}\n  a\n  {% endif %}\nb\n";
    let options = RenderOptions {
        trim_blocks: true,
        lstrip_blocks: true,
        keep_trailing_newline: true,
    };
    // Computed with upstream: process_jinja2_template(body,
    // template_render_options=TemplateRenderOptions.create(True, True, True)).
    let out = renderer
        .render(body, serde_json::Map::new(), Flavour::Jinja2, options)
        .unwrap();
    assert_eq!(out, "  a\nb\n");
}

/// Writes the secrets of `cases.json` into a KV v2 mount `app-sre` of OpenBao, versions in
/// order (`path@1`, `path@2`, then `path` as the latest).
async fn seed_openbao(bao: &services::Bao, secrets: &BTreeMap<String, BTreeMap<String, String>>) {
    let http = reqwest::Client::new();
    let call = |path: String, body: Value| {
        let request = http
            .post(format!("{}/v1/{path}", bao.url))
            .header("X-Vault-Token", services::Bao::ROOT_TOKEN)
            .json(&body);
        async move {
            let response = request.send().await.expect("OpenBao request");
            assert!(
                response.status().is_success(),
                "{path}: {}",
                response.status()
            );
        }
    };
    call(
        "sys/mounts/app-sre".to_owned(),
        json!({"type": "kv", "options": {"version": "2"}}),
    )
    .await;
    type Versions<'a> = Vec<(u64, &'a BTreeMap<String, String>)>;
    let mut by_path: BTreeMap<&str, Versions<'_>> = BTreeMap::new();
    for (key, data) in secrets {
        let (path, version) = match key.split_once('@') {
            Some((p, v)) => (p, v.parse().expect("version")),
            None => (key.as_str(), u64::MAX),
        };
        by_path.entry(path).or_default().push((version, data));
    }
    for (path, mut versions) in by_path {
        versions.sort_by_key(|(v, _)| *v);
        let relative = path.strip_prefix("app-sre/").expect("on app-sre/");
        for (_, data) in versions {
            call(format!("app-sre/data/{relative}"), json!({ "data": data })).await;
        }
    }
}

// The default current-thread runtime: rendering on spawn_blocking works there too.
#[tokio::test]
async fn vault_and_query_helpers_against_openbao_and_a_graphql_server() {
    let cases = cases();
    let bao = services::Bao::start().await;
    let secrets: BTreeMap<String, BTreeMap<String, String>> =
        serde_json::from_value(cases["secrets"].clone()).unwrap();
    seed_openbao(&bao, &secrets).await;
    let reader =
        qontract_secrets::VaultSecretReader::connect(qontract_secrets::VaultSettings::new(
            bao.url.clone(),
            qontract_secrets::VaultAuth::Token(qontract_secrets::Secret::new(
                services::Bao::ROOT_TOKEN,
            )),
        ))
        .await
        .expect("connect to OpenBao");

    // A qontract-server answering resources_v1 with the query files and any other query with
    // the query text (what cases.json's fake GraphQL API answers upstream).
    let files = cases["query_files"].clone();
    let server = qontract_test_support::FakeQontractServer::start("sha", move |body| {
        let query = body["query"].as_str().unwrap_or_default();
        if query.contains("resources_v1") {
            let path = body["variables"]["path"].as_str().unwrap_or_default();
            let content = files[path].clone();
            (
                200,
                json!({"data": {"resources": [{"path": path, "content": content, "sha256sum": "x"}]}}),
            )
        } else {
            (200, json!({"data": {"result": {"query": query}}}))
        }
    })
    .await;
    let transport =
        qontract_gql::HttpTransport::new(&server.graphql_url(), None).expect("HTTP transport");
    let gql = qontract_gql::GqlClient::connect(
        Arc::new(transport),
        qontract_gql::ClientOptions::default(),
    )
    .await
    .expect("GraphQL client");

    let ctx = TokioContext::new(
        tokio::runtime::Handle::current(),
        SecretSource::Reader(Arc::new(reader)),
        Some(Arc::new(gql)),
    );
    let renderer = Renderer::new(Arc::new(ctx));
    let selected: Vec<Value> = cases["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            let name = c["name"].as_str().unwrap_or_default();
            name.starts_with("vault_") || name.starts_with("query_")
        })
        .cloned()
        .collect();
    assert!(selected.len() >= 8, "the vault/query cases are missing");
    // Render on a blocking thread, as the integrations do.
    let failures = tokio::task::spawn_blocking(move || {
        selected
            .iter()
            .filter_map(|case| check(&renderer, case))
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    drop(server);
}

/// `s3()` / `s3_ls()` as upstream `lookup_s3_object` / `list_s3_objects`: the account from
/// GraphQL, its credentials from the secret reader (OpenBao), the bucket on moto.
#[tokio::test]
async fn s3_helpers_read_an_accounts_bucket_with_its_credentials() {
    let bao = services::Bao::start().await;
    let secrets = BTreeMap::from([(
        "app-sre/creds/aws-app-sre".to_owned(),
        BTreeMap::from([
            ("aws_access_key_id".to_owned(), "testing".to_owned()),
            ("aws_secret_access_key".to_owned(), "testing".to_owned()),
        ]),
    )]);
    seed_openbao(&bao, &secrets).await;
    let moto = services::Moto::start().await;
    moto.create_bucket("app-sre-templates").await;
    let http = reqwest::Client::new();
    for (key, content) in [
        ("dir/a.txt", "content of a\n"),
        ("dir/b.txt", "b"),
        ("dir/sub/c.txt", "c"),
    ] {
        let response = http
            .put(format!("{}/app-sre-templates/{key}", moto.url))
            .body(content)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "put {key}: {}",
            response.status()
        );
    }
    let server = qontract_test_support::FakeQontractServer::start("sha", |body| {
        let name = body["variables"]["name"].as_str().unwrap_or_default();
        let accounts = if name == "app-sre" {
            json!([{"name": "app-sre", "resourcesDefaultRegion": "us-east-1",
                    "automationToken": {"path": "app-sre/creds/aws-app-sre", "field": "all",
                                        "version": null, "format": null}}])
        } else {
            json!([])
        };
        (200, json!({"data": {"accounts": accounts}}))
    })
    .await;
    let transport = qontract_gql::HttpTransport::new(&server.graphql_url(), None).unwrap();
    let gql = qontract_gql::GqlClient::connect(Arc::new(transport), Default::default())
        .await
        .unwrap();
    let reader =
        qontract_secrets::VaultSecretReader::connect(qontract_secrets::VaultSettings::new(
            bao.url.clone(),
            qontract_secrets::VaultAuth::Token(qontract_secrets::Secret::new(
                services::Bao::ROOT_TOKEN,
            )),
        ))
        .await
        .unwrap();
    let ctx = TokioContext::new(
        tokio::runtime::Handle::current(),
        SecretSource::Reader(Arc::new(reader)),
        Some(Arc::new(gql)),
    )
    .with_s3_endpoint(Some(moto.url.clone()));
    let renderer = Renderer::new(Arc::new(ctx));
    let (out, missing) = tokio::task::spawn_blocking(move || {
        let render = |body: &str| {
            renderer.render(body, serde_json::Map::new(), Flavour::Jinja2, RenderOptions::default())
        };
        (
            render(
                "{{ s3('app-sre', 'app-sre-templates', 'dir/a.txt') }}|{{ s3_ls('app-sre', 'app-sre-templates', 'dir/') | sort }}|{{ s3_ls('app-sre', 'app-sre-templates', 'dir/a') }}|{{ s3(a='app-sre', b='app-sre-templates', p='dir/sub/c.txt', r='us-east-1') }}",
            ),
            render("{{ s3('nobody', 'app-sre-templates', 'dir/a.txt') }}"),
        )
    })
    .await
    .unwrap();
    // The object's text as is; the keys directly under the prefix (not dir/sub/...), a prefix
    // being a plain string prefix as S3's.
    // (sorted: the two objects may share their LastModified second)
    assert_eq!(
        out.unwrap(),
        "content of a\n|['dir/a.txt', 'dir/b.txt']|['dir/a.txt']|c"
    );
    let err = missing.unwrap_err().to_string();
    assert!(err.contains("s3(): aws account not found: nobody"), "{err}");
}
