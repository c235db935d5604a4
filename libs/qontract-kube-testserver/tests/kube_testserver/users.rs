//! OpenShift's `user.openshift.io/v1` (Groups, Users, Identities), opt-in per server instance.

use crate::common::*;
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use kube::discovery::{Discovery, Scope, verbs};
use qontract_kube_testserver::KubeTestServer;
use serde_json::json;

async fn openshift() -> KubeTestServer {
    KubeTestServer::builder()
        .https(false)
        .token(TOKEN)
        .openshift_users(true)
        .start()
        .await
        .expect("start server")
}

fn groups(c: &kube::Client) -> Api<DynamicObject> {
    Api::all_with(c.clone(), &ar("user.openshift.io", "v1", "Group", "groups"))
}

#[tokio::test]
async fn user_group_is_served_only_when_asked_for_and_cluster_scoped() {
    let plain = http_server().await;
    let d = Discovery::new(client(&plain).await)
        .run()
        .await
        .expect("discovery");
    assert!(!d.has_group("user.openshift.io"));

    let s = openshift().await;
    let d = Discovery::new(client(&s).await)
        .run()
        .await
        .expect("discovery");
    let group = d
        .get("user.openshift.io")
        .expect("user.openshift.io served");
    assert_eq!(group.preferred_version_or_latest(), "v1");
    for (kind, plural) in [
        ("Group", "groups"),
        ("User", "users"),
        ("Identity", "identities"),
    ] {
        let (resource, caps) = group.recommended_kind(kind).expect(kind);
        assert_eq!(resource.plural, plural);
        assert_eq!(caps.scope, Scope::Cluster, "{kind}");
        for verb in [
            verbs::CREATE,
            verbs::GET,
            verbs::LIST,
            verbs::UPDATE,
            verbs::DELETE,
        ] {
            assert!(caps.supports_operation(verb), "{kind} {verb}");
        }
    }
}

#[tokio::test]
async fn a_group_keeps_its_members_in_top_level_users_and_empty_is_null() {
    let s = openshift().await;
    let c = client(&s).await;
    let api = groups(&c);
    // As `oc adm groups new`: no users.
    let created = api
        .create(
            &PostParams::default(),
            &dynobj(json!({
                "apiVersion": "user.openshift.io/v1",
                "kind": "Group",
                "metadata": {"name": "dedicated-admins"},
            })),
        )
        .await
        .expect("create group");
    assert_eq!(created.data.get("users"), Some(&json!(null)));
    assert!(created.data.get("spec").is_none());

    // As `oc adm groups add-users`: get, then update with the member added.
    let mut group = api.get("dedicated-admins").await.expect("get");
    group.data["users"] = json!(["alice", "bob"]);
    api.replace("dedicated-admins", &PostParams::default(), &group)
        .await
        .expect("update");
    let group = api.get("dedicated-admins").await.expect("get");
    assert_eq!(group.data["users"], json!(["alice", "bob"]));

    // Removing the last member leaves `users: null`, as OpenShift returns it.
    api.patch(
        "dedicated-admins",
        &PatchParams::default(),
        &Patch::Merge(json!({"users": []})),
    )
    .await
    .expect("merge patch");
    let group = api.get("dedicated-admins").await.expect("get");
    assert_eq!(group.data["users"], json!(null));

    // Cluster-scoped: not reachable under a namespace.
    let namespaced: Api<DynamicObject> = Api::namespaced_with(
        c.clone(),
        "default",
        &ar("user.openshift.io", "v1", "Group", "groups"),
    );
    assert!(namespaced.get("dedicated-admins").await.is_err());
}

#[tokio::test]
async fn a_user_has_identities_and_groups_lists() {
    let s = openshift().await;
    let c = client(&s).await;
    let api: Api<DynamicObject> =
        Api::all_with(c.clone(), &ar("user.openshift.io", "v1", "User", "users"));
    let created = api
        .create(
            &PostParams::default(),
            &dynobj(json!({
                "apiVersion": "user.openshift.io/v1",
                "kind": "User",
                "metadata": {"name": "alice"},
                "identities": ["github:1234"],
            })),
        )
        .await
        .expect("create user");
    assert_eq!(created.data["identities"], json!(["github:1234"]));
    assert_eq!(created.data["groups"], json!(null));
    let listed = api.list(&Default::default()).await.expect("list");
    assert_eq!(listed.items.len(), 1);
    api.delete("alice", &Default::default())
        .await
        .expect("delete");
    assert!(api.get_opt("alice").await.expect("get").is_none());
}

#[tokio::test]
async fn identities_are_named_provider_colon_user_as_openshift_names_them() {
    let s = openshift().await;
    let c = client(&s).await;
    let api: Api<DynamicObject> = Api::all_with(
        c.clone(),
        &ar("user.openshift.io", "v1", "Identity", "identities"),
    );
    let identity = |name: &str| {
        dynobj(json!({
            "apiVersion": "user.openshift.io/v1",
            "kind": "Identity",
            "metadata": {"name": name},
            "providerName": "github",
            "providerUserName": "1234",
            "user": {"name": "Ada.Example"},
        }))
    };
    api.create(&PostParams::default(), &identity("github:1234"))
        .await
        .expect("provider:user is a valid Identity name");
    assert!(
        api.create(&PostParams::default(), &identity("no-provider"))
            .await
            .is_err()
    );
    assert!(
        api.create(&PostParams::default(), &identity("a/b:c"))
            .await
            .is_err()
    );
}
