//! Integration tests of qontract-sharding (one test binary, several modules).

mod membership;
mod strategies;
