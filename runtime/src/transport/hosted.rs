//! Hosted transport: every call goes through Airbyte's API, and the API's own credentials stay
//! in Airbyte.
//!
//! - Token exchange: `POST /api/v1/account/applications/token` with `{client_id, client_secret}`.
//!   The token is cached until a minute before `expires_in` (15 minutes when absent), measured
//!   on the monotonic clock. Refresh is single-flight: concurrent callers on a cold or expired
//!   cache wait for one exchange. A 401 on an API call drops the token and replays the call
//!   once.
//! - Connector resolution: the configured `connector_id`, else one lookup by workspace and
//!   definition id (`GET /api/v1/integrations/connectors`), remembered for the connector's life.
//! - Execute: `POST /api/v1/integrations/connectors/{id}/execute` with `{entity, action,
//!   params}`. `result` holds the data and `connector_metadata.next_cursor` the cursor.
//!
//! Every request sends `Authorization: Bearer <token>` (except the token exchange itself),
//! `X-Organization-Id` when one is set, and this crate's user agent.

use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use tokio::sync::{Mutex, OnceCell, RwLock};
use tracing::Instrument;

use crate::auth::{AirbyteAuthConfig, Credentials};
use crate::error::Context;
use crate::extract::Paths;
use crate::http::{from_reqwest, http_client, read_ok, Body, HttpSettings};
use crate::meta::ConnectorMeta;
use crate::meta::RecordElement;
use crate::retry::{never_sent, should_retry, Sender};
use crate::Error;

/// Airbyte's API, when no URL is configured.
pub const DEFAULT_AIRBYTE_API_URL: &str = "https://api.airbyte.ai";

/// Token lifetime assumed when the exchange does not say (`expires_in` absent).
const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(15 * 60);
/// The longest a token is cached, whatever `expires_in` claims (a server value is never
/// trusted to size a wait).
const MAX_TOKEN_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// Where an `/execute` answer keeps the records (`result`) and the cursor
/// (`connector_metadata.next_cursor`).
pub(crate) const RESULT_PATHS: Paths<'static> = Paths {
    records: &["result"],
    cursor: &["connector_metadata", "next_cursor"],
    element: RecordElement::Whole,
    flag: false,
};
/// Refresh this long before the token expires.
const REFRESH_EARLY: Duration = Duration::from_secs(60);

struct CachedToken {
    token: SecretString,
    refresh_at: Instant,
}

/// Calls the API through Airbyte.
pub(crate) struct HostedTransport {
    meta: &'static ConnectorMeta,
    http: reqwest::Client,
    api_url: String,
    client_id: String,
    client_secret: SecretString,
    organization_id: Option<String>,
    workspace_name: String,
    connector_id: OnceCell<String>,
    token: RwLock<Option<CachedToken>>,
    refresh: Mutex<()>,
    sender: Sender,
    max_response_bytes: usize,
}

impl std::fmt::Debug for HostedTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostedTransport")
            .field("api_url", &self.api_url)
            .field("client_id", &self.client_id)
            .field("organization_id", &self.organization_id)
            .field("workspace_name", &self.workspace_name)
            .field("connector_id", &self.connector_id.get())
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<f64>,
}

#[derive(Deserialize)]
struct ConnectorList {
    #[serde(default)]
    data: Vec<ConnectorSummary>,
}

#[derive(Deserialize)]
struct ConnectorSummary {
    id: String,
}

impl HostedTransport {
    pub(crate) fn new(
        meta: &'static ConnectorMeta,
        config: &AirbyteAuthConfig,
        settings: &HttpSettings,
    ) -> Result<Self, Error> {
        config.validate()?;
        let api_url = crate::http::check_base_url(
            "airbyte_api_url",
            config.api_url.as_deref().unwrap_or(DEFAULT_AIRBYTE_API_URL),
        )?;
        let mut headers = HeaderMap::new();
        if let Some(org) = &config.organization_id {
            let value = HeaderValue::from_str(org).map_err(|_| {
                Error::invalid("organization_id", "it is not a valid HTTP header value")
            })?;
            headers.insert("x-organization-id", value);
        }
        let connector_id = OnceCell::new();
        if let Some(id) = &config.connector_id {
            connector_id
                .set(id.clone())
                .expect("a fresh OnceCell takes one value");
        }
        Ok(HostedTransport {
            meta,
            http: http_client(settings, headers)?,
            api_url,
            client_id: config.client_id.clone(),
            client_secret: config.client_secret.clone(),
            organization_id: config.organization_id.clone(),
            workspace_name: config
                .workspace_name
                .clone()
                .unwrap_or_else(|| "default".to_string()),
            connector_id,
            token: RwLock::new(None),
            refresh: Mutex::new(()),
            sender: settings.sender.clone(),
            max_response_bytes: settings.max_response_bytes,
        })
    }

    /// The connector id, once configured or looked up.
    pub(crate) fn known_connector_id(&self) -> Option<&str> {
        self.connector_id.get().map(String::as_str)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.api_url)
    }

    /// A valid access token: cached, or exchanged once for all concurrent callers.
    async fn token(&self) -> Result<SecretString, Error> {
        if let Some(t) = self.token.read().await.as_ref() {
            if Instant::now() < t.refresh_at {
                return Ok(t.token.clone());
            }
        }
        let _guard = self.refresh.lock().await;
        if let Some(t) = self.token.read().await.as_ref() {
            if Instant::now() < t.refresh_at {
                return Ok(t.token.clone());
            }
        }
        let (token, ttl) = self.sender.run(should_retry, |_| self.exchange()).await?;
        let now = Instant::now();
        let refresh_at = now.checked_add(refresh_after(ttl)).unwrap_or(now);
        *self.token.write().await = Some(CachedToken {
            token: token.clone(),
            refresh_at,
        });
        Ok(token)
    }

    /// Drops the cached token if it is still the one that was just refused.
    async fn invalidate(&self, refused: &SecretString) {
        let mut slot = self.token.write().await;
        if slot
            .as_ref()
            .is_some_and(|t| t.token.expose_secret() == refused.expose_secret())
        {
            *slot = None;
        }
    }

    async fn exchange(&self) -> Result<(SecretString, Duration), Error> {
        let ctx = Context::new("airbyte", "token");
        let span = tracing::debug_span!("airbyte.token", status = tracing::field::Empty);
        async {
            let resp = self
                .http
                .post(self.url("/api/v1/account/applications/token"))
                .json(&json!({
                    "client_id": self.client_id,
                    "client_secret": self.client_secret.expose_secret(),
                }))
                .send()
                .await
                .map_err(|e| from_reqwest(&ctx, e))?;
            let status = resp.status().as_u16();
            tracing::Span::current().record("status", status);
            let body = read_ok(&ctx, resp, self.max_response_bytes)
                .await
                .map_err(|e| e.redact(&[self.client_secret.expose_secret()]))?;
            parse_token_response(&ctx, &body.bytes)
        }
        .instrument(span)
        .await
    }

    /// Sends an authenticated request and decodes its body, with retries (see `retry`); on a
    /// 401 drops the token and replays once.
    async fn call_authed<T>(
        &self,
        ctx: &Context,
        retryable: fn(&Error) -> bool,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
        decode: impl Fn(&Context, Body) -> Result<T, Error>,
    ) -> Result<T, Error> {
        self.sender
            .run(retryable, |_| async {
                let body = self.send_authed(ctx, &build).await?;
                decode(ctx, body)
            })
            .await
    }

    async fn send_authed(
        &self,
        ctx: &Context,
        build: &impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<Body, Error> {
        let mut replayed = false;
        loop {
            let token = self.token().await?;
            let resp = build(&self.http)
                .bearer_auth(token.expose_secret())
                .send()
                .await
                .map_err(|e| from_reqwest(ctx, e))?;
            if resp.status().as_u16() == 401 && !replayed {
                tracing::debug!("airbyte answered 401; refreshing the token and replaying once");
                self.invalidate(&token).await;
                replayed = true;
                continue;
            }
            return read_ok(ctx, resp, self.max_response_bytes).await;
        }
    }

    /// The connector id: configured, or looked up once by workspace and definition id.
    pub(crate) async fn connector_id(&self) -> Result<&str, Error> {
        self.connector_id
            .get_or_try_init(|| self.lookup())
            .await
            .map(String::as_str)
    }

    async fn lookup(&self) -> Result<String, Error> {
        let ctx = Context::new("airbyte", "connector lookup");
        let workspace = self.workspace_name.clone();
        let list: ConnectorList = self
            .call_authed(
                &ctx,
                should_retry,
                |http| {
                    http.get(self.url("/api/v1/integrations/connectors"))
                        .query(&[
                            ("workspace_name", workspace.as_str()),
                            ("definition_id", self.meta.definition_id),
                        ])
                },
                decode_body,
            )
            .await?;
        match list.data.as_slice() {
            [one] => Ok(one.id.clone()),
            [] => Err(Error::ConnectorNotFound {
                workspace: workspace.clone(),
                message: format!(
                    "no {} connector exists in Airbyte workspace {workspace:?} (definition {}); create one with {}Connector::create(..), or pass .connector_id(..) / .workspace_name(..) on AirbyteAuthConfig",
                    self.meta.display_name,
                    self.meta.definition_id,
                    self.meta.type_prefix
                ),
            }),
            many => Err(Error::AmbiguousConnector {
                workspace: workspace.clone(),
                ids: many.iter().map(|c| c.id.clone()).collect(),
            }),
        }
    }

    /// Airbyte's view of the connector: `GET /api/v1/integrations/connectors/{id}/inspect`.
    pub(crate) async fn inspect(&self) -> Result<Value, Error> {
        let ctx = Context::new("airbyte", "inspect");
        let id = self.connector_id().await?.to_string();
        let url = self.url(&format!(
            "/api/v1/integrations/connectors/{}/inspect",
            crate::request::encode_segment(&id)
        ));
        self.call_authed(&ctx, should_retry, |http| http.get(&url), decode_body)
            .await
    }

    /// Airbyte's skill docs for this connector: `GET /api/v1/skills/docs?id=<docs_skill_id>`
    /// (the id from [`inspect`](Self::inspect)), with `section` when given.
    pub(crate) async fn skill_docs(&self, section: Option<&str>) -> Result<Value, Error> {
        let ctx = Context::new("airbyte", "skill docs");
        let inspected = self.inspect().await?;
        let Some(skill) = inspected.get("docs_skill_id").and_then(Value::as_str) else {
            return Err(Error::decode(
                &ctx,
                "Airbyte's inspect answer has no docs_skill_id",
                inspected.to_string().as_bytes(),
            ));
        };
        let mut query = vec![("id", skill.to_string())];
        if let Some(s) = section {
            query.push(("section", s.to_string()));
        }
        let url = self.url("/api/v1/skills/docs");
        self.call_authed(
            &ctx,
            should_retry,
            |http| http.get(&url).query(&query),
            decode_body,
        )
        .await
    }

    /// Runs one execute call (with retries, decode included); `decode` reads Airbyte's
    /// `{result, connector_metadata}` body (see [`RESULT_PATHS`]).
    pub(crate) async fn execute<R>(
        &self,
        entity: &str,
        action: &str,
        params: &Map<String, Value>,
        extras: super::CallExtras<'_>,
        decode: impl Fn(&Context, Body) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let ctx = Context::new(entity, action).with_hints(self.meta.hints);
        let span = (self.meta.call_span)(entity, action, "hosted");
        async {
            let id = self.connector_id().await?.to_string();
            let url = self.url(&format!(
                "/api/v1/integrations/connectors/{}/execute",
                crate::request::encode_segment(&id)
            ));
            let mut body = json!({
                "entity": entity,
                "action": action,
                "params": params,
                "skip_truncation": extras.skip_truncation,
            });
            if let Some(f) = extras.select_fields {
                body["select_fields"] = json!(f);
            }
            if let Some(f) = extras.exclude_fields {
                body["exclude_fields"] = json!(f);
            }
            if let Some(i) = extras.intent {
                body["intent"] = json!(i);
                tracing::Span::current().record("intent", i);
            }
            // A write that is not idempotent runs at most once on the API: retried only
            // when the request never reached Airbyte.
            let retry = if extras.idempotent {
                should_retry
            } else {
                never_sent
            };
            let result = self
                .call_authed(&ctx, retry, |http| http.post(&url).json(&body), &decode)
                .await;
            tracing::Span::current().record(
                "status",
                match &result {
                    Ok(_) => 200,
                    Err(e) => e.status().unwrap_or(0),
                },
            );
            result
        }
        .instrument(span)
        .await
    }

    /// A context-store search: `result` is `{data, meta: {has_more, cursor, took_ms}}`.
    pub(crate) async fn search<R: DeserializeOwned>(
        &self,
        entity: &str,
        params: Map<String, Value>,
    ) -> Result<crate::search::SearchPage<R>, Error> {
        let page: crate::search::WirePage<R> = self
            .execute(
                entity,
                crate::search::SEARCH_ACTION,
                &params,
                super::CallExtras::default(),
                |ctx, body| crate::decode::one(ctx, body, RESULT_PATHS),
            )
            .await?;
        Ok(crate::search::SearchPage::from_wire(page))
    }

    /// A context-store SQL query: `result` is `{data: [rows], meta}`.
    pub(crate) async fn sql(
        &self,
        entity: &str,
        params: Map<String, Value>,
    ) -> Result<crate::sql::SqlResult, Error> {
        self.execute(
            entity,
            crate::sql::SQL_ACTION,
            &params,
            super::CallExtras::default(),
            |ctx, body| crate::decode::one(ctx, body, RESULT_PATHS),
        )
        .await
    }

    /// A context-store search or SQL query (`action`) returning Airbyte's `result` as sent
    /// (the `execute` path).
    pub(crate) async fn context_store_raw(
        &self,
        entity: &str,
        action: &str,
        params: Map<String, Value>,
        extras: super::CallExtras<'_>,
    ) -> Result<crate::decode::RawOutput, Error> {
        self.execute(entity, action, &params, extras, |ctx, body| {
            crate::decode::search_result(ctx, body, RESULT_PATHS)
        })
        .await
    }

    /// Creates a hosted connector in a workspace, holding `credentials`; returns its id.
    pub(crate) async fn create(
        &self,
        workspace: &str,
        name: &str,
        credentials: &Credentials,
        replication_config: Option<&Value>,
        source_template_id: Option<&str>,
    ) -> Result<String, Error> {
        let ctx = Context::new("airbyte", "create connector");
        let mut body = json!({
            "name": name,
            "definition_id": self.meta.definition_id,
            "workspace_name": workspace,
            "credentials": credentials.to_json(),
        });
        if let Some(rc) = replication_config {
            body["replication_config"] = rc.clone();
        }
        if let Some(t) = source_template_id {
            body["source_template_id"] = json!(t);
        }
        #[derive(Deserialize)]
        struct Created {
            id: String,
        }
        // Creating is not idempotent: retried only when the request never reached Airbyte.
        let created: Created = self
            .call_authed(
                &ctx,
                never_sent,
                |http| {
                    http.post(self.url("/api/v1/integrations/connectors"))
                        .json(&body)
                },
                decode_body,
            )
            .await?;
        self.connector_id.set(created.id.clone()).map_err(|_| {
            Error::invalid(
                "connector_id",
                "this connector is already bound to a connector id",
            )
        })?;
        Ok(created.id)
    }
}

fn decode_body<T: DeserializeOwned>(ctx: &Context, body: Body) -> Result<T, Error> {
    serde_json::from_slice(&body.bytes).map_err(|e| Error::decode_json(ctx, &e, &body.bytes))
}

/// How long a token is used before it is refreshed: until a minute before it expires (half
/// its life when that is short), and never longer than [`MAX_TOKEN_TTL`].
fn refresh_after(ttl: Duration) -> Duration {
    let ttl = ttl.min(MAX_TOKEN_TTL);
    if ttl > REFRESH_EARLY * 2 {
        ttl - REFRESH_EARLY
    } else {
        ttl / 2
    }
}

/// Reads a token exchange's answer: a non-empty `access_token`, and `expires_in` (seconds,
/// integer or fractional) as a lifetime; an absent, negative, non-finite or huge `expires_in`
/// never panics (absent or unusable: 15 minutes; huge: capped at a day).
pub(crate) fn parse_token_response(
    ctx: &Context,
    body: &[u8],
) -> Result<(SecretString, Duration), Error> {
    let parsed: TokenResponse = serde_json::from_slice(body).map_err(|e| {
        // Never echo the body: it may hold a token.
        Error::decode_json(ctx, &e, b"[redacted]")
    })?;
    if parsed.access_token.trim().is_empty() {
        return Err(Error::decode(
            ctx,
            "token response has an empty access_token",
            b"",
        ));
    }
    let ttl = parsed
        .expires_in
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| {
            Duration::try_from_secs_f64(s)
                .unwrap_or(MAX_TOKEN_TTL)
                .min(MAX_TOKEN_TTL)
        })
        .unwrap_or(DEFAULT_TOKEN_TTL);
    Ok((SecretString::from(parsed.access_token), ttl))
}
