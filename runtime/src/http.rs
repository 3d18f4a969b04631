//! HTTP plumbing shared by both transports: the pooled `reqwest::Client` (rustls on the ring
//! provider), reading a response body under a size cap, and turning an error response into
//! [`Error`]. Every number a server controls passes through here checked: `Content-Length`
//! never sizes an allocation beyond the cap, and a body over the cap is
//! [`Error::ResponseTooLarge`], never an out-of-memory.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use reqwest::header::{HeaderMap, CONTENT_TYPE, RETRY_AFTER};

use crate::error::Context;
use crate::retry::Sender;
use crate::Error;

/// The default cap on one response body: 64 MiB, far above any real page (a page of 250
/// incidents from incident.io is about 1 MB; its largest, 10,000 users, about 6 MB).
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// How much of an error response's body is read (for its message); the rest is dropped.
const ERROR_BODY_PREFIX: usize = 64 * 1024;

/// Settings shared by the transports' HTTP clients.
#[derive(Debug, Clone)]
pub(crate) struct HttpSettings {
    pub(crate) connect_timeout: Duration,
    pub(crate) timeout: Duration,
    pub(crate) user_agent: String,
    pub(crate) sender: Sender,
    /// The largest response body accepted, in bytes.
    pub(crate) max_response_bytes: usize,
    /// Overrides the OAuth 2 token endpoint (a test server, a proxy).
    pub(crate) token_url: Option<String>,
}

impl HttpSettings {
    /// The defaults, with the connector's own `User-Agent`.
    pub(crate) fn for_connector(meta: &crate::meta::ConnectorMeta) -> Self {
        HttpSettings {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
            user_agent: meta.user_agent.to_string(),
            sender: Sender::default(),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            token_url: None,
        }
    }
}

/// Builds a `reqwest::Client` with rustls (ring provider, the platform's trust store), the
/// given default headers, timeouts and user agent.
pub(crate) fn http_client(
    settings: &HttpSettings,
    headers: HeaderMap,
) -> Result<reqwest::Client, Error> {
    http_client_with(settings, headers, true)
}

/// [`http_client`], choosing whether 301/302/303 redirects are followed: reqwest turns a
/// POST into a body-less GET on those, so clients that send bodies follow only 307/308
/// (which keep the method and the body).
pub(crate) fn http_client_with(
    settings: &HttpSettings,
    headers: HeaderMap,
    follow_see_other: bool,
) -> Result<reqwest::Client, Error> {
    use rustls_platform_verifier::BuilderVerifierExt;
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let tls_error = |e: rustls::Error| Error::invalid("tls", format!("cannot set up TLS: {e}"));
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?
        .with_platform_verifier()
        .map_err(tls_error)?
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .default_headers(headers)
        // Redirects stay on the origin of the request that was sent: reqwest drops only
        // `Authorization` and cookies on a cross-origin hop, and an API-key header (or a
        // key in the query) must never reach another host.
        .redirect(reqwest::redirect::Policy::custom(move |attempt| {
            let keeps_method = matches!(attempt.status().as_u16(), 307 | 308);
            let same_origin = attempt
                .previous()
                .first()
                .is_some_and(|first| first.origin() == attempt.url().origin());
            if attempt.previous().len() > 5 {
                attempt.error("more than 5 redirects")
            } else if same_origin && (follow_see_other || keeps_method) {
                attempt.follow()
            } else {
                attempt.stop()
            }
        }))
        .connect_timeout(settings.connect_timeout)
        .timeout(settings.timeout)
        // Between reads too: a download (whose request has no overall deadline) that
        // stalls still fails.
        .read_timeout(settings.timeout)
        .user_agent(settings.user_agent.clone())
        .pool_idle_timeout(Duration::from_secs(90))
        .build()
        .map_err(|e| Error::invalid("http_client", format!("cannot build the HTTP client: {e}")))
}

/// A response body read in full, with the `Content-Type` the server declared.
#[derive(Debug, Clone)]
pub(crate) struct Body {
    pub(crate) bytes: Bytes,
    pub(crate) content_type: Option<String>,
    /// The next page as a response header gives it (a `Link` URL or a cursor header), for
    /// operations that page that way.
    pub(crate) next: Option<String>,
}

/// The body of a 2xx response (at most `limit` bytes), or the mapped error for any other
/// status.
pub(crate) async fn read_ok(
    ctx: &Context,
    resp: reqwest::Response,
    limit: usize,
) -> Result<Body, Error> {
    let status = resp.status().as_u16();
    if (200..300).contains(&status) {
        let content_type = header_text(resp.headers(), CONTENT_TYPE.as_str());
        let bytes = read_capped(ctx, resp, limit).await?;
        return Ok(Body {
            bytes,
            content_type,
            next: None,
        });
    }
    Err(error_response(ctx, resp).await)
}

/// Reads an error response (status, `Retry-After`, the start of the body) into [`Error`].
pub(crate) async fn error_response(ctx: &Context, resp: reqwest::Response) -> Error {
    let status = resp.status().as_u16();
    let retry_after = header_text(resp.headers(), RETRY_AFTER.as_str());
    match read_prefix(resp, ERROR_BODY_PREFIX).await {
        Ok(body) => Error::from_response(ctx.clone(), status, retry_after.as_deref(), &body),
        Err(e) => from_reqwest(ctx, e),
    }
}

/// A header's value as text, when it is visible ASCII.
pub(crate) fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Reads the whole body, refusing one longer than `limit`: at once when `Content-Length`
/// says so, else as soon as the bytes read pass it. The buffer is sized from
/// `Content-Length` only up to the limit.
pub(crate) async fn read_capped(
    ctx: &Context,
    mut resp: reqwest::Response,
    limit: usize,
) -> Result<Bytes, Error> {
    let declared = resp.content_length();
    if let Some(len) = declared {
        if len > limit as u64 {
            return Err(too_large(ctx, limit, declared));
        }
    }
    let Some(first) = resp.chunk().await.map_err(|e| from_reqwest(ctx, e))? else {
        return Ok(Bytes::new());
    };
    let capacity = declared.map_or(first.len(), |len| len as usize);
    if first.len() >= capacity {
        // The whole body in one chunk (the common case for small pages): no copy.
        if first.len() > limit {
            return Err(too_large(ctx, limit, declared));
        }
        if let Some(next) = resp.chunk().await.map_err(|e| from_reqwest(ctx, e))? {
            return collect_rest(ctx, resp, limit, declared, first, next).await;
        }
        return Ok(first);
    }
    let next = resp.chunk().await.map_err(|e| from_reqwest(ctx, e))?;
    match next {
        None => Ok(first),
        Some(next) => collect_rest(ctx, resp, limit, declared, first, next).await,
    }
}

async fn collect_rest(
    ctx: &Context,
    mut resp: reqwest::Response,
    limit: usize,
    declared: Option<u64>,
    first: Bytes,
    second: Bytes,
) -> Result<Bytes, Error> {
    let capacity = declared
        .map_or(first.len() + second.len(), |len| len as usize)
        .min(limit);
    let mut buf = BytesMut::with_capacity(capacity);
    for chunk in [first, second] {
        append(ctx, &mut buf, &chunk, limit, declared)?;
    }
    while let Some(chunk) = resp.chunk().await.map_err(|e| from_reqwest(ctx, e))? {
        append(ctx, &mut buf, &chunk, limit, declared)?;
    }
    Ok(buf.freeze())
}

fn append(
    ctx: &Context,
    buf: &mut BytesMut,
    chunk: &[u8],
    limit: usize,
    declared: Option<u64>,
) -> Result<(), Error> {
    if buf.len().saturating_add(chunk.len()) > limit {
        return Err(too_large(ctx, limit, declared));
    }
    buf.extend_from_slice(chunk);
    Ok(())
}

/// The first `max` bytes of the body; the rest is not read.
async fn read_prefix(mut resp: reqwest::Response, max: usize) -> Result<Bytes, reqwest::Error> {
    let mut buf = BytesMut::new();
    while let Some(chunk) = resp.chunk().await? {
        let room = max - buf.len();
        buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if buf.len() >= max {
            break;
        }
    }
    Ok(buf.freeze())
}

fn too_large(ctx: &Context, limit: usize, declared: Option<u64>) -> Error {
    Error::ResponseTooLarge {
        context: ctx.to_string(),
        limit,
        declared,
    }
}

/// Whether a `Content-Type` value names JSON (`application/json`, `…+json`, with or without
/// parameters). `None` when the value is not a media type at all.
pub fn is_json_media_type(value: &str) -> Option<bool> {
    let essence = value.split(';').next()?.trim();
    let (kind, sub) = essence.split_once('/')?;
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    if !token(kind) || !token(sub) {
        return None;
    }
    let sub = sub.to_ascii_lowercase();
    Some(kind.eq_ignore_ascii_case("application") && (sub == "json" || sub.ends_with("+json")))
}

/// Classifies a reqwest failure as timeout or network. The URL is dropped from the error: it
/// can carry an API key in its query.
pub(crate) fn from_reqwest(ctx: &Context, e: reqwest::Error) -> Error {
    let e = e.without_url();
    let phase = if e.is_connect() {
        "connecting"
    } else if e.is_body() || e.is_decode() {
        "reading the response body"
    } else {
        "sending the request"
    };
    if e.is_timeout() {
        Error::Timeout {
            context: ctx.to_string(),
            message: format!("no complete response while {phase}"),
        }
    } else {
        let mut message = format!("failed while {phase}: {e}");
        let mut source: Option<&dyn std::error::Error> = std::error::Error::source(&e);
        while let Some(s) = source {
            message.push_str(&format!(": {s}"));
            source = s.source();
        }
        Error::Network {
            context: ctx.to_string(),
            message,
            source: Some(e),
        }
    }
}

/// Checks a base URL: parseable, http(s), https unless the host is loopback, no query or
/// fragment. Returns it without a trailing slash.
pub(crate) fn check_base_url(field: &str, url: &str) -> Result<String, Error> {
    let parsed = url::Url::parse(url.trim()).map_err(|e| {
        Error::invalid(
            field,
            format!("{url:?} is not a URL ({e}); pass something like https://api.example.com"),
        )
    })?;
    let loopback = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    match parsed.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(Error::invalid(
                field,
                format!("{url:?} uses plain http to a non-loopback host, which would send the credentials unencrypted; use https (http is allowed only for 127.0.0.1, ::1 and localhost)"),
            ))
        }
        other => {
            return Err(Error::invalid(
                field,
                format!("{url:?} has scheme `{other}`; use https (or http for a loopback host)"),
            ))
        }
    }
    if parsed.host().is_none() {
        return Err(Error::invalid(field, format!("{url:?} has no host")));
    }
    if parsed.query().is_some()
        || parsed.fragment().is_some()
        || !parsed.username().is_empty()
        || parsed.password().is_some()
    {
        return Err(Error::invalid(
            field,
            format!("{url:?} must not carry a query, fragment or user info; pass only scheme, host, port and path prefix"),
        ));
    }
    Ok(parsed.as_str().trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_media_types() {
        for yes in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON",
            "application/problem+json",
        ] {
            assert_eq!(is_json_media_type(yes), Some(true), "{yes}");
        }
        for no in ["text/html", "text/plain; charset=utf-8", "application/xml"] {
            assert_eq!(is_json_media_type(no), Some(false), "{no}");
        }
        for junk in ["", "json", "/", "a/", " ; ", "a b/c"] {
            assert_eq!(is_json_media_type(junk), None, "{junk:?}");
        }
    }

    #[test]
    fn base_url_rules() {
        assert_eq!(
            check_base_url("base_url", "https://api.example.com/").unwrap(),
            "https://api.example.com"
        );
        assert_eq!(
            check_base_url("base_url", "http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert!(check_base_url("base_url", "http://[::1]:1").is_ok());
        assert!(check_base_url("base_url", "http://localhost:1/x").is_ok());
        for bad in [
            "api.example.com",
            "http://api.example.com",
            "ftp://x",
            "https://x/?a=b",
            "https://u:p@x",
        ] {
            let err = check_base_url("base_url", bad).unwrap_err();
            assert!(
                err.to_string().starts_with("invalid base_url:"),
                "{bad}: {err}"
            );
        }
    }
}
