//! The qontract-server GraphQL schema in its conf format (`graphql-schemas/schema.yml`) and its
//! SDL rendering.
//!
//! app-interface declares its GraphQL schema not in SDL but as a list of "confs" (one per type,
//! see qontract-schemas `graphql-schemas/schema.yml`); qontract-server builds the executable
//! schema from them at bundle load. This crate is the typed model of that format
//! ([`SchemaConfs`], parsed from the YAML file or from a bundle's `graphql` value), the lookups an
//! executor needs (type by name, interface implementors and resolution, datafile schema -> type,
//! field kinds and arguments) and [`to_sdl`], the SDL exactly as the server exposes it
//! (types, nullability, arguments), used for code generation and introspection.

mod model;
mod sdl;

pub use model::{
    Conf, DATAFILE_OBJECT_INTERFACE, FieldArgument, FieldConf, FieldKind, FieldType,
    InterfaceResolve, QUERY_TYPE, RESOURCE_TYPE, Scalar, SchemaConfs, Synthetic,
};
pub use sdl::to_sdl;

/// Errors loading a GraphQL conf schema; each names the file (or bundle) it is about.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// The file could not be read.
    #[error("reading GraphQL schema file {path}: {source}")]
    Read {
        /// File path.
        path: String,
        /// Underlying I/O error.
        source: std::io::Error,
    },
    /// The file is not valid YAML.
    #[error("parsing GraphQL schema {origin} as YAML: {message}")]
    Yaml {
        /// File path or other origin.
        origin: String,
        /// Parser message (with line/column).
        message: String,
    },
    /// The document does not describe a consistent conf schema.
    #[error("invalid GraphQL schema {origin}: {message}")]
    Invalid {
        /// File path or other origin.
        origin: String,
        /// What is wrong, naming the conf/field.
        message: String,
    },
}
