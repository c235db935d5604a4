//! Bounded retries of throttled (429, honouring `Retry-After`) and failed (5xx, transport)
//! requests.

use std::future::Future;
use std::time::Duration;

/// How often and how long to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, including the first (at least 1).
    pub max_attempts: u32,
    /// Backoff before the first retry of a 5xx or transport error; doubled each time.
    pub initial_backoff: Duration,
    /// Upper bound of one backoff.
    pub max_backoff: Duration,
    /// Upper bound of one `Retry-After` wait.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// How long to wait before the next attempt, or `None` if `error` is not retried.
    fn delay(&self, error: &kube::Error, retry: u32) -> Option<Duration> {
        let backoff = self
            .initial_backoff
            .saturating_mul(2u32.saturating_pow(retry))
            .min(self.max_backoff);
        match error {
            kube::Error::Api(status) if status.code == 429 => {
                let retry_after = status
                    .details
                    .as_ref()
                    .map(|details| details.retry_after_seconds)
                    .filter(|seconds| *seconds > 0)
                    .map(|seconds| Duration::from_secs(u64::from(seconds)));
                Some(retry_after.unwrap_or(backoff).min(self.max_retry_after))
            }
            kube::Error::Api(status) if matches!(status.code, 500 | 502 | 503 | 504) => {
                Some(backoff)
            }
            kube::Error::Api(_) => None,
            kube::Error::HyperError(_) | kube::Error::Service(_) => Some(backoff),
            _ => None,
        }
    }

    /// Runs `operation` until it succeeds, fails with an error that is not retried, or the
    /// attempts are used up. Returns the last result and the number of attempts made.
    pub(crate) async fn run<T, F, Fut>(&self, mut operation: F) -> (Result<T, kube::Error>, u32)
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, kube::Error>>,
    {
        let max_attempts = self.max_attempts.max(1);
        let mut attempt = 1;
        loop {
            let result = operation().await;
            match &result {
                Err(error) if attempt < max_attempts => match self.delay(error, attempt - 1) {
                    Some(delay) => {
                        tracing::debug!(attempt, ?delay, "retrying after: {error}");
                        tokio::time::sleep(delay).await;
                        attempt += 1;
                    }
                    None => return (result, attempt),
                },
                _ => return (result, attempt),
            }
        }
    }
}
