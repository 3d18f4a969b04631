//! Direct transport: one pooled `reqwest::Client` talking to the API's base URL (or a loopback
//! emulator), with the credentials applied as the spec's auth scheme says: sensitive default
//! headers (bearer, basic, an API key header, additional headers) or an API key query
//! parameter. Requests are built from the operation metadata ([`crate::request`]); bodies are
//! read under the size cap and every failure is mapped into [`Error`] with the call's context.

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};
use tracing::Instrument;

use crate::auth::Credentials;
use crate::error::{Context, Hints};
use crate::http::{from_reqwest, http_client, read_ok, Body, HttpSettings};
use crate::meta::{AuthKind, NextPage, OperationMeta};
use crate::retry::Sender;
use crate::transport::oauth2::OAuth2;
use crate::Error;

/// Calls the API directly.
#[derive(Debug)]
pub(crate) struct DirectTransport {
    http: reqwest::Client,
    http_with_body: reqwest::Client,
    /// No credentials at all: for a download's file on another host (a pre-signed URL).
    http_plain: reqwest::Client,
    /// OAuth 2 access tokens, sent (and refreshed) per request.
    oauth2: Option<Box<OAuth2>>,
    /// The base URL; it follows token-extracted server variables when the spec renders it.
    base_url: std::sync::RwLock<String>,
    /// For a base URL rendered from the spec with token-extracted variables: how many token
    /// answers it has followed.
    rebase: Option<std::sync::atomic::AtomicU64>,
    sender: Sender,
    max_response_bytes: usize,
    hints: Hints,
    call_span: crate::meta::CallSpan,
    /// An API key sent as a query parameter (`apiKey`, `in: query`).
    query_key: Option<(&'static str, SecretString)>,
    /// The connector's configuration values (server variables, scoping keys).
    config: std::collections::BTreeMap<String, String>,
    /// The same, with the spec's defaults for the values not set.
    config_with_defaults: std::collections::BTreeMap<String, String>,
    meta: &'static crate::meta::ConnectorMeta,
}

impl DirectTransport {
    pub(crate) fn new(
        meta: &'static crate::meta::ConnectorMeta,
        credentials: &Credentials,
        base_url: &str,
        base_from_spec: bool,
        settings: &HttpSettings,
        config: std::collections::BTreeMap<String, String>,
    ) -> Result<Self, Error> {
        credentials.validate()?;
        let scheme = credentials.scheme();
        let mut headers = HeaderMap::new();
        let mut query_key = None;
        let slot = |name: &str| {
            credentials.slot(name).ok_or_else(|| {
                Error::invalid(
                    scheme.key,
                    format!("the credentials give no `{name}` for the {} scheme; set the fields its auth_mapping names", scheme.key),
                )
            })
        };
        match scheme.kind {
            AuthKind::Bearer => {
                let token = slot("token")?;
                insert_secret(
                    &mut headers,
                    AUTHORIZATION,
                    &format!("Bearer {}", token.expose_secret()),
                    scheme.key,
                )?;
            }
            AuthKind::Basic => {
                use base64::Engine as _;
                let user = slot("username")?;
                let password = credentials.slot("password");
                let pair = format!(
                    "{}:{}",
                    user.expose_secret(),
                    password.as_ref().map(|p| p.expose_secret()).unwrap_or("")
                );
                let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
                insert_secret(
                    &mut headers,
                    AUTHORIZATION,
                    &format!("Basic {encoded}"),
                    scheme.key,
                )?;
            }
            AuthKind::ApiKeyHeader { name } => {
                let key = slot("api_key")?;
                let header = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                    Error::invalid(scheme.key, format!("`{name}` is not an HTTP header name"))
                })?;
                insert_secret(&mut headers, header, key.expose_secret(), scheme.key)?;
            }
            AuthKind::ApiKeyQuery { name } => query_key = Some((name, slot("api_key")?)),
            // The token goes on each request (it can be refreshed); see `oauth2`.
            AuthKind::OAuth2 => {}
        }
        // Additional headers come last, so they can replace the main one.
        for (name, template) in scheme.additional_headers {
            let value = render_jinja(template, credentials);
            let header = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                Error::invalid(scheme.key, format!("`{name}` is not an HTTP header name"))
            })?;
            insert_secret(&mut headers, header, &value, scheme.key)?;
        }
        // Reads with a body (POST) go through a client that never turns them into a GET.
        let http_with_body = crate::http::http_client_with(settings, headers.clone(), false)?;
        let http_plain = http_client(settings, HeaderMap::new())?;
        let http = http_client(settings, headers)?;
        let oauth2 = match scheme.kind {
            AuthKind::OAuth2 => Some(Box::new(OAuth2::new(
                credentials,
                scheme.refresh,
                settings.token_url.as_deref(),
                http.clone(),
                settings.sender.clone(),
                settings.max_response_bytes,
                meta.hints,
            )?)),
            _ => None,
        };
        Ok(DirectTransport {
            http,
            http_with_body,
            http_plain,
            oauth2,
            base_url: std::sync::RwLock::new(base_url.trim_end_matches('/').to_string()),
            // An explicit base URL (a proxy, a test server) is kept as given.
            rebase: (base_from_spec && scheme.refresh.is_some_and(|r| !r.extract.is_empty()))
                .then(|| std::sync::atomic::AtomicU64::new(0)),
            sender: settings.sender.clone(),
            max_response_bytes: settings.max_response_bytes,
            hints: meta.hints,
            call_span: meta.call_span,
            query_key,
            config_with_defaults: meta
                .config
                .iter()
                .filter_map(|c| c.default.map(|d| (c.name.to_string(), d.to_string())))
                .chain(config.clone())
                .collect(),
            config,
            meta,
        })
    }

    /// The base URL requests go to now.
    fn base(&self) -> String {
        self.base_url.read().map(|b| b.clone()).unwrap_or_default()
    }

    /// Renders the base URL again when a token answer brought new server variables
    /// (`x-airbyte-token-extract`; they win over the configuration). Makes sure a token is
    /// there first, so the first request already goes to the right host.
    async fn follow_token_values(&self) -> Result<(), Error> {
        let (Some(o), Some(seen)) = (&self.oauth2, &self.rebase) else {
            return Ok(());
        };
        o.token().await?;
        let (generation, values) = o.extracted();
        if generation == seen.load(std::sync::atomic::Ordering::Acquire) {
            return Ok(());
        }
        let mut config = self.config.clone();
        config.extend(values);
        let url = crate::client::render_base_url(self.meta, &config)?;
        if let Ok(mut base) = self.base_url.write() {
            *base = url.trim_end_matches('/').to_string();
        }
        seen.store(generation, std::sync::atomic::Ordering::Release);
        Ok(())
    }

    /// The connector's configuration values (server variables, scoping keys), with the
    /// spec's defaults for those not set, as record transforms read them.
    pub(crate) fn config_for_transforms(&self) -> &std::collections::BTreeMap<String, String> {
        &self.config_with_defaults
    }

    /// Runs one operation (with retries; the decode is part of each attempt, so a truncated
    /// body is retried too), inside a tracing span.
    pub(crate) async fn call<R>(
        &self,
        op: &'static OperationMeta,
        params: &Map<String, Value>,
        intent: Option<&str>,
        next_url: Option<&str>,
        decode: impl Fn(&Context, Body) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let max = self.max_response_bytes;
        let decode = &decode;
        self.exchange(op, params, intent, next_url, None, |ctx, resp| {
            let next = next_from_headers(op, resp.headers()).map(|n| {
                // A relative link is relative to the request that returned it (a cursor
                // header is a token, not a URL).
                if !matches!(op.next_page, NextPage::LinkHeader(_)) {
                    return n;
                }
                url::Url::parse(resp.url().as_str())
                    .and_then(|u| u.join(&n))
                    .map(String::from)
                    .unwrap_or(n)
            });
            async move {
                let mut body = read_ok(&ctx, resp, max).await?;
                if let Some(check) = self.meta.error_check {
                    crate::decode::check_error_field(&ctx, &body, check)?;
                }
                if op.graphql.is_some() {
                    crate::graphql::check_errors(&ctx, &body)?;
                }
                body.next = next;
                decode(&ctx, body)
            }
        })
        .await
    }

    /// Opens a one-step download: the operation's response once its status is a success,
    /// its body not read (the caller streams it). Retried like a read until then. A redirect
    /// to another origin (pre-signed storage) is followed without credentials.
    pub(crate) async fn open(
        &self,
        op: &'static OperationMeta,
        params: &Map<String, Value>,
        range: Option<&str>,
    ) -> Result<crate::Download, Error> {
        let resp = self
            .exchange(op, params, None, None, range, |ctx, resp| async move {
                if resp.status().is_success() || resp.status().is_redirection() {
                    Ok(resp)
                } else {
                    Err(crate::http::error_response(&ctx, resp).await)
                }
            })
            .await?;
        let ctx = Context::new(op.entity, op.action.as_str()).with_hints(self.hints);
        if resp.status().is_redirection() {
            // Same-origin redirects were followed by the client; this one leaves it.
            let location = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|l| resp.url().join(l).ok())
                .ok_or_else(|| {
                    Error::decode(
                        &ctx,
                        format!("a {} redirect without a usable Location", resp.status()),
                        b"",
                    )
                })?;
            return self.fetch_file(op, location.as_str(), range).await;
        }
        Ok(crate::Download::from_response(ctx, resp))
    }

    /// Fetches a two-step download's file at `url` (from the metadata). The credentials go
    /// along only when `url` lies under the base URL (same origin, path inside the base
    /// path); anywhere else (a pre-signed storage URL) the request carries none.
    pub(crate) async fn fetch_file(
        &self,
        op: &'static OperationMeta,
        url: &str,
        range: Option<&str>,
    ) -> Result<crate::Download, Error> {
        let ctx = Context::new(op.entity, op.action.as_str()).with_hints(self.hints);
        let parsed = url::Url::parse(url).map_err(|e| {
            Error::decode(
                &ctx,
                format!("the file URL `{url}` is not an absolute URL ({e})"),
                b"",
            )
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Error::decode(
                &ctx,
                format!("the file URL `{url}` is not http or https"),
                b"",
            ));
        }
        let ours = under_base(&self.base(), &parsed);
        let mut target = parsed.to_string();
        if ours {
            if let Some((name, key)) = &self.query_key {
                crate::request::append_query(&mut target, name, key.expose_secret());
            }
        }
        self.sender
            .run(crate::retry::should_retry, |_| async {
                let mut req = if ours {
                    self.http.get(&target)
                } else {
                    self.http_plain.get(&target)
                }
                .header(reqwest::header::ACCEPT, "*/*")
                // No overall deadline for a file: the client's timeout between reads stays.
                .timeout(DOWNLOAD_DEADLINE);
                if let Some(r) = range {
                    req = req.header(reqwest::header::RANGE, r);
                }
                if ours {
                    if let Some(o) = &self.oauth2 {
                        let token = o.token().await?;
                        let (name, value) = o.header(&token)?;
                        req = req.header(name, value);
                    }
                }
                let resp = req.send().await.map_err(|e| from_reqwest(&ctx, e))?;
                if resp.status().is_success() {
                    Ok(crate::Download::from_response(ctx.clone(), resp))
                } else {
                    Err(crate::http::error_response(&ctx, resp).await)
                }
            })
            .await
    }

    /// Sends `op` (built from `params`, or a next-page URL) with retries, the OAuth 2 token
    /// and its one replay after a 401, and hands each response to `finish`, whose error
    /// decides whether to retry. `range` asks for part of a download (`Range`, and
    /// `Accept: */*`).
    async fn exchange<R, F, Fut>(
        &self,
        op: &'static OperationMeta,
        params: &Map<String, Value>,
        intent: Option<&str>,
        next_url: Option<&str>,
        range: Option<&str>,
        finish: F,
    ) -> Result<R, Error>
    where
        F: Fn(Context, reqwest::Response) -> Fut,
        Fut: std::future::Future<Output = Result<R, Error>>,
    {
        self.follow_token_values().await?;
        let base_then = self.base();
        let filled;
        let params = match self.fill_from_config(op, params)? {
            Some(map) => {
                filled = map;
                &filled
            }
            None => params,
        };
        let mut url = match next_url {
            // A next-page URL from the server carries its own query; only the API key
            // parameter (if the scheme uses one) is added back.
            Some(next) => {
                let mut url = crate::request::next_page_url(op.entity, &self.base(), next)?;
                if let Some((name, _)) = &self.query_key {
                    url = strip_query_param(&url, name);
                }
                url
            }
            None => crate::request::url(&self.base(), op, params)?,
        };
        if let Some((name, key)) = &self.query_key {
            crate::request::append_query(&mut url, name, key.expose_secret());
        }
        // A POST read sends its body properties as JSON (a next-page URL carries its own
        // state in the query, so the body goes along unchanged).
        let json_body = crate::request::body(op, params)?;
        let mut param_headers = HeaderMap::new();
        for (name, value) in crate::request::headers(op, params) {
            // Credentials come from the auth scheme, never from a parameter.
            if is_credential_header(self.meta, name) {
                continue;
            }
            let header = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                Error::invalid(name, format!("`{name}` is not a valid header name"))
            })?;
            let value = HeaderValue::from_str(&value).map_err(|_| {
                Error::invalid(
                    name,
                    format!("the value of the {name} header is not valid header text"),
                )
            })?;
            param_headers.insert(header, value);
        }
        if op.action == crate::meta::Action::Download {
            param_headers.insert(reqwest::header::ACCEPT, HeaderValue::from_static("*/*"));
        }
        if let Some(range) = range {
            let value = HeaderValue::from_str(range).map_err(|_| {
                Error::invalid(
                    "range_header",
                    "must be header text such as `bytes=0-65535`",
                )
            })?;
            param_headers.insert(reqwest::header::RANGE, value);
        }
        let method = reqwest::Method::from_bytes(op.method.as_bytes()).map_err(|_| {
            Error::invalid("method", format!("`{}` is not an HTTP method", op.method))
        })?;
        let ctx = Context::new(op.entity, op.action.as_str()).with_hints(self.hints);
        let span = (self.call_span)(op.entity, op.action.as_str(), "direct");
        if let Some(intent) = intent {
            span.record("intent", intent);
        }
        async {
            // Reads and idempotent writes are repeated on failure; other writes only when
            // the request never left (see `retry`).
            let result = self
                .sender
                .run(crate::retry::rule_for(op), |_| async {
                    let mut replayed = false;
                    loop {
                        // Anything but a GET goes through the client that never turns a
                        // redirected request into a GET (it follows 307 and 308 only).
                        let client = if json_body.is_some() || method != reqwest::Method::GET {
                            &self.http_with_body
                        } else {
                            &self.http
                        };
                        // A refresh (after a 401) may have moved the base URL.
                        self.follow_token_values().await?;
                        let base_now = self.base();
                        let target = match url.strip_prefix(base_then.as_str()) {
                            Some(rest) if base_now != base_then => format!("{base_now}{rest}"),
                            _ => url.clone(),
                        };
                        let mut req = client
                            .request(method.clone(), &target)
                            .headers(param_headers.clone());
                        if op.action == crate::meta::Action::Download && op.file_url.is_none() {
                            // No overall deadline for a file (the time between reads is
                            // still bounded).
                            req = req.timeout(DOWNLOAD_DEADLINE);
                        }
                        match &json_body {
                            Some(crate::request::OutBody::Json(body)) => req = req.json(body),
                            Some(crate::request::OutBody::Form(text)) => {
                                req = req
                                    .header(
                                        reqwest::header::CONTENT_TYPE,
                                        "application/x-www-form-urlencoded",
                                    )
                                    .body(text.clone());
                            }
                            Some(crate::request::OutBody::Bytes {
                                content_type,
                                bytes,
                            }) => {
                                req = req
                                    .header(reqwest::header::CONTENT_TYPE, content_type.as_str())
                                    .body(bytes.clone());
                            }
                            None => {}
                        }
                        let token = match &self.oauth2 {
                            Some(o) => {
                                let token = o.token().await?;
                                let (name, value) = o.header(&token)?;
                                req = req.header(name, value);
                                Some(token)
                            }
                            None => None,
                        };
                        let resp = req.send().await.map_err(|e| from_reqwest(&ctx, e))?;
                        if resp.status().as_u16() == 401 && !replayed {
                            if let (Some(o), Some(t)) = (&self.oauth2, &token) {
                                if o.can_refresh() {
                                    tracing::debug!("401 with an OAuth 2 token; refreshing it and replaying once");
                                    o.refused(t).await;
                                    replayed = true;
                                    continue;
                                }
                            }
                        }
                        return finish(ctx.clone(), resp).await;
                    }
                })
                .await;
            let status = match &result {
                Ok(_) => 200,
                Err(e) => e.status().unwrap_or(0),
            };
            tracing::Span::current().record("status", status);
            result
        }
        .instrument(span)
        .await
    }
}

/// The whole-request deadline of a download (the client's timeout still bounds each read).
const DOWNLOAD_DEADLINE: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);

/// Whether `url` lies under `base` (same scheme, host and port; path inside the base path).
fn under_base(base: &str, url: &url::Url) -> bool {
    let Ok(base) = url::Url::parse(base) else {
        return false;
    };
    let prefix = base.path().trim_end_matches('/');
    base.origin() == url.origin()
        && (url.path() == prefix
            || url.path().starts_with(&format!("{prefix}/"))
            || prefix.is_empty())
}

/// Adds a header whose value is a credential: marked sensitive, so it never shows in logs.
fn insert_secret(
    headers: &mut HeaderMap,
    name: HeaderName,
    value: &str,
    scheme: &str,
) -> Result<(), Error> {
    let mut value = HeaderValue::from_str(value).map_err(|_| {
        Error::invalid(
            scheme,
            "a credential is not a valid HTTP header value; use it exactly as the API shows it",
        )
    })?;
    value.set_sensitive(true);
    headers.insert(name, value);
    Ok(())
}

/// Fills `{{ field }}` placeholders from the credentials (a missing field renders empty);
/// other text is kept as it is.
pub(crate) fn render_jinja(template: &str, credentials: &Credentials) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find("}}").map(|c| open + c) else {
            out.push_str(&rest[open..]);
            return out;
        };
        let name = rest[open + 2..close].trim();
        if let Some(v) = credentials.get(name) {
            out.push_str(v.expose_secret());
        }
        rest = &rest[close + 2..];
    }
    out.push_str(rest);
    out
}

impl DirectTransport {
    /// A next-page URL as the caller sees it: without the API key parameter, when the
    /// scheme sends the key in the query (it is added back when the URL is followed).
    pub(crate) fn scrub_next(&self, op: &OperationMeta, next: Option<String>) -> Option<String> {
        match (&self.query_key, next) {
            (Some((name, _)), Some(url)) if op.follows_urls() => {
                Some(strip_query_param(&url, name))
            }
            (_, next) => next,
        }
    }

    /// `params` with the parameters the caller left out filled from the configuration
    /// (`x-airbyte-scoping`, `x-airbyte-param-config-inject`); `None` when nothing changes.
    fn fill_from_config(
        &self,
        op: &OperationMeta,
        params: &Map<String, Value>,
    ) -> Result<Option<Map<String, Value>>, Error> {
        let mut out: Option<Map<String, Value>> = None;
        for c in self.meta.config_params {
            let applies = match c.operation {
                Some((entity, action)) => entity == op.entity && action == op.action.as_str(),
                None => op.param(c.param).is_some(),
            };
            let Some(meta) = op.param(c.param).filter(|_| applies) else {
                continue;
            };
            // The caller's value wins; a header or body default (filled in before this)
            // gives way to the configuration.
            let default = meta
                .default
                .and_then(|d| serde_json::from_str::<Value>(d).ok());
            let given = params.get(c.param).filter(|v| !v.is_null());
            if given.is_some_and(|v| Some(v) != default.as_ref()) {
                continue;
            }
            let Some(value) = self
                .config
                .get(c.config_key)
                .map(String::as_str)
                .or_else(|| self.meta.config_field(c.config_key).and_then(|f| f.default))
            else {
                // No configuration value: the parameter's own default, if it has one.
                if given.is_none() {
                    if let Some(d) = default {
                        out.get_or_insert_with(|| params.clone())
                            .insert(c.param.to_string(), d);
                        continue;
                    }
                }
                if given.is_some() {
                    continue;
                }
                if c.required {
                    return Err(Error::invalid(
                        c.param,
                        format!(
                            "{}.{} requires `{}`: pass it, or set the `{}` configuration value once on the builder",
                            op.entity, op.action, c.param, c.config_key
                        ),
                    ));
                }
                continue;
            };
            let value = match c.split {
                None => value,
                Some((sep, index)) => {
                    let parts: Vec<&str> = value.split(sep).collect();
                    let at = if index < 0 {
                        parts.len().checked_sub(index.unsigned_abs() as usize)
                    } else {
                        usize::try_from(index).ok()
                    };
                    match at
                        .and_then(|i| parts.get(i).copied())
                        .filter(|p| !p.is_empty())
                    {
                        Some(part) => part,
                        None => continue,
                    }
                }
            };
            let mapped = if c.map.is_empty() {
                value.to_string()
            } else {
                let upper = value.to_uppercase();
                c.map
                    .iter()
                    .find(|(k, _)| *k == value)
                    .or_else(|| c.map.iter().find(|(k, _)| *k == upper))
                    .map(|(_, v)| v.to_string())
                    .unwrap_or_else(|| value.to_string())
            };
            // Typed like the parameter: `50` is a number for an integer parameter.
            let typed = match meta.kind {
                crate::meta::ParamKind::Integer => mapped.parse::<i64>().ok().map(Value::from),
                crate::meta::ParamKind::Number => mapped
                    .parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number),
                crate::meta::ParamKind::Boolean => mapped.parse::<bool>().ok().map(Value::Bool),
                _ => Some(Value::String(mapped.clone())),
            }
            .ok_or_else(|| {
                Error::invalid(
                    format!("config.{}", c.config_key),
                    format!(
                        "{mapped:?} (from the `{}` configuration value) is not a valid {} for `{}`",
                        c.config_key,
                        meta.kind.json_type(),
                        c.param
                    ),
                )
            })?;
            out.get_or_insert_with(|| params.clone())
                .insert(c.param.to_string(), typed);
        }
        // Values from the configuration get the same checks as the caller's.
        out.map(|map| crate::params::finish(op, map)).transpose()
    }
}

/// The next page as this operation's response headers give it: the `Link` entry with the
/// operation's `rel`, or the cursor header.
fn next_from_headers(op: &OperationMeta, headers: &HeaderMap) -> Option<String> {
    match op.next_page {
        NextPage::LinkHeader(rel) => headers
            .get_all(reqwest::header::LINK)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| crate::request::link_with_rel(v, rel)),
        NextPage::HeaderCursor(name) => headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string),
        _ => None,
    }
}

/// Whether a header carries credentials: `Authorization`, cookies, or a header one of the
/// connector's auth schemes sets (an API key header, an additional header).
fn is_credential_header(meta: &crate::meta::ConnectorMeta, name: &str) -> bool {
    ["authorization", "proxy-authorization", "cookie"]
        .iter()
        .any(|h| name.eq_ignore_ascii_case(h))
        || meta.auth.iter().any(|s| {
            s.additional_headers
                .iter()
                .any(|(h, _)| name.eq_ignore_ascii_case(h))
                || matches!(s.kind, AuthKind::ApiKeyHeader { name: header } if name.eq_ignore_ascii_case(header))
        })
}

/// `url` without the query parameter `name` (so the API key is not sent twice).
fn strip_query_param(url: &str, name: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return url.to_string();
    };
    if parsed.query().is_none() {
        return url.to_string();
    }
    let kept: Vec<(String, String)> = parsed
        .query_pairs()
        .filter(|(k, _)| k != name)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if kept.is_empty() {
        parsed.set_query(None);
    } else {
        parsed.query_pairs_mut().clear().extend_pairs(kept);
    }
    parsed.into()
}
