//! Integration tests for the loopback API server, driven through kube-rs.

mod common;
mod crud;
mod discovery;
mod errors;
mod faults;
mod patches;
mod projects;
mod scale;
mod shapes;
mod ssa;
mod tokens;
mod users;
mod watch;
