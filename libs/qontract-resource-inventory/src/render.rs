//! Rendering a [`Plan`] as a text table (for humans, e.g. merge-request checks) and as JSON.
//! Neither ever contains Secret values: actions carry no bodies, and the optional desired
//! bodies in the JSON form are redacted (Secret `data`/`stringData` keys only).

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::inventory::ResourceInventory;
use crate::plan::{Action, Plan, PlannedAction};

/// What the text table shows.
#[derive(Debug, Clone, Copy, Default)]
pub struct TableOptions {
    /// Also list unchanged objects and objects that belong to others.
    pub include_unchanged: bool,
}

/// Renders the plan as an aligned text table followed by a summary, the deletion status and
/// the registered errors.
pub fn render_table(plan: &Plan, options: TableOptions) -> String {
    let header = ["ACTION", "CLUSTER", "NAMESPACE", "KIND", "NAME", "REASON"];
    let rows: Vec<[String; 6]> = plan
        .actions
        .iter()
        .filter(|action| {
            options.include_unchanged || action.is_change() || action.reason.is_notable()
        })
        .map(|action| {
            [
                action_label(action),
                action.cluster.clone(),
                action.namespace.clone(),
                action.resource_type.clone(),
                action.name.clone(),
                reason_label(action),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut write_row = |cells: [&str; 6]| {
        let mut line = String::new();
        for (index, (cell, width)) in cells.iter().zip(widths).enumerate() {
            if index + 1 == cells.len() {
                line.push_str(cell);
            } else {
                let _ = write!(line, "{cell:<width$}  ");
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    };
    if rows.is_empty() {
        out.push_str("No changes.\n");
    } else {
        write_row(header);
        for row in &rows {
            write_row([&row[0], &row[1], &row[2], &row[3], &row[4], &row[5]]);
        }
    }
    let summary = plan.summary();
    let _ = writeln!(
        out,
        "\nPlan: {} to create, {} to update, {} to delete, {} unchanged, {} skipped.",
        summary.create, summary.update, summary.delete, summary.no_op, summary.skip
    );
    match &plan.deletion_disabled_reason {
        None => out.push_str("Deletion: enabled.\n"),
        Some(reason) => {
            let _ = writeln!(out, "Deletion: DISABLED ({reason}).");
        }
    }
    if !plan.errors.is_empty() {
        let _ = writeln!(out, "Errors ({}):", plan.errors.len());
        for error in &plan.errors {
            let _ = writeln!(out, "  - {error}");
        }
    }
    out
}

fn action_label(action: &PlannedAction) -> String {
    if action.privileged && action.is_change() {
        format!("{} (privileged)", action.action)
    } else {
        action.action.to_string()
    }
}

fn reason_label(action: &PlannedAction) -> String {
    if action.recycle_pods {
        format!("{}; pods using it will be recycled", action.reason)
    } else {
        action.reason.to_string()
    }
}

/// The JSON document of a plan without desired objects ([`render_json`] with no inventory),
/// serialized as it is written: a plan of every object of an estate is not first built as a
/// `Value`.
pub fn write_json(plan: &Plan, out: &mut dyn std::io::Write) -> serde_json::Result<()> {
    #[derive(serde::Serialize)]
    struct Document<'a> {
        summary: crate::plan::PlanSummary,
        deletion_enabled: bool,
        deletion_disabled_reason: &'a Option<String>,
        errors: &'a [crate::inventory::RegisteredError],
        actions: &'a [PlannedAction],
    }
    serde_json::to_writer_pretty(
        out,
        &Document {
            summary: plan.summary(),
            deletion_enabled: plan.deletion_enabled,
            deletion_disabled_reason: &plan.deletion_disabled_reason,
            errors: &plan.errors,
            actions: &plan.actions,
        },
    )
}

/// Renders the plan as JSON: `summary`, `deletion_enabled`, `deletion_disabled_reason`,
/// `errors` and `actions`. With an inventory, each create/update carries the redacted desired
/// object under `desired`.
pub fn render_json(plan: &Plan, inventory: Option<&ResourceInventory>) -> Value {
    let actions: Vec<Value> = plan
        .actions
        .iter()
        .map(|action| {
            let mut value = serde_json::to_value(action).unwrap_or(Value::Null);
            if let (Some(inventory), Value::Object(map), Action::Create | Action::Update) =
                (inventory, &mut value, action.action)
                && let Some(entry) = inventory.get_desired(
                    &action.cluster,
                    &action.namespace,
                    &action.resource_type,
                    &action.name,
                )
            {
                map.insert("desired".to_owned(), entry.resource.redacted().to_value());
            }
            value
        })
        .collect();
    json!({
        "summary": plan.summary(),
        "deletion_enabled": plan.deletion_enabled,
        "deletion_disabled_reason": plan.deletion_disabled_reason,
        "errors": plan.errors,
        "actions": actions,
    })
}
