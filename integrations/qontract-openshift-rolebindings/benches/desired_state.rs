//! Desired-state build time of openshift-rolebindings at production scale: 2,000 roles, each
//! granting 3 namespace accesses (out of 1,000 managed namespaces on 10 clusters) to 10 users.
//! Prints the figures; asserts nothing about time. Run with
//! `cargo bench -p qontract-openshift-rolebindings`.

use std::time::Instant;

use qontract_gql_bindings::rolebindings_roles::{
    AccessV1, ClusterAuthV1, ClusterConnection, ClusterV1, ClusterV12, NamespaceV1, NamespaceV12,
    RoleV1, UserV1,
};
use qontract_openshift_rolebindings::desired::{Filter, desired_state};

fn main() {
    let clusters = 10;
    let namespaces: Vec<NamespaceV1> = (0..1_000)
        .map(|i| NamespaceV1 {
            name: format!("ns-{i}"),
            delete: None,
            cluster_admin: None,
            managed_roles: Some(true),
            cluster: ClusterV1 {
                cluster_connection: ClusterConnection {
                    name: format!("cluster-{}", i % clusters),
                    server_url: format!("https://api.cluster-{}.example:6443", i % clusters),
                    insecure_skip_tlsverify: None,
                    automation_token: None,
                    cluster_admin_automation_token: None,
                    internal: None,
                    disable: None,
                },
                auth: vec![ClusterAuthV1 {
                    service: "oidc".to_owned(),
                }],
            },
        })
        .collect();
    let roles: Vec<RoleV1> = (0..2_000)
        .map(|r| RoleV1 {
            name: format!("role-{r}"),
            path: format!("/teams/t/roles/role-{r}.yml"),
            expiration_date: None,
            access: Some(
                (0..3)
                    .map(|a| {
                        let ns = (r * 7 + a * 131) % 1_000;
                        AccessV1 {
                            namespace: Some(NamespaceV12 {
                                name: format!("ns-{ns}"),
                                cluster: ClusterV12 {
                                    name: format!("cluster-{}", ns % clusters),
                                },
                            }),
                            role: Some(["view", "edit", "admin"][a].to_owned()),
                            cluster_role: None,
                        }
                    })
                    .collect(),
            ),
            users: (0..10)
                .map(|u| UserV1 {
                    org_username: format!("user-{}", (r + u * 37) % 3_000),
                    github_username: format!("gh-{}", (r + u * 37) % 3_000),
                })
                .collect(),
            bots: Vec::new(),
        })
        .collect();
    let filter = Filter {
        scope: qontract_realize::NamespaceFilter {
            integration: qontract_openshift_rolebindings::NAME,
            ..Default::default()
        },
        today: "2026-11-29".to_owned(),
        support_role_ref: false,
    };
    let runs = 5;
    let mut best = f64::MAX;
    let mut bindings = 0;
    for _ in 0..runs {
        let start = Instant::now();
        let state = desired_state(&roles, &namespaces, &filter);
        best = best.min(start.elapsed().as_secs_f64());
        bindings = state.inventory.len().0;
        std::hint::black_box(state);
    }
    println!(
        "openshift-rolebindings desired state: {} roles, {} namespaces -> {bindings} RoleBindings \
         in {:.1} ms (best of {runs})",
        roles.len(),
        namespaces.len(),
        best * 1_000.0
    );
}
