//! The state every route of one emulator shares ([`Shared`]): the backend, fault switches,
//! request log, the emulated Airbyte API, and how the spec's auth schemes present the secret
//! ([`AuthCheck`]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use axum::http::HeaderMap;
use base64::Engine as _;

use super::airbyte::Airbyte;
use super::backend::{ApiError, Backend};
use super::faults::Faults;
use super::log::RequestLog;
use super::spec::mix;

/// Advertised requests-per-minute limit (informational; never enforced).
pub(crate) const RATE_LIMIT: f64 = 1200.0;

/// State shared by every route of one emulator.
#[derive(Debug)]
pub(crate) struct Shared {
    /// Synthetic data and the operation logic.
    pub backend: Backend,
    /// Fault switches.
    pub faults: Faults,
    /// Request log.
    pub log: RequestLog,
    /// The secret the API routes accept, presented as the spec's auth schemes say.
    pub api_key: String,
    /// How the spec's auth schemes present it.
    pub auth: Vec<AuthCheck>,
    /// The emulated Airbyte API (credentials, tokens, connectors).
    pub airbyte: Airbyte,
    /// `http://127.0.0.1:<port>` of the storage listener (pre-signed file URLs).
    pub storage_origin: String,
    seed: u64,
    seq: AtomicU64,
    bucket: Mutex<(f64, Instant)>,
}

impl Shared {
    pub(crate) fn new(
        backend: Backend,
        api_key: String,
        auth: Vec<AuthCheck>,
        seed: u64,
        airbyte: Airbyte,
        storage_origin: String,
    ) -> Shared {
        Shared {
            backend,
            faults: Faults::default(),
            log: RequestLog::default(),
            api_key,
            auth,
            airbyte,
            storage_origin,
            seed,
            seq: AtomicU64::new(0),
            bucket: Mutex::new((RATE_LIMIT, Instant::now())),
        }
    }

    /// A fresh UUID-shaped request id.
    pub(crate) fn request_id(&self) -> String {
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        let a = mix(self.seed ^ mix(n ^ 0x1D));
        let b = mix(a);
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xFFFF,
            a & 0xFFF,
            0x8000 | (b >> 48 & 0x3FFF),
            b & 0xFFFF_FFFF_FFFF
        )
    }

    /// Takes one token from the informational 1200/min bucket; returns what is left.
    pub(crate) fn rate_remaining(&self) -> u64 {
        let mut guard = self.bucket.lock().unwrap_or_else(|p| p.into_inner());
        let (tokens, last) = &mut *guard;
        let now = Instant::now();
        *tokens =
            (*tokens + now.duration_since(*last).as_secs_f64() * RATE_LIMIT / 60.0).min(RATE_LIMIT);
        *last = now;
        *tokens = (*tokens - 1.0).max(0.0);
        *tokens as u64
    }

    /// Checks the credentials as the spec's auth schemes present them: a bearer token (or
    /// an OAuth 2 token in its header), HTTP basic (either half may be the secret, as
    /// templates like `${email}/token` put it in one or the other), an API key header (the
    /// whole value, or its last word after a prefix such as `Token `), or an API key query
    /// parameter. Any scheme that matches is enough.
    pub(crate) fn authorize(
        &self,
        headers: &HeaderMap,
        query: &[(String, String)],
    ) -> Result<(), ApiError> {
        let mut presented = false;
        for check in &self.auth {
            let value = match check {
                AuthCheck::Query { name } => query
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.clone()),
                AuthCheck::Header { name, .. } => headers
                    .get(name.as_str())
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string()),
            };
            let Some(value) = value.filter(|v| !v.is_empty()) else {
                continue;
            };
            // Any credential material counts as presented (a wrong one is "invalid", not
            // "missing"), as incident.io answers.
            presented = true;
            let ok = match check {
                AuthCheck::Header {
                    scheme: HeaderScheme::Prefix(prefix),
                    ..
                } => {
                    let token = match value.split_once(' ') {
                        Some((p, rest)) if p.eq_ignore_ascii_case(prefix) => rest.trim(),
                        _ if value.eq_ignore_ascii_case(prefix) => "",
                        _ => "",
                    };
                    token == self.api_key
                }
                AuthCheck::Header {
                    scheme: HeaderScheme::Raw,
                    ..
                } => {
                    presented = true;
                    value == self.api_key || value.rsplit(' ').next() == Some(self.api_key.as_str())
                }
                AuthCheck::Header {
                    scheme: HeaderScheme::Basic,
                    ..
                } => {
                    let decoded = value
                        .strip_prefix("Basic ")
                        .and_then(|b| {
                            base64::engine::general_purpose::STANDARD
                                .decode(b.trim())
                                .ok()
                        })
                        .and_then(|b| String::from_utf8(b).ok());
                    decoded.is_some_and(|pair| {
                        let (user, password) = pair.split_once(':').unwrap_or((pair.as_str(), ""));
                        user == self.api_key || password == self.api_key
                    })
                }
                AuthCheck::Query { .. } => value == self.api_key,
            };
            if ok {
                return Ok(());
            }
        }
        if !presented {
            return Err(ApiError {
                status: 401,
                error_type: "authentication_error",
                code: "missing_authorization_material",
                message: "No authorization material provided in request".into(),
                field: None,
            });
        }
        Err(ApiError {
            status: 401,
            error_type: "authentication_error",
            code: "access_token_invalid",
            message: "The API key you provided is invalid, expired or revoked".into(),
            field: None,
        })
    }
}

/// How a request presents the secret, per auth scheme of the spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AuthCheck {
    /// In a header.
    Header {
        /// The header's lower-case name.
        name: String,
        /// How the header holds it.
        scheme: HeaderScheme,
    },
    /// In a query parameter.
    Query {
        /// The parameter's name.
        name: String,
    },
}

/// How a header holds the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HeaderScheme {
    /// After a prefix word (`Bearer`).
    Prefix(String),
    /// HTTP basic.
    Basic,
    /// The whole value, or its last word.
    Raw,
}

/// The auth checks of a spec's `components.securitySchemes`; a spec without any gets bearer.
pub(crate) fn auth_checks(spec: &serde_json::Value) -> Vec<AuthCheck> {
    let mut out = Vec::new();
    let schemes = spec
        .pointer("/components/securitySchemes")
        .and_then(serde_json::Value::as_object);
    for scheme in schemes.into_iter().flat_map(|m| m.values()) {
        let text = |k: &str| {
            scheme
                .get(k)
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let check = match (
            text("type").as_str(),
            text("scheme").to_ascii_lowercase().as_str(),
        ) {
            ("http", "basic") => AuthCheck::Header {
                name: "authorization".into(),
                scheme: HeaderScheme::Basic,
            },
            ("apiKey", _) if text("in") == "query" => AuthCheck::Query { name: text("name") },
            ("apiKey", _) => AuthCheck::Header {
                name: text("name").to_ascii_lowercase(),
                scheme: HeaderScheme::Raw,
            },
            ("oauth2", _) => {
                let refresh = scheme.get("x-airbyte-token-refresh");
                let get = |k: &str, d: &str| {
                    refresh
                        .and_then(|r| r.get(k))
                        .and_then(serde_json::Value::as_str)
                        .unwrap_or(d)
                        .to_string()
                };
                let prefix = get("prefix", "Bearer");
                AuthCheck::Header {
                    name: get("header", "Authorization").to_ascii_lowercase(),
                    scheme: if prefix.is_empty() {
                        HeaderScheme::Raw
                    } else {
                        HeaderScheme::Prefix(prefix)
                    },
                }
            }
            _ => AuthCheck::Header {
                name: "authorization".into(),
                scheme: HeaderScheme::Prefix("Bearer".into()),
            },
        };
        if !out.contains(&check) {
            out.push(check);
        }
    }
    if out.is_empty() {
        out.push(AuthCheck::Header {
            name: "authorization".into(),
            scheme: HeaderScheme::Prefix("Bearer".into()),
        });
    }
    out
}
