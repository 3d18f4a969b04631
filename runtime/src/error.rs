//! The one error type of every generated SDK. Every failure, on either transport, is an
//! [`Error`] whose `Display` says what happened and what to do; the variants carry the
//! structured details (status, the API's error type, request id, per-field errors,
//! `Retry-After`). What the messages say about a particular API (its name, its credentials'
//! environment variables, its rate limit) comes from the connector's [`Hints`].

use std::fmt;
use std::time::Duration;

use serde::Deserialize;

/// Everything that can go wrong calling the API.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// 401 or 403: the credentials (or Airbyte credentials) were missing, invalid, or lack the
    /// scope the endpoint needs.
    #[error("{0}; {hint}", hint = auth_hint(.0))]
    Auth(Box<ApiError>),

    /// 404: no record with that id (or an unknown route).
    #[error("{0}; check the id (ids come from the `id` field of list results)")]
    NotFound(Box<ApiError>),

    /// 429: too many requests. `retry_after` is the server's `Retry-After`, when it sent one.
    #[error("{error}; {}", retry_hint(*retry_after, error.hints))]
    RateLimited {
        /// How long the server asked us to wait.
        retry_after: Option<Duration>,
        /// The response.
        error: Box<ApiError>,
    },

    /// 400 or 422: the API rejected the parameters.
    #[error("{0}; fix the parameters it names")]
    Validation(Box<ApiError>),

    /// Any other error status (5xx and the rest).
    #[error("{0}{hint}", hint = if .0.status >= 500 { "; this is a server-side failure, safe to retry later" } else { "" })]
    Api(Box<ApiError>),

    /// A success response whose body could not be decoded into the expected type.
    #[error("could not decode the response of {entity}.{action}: {message}; body starts with: {snippet:?}. The API may have changed shape: report it with this message")]
    Decode {
        /// Entity of the call.
        entity: String,
        /// Action of the call.
        action: String,
        /// The decoder's message (with the JSON path where it stopped, when known).
        message: String,
        /// The first bytes of the body (lossy UTF-8).
        snippet: String,
        /// The body ended early or was not JSON at all (a transport fault, worth a retry),
        /// rather than JSON of an unexpected shape (an API change).
        incomplete: bool,
    },

    /// The request could not be sent or the response not read (DNS, connect, reset, TLS).
    #[error("network error calling {context}: {message}; check connectivity and the base URL")]
    Network {
        /// What was being called (`incidents.list`, `airbyte token`).
        context: String,
        /// What failed.
        message: String,
        /// The underlying error.
        #[source]
        source: Option<reqwest::Error>,
    },

    /// The request or the response body took longer than the configured timeout.
    #[error("timed out calling {context}: {message}; raise the timeout on the builder or retry")]
    Timeout {
        /// What was being called.
        context: String,
        /// Which phase timed out.
        message: String,
    },

    /// Input rejected before any request: a bad parameter, id, key or URL.
    #[error("invalid {field}: {message}")]
    InvalidInput {
        /// The parameter or setting at fault (`page_size`, `id`, `base_url`, `params.after`).
        field: String,
        /// What is wrong and what is allowed.
        message: String,
    },

    /// Hosted mode: no connector of this kind exists in the Airbyte workspace.
    #[error("{message}")]
    ConnectorNotFound {
        /// The workspace searched.
        workspace: String,
        /// What to do about it.
        message: String,
    },

    /// Hosted mode: several connectors of this kind exist in the workspace; pick one by id.
    #[error("several connectors of this kind exist in Airbyte workspace {workspace:?}: {}; pass one of them with AirbyteAuthConfig::connector_id(..)", ids.join(", "))]
    AmbiguousConnector {
        /// The workspace searched.
        workspace: String,
        /// The connector ids found.
        ids: Vec<String>,
    },

    /// The operation exists only in hosted mode (context-store search).
    #[error("{operation} needs hosted mode: build the connector with AirbyteAuthConfig (Airbyte credentials) instead of the API's own credentials")]
    HostedOnly {
        /// The operation asked for (`incidents.search`).
        operation: String,
    },

    /// The response body was larger than the connector accepts (64 MiB by default). Nothing
    /// beyond the limit was read or kept.
    #[error("the response of {context} is larger than the limit of {limit} bytes{}; ask for less (a smaller page_size), or raise the limit with .max_response_bytes(..) on the connector builder", declared.map(|n| format!(" (Content-Length {n})")).unwrap_or_default())]
    ResponseTooLarge {
        /// What was being called (`incidents.list`, `airbyte token`).
        context: String,
        /// The limit in bytes ([`crate::DEFAULT_MAX_RESPONSE_BYTES`] unless changed).
        limit: usize,
        /// The `Content-Length` the server declared, when it declared one.
        declared: Option<u64>,
    },

    /// The API broke the paging protocol (for example, it returned the same cursor twice).
    #[error("pagination error in {entity}.list: {message}")]
    Pagination {
        /// Entity being paged.
        entity: String,
        /// What went wrong.
        message: String,
    },
}

fn auth_hint(e: &ApiError) -> String {
    if e.entity == "airbyte" {
        "check the Airbyte application credentials (AIRBYTE_CLIENT_ID, AIRBYTE_CLIENT_SECRET) and the organization id".to_string()
    } else if e.status == 403 {
        format!(
            "the credentials are valid but lack permission: give {} the scope this endpoint needs",
            e.hints.credentials
        )
    } else {
        format!(
            "check the credentials: {} must be valid and not revoked",
            e.hints.credentials
        )
    }
}

fn retry_hint(after: Option<Duration>, hints: Hints) -> String {
    let limit = hints
        .rate_limit
        .map(|l| format!("; {l}"))
        .unwrap_or_default();
    match after {
        Some(d) if d > Duration::from_secs(365 * 24 * 3600) => {
            format!("the server asked to wait more than a year, so no retry was made{limit}")
        }
        Some(d) => format!("retry after {:.1}s{limit}", d.as_secs_f64()),
        None => format!("slow down and retry{limit}"),
    }
}

/// What error messages say about a particular API; part of the connector's metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hints {
    /// The API's name (`incident.io`).
    pub service: &'static str,
    /// The credentials to check, naming their environment variables
    /// (`the incident.io API key (INCIDENT_IO_API_KEY)`).
    pub credentials: &'static str,
    /// The API's rate limit, when the spec states it
    /// (`the default limit is 1200 requests/minute per API key`).
    pub rate_limit: Option<&'static str>,
}

impl Hints {
    /// Hints that name no API (for errors built outside a connector).
    pub const GENERIC: Hints = Hints {
        service: "the API",
        credentials: "the credentials",
        rate_limit: None,
    };
}

impl Error {
    /// The HTTP status, for errors that came from a response.
    pub fn status(&self) -> Option<u16> {
        self.api_error().map(|e| e.status)
    }

    /// The structured API error, for errors that came from an error response.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            Error::Auth(e)
            | Error::NotFound(e)
            | Error::Validation(e)
            | Error::Api(e)
            | Error::RateLimited { error: e, .. } => Some(e),
            _ => None,
        }
    }

    /// The `request_id` the API assigned, for support tickets.
    pub fn request_id(&self) -> Option<&str> {
        self.api_error().and_then(|e| e.request_id.as_deref())
    }

    /// The server's `Retry-After`, for rate-limit errors.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Whether repeating the same call later may succeed (429, 5xx, network, timeout).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::RateLimited { .. } | Error::Network { .. } | Error::Timeout { .. } => true,
            Error::Api(e) => matches!(e.status, 500 | 502 | 503 | 504),
            _ => false,
        }
    }

    /// Replaces every occurrence of each secret in the error's text with `[redacted]` (a
    /// server may echo what it was sent, as a token endpoint refusing a refresh token can).
    pub(crate) fn redact(mut self, secrets: &[&str]) -> Self {
        let scrub = |text: &mut String| {
            for s in secrets.iter().filter(|s| s.len() >= 4) {
                if text.contains(*s) {
                    *text = text.replace(*s, "[redacted]");
                }
            }
        };
        match &mut self {
            Error::Auth(e)
            | Error::NotFound(e)
            | Error::Validation(e)
            | Error::Api(e)
            | Error::RateLimited { error: e, .. } => {
                scrub(&mut e.message);
                for d in &mut e.errors {
                    if let Some(m) = &mut d.message {
                        scrub(m);
                    }
                }
            }
            Error::Decode {
                message, snippet, ..
            } => {
                scrub(message);
                scrub(snippet);
            }
            Error::Network { message, .. } | Error::Timeout { message, .. } => scrub(message),
            _ => {}
        }
        self
    }

    pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidInput {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The error for an API (or Airbyte) error response, exactly as the transports build
    /// it from the status, the `Retry-After` header and the body. For code that talks to the API
    /// by other means (and for fuzzing the body parser).
    pub fn from_error_body(status: u16, retry_after: Option<&str>, body: &[u8]) -> Self {
        Self::from_response(
            Context::new("unknown", "request"),
            status,
            retry_after,
            body,
        )
    }

    /// Maps an error response (status, `Retry-After` header, body) to the right variant.
    pub(crate) fn from_response(
        context: Context,
        status: u16,
        retry_after_header: Option<&str>,
        body: &[u8],
    ) -> Self {
        let parsed = ParsedBody::parse(body);
        let retry_after = retry_after_header
            .and_then(parse_retry_after)
            .or_else(|| parsed.retry_after.as_deref().and_then(parse_retry_after));
        let error = Box::new(ApiError {
            status,
            error_type: parsed.error_type,
            message: parsed.message,
            request_id: parsed.request_id,
            errors: parsed.errors,
            entity: context.entity,
            action: context.action,
            hints: context.hints,
        });
        match status {
            401 | 403 => Error::Auth(error),
            404 => Error::NotFound(error),
            429 => Error::RateLimited { retry_after, error },
            400 | 422 => Error::Validation(error),
            _ => Error::Api(error),
        }
    }

    pub(crate) fn decode(context: &Context, message: impl fmt::Display, body: &[u8]) -> Self {
        Error::Decode {
            entity: context.entity.clone(),
            action: context.action.clone(),
            message: message.to_string(),
            snippet: snippet(body, 200),
            incomplete: false,
        }
    }

    /// A JSON decode failure; truncated or non-JSON bodies are marked `incomplete`.
    pub(crate) fn decode_json(context: &Context, e: &serde_json::Error, body: &[u8]) -> Self {
        use serde_json::error::Category;
        let incomplete = matches!(e.classify(), Category::Eof | Category::Syntax);
        let message = if incomplete && matches!(e.classify(), Category::Eof) {
            format!("the body ended early (truncated?): {e}")
        } else {
            e.to_string()
        };
        Error::Decode {
            entity: context.entity.clone(),
            action: context.action.clone(),
            message,
            snippet: snippet(body, 200),
            incomplete,
        }
    }
}

/// Which call an error belongs to, and what messages say about its API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Context {
    pub(crate) entity: String,
    pub(crate) action: String,
    pub(crate) hints: Hints,
}

impl Context {
    pub(crate) fn new(entity: &str, action: &str) -> Self {
        Context {
            entity: entity.to_string(),
            action: action.to_string(),
            hints: Hints::GENERIC,
        }
    }

    pub(crate) fn with_hints(mut self, hints: Hints) -> Self {
        self.hints = hints;
        self
    }
}

impl fmt::Display for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.entity, self.action)
    }
}

/// An error response from the API (or from Airbyte in hosted mode).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// The API's error `type` (`authentication_error`, `validation_error`, `not_found`, ...).
    pub error_type: Option<String>,
    /// A readable summary: the joined `errors[].message` (with their fields), the body's
    /// `message`, or a description of a non-JSON body.
    pub message: String,
    /// The API's `request_id`.
    pub request_id: Option<String>,
    /// The individual errors (`errors[]`).
    pub errors: Vec<ApiErrorDetail>,
    /// Entity of the failed call.
    pub entity: String,
    /// Action of the failed call.
    pub action: String,
    pub(crate) hints: Hints,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{} failed with HTTP {}",
            self.entity, self.action, self.status
        )?;
        if let Some(t) = &self.error_type {
            write!(f, " {t}")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(id) = &self.request_id {
            write!(f, " (request_id {id})")?;
        }
        Ok(())
    }
}

/// One entry of the error body's `errors[]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ApiErrorDetail {
    /// Machine-readable code (`missing_authorization_material`, `invalid_value`, ...).
    #[serde(default)]
    pub code: Option<String>,
    /// Human-readable message.
    #[serde(default)]
    pub message: Option<String>,
    /// The request field it is about (`source.field`).
    #[serde(default, deserialize_with = "source_field")]
    #[serde(rename = "source")]
    pub field: Option<String>,
}

fn source_field<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    struct Source {
        #[serde(default)]
        field: Option<String>,
        #[serde(default)]
        pointer: Option<String>,
    }
    let s: Option<Source> = Option::deserialize(d)?;
    Ok(s.and_then(|s| s.field.or(s.pointer)))
}

#[derive(Default)]
struct ParsedBody {
    error_type: Option<String>,
    message: String,
    request_id: Option<String>,
    errors: Vec<ApiErrorDetail>,
    retry_after: Option<String>,
}

impl ParsedBody {
    fn parse(body: &[u8]) -> Self {
        #[derive(Deserialize, Default)]
        #[serde(default)]
        struct Raw {
            #[serde(rename = "type")]
            error_type: Option<String>,
            request_id: Option<String>,
            errors: Option<serde_json::Value>,
            message: Option<String>,
            detail: Option<String>,
            error: Option<serde_json::Value>,
            rate_limit: Option<RateLimit>,
        }
        #[derive(Deserialize, Default)]
        #[serde(default)]
        struct RateLimit {
            retry_after: Option<String>,
        }
        let text = String::from_utf8_lossy(body);
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return ParsedBody {
                message: "empty response body".to_string(),
                ..Default::default()
            };
        }
        let Ok(raw) = serde_json::from_str::<Raw>(trimmed) else {
            let lower = trimmed.to_ascii_lowercase();
            let message =
                if lower.starts_with("<!doctype html") || lower.starts_with("<html") {
                    let title = title_of(trimmed).unwrap_or_default();
                    format!(
                    "the server answered with an HTML page, not JSON (a proxy or gateway error?){}",
                    if title.is_empty() { String::new() } else { format!(": {title:?}") }
                )
                } else {
                    format!("non-JSON body: {:?}", snippet(body, 200))
                };
            return ParsedBody {
                message,
                ..Default::default()
            };
        };
        // incident.io: errors = [{code, message, source{field}}]; Airbyte: errors may be strings.
        let mut details = Vec::new();
        let mut plain = Vec::new();
        if let Some(serde_json::Value::Array(items)) = &raw.errors {
            for item in items {
                match item {
                    serde_json::Value::String(s) => plain.push(s.clone()),
                    other => {
                        if let Ok(d) = serde_json::from_value::<ApiErrorDetail>(other.clone()) {
                            details.push(d);
                        }
                    }
                }
            }
        }
        let mut parts: Vec<String> = details
            .iter()
            .filter_map(|d| {
                let msg = d.message.clone().or_else(|| d.code.clone())?;
                Some(match &d.field {
                    Some(f) => format!("{f}: {msg}"),
                    None => msg,
                })
            })
            .collect();
        parts.extend(plain);
        let error_text = match &raw.error {
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            _ => None,
        };
        let message = if !parts.is_empty() {
            parts.join("; ")
        } else if let Some(m) = raw.message.or(raw.detail).or(error_text) {
            m
        } else {
            format!("no error message in body: {:?}", snippet(body, 200))
        };
        ParsedBody {
            error_type: raw.error_type,
            message,
            request_id: raw.request_id,
            errors: details,
            retry_after: raw.rate_limit.and_then(|r| r.retry_after),
        }
    }
}

fn title_of(html: &str) -> Option<String> {
    let lower = html.to_ascii_lowercase();
    let start = lower.find("<title>")? + "<title>".len();
    let end = lower[start..].find("</title>")? + start;
    Some(html.get(start..end)?.trim().to_string())
}

/// The first `max` bytes of `body` as lossy UTF-8, cut on a character boundary.
pub(crate) fn snippet(body: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(max + 4)]);
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut s = text[..end].to_string();
    if body.len() > max {
        s.push('…');
    }
    s
}

/// Parses `Retry-After`: delta-seconds, an HTTP-date (RFC 1123, also with `UTC`), or RFC 3339.
/// A value beyond what a `Duration` holds saturates at [`Duration::MAX`] (the retry policy then
/// refuses to wait that long); a negative, non-finite or unreadable one is `None`.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = v.parse::<f64>() {
        if secs.is_finite() && secs >= 0.0 {
            return Some(Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX));
        }
        return None;
    }
    let when = chrono::DateTime::parse_from_rfc2822(v)
        .or_else(|_| chrono::DateTime::parse_from_rfc2822(&v.replace(" UTC", " GMT")))
        .or_else(|_| chrono::DateTime::parse_from_rfc3339(v))
        .ok()?;
    let delta = when.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(delta.to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Thu, 17 Apr 2025 11:17:18 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse_retry_after("Thu, 17 Apr 2025 11:17:18 UTC"),
            Some(Duration::ZERO)
        );
        let future = (chrono::Utc::now() + chrono::Duration::seconds(30)).to_rfc2822();
        let d = parse_retry_after(&future).expect("parses");
        assert!(
            d > Duration::from_secs(25) && d <= Duration::from_secs(30),
            "{d:?}"
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn snippet_cuts_on_char_boundary() {
        let s = snippet("ééééé".as_bytes(), 3);
        assert_eq!(s, "é…");
    }
}
