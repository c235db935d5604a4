//! Rendering of the confs as GraphQL SDL.

use std::fmt::Write as _;

use crate::model::{Conf, SchemaConfs};

/// Renders the schema as GraphQL SDL, the way qontract-server exposes it.
///
/// Deterministic: `scalar JSON` first, then one definition per conf in conf order
/// (`interface` for interface confs, `type` otherwise), fields in conf order. List fields are
/// `[T!]`, `isRequired` adds `!`, `isResource` + `resolveResource` string fields become
/// `Resource_v1`, `Query` datafile listings get `(<searchable fields>: String, path: String,
/// filter: JSON)` and the resource listing gets `(path: String, schema: String)`. Types backing a
/// datafile schema also implement `DatafileObject_v1`.
pub fn to_sdl(schema: &SchemaConfs) -> String {
    let mut out = String::from("scalar JSON\n");
    for conf in &schema.confs {
        out.push('\n');
        render_conf(schema, conf, &mut out);
    }
    out
}

fn render_conf(schema: &SchemaConfs, conf: &Conf, out: &mut String) {
    out.push_str(if conf.is_interface {
        "interface "
    } else {
        "type "
    });
    out.push_str(&conf.name);
    let interfaces: Vec<&str> = schema.interfaces_of(conf).collect();
    if !interfaces.is_empty() {
        out.push_str(" implements ");
        out.push_str(&interfaces.join(" & "));
    }
    out.push_str(" {\n");
    // A conf may declare a field twice (upstream `NamespaceTerraformResourceALB_v1.vpc`);
    // like qontract-server's field map, the last declaration wins at the first position.
    let mut fields: Vec<&crate::model::FieldConf> = Vec::with_capacity(conf.fields.len());
    for field in &conf.fields {
        match fields.iter_mut().find(|f| f.name == field.name) {
            Some(slot) => *slot = field,
            None => fields.push(field),
        }
    }
    for field in fields {
        out.push_str("  ");
        out.push_str(&field.name);
        let args = schema.field_arguments(field);
        if !args.is_empty() {
            out.push('(');
            for (i, arg) in args.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                let _ = write!(out, "{}: {}", arg.name, arg.scalar.graphql_name());
            }
            out.push(')');
        }
        let _ = writeln!(out, ": {}", field.graphql_type());
    }
    out.push_str("}\n");
}
