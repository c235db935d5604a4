//! Integration tests of qontract-secrets against a real OpenBao dev server (started per test on a
//! free loopback port) and against config.toml tables.

#[path = "../support/services.rs"]
mod services;

mod admin;
mod config_file;
mod kv_write;
mod logs;
mod vault;
