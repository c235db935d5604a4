//! Integration tests of qontract-state: the same suite runs on the filesystem backend and on a
//! real S3-compatible server (moto_server, started per test on a free loopback port).

#[path = "../../../qontract-secrets/tests/support/services.rs"]
mod services;

mod fixture;
mod settings;
mod suite;
