//! `cargo xtask introspect --url URL [--out FILE]`: ask a live qontract-server for its schema
//! (standard introspection query) and print it as SDL, to compare with or refresh
//! `schemas/qontract.graphql` (whose source of truth is `schemas/graphql-schema.yml`).

use anyhow::{Context, Result, bail};
use cynic::QueryBuilder;
use cynic_introspection::IntrospectionQuery;

pub(crate) fn run(args: &[String]) -> Result<()> {
    let mut url = None;
    let mut out = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--url" => url = it.next().cloned(),
            "--out" => out = it.next().cloned(),
            other => bail!("unexpected argument {other:?}"),
        }
    }
    let url = url.context("--url URL is required (e.g. http://localhost:4000/graphql)")?;
    let operation = IntrospectionQuery::build(());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let body: serde_json::Value = runtime.block_on(async {
        let resp = reqwest::Client::new()
            .post(&url)
            .json(&operation)
            .send()
            .await
            .with_context(|| format!("POST {url}"))?;
        let status = resp.status();
        let text = resp.text().await?;
        if !status.is_success() {
            bail!(
                "POST {url}: HTTP {status}: {}",
                text.chars().take(300).collect::<String>()
            );
        }
        serde_json::from_str(&text).with_context(|| format!("{url}: response is not JSON"))
    })?;
    let data: IntrospectionQuery = serde_json::from_value(
        body.get("data")
            .cloned()
            .with_context(|| format!("{url}: response has no data"))?,
    )
    .with_context(|| format!("{url}: unexpected introspection response"))?;
    let schema = data
        .into_schema()
        .context("converting the introspection result")?;
    let sdl = schema.to_sdl();
    match out {
        Some(path) => std::fs::write(&path, sdl).with_context(|| format!("writing {path}"))?,
        None => print!("{sdl}"),
    }
    Ok(())
}
