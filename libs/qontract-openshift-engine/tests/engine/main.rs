//! Integration tests of the OpenShift engine against `qontract-kube-testserver` on loopback
//! (plain HTTP, bearer tokens).

mod drift;
mod explain;
mod fallbacks;
mod faults;
mod fetch;
mod metrics;
mod reconcile;
mod scope;
mod support;
mod takeover;
