//! The differential suite's shared pieces, also used by `cargo xtask bench-e2e`: the loopback
//! services of a run ([`services`]).

pub mod services;
