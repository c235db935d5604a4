//! Process exit codes, compatible with the Python tool's `reconcile/status.py`.

use std::process::ExitCode;

use qontract_gql::GqlError;

/// Why the process ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: the run succeeded (and, with `--detailed-exitcode`, planned no change).
    Success,
    /// 1: the run failed.
    Error,
    /// 2: only with `--detailed-exitcode`: the run succeeded and planned (or made) changes.
    ChangesPlanned,
    /// 4: the integration has no `integrations_v1` entry while schema validation is on.
    IntegrationNotFound,
    /// 5: a query touched a schema the integration does not declare.
    ForbiddenSchema,
}

impl ExitStatus {
    /// The numeric code.
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Error => 1,
            ExitStatus::ChangesPlanned => 2,
            ExitStatus::IntegrationNotFound => 4,
            ExitStatus::ForbiddenSchema => 5,
        }
    }

    /// Classify an error by looking through its chain for the GraphQL errors that have their
    /// own exit codes.
    pub fn from_error(err: &anyhow::Error) -> Self {
        for cause in err.chain() {
            if let Some(gql) = cause.downcast_ref::<GqlError>() {
                match gql {
                    GqlError::IntegrationNotFound { .. } => return ExitStatus::IntegrationNotFound,
                    GqlError::ForbiddenSchemas { .. } => return ExitStatus::ForbiddenSchema,
                    _ => {}
                }
            }
        }
        ExitStatus::Error
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        ExitCode::from(status.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graphql_errors_map_to_their_codes_through_context() {
        let e = anyhow::Error::new(GqlError::IntegrationNotFound {
            integration: "x".into(),
        })
        .context("while starting");
        assert_eq!(ExitStatus::from_error(&e).code(), 4);
        let e = anyhow::Error::new(GqlError::ForbiddenSchemas {
            integration: "x".into(),
            schemas: vec!["/a-1.yml".into()],
        });
        assert_eq!(ExitStatus::from_error(&e).code(), 5);
        let e = anyhow::anyhow!("boom");
        assert_eq!(ExitStatus::from_error(&e).code(), 1);
    }
}
