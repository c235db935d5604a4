use crate::common::*;
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

fn cm(name: &str) -> DynamicObject {
    dynobj(
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}}),
    )
}

#[tokio::test]
async fn every_error_code_has_the_real_status_shape() {
    let s = server().await;
    let c = client(&s).await;
    let api = ns_api(&c, &cm_ar(), "default");
    api.create(&PostParams::default(), &cm("cm")).await.unwrap();

    // 404 NotFound
    let e = api_err(api.get("nope").await);
    assert_eq!(
        (e.code, e.reason.as_str(), e.message.as_str()),
        (404, "NotFound", "configmaps \"nope\" not found")
    );
    let d = e.details.unwrap();
    assert_eq!(
        (d.name.as_str(), d.kind.as_str(), d.group.as_str()),
        ("nope", "configmaps", "")
    );
    let e = api_err(
        api.patch("nope", &PatchParams::default(), &Patch::Merge(json!({})))
            .await,
    );
    assert_eq!(e.code, 404);

    // group resources are qualified
    let deps = ns_api(
        &c,
        &ar("apps", "v1", "Deployment", "deployments"),
        "default",
    );
    let e = api_err(deps.get("nope").await);
    assert_eq!(e.message, "deployments.apps \"nope\" not found");
    assert_eq!(e.details.unwrap().group, "apps");

    // 409 AlreadyExists
    let e = api_err(api.create(&PostParams::default(), &cm("cm")).await);
    assert_eq!(
        (e.code, e.reason.as_str(), e.message.as_str()),
        (409, "AlreadyExists", "configmaps \"cm\" already exists")
    );

    // 409 Conflict on a stale resourceVersion
    let mut stale = api.get("cm").await.unwrap();
    stale.metadata.resource_version = Some("1".into());
    let e = api_err(api.replace("cm", &PostParams::default(), &stale).await);
    assert_eq!((e.code, e.reason.as_str()), (409, "Conflict"));
    assert!(e.message.starts_with(
        "Operation cannot be fulfilled on configmaps \"cm\": the object has been modified"
    ));
    // ... and on a merge patch carrying a stale resourceVersion
    let e = api_err(
        api.patch(
            "cm",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"resourceVersion": "1"}})),
        )
        .await,
    );
    assert_eq!(e.code, 409);

    // 422 Invalid: bad and missing names
    let e = api_err(api.create(&PostParams::default(), &cm("Bad_Name")).await);
    assert_eq!((e.code, e.reason.as_str()), (422, "Invalid"));
    assert!(e.message.starts_with("ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain"));
    let d = e.details.unwrap();
    assert_eq!(
        (d.name.as_str(), d.kind.as_str()),
        ("Bad_Name", "ConfigMap")
    );
    assert_eq!(d.causes[0].field, "metadata.name");
    assert_eq!(d.causes[0].reason, "FieldValueInvalid");
    let e = api_err(
        api.create(
            &PostParams::default(),
            &dynobj(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}})),
        )
        .await,
    );
    assert_eq!(e.code, 422);
    assert_eq!(e.details.unwrap().causes[0].reason, "FieldValueRequired");
    // group kinds are qualified in the message, not in details
    let deps = ns_api(
        &c,
        &ar("apps", "v1", "Deployment", "deployments"),
        "default",
    );
    let e = api_err(
        deps.create(&PostParams::default(), &dynobj(json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"}, "spec": {}})))
            .await,
    );
    assert_eq!(e.code, 422);
    assert!(
        e.message
            .starts_with("Deployment.apps \"x\" is invalid: [spec.selector: Required value"),
        "{}",
        e.message
    );
    let d = e.details.unwrap();
    assert_eq!((d.kind.as_str(), d.group.as_str()), ("Deployment", "apps"));
    // generateName fills the name in
    let g = api.create(&PostParams::default(), &dynobj(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "gen-"}}))).await.unwrap();
    assert!(g.metadata.name.unwrap().starts_with("gen-"));

    // 400 BadRequest: name in body differs from the URL
    let e = api_err(
        api.replace("cm", &PostParams::default(), &cm("other"))
            .await,
    );
    assert_eq!((e.code, e.reason.as_str()), (400, "BadRequest"));
    assert_eq!(
        e.message,
        "the name of the object (other) does not match the name on the URL (cm)"
    );

    // 404 for a missing namespace
    let e = api_err(
        ns_api(&c, &cm_ar(), "missing")
            .create(&PostParams::default(), &cm("x"))
            .await,
    );
    assert_eq!(
        (e.code, e.message.as_str()),
        (404, "namespaces \"missing\" not found")
    );
    assert_eq!(e.details.unwrap().kind, "namespaces");
}

#[tokio::test]
async fn unauthorized_and_forbidden() {
    let s = server().await;
    let bad = s.client_for(Some("wrong")).await.unwrap();
    let e = api_err(
        ns_api(&bad, &cm_ar(), "default")
            .list(&ListParams::default())
            .await,
    );
    assert_eq!(
        (e.code, e.reason.as_str(), e.message.as_str()),
        (401, "Unauthorized", "Unauthorized")
    );
    assert!(e.details.is_none());

    let ro = s.client_for(Some(RO_TOKEN)).await.unwrap();
    let api = ns_api(&ro, &cm_ar(), "default");
    api.list(&ListParams::default())
        .await
        .expect("readonly may list");
    let e = api_err(api.create(&PostParams::default(), &cm("x")).await);
    assert_eq!((e.code, e.reason.as_str()), (403, "Forbidden"));
    assert_eq!(
        e.message,
        "configmaps is forbidden: User \"readonly\" cannot create resource \"configmaps\" in API group \"\" in the namespace \"default\""
    );
    let e = api_err(
        api.patch(
            "x",
            &PatchParams::apply("ro"),
            &Patch::Apply(
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}),
            ),
        )
        .await,
    );
    assert_eq!(e.code, 403);
    assert_eq!(
        e.message,
        "configmaps \"x\" is forbidden: User \"readonly\" cannot patch resource \"configmaps\" in API group \"\" in the namespace \"default\""
    );
    let nss: Api<DynamicObject> =
        Api::all_with(ro.clone(), &ar("", "v1", "Namespace", "namespaces"));
    let e = api_err(nss.delete("default", &Default::default()).await);
    assert!(e.message.ends_with("at the cluster scope"), "{}", e.message);
    assert!(s.get_object("v1", "Namespace", None, "default").is_some());
}
