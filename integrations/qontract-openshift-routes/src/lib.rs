//! `openshift-routes`: the `route` openshiftResources of every namespace that declares one
//! become `Route.route.openshift.io` objects. When the resource sets both
//! `vault_tls_secret_path` and `vault_tls_secret_version`, every field of that secret named
//! `termination`, `insecureEdgeTerminationPolicy`, `certificate`, `key`, `caCertificate` or
//! `destinationCACertificate` overrides the same field of `spec.tls` (other fields are
//! ignored, with a log line naming the key only), and a route with a `spec.host` and a
//! certificate must have a host that ends with the certificate's common name (a leading `*.`
//! dropped), as upstream; otherwise the route is an error and nothing on its cluster changes.
//!
//! Only `Route` is managed in those namespaces (upstream `override_managed_types`), and only
//! Routes carrying this integration's annotations are ever deleted. TLS values never appear in
//! the plan or the logs.

pub mod desired;

#[cfg(test)]
mod tests;

use qontract_gql_bindings::openshift_resources_namespaces::OpenshiftResourcesNamespaces;
use qontract_realize::{DesiredInventory, RealizeOptions};
use qontract_runtime::{ArgsOf, DesiredInput, IntegrationInfo, InventoryIntegration, NoArgs};

/// CLI name, also the `qontract.integration` annotation of the Routes.
pub const NAME: &str = "openshift-routes";

/// Version recorded in `qontract.integration_version` (only the major is compared): upstream
/// `openshift_routes.QONTRACT_INTEGRATION_VERSION`, so Routes the Python tool applied are ours.
pub const VERSION: &str = "1.9.3";

/// The managed type.
pub const MANAGED_TYPE: &str = "Route.route.openshift.io";

/// The integration.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenshiftRoutes;

impl InventoryIntegration for OpenshiftRoutes {
    type Args = NoArgs;
    type Query = OpenshiftResourcesNamespaces;
    type Desired = DesiredInventory;
    const INFO: IntegrationInfo = IntegrationInfo {
        about: "Apply the route openshiftResources declared on namespaces, with TLS fields from \
                the secret store",
        managed_types: &[MANAGED_TYPE],
        early_exit: false,
        streamed_by_cluster: true,
        ..IntegrationInfo::new(NAME, VERSION)
    };

    async fn desired(input: DesiredInput<'_, Self>) -> anyhow::Result<DesiredInventory> {
        let declared = desired::declared_routes(input.data.namespaces(), input.scope);
        let secrets = input.ctx.secrets.reader().await?;
        Ok(desired::desired_state(declared, secrets.as_ref(), input.ctx.thread_pool_size).await)
    }

    /// Upstream orb.fetch_current_state: ArgoCD Operator objects are not read.
    fn realize_options(_: &ArgsOf<Self>) -> RealizeOptions {
        qontract_openshift_resources::desired::realize_options()
    }
}

#[cfg(test)]
mod version_tests {
    use super::*;
    use qontract_openshift_resource::OpenshiftResource;
    use qontract_resource_inventory::{Action, PlanOptions, ResourceInventory, compute_plan};
    use serde_json::json;

    #[test]
    fn a_route_the_python_tool_applied_is_owned_and_deletable() {
        // Annotations as the Python tool writes them (0.10.1 venv:
        // `OpenshiftResource(body, "openshift-routes",
        //  openshift_routes.QONTRACT_INTEGRATION_VERSION).annotate()`).
        let applied = json!({
            "apiVersion": "route.openshift.io/v1",
            "kind": "Route",
            "metadata": {
                "name": "shop",
                "namespace": "shop-production",
                "annotations": {
                    "qontract.integration": "openshift-routes",
                    "qontract.integration_version": "1.9.3",
                    "qontract.sha256sum":
                        "146a51490ad7547c6ef7df9087af51e606fdda085273cff49221c490a42e5884",
                    "qontract.update": "2026-12-06T20:01:13",
                },
            },
            "spec": {"host": "shop.apps.sandbox.example",
                     "to": {"kind": "Service", "name": "shop"}},
        });
        let current =
            OpenshiftResource::from_cluster(applied, NAME, VERSION, "current").expect("valid");
        assert!(current.has_qontract_annotations());
        let mut inventory = ResourceInventory::new();
        inventory.initialize_resource_type("sandbox", "shop-production", MANAGED_TYPE, None);
        inventory
            .add_current("sandbox", "shop-production", MANAGED_TYPE, current)
            .expect("initialized");
        // No longer declared: ours to delete (with 0.1.0 it was another major: left alone).
        let plan = compute_plan(
            &mut inventory,
            &PlanOptions {
                dry_run: true,
                ..PlanOptions::default()
            },
        );
        let actions = qontract_test_support::fixtures::plan_actions(&plan);
        assert_eq!(actions, [(Action::Delete, "shop")]);
    }
}
