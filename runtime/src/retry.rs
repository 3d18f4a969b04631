//! Retries and client-side rate limiting, shared by every request the SDK sends: direct API
//! calls, Airbyte `/execute`, connector lookup and creation, and the token exchange.
//!
//! **What is retried, and why it is safe.** Reads (`list`, `get`, `search`, whether sent as
//! `GET` or as a `POST` with a body) and the Airbyte calls that wrap them (`/execute` of a
//! read; the connector lookup; the token exchange, which just mints another token) have no
//! effect on the server when repeated, so they are retried. So are writes sent as `PUT` or
//! `DELETE`, which are idempotent by HTTP's definition. A `create`, an `update` over `POST`
//! or `PATCH`, a `delete` over `POST`, and creating a hosted connector
//! ([`crate::Client::create`]) are **never** retried once the request may have reached the
//! server: a repeat could act twice. They are retried only when the request provably never
//! got there (connection refused), in either transport.
//!
//! **When.** 429, 500, 502, 503, 504, connection errors, timeouts, and response bodies that end
//! early or are not JSON at all (a transport fault, unlike a body with an unexpected shape, which
//! is an API change that retrying cannot fix).
//!
//! **How long to wait.** The server's `Retry-After` (delta-seconds or HTTP-date) wins. A
//! server asking for more than [`RetryPolicy::max_retry_after`] (60 s by default) is not
//! retried at all: the call returns [`Error::RateLimited`] at once, carrying the wait it asked
//! for, rather than retrying early against its wishes. Otherwise the wait is exponential backoff with full
//! jitter: a random wait in `[0, min(max_backoff, initial_backoff * 2^(attempt-1))]`. Retries
//! stop at [`RetryPolicy::max_attempts`], or earlier if the next wait would overrun
//! [`RetryPolicy::total_budget`]; the last error is then returned.

use std::future::Future;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::Error;

/// When and how often failed requests are repeated. On by default; see the module docs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_retry_after: Duration,
    total_budget: Duration,
}

impl Default for RetryPolicy {
    /// 4 attempts, backoff from 500 ms up to 30 s with full jitter, `Retry-After` honoured up to
    /// 60 s, at most 2 minutes per call including waits.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(60),
            total_budget: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// The default policy (see [`Default`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// No retries: every call is tried once.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// How many times a call is tried in all (at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The first backoff ceiling; it doubles per attempt.
    pub fn initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = backoff;
        self
    }

    /// The largest backoff ceiling.
    pub fn max_backoff(mut self, backoff: Duration) -> Self {
        self.max_backoff = backoff;
        self
    }

    /// The longest `Retry-After` waited for (default 60 s). A server asking for a longer
    /// wait ends the retries at once with [`Error::RateLimited`], whose
    /// [`retry_after`](Error::retry_after) says how long it asked for.
    pub fn max_retry_after(mut self, cap: Duration) -> Self {
        self.max_retry_after = cap;
        self
    }

    /// The most time one call may take, waits included; no retry starts that would overrun it.
    pub fn total_budget(mut self, budget: Duration) -> Self {
        self.total_budget = budget;
        self
    }

    /// Attempts in all.
    pub fn attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The wait before attempt `attempt + 1` after `error`; `None` when the server asked for
    /// a longer wait than [`max_retry_after`](Self::max_retry_after) allows.
    pub(crate) fn delay(&self, attempt: u32, error: &Error) -> Option<Duration> {
        if let Some(after) = error.retry_after() {
            return (after <= self.max_retry_after).then_some(after);
        }
        let exp = self
            .initial_backoff
            .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)));
        let ceiling = exp.min(self.max_backoff);
        Some(ceiling.mul_f64(fastrand::f64()))
    }
}

/// Whether `error` is worth another attempt of an idempotent request.
pub(crate) fn should_retry(error: &Error) -> bool {
    match error {
        Error::Decode { incomplete, .. } => *incomplete,
        other => other.is_retryable(),
    }
}

/// Whether `error` may be retried for a request that is not idempotent (a `create`, or an
/// `update` over POST or PATCH): only when the request provably never reached the server
/// (connection refused, DNS). A timeout, a reset or any answer may mean the server acted.
pub(crate) fn never_sent(error: &Error) -> bool {
    matches!(error, Error::Network { source: Some(e), .. } if e.is_connect())
}

/// The retry rule for `op`: [`should_retry`] when repeating it is harmless, else
/// [`never_sent`].
pub(crate) fn rule_for(op: &crate::meta::OperationMeta) -> fn(&Error) -> bool {
    if op.is_idempotent() {
        should_retry
    } else {
        never_sent
    }
}

/// Shared client-side rate limiter (a GCRA token bucket from `governor`).
pub(crate) type Limiter = Arc<
    governor::RateLimiter<
        governor::state::NotKeyed,
        governor::state::InMemoryState,
        governor::clock::DefaultClock,
    >,
>;

/// A limiter allowing `per_minute` requests per minute, with bursts of up to a tenth of that
/// (at least 1) so callers spread out instead of all firing at once.
pub(crate) fn limiter(per_minute: NonZeroU32) -> Limiter {
    let burst = NonZeroU32::new((per_minute.get() / 10).max(1)).expect("at least 1");
    let quota = governor::Quota::per_minute(per_minute).allow_burst(burst);
    Arc::new(governor::RateLimiter::direct(quota))
}

/// How requests go out: retry policy plus optional rate limiter.
#[derive(Clone, Default)]
pub(crate) struct Sender {
    pub(crate) policy: RetryPolicy,
    pub(crate) limiter: Option<Limiter>,
}

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender")
            .field("policy", &self.policy)
            .field("rate_limited", &self.limiter.is_some())
            .finish()
    }
}

impl Sender {
    /// Runs `attempt` until it succeeds, fails for good, or the policy gives up. Each attempt
    /// first waits for the rate limiter. `retryable` decides which errors are retried.
    pub(crate) async fn run<T, F, Fut>(
        &self,
        retryable: fn(&Error) -> bool,
        mut attempt: F,
    ) -> Result<T, Error>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let start = Instant::now();
        let mut n = 1;
        loop {
            if let Some(l) = &self.limiter {
                l.until_ready().await;
            }
            let error = match attempt(n).await {
                Ok(v) => {
                    tracing::Span::current().record("attempts", n);
                    return Ok(v);
                }
                Err(e) => e,
            };
            tracing::Span::current().record("attempts", n);
            if n >= self.policy.max_attempts || !retryable(&error) {
                return Err(error);
            }
            let Some(wait) = self.policy.delay(n, &error) else {
                tracing::debug!(
                    attempt = n,
                    "Retry-After is longer than max_retry_after; not retrying"
                );
                return Err(error);
            };
            let fits = start
                .elapsed()
                .checked_add(wait)
                .is_some_and(|end| end <= self.policy.total_budget);
            if !fits {
                tracing::debug!(attempt = n, "retry budget exhausted");
                return Err(error);
            }
            tracing::debug!(attempt = n, wait_ms = wait.as_millis() as u64, error = %error, "retrying");
            tokio::time::sleep(wait).await;
            n += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16) -> Error {
        Error::from_response(crate::error::Context::new("e", "a"), status, None, b"")
    }

    #[test]
    fn backoff_is_jittered_and_capped() {
        let p = RetryPolicy::new()
            .initial_backoff(Duration::from_millis(100))
            .max_backoff(Duration::from_millis(250));
        for attempt in 1..8 {
            let ceiling = Duration::from_millis((100u64 << (attempt - 1)).min(250));
            for _ in 0..50 {
                assert!(p.delay(attempt, &api(503)).unwrap() <= ceiling);
            }
        }
    }

    #[test]
    fn retry_after_wins_and_a_longer_one_ends_the_retries() {
        let p = RetryPolicy::new().max_retry_after(Duration::from_secs(5));
        let e = Error::from_response(crate::error::Context::new("e", "a"), 429, Some("2"), b"");
        assert_eq!(p.delay(1, &e), Some(Duration::from_secs(2)));
        for long in ["90", "1e20", "18446744073709551615", "1e308"] {
            let e =
                Error::from_response(crate::error::Context::new("e", "a"), 429, Some(long), b"");
            assert!(e.retry_after().is_some(), "{long}");
            assert_eq!(p.delay(1, &e), None, "{long}");
            // The message never panics on a huge wait either.
            assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn what_is_retried() {
        for s in [429, 500, 502, 503, 504] {
            assert!(should_retry(&api(s)), "{s}");
        }
        for s in [400, 401, 403, 404, 422, 501] {
            assert!(!should_retry(&api(s)), "{s}");
        }
    }
}
