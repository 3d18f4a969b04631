//! Fault injection: a FIFO queue of one-shot [`Fault`]s, a seeded random failure rate and
//! a fixed added latency, all changeable while the server runs. The wire middleware in
//! `server.rs` asks [`Faults::next_fault`] once per request and hands the fault to
//! [`apply`], which builds (or withholds) the response.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use super::listener::ConnHandle;
use super::spec::mix;

/// One injected failure, consumed by exactly one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status instead of serving the request.
    ///
    /// `retry_after` becomes the `Retry-After` header (sent verbatim, so an HTTP-date works
    /// too). `body` replaces the default body, which is the incident.io error envelope for
    /// the status: for 429 `type: "too_many_requests"` plus
    /// `rate_limit {name, limit: 1200, remaining: 0, retry_after: <RFC3339>}`; for 5xx
    /// `type: "api_error"`.
    Status {
        /// HTTP status code.
        status: u16,
        /// Value of the `Retry-After` header, if any.
        retry_after: Option<String>,
        /// Raw body to send instead of the default JSON error (sent as `application/json`).
        body: Option<String>,
    },
    /// An HTML error page with this status, like a proxy or load balancer sends.
    Html {
        /// HTTP status code.
        status: u16,
    },
    /// This status with an empty body (`Content-Length: 0`).
    EmptyBody {
        /// HTTP status code.
        status: u16,
    },
    /// Serve the request normally, then send only the first half of the body
    /// (`Content-Length` matches the truncated length, so the JSON is simply cut short).
    TruncatedBody,
    /// Wait this long, then serve the request normally.
    Delay(Duration),
    /// Send the status line and headers at once, then hold the body back this long before
    /// sending it.
    Stall(Duration),
    /// Close the TCP connection (with a reset) without sending any response.
    ResetConnection,
}

impl Fault {
    /// `Fault::Status` with this status and the default body, no `Retry-After`.
    pub fn status(status: u16) -> Fault {
        Fault::Status {
            status,
            retry_after: None,
            body: None,
        }
    }

    /// A 429 with `Retry-After: <seconds>` and the incident.io rate-limit body.
    pub fn rate_limited(retry_after_secs: u64) -> Fault {
        Fault::Status {
            status: 429,
            retry_after: Some(retry_after_secs.to_string()),
            body: None,
        }
    }
}

/// The fault switches of a running [`Emulator`](super::Emulator).
///
/// Queued faults are taken first-in first-out, one per request, before the random failure
/// rate is consulted. Requests to the emulator's internal control path are never faulted.
#[derive(Debug, Default)]
pub struct Faults {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    queue: VecDeque<Fault>,
    random: Option<RandomFailures>,
    latency: Duration,
}

#[derive(Debug)]
struct RandomFailures {
    rate: f64,
    seed: u64,
    n: u64,
}

impl Faults {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Queues a fault for the next request that has no earlier fault queued.
    pub fn push(&self, fault: Fault) {
        self.lock().queue.push_back(fault);
    }

    /// Queues the same fault for the next `n` requests.
    pub fn push_n(&self, fault: Fault, n: usize) {
        let mut inner = self.lock();
        for _ in 0..n {
            inner.queue.push_back(fault.clone());
        }
    }

    /// Number of queued faults not yet consumed.
    pub fn pending(&self) -> usize {
        self.lock().queue.len()
    }

    /// Drops every queued fault (the random rate and latency stay).
    pub fn clear(&self) {
        self.lock().queue.clear();
    }

    /// Makes each request fail independently with probability `rate` (0.0 to 1.0) with a
    /// 500, 502, 503 or 429 (`Retry-After: 0`). Which requests fail is a deterministic
    /// function of `seed` and the order of requests. A rate of 0 turns this off.
    pub fn set_random_failure_rate(&self, rate: f64, seed: u64) {
        let rate = if rate.is_finite() {
            rate.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self.lock().random = (rate > 0.0).then_some(RandomFailures { rate, seed, n: 0 });
    }

    /// Adds this delay before every request is handled (zero turns it off).
    pub fn set_latency(&self, latency: Duration) {
        self.lock().latency = latency;
    }

    /// Clears the queue, the random failure rate and the latency.
    pub fn reset(&self) {
        *self.lock() = Inner::default();
    }

    /// The latency to add and the fault (if any) for the request now arriving.
    pub(crate) fn next_fault(&self) -> (Duration, Option<Fault>) {
        let mut inner = self.lock();
        let latency = inner.latency;
        if let Some(f) = inner.queue.pop_front() {
            return (latency, Some(f));
        }
        let fault = inner.random.as_mut().and_then(|r| {
            r.n += 1;
            let draw = mix(r.seed ^ mix(r.n));
            let unit = (draw >> 11) as f64 / (1u64 << 53) as f64;
            (unit < r.rate).then(|| match mix(draw) % 4 {
                0 => Fault::status(500),
                1 => Fault::status(502),
                2 => Fault::status(503),
                _ => Fault::rate_limited(0),
            })
        });
        (latency, fault)
    }
}

/// Produces the response for a request that drew `fault`.
pub(crate) async fn apply(
    fault: Fault,
    req: Request,
    next: Next,
    request_id: &(dyn Fn() -> String + Sync),
) -> Response {
    match fault {
        Fault::Status {
            status,
            retry_after,
            body,
        } => status_response(status, retry_after, body, request_id),
        Fault::Html { status } => {
            let code = status_code(status);
            let reason = code.canonical_reason().unwrap_or("Error");
            let html = format!(
                "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n\
                 <center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
            );
            let mut headers = HeaderMap::new();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
            (code, headers, html).into_response()
        }
        Fault::EmptyBody { status } => (status_code(status), Body::empty()).into_response(),
        Fault::TruncatedBody => {
            let (mut parts, body) = next.run(req).await.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX)
                .await
                .unwrap_or_default();
            let cut = bytes.slice(..bytes.len() / 2);
            parts.headers.remove(header::CONTENT_LENGTH);
            parts
                .headers
                .insert(header::CONTENT_LENGTH, HeaderValue::from(cut.len()));
            Response::from_parts(parts, Body::from(cut))
        }
        Fault::Delay(d) => {
            tokio::time::sleep(d).await;
            next.run(req).await
        }
        Fault::Stall(d) => {
            let (mut parts, body) = next.run(req).await.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX)
                .await
                .unwrap_or_default();
            parts
                .headers
                .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
            let stream = futures::stream::once(async move {
                tokio::time::sleep(d).await;
                Ok::<Bytes, Infallible>(bytes)
            });
            Response::from_parts(parts, Body::from_stream(stream))
        }
        Fault::ResetConnection => {
            if let Some(ConnectInfo(conn)) = req.extensions().get::<ConnectInfo<ConnHandle>>() {
                conn.kill();
            }
            // Whatever hyper tries to write now fails, so the connection is dropped. The
            // erroring body also aborts the response if the router runs without ConnectInfo.
            let stream = futures::stream::once(async {
                Err::<Bytes, std::io::Error>(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "emulator fault: reset connection",
                ))
            });
            (StatusCode::OK, Body::from_stream(stream)).into_response()
        }
    }
}

fn status_code(status: u16) -> StatusCode {
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

fn status_response(
    status: u16,
    retry_after: Option<String>,
    body: Option<String>,
    request_id: &(dyn Fn() -> String + Sync),
) -> Response {
    let code = status_code(status);
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(v) = retry_after
        .as_deref()
        .and_then(|v| HeaderValue::from_str(v).ok())
    {
        headers.insert(header::RETRY_AFTER, v);
    }
    if code == StatusCode::TOO_MANY_REQUESTS {
        headers.insert("x-ratelimit-limit", HeaderValue::from_static("1200"));
        headers.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
    }
    let body = body.unwrap_or_else(|| {
        let request_id = request_id();
        let (error_type, error_code, message) = describe(code.as_u16());
        let mut v = serde_json::json!({
            "type": error_type,
            "status": code.as_u16(),
            "request_id": request_id,
            "errors": [{ "code": error_code, "message": message }],
        });
        if code == StatusCode::TOO_MANY_REQUESTS {
            let secs = retry_after
                .as_deref()
                .and_then(|s| s.trim().parse::<i64>().ok())
                .unwrap_or(0);
            let at = super::data::unix_now_us() + secs.saturating_mul(1_000_000);
            let mut when = String::new();
            super::data::push_rfc3339(&mut when, at, false);
            if let Some(obj) = v.as_object_mut() {
                obj.insert(
                    "rate_limit".into(),
                    serde_json::json!({
                        "name": "api_key_rate_limit",
                        "limit": 1200,
                        "remaining": 0,
                        "retry_after": when,
                    }),
                );
            }
        }
        v.to_string()
    });
    (code, headers, body).into_response()
}

/// (`type`, `errors[0].code`, message) of the incident.io error for a status.
fn describe(status: u16) -> (&'static str, &'static str, &'static str) {
    match status {
        400 => (
            "invalid_request_error",
            "invalid_request",
            "The request was invalid",
        ),
        401 => (
            "authentication_error",
            "authentication_error",
            "Authentication failed",
        ),
        403 => (
            "resource_forbidden",
            "resource_forbidden",
            "This API key may not access this resource",
        ),
        404 => ("not_found", "not_found", "Not found"),
        405 => (
            "method_not_allowed",
            "method_not_allowed",
            "Method not allowed",
        ),
        408 => (
            "request_timeout",
            "request_timeout",
            "The request timed out",
        ),
        409 => ("conflict", "conflict", "Conflict"),
        422 => (
            "validation_error",
            "invalid_value",
            "The request failed validation",
        ),
        429 => (
            "too_many_requests",
            "too_many_requests",
            "Too many requests: the rate limit for this API key was exceeded",
        ),
        502 => ("api_error", "bad_gateway", "Bad gateway"),
        503 => (
            "api_error",
            "service_unavailable",
            "The service is temporarily unavailable",
        ),
        504 => ("api_error", "gateway_timeout", "Gateway timeout"),
        s if s >= 500 => (
            "api_error",
            "internal_error",
            "Something went wrong on our end",
        ),
        _ => ("invalid_request_error", "error", "Request failed"),
    }
}
