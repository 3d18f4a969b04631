//! The request log: every request that reaches the emulator (except its internal control
//! path), recorded as it arrived on the wire, before any fault or auth check.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use axum::http::request::Parts;
use bytes::Bytes;

use super::spec::parse_query;

/// At most this many requests are kept (the oldest are dropped first).
const MAX_RECORDED: usize = 100_000;

/// One request as the emulator received it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// HTTP method, e.g. `GET`.
    pub method: String,
    /// Path exactly as received, still percent-encoded, e.g. `/v2/incidents`.
    pub path: String,
    /// Raw query string without the `?`, if the request had one.
    pub query: Option<String>,
    /// The query string split into decoded `(name, value)` pairs, in order.
    pub query_pairs: Vec<(String, String)>,
    /// Every header as `(lowercase name, value)`, in order (non-UTF-8 values are lossy).
    pub headers: Vec<(String, String)>,
    /// The request body exactly as received (empty for GET; a write's JSON body).
    pub body: Bytes,
    /// When the request arrived.
    pub received_at: Instant,
}

impl RecordedRequest {
    pub(crate) fn new(parts: &Parts, body: &Bytes) -> RecordedRequest {
        let query = parts.uri.query().map(str::to_string);
        RecordedRequest {
            method: parts.method.as_str().to_string(),
            path: parts.uri.path().to_string(),
            query_pairs: parse_query(query.as_deref()),
            query,
            headers: parts
                .headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_ascii_lowercase(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            body: body.clone(),
            received_at: Instant::now(),
        }
    }

    /// First value of a header (name matched case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text (lossy for non-UTF-8 bytes; empty when there is none).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON, or `None` when it is empty or not JSON.
    pub fn body_json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// First decoded value of a query parameter.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query_pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Thread-safe request log.
#[derive(Debug, Default)]
pub(crate) struct RequestLog {
    entries: Mutex<VecDeque<RecordedRequest>>,
    count: AtomicUsize,
}

impl RequestLog {
    fn lock(&self) -> MutexGuard<'_, VecDeque<RecordedRequest>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn push(&self, r: RecordedRequest) {
        let mut entries = self.lock();
        if entries.len() >= MAX_RECORDED {
            entries.pop_front();
        }
        entries.push_back(r);
        self.count.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn snapshot(&self) -> Vec<RecordedRequest> {
        self.lock().iter().cloned().collect()
    }

    pub(crate) fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }

    pub(crate) fn clear(&self) {
        let mut entries = self.lock();
        entries.clear();
        self.count.store(0, Ordering::SeqCst);
    }
}
