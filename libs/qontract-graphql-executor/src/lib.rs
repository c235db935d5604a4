//! qontract-server's GraphQL semantics, executed in-process over a loaded bundle.
//!
//! A [`Bundle`] is the bundle JSON (as written by `qontract-bundler`) loaded into indexes:
//! datafiles by `$schema` in bundle order, resource files, the GraphQL schema built from the
//! bundle's `graphql` confs ([`qontract_graphql_schema`]) and the synthetic back-reference
//! index. [`execute`] parses, validates and runs a query with the exact behaviour of the
//! Node.js server (see `docs/qontract-server.md` §(c)): lazy `$ref` resolution, `Resource_v1`
//! substitution, listing arguments and `filter`, `JSON` as JSON-encoded strings, empty objects
//! dropped from lists, `extensions.schemas`, graphql-js error messages and Apollo error codes.
//!
//! [`EmbeddedTransport`] plugs the executor into `qontract-gql`, so an integration can run
//! from a bundle file or an app-interface checkout with no server.

mod bundle;
mod exec;
mod filter;
mod introspection;
mod output;
mod suggest;
mod transport;

pub use bundle::{Bundle, sha256_hex};
pub use exec::{Execution, GraphqlError, PathSegment, Request, execute};
pub use transport::EmbeddedTransport;

/// Errors loading a bundle; each names the file it is about.
#[derive(Debug, thiserror::Error)]
pub enum ExecutorError {
    /// The bundle file could not be read.
    #[error("reading bundle {path}: {source}")]
    Read {
        /// Bundle file.
        path: String,
        /// Underlying I/O error.
        source: std::io::Error,
    },
    /// The bundle is not a valid qontract bundle.
    #[error("invalid bundle {origin}: {message}")]
    Bundle {
        /// Bundle file or origin.
        origin: String,
        /// What is wrong.
        message: String,
    },
    /// An app-interface checkout could not be bundled.
    #[error("bundling {dir}")]
    Bundler {
        /// The app-interface directory.
        dir: String,
        /// The bundler's error (lists every problem).
        source: qontract_bundler::BundleError,
    },
}
