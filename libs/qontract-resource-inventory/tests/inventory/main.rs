//! Integration tests of the inventory and the plan (one test binary, several modules).

mod decision_table;
mod inventory_errors;
mod ordering;
mod render;
mod support;
