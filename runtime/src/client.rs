//! The connector-independent core of every generated connector: [`Client`], one
//! cheap-to-clone handle (an `Arc`) holding the chosen transport, its connection pool and the
//! connector's [`ConnectorMeta`]; [`ClientBuilder`], which validates configuration before any
//! request; and the untyped [`execute`](Client::execute) entry point for agents. The generated
//! `<Connector>Connector` and `<Connector>ConnectorBuilder` are thin wrappers around these.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::auth::{AirbyteAuthConfig, Credentials};
use crate::decode::RawOutput;
use crate::http::check_base_url;
use crate::http::HttpSettings;
use crate::meta::{self, ConnectorMeta};
use crate::output::ExecuteOptions;
use crate::transport::direct::DirectTransport;
use crate::transport::hosted::HostedTransport;
use crate::transport::Transport;
use crate::{introspect, Error, RetryPolicy};

/// A connection to one API, direct or through Airbyte. Cheap to clone (it is an `Arc`); clones
/// share one connection pool.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    transport: Transport,
    base_url: String,
    meta: &'static ConnectorMeta,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("connector", &self.inner.meta.name)
            .field("transport", &self.inner.transport.name())
            .field("base_url", &self.inner.base_url)
            .finish_non_exhaustive()
    }
}

/// The credentials a client is built with: the API's own (direct mode) or Airbyte's (hosted).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum AuthChoice {
    /// Direct mode with the API's credentials.
    Direct(Credentials),
    /// Hosted mode through Airbyte.
    Hosted(AirbyteAuthConfig),
}

impl Client {
    /// Starts building a client for the connector `meta` describes.
    pub fn builder(meta: &'static ConnectorMeta) -> ClientBuilder {
        ClientBuilder {
            meta,
            auth: None,
            base_url: None,
            config: Default::default(),
            http: HttpSettings::for_connector(meta),
            rate_limit: None,
        }
    }

    pub(crate) fn transport(&self) -> &Transport {
        &self.inner.transport
    }

    /// The connector this client talks to.
    pub fn meta(&self) -> &'static ConnectorMeta {
        self.inner.meta
    }

    /// The base URL calls go to (direct mode), or the Airbyte API URL (hosted).
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// Whether calls go through Airbyte (hosted mode).
    pub fn is_hosted(&self) -> bool {
        matches!(self.inner.transport, Transport::Hosted(_))
    }

    /// The hosted connector's id, once known (configured, looked up by the first call, or
    /// created); `None` in direct mode and before the lookup.
    pub fn connector_id(&self) -> Option<&str> {
        match &self.inner.transport {
            Transport::Hosted(h) => h.known_connector_id(),
            Transport::Direct(_) => None,
        }
    }

    /// Hosted mode: resolves the connector id now (configured, or looked up once by workspace
    /// and definition id), so a missing or ambiguous connector is reported here rather than on
    /// the first call. Direct mode: an [`Error::HostedOnly`].
    pub async fn resolve_connector_id(&self) -> Result<String, Error> {
        match &self.inner.transport {
            Transport::Hosted(h) => h.connector_id().await.map(str::to_string),
            Transport::Direct(_) => Err(Error::HostedOnly {
                operation: "resolve_connector_id".to_string(),
            }),
        }
    }

    /// Creates a hosted connector in Airbyte holding `credentials`, and returns a client bound
    /// to it (await the returned builder). The Airbyte config must name a workspace.
    pub fn create(
        meta: &'static ConnectorMeta,
        airbyte: AirbyteAuthConfig,
        credentials: Credentials,
    ) -> CreateConnector {
        CreateConnector {
            meta,
            airbyte,
            credentials,
            name: None,
            replication_config: None,
            source_template_id: None,
            http: HttpSettings::for_connector(meta),
        }
    }

    /// Builds a client from environment variables, looked up with `lookup`.
    ///
    /// Direct mode when the variables of one auth scheme are set (each credential field has
    /// one: `<PREFIX>_<FIELD>`, such as `INCIDENT_IO_API_KEY`), with `<PREFIX>_BASE_URL`
    /// optional; otherwise hosted mode from `AIRBYTE_CLIENT_ID` and `AIRBYTE_CLIENT_SECRET`
    /// (with optional `AIRBYTE_ORGANIZATION_ID`, `AIRBYTE_WORKSPACE_NAME` or its older name
    /// `AIRBYTE_CUSTOMER_NAME`, `AIRBYTE_CONNECTOR_ID`, `AIRBYTE_API_URL`). If neither set is
    /// complete, the error lists what is missing.
    pub fn from_env_with(
        meta: &'static ConnectorMeta,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Client, Error> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        // Schemes whose required variables are all set; exactly one must remain.
        let complete: Vec<&'static meta::AuthSchemeMeta> = meta
            .auth
            .iter()
            .filter(|s| {
                s.fields.iter().any(|f| get(f.env).is_some())
                    && s.fields.iter().all(|f| !f.required || get(f.env).is_some())
            })
            .collect();
        if complete.len() > 1 {
            return Err(Error::invalid(
                "environment",
                format!(
                    "the variables of several auth schemes are set ({}); set only one scheme's",
                    complete
                        .iter()
                        .map(|s| s.key)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        if let Some(scheme) = complete.first() {
            let mut credentials = Credentials::new(scheme);
            for f in scheme.fields {
                if let Some(v) = get(f.env) {
                    credentials = credentials.set(f.name, v);
                }
            }
            let mut builder = Self::builder(meta).auth(AuthChoice::Direct(credentials));
            for field in meta.config {
                if let Some(v) = get(field.env) {
                    builder = builder.config(field.name, v);
                }
            }
            if let Some(url) = get(&format!("{}_BASE_URL", meta.env_prefix)) {
                builder = builder.base_url(&url)?;
            }
            return builder.build();
        }
        match (get("AIRBYTE_CLIENT_ID"), get("AIRBYTE_CLIENT_SECRET")) {
            (Some(id), Some(secret)) => {
                let mut config = AirbyteAuthConfig::new(id, secret);
                if let Some(v) = get("AIRBYTE_ORGANIZATION_ID") {
                    config = config.organization_id(v);
                }
                match (get("AIRBYTE_WORKSPACE_NAME"), get("AIRBYTE_CUSTOMER_NAME")) {
                    (Some(w), Some(c)) if w != c => {
                        return Err(Error::invalid(
                            "environment",
                            format!("AIRBYTE_WORKSPACE_NAME ({w:?}) and its older name AIRBYTE_CUSTOMER_NAME ({c:?}) disagree; set only AIRBYTE_WORKSPACE_NAME"),
                        ))
                    }
                    (Some(v), _) | (None, Some(v)) => config = config.workspace_name(v),
                    (None, None) => {}
                }
                if let Some(v) = get("AIRBYTE_CONNECTOR_ID") {
                    config = config.connector_id(v);
                }
                if let Some(v) = get("AIRBYTE_API_URL") {
                    config = config.airbyte_api_url(v);
                }
                Self::builder(meta).auth(AuthChoice::Hosted(config)).build()
            }
            (id, secret) => {
                let mut missing = Vec::new();
                if id.is_none() {
                    missing.push("AIRBYTE_CLIENT_ID");
                }
                if secret.is_none() {
                    missing.push("AIRBYTE_CLIENT_SECRET");
                }
                let direct = direct_env_names(meta);
                Err(Error::invalid(
                    "environment",
                    format!(
                        "no complete credentials: set {direct} for direct mode, or AIRBYTE_CLIENT_ID and AIRBYTE_CLIENT_SECRET for hosted mode (missing: {direct}, or {})",
                        missing.join(" and ")
                    ),
                ))
            }
        }
    }

    /// Checks that the connector can read data: a one-record list of the spec's preferred
    /// check entity. Never fails; the outcome is in the result.
    pub async fn check(&self) -> CheckResult {
        let ops = self.inner.meta.operations;
        let op = ops
            .iter()
            .copied()
            .find(|o| o.preferred_for_check)
            .or_else(|| {
                ops.iter().copied().find(|o| {
                    o.action == meta::Action::List
                        && o.params.iter().all(|p| !p.required || p.default.is_some())
                })
            });
        let Some(op) = op else {
            return CheckResult {
                status: CheckStatus::Unhealthy,
                error: Some("the spec has no list operation to check with".to_string()),
                checked_entity: None,
                checked_action: None,
            };
        };
        let params = match op.page_size_param {
            Some(p) => serde_json::json!({ p: 1 }),
            None => serde_json::json!({}),
        };
        let outcome = self.execute(op.entity, op.action.as_str(), params).await;
        CheckResult {
            status: if outcome.is_ok() {
                CheckStatus::Healthy
            } else {
                CheckStatus::Unhealthy
            },
            error: outcome.err().map(|e| e.to_string()),
            checked_entity: Some(op.entity.to_string()),
            checked_action: Some(op.action.as_str().to_string()),
        }
    }

    /// Runs `action` on `entity` with untyped `params`, the single tool an agent calls.
    ///
    /// Returns the reference SDK's envelopes: for `list`, `{"data": [...], "meta":
    /// {"next_cursor": ...}}` (pass `next_cursor` back as `after` for the next page; it is
    /// `null` on the last page); for `get`, the record itself. An unknown entity, action or
    /// parameter, or a parameter of the wrong type or out of bounds, is rejected before any
    /// request with an [`Error::InvalidInput`] that lists what is valid.
    ///
    /// A result larger than [`DEFAULT_MAX_OUTPUT_CHARS`](crate::DEFAULT_MAX_OUTPUT_CHARS) (100,000) characters of JSON is
    /// refused with an [`Error::InvalidInput`] that says what to ask for instead (a smaller
    /// `page_size`, `limit` or `fields`); it is never truncated. Use
    /// [`execute_with`](Self::execute_with) to change or lift the limit.
    pub async fn execute(&self, entity: &str, action: &str, params: Value) -> Result<Value, Error> {
        self.execute_with(entity, action, params, ExecuteOptions::default())
            .await
    }

    /// [`execute`](Self::execute) with options: [`ExecuteOptions::max_output_chars`] caps the
    /// size of the result (`None` or `Some(0)`: no cap).
    pub async fn execute_with(
        &self,
        entity: &str,
        action: &str,
        params: Value,
        options: ExecuteOptions,
    ) -> Result<Value, Error> {
        self.execute_raw(entity, action, params, options)
            .await?
            .to_value()
    }

    /// [`execute_with`](Self::execute_with), returning the result as compact JSON text instead
    /// of a `serde_json::Value`: the records are the server's own bytes, spliced into the
    /// envelope without being decoded (only insignificant whitespace is removed). The fastest
    /// way to move records on (to a file, a socket, an agent).
    pub async fn execute_raw(
        &self,
        entity: &str,
        action: &str,
        params: Value,
        options: ExecuteOptions,
    ) -> Result<RawOutput, Error> {
        options.check()?;
        if !options.allow_writes {
            self.refuse_write(entity, action)?;
        }
        let result = self
            .execute_unlimited(entity, action, params, options.extras())
            .await?
            .shaped(&options.shaping(action))?;
        match options.max_output_chars {
            Some(limit) if limit > 0 => {
                crate::output::check_output_size(self.inner.meta, entity, action, &result, limit)?
            }
            _ => {}
        }
        Ok(result)
    }

    /// Opens the download of `entity` (its `download` action) with untyped `params`,
    /// checked against the spec before any request: the untyped twin of the generated
    /// `connector.<entity>().download(..)`. `range` asks for part of the file (`bytes=0-1023`).
    pub async fn download(
        &self,
        entity: &str,
        params: Value,
        range: Option<&str>,
    ) -> Result<crate::Download, Error> {
        let meta = self.inner.meta;
        let op = meta
            .entity(entity)
            .ok_or_else(|| {
                Error::invalid(
                    "entity",
                    format!(
                        "unknown entity `{entity}`; valid entities: {}",
                        meta.entity_names().join(", ")
                    ),
                )
            })?
            .operation("download")
            .ok_or_else(|| {
                Error::invalid("action", format!("`{entity}` has no `download` action"))
            })?;
        let params = match params {
            Value::Null => serde_json::Map::new(),
            Value::Object(map) => map,
            other => {
                return Err(Error::invalid(
                    "params",
                    format!("must be a JSON object, got {other}"),
                ))
            }
        };
        let params = crate::params::check_untyped(op, params)?;
        crate::download::open(self, op, params, range.map(str::to_string)).await
    }

    /// A write asked of `execute` without [`ExecuteOptions::allow_writes`]: refused before
    /// any request (unknown entities and actions are left to the usual checks).
    fn refuse_write(&self, entity: &str, action: &str) -> Result<(), Error> {
        let write = self
            .inner
            .meta
            .entity(entity)
            .and_then(|e| e.operation(action))
            .is_some_and(|op| op.action.is_write());
        if write {
            return Err(Error::invalid(
                "action",
                format!("`{entity}.{action}` changes data, and writes are off: `execute` is read-only unless its caller allows writes (`ExecuteOptions::allow_writes(true)`; for the CLI's MCP server, `mcp --allow-writes`)"),
            ));
        }
        Ok(())
    }

    async fn execute_unlimited(
        &self,
        entity: &str,
        action: &str,
        params: Value,
        extras: crate::transport::CallExtras<'_>,
    ) -> Result<RawOutput, Error> {
        let meta = self.inner.meta;
        let ent = meta.entity(entity).ok_or_else(|| {
            Error::invalid(
                "entity",
                format!(
                    "unknown entity `{entity}`; valid entities: {}",
                    meta.entity_names().join(", ")
                ),
            )
        })?;
        let params = match params {
            Value::Null => serde_json::Map::new(),
            Value::Object(map) => map,
            other => {
                return Err(Error::invalid(
                    "params",
                    format!("must be a JSON object like {{\"page_size\": 25}}, got {other}"),
                ))
            }
        };
        if action == crate::sql::SQL_ACTION {
            crate::sql::check_params(entity, &params)?;
            return match &self.inner.transport {
                Transport::Hosted(h) => h.context_store_raw(entity, action, params, extras).await,
                Transport::Direct(_) => Err(Error::HostedOnly {
                    operation: format!("{entity}.{action}"),
                }),
            };
        }
        if (action == "search" || action == crate::search::SEARCH_ACTION)
            && !ent.search_fields.is_empty()
        {
            crate::search::check_params(ent, &params)?;
            return match &self.inner.transport {
                Transport::Hosted(h) => {
                    h.context_store_raw(entity, crate::search::SEARCH_ACTION, params, extras)
                        .await
                }
                Transport::Direct(_) => Err(Error::HostedOnly {
                    operation: format!("{entity}.search"),
                }),
            };
        }
        // `api_search` is the deprecated name of the vendor's `search`.
        let lookup = if action == "api_search" {
            "search"
        } else {
            action
        };
        let op = ent.operation(lookup).ok_or_else(|| {
            let mut valid = ent.action_names();
            if !ent.search_fields.is_empty() {
                valid.push("search");
            }
            valid.push(crate::sql::SQL_ACTION);
            Error::invalid(
                "action",
                format!(
                    "`{entity}` has no action `{action}`; valid actions: {}",
                    valid.join(", ")
                ),
            )
        })?;
        // Lists that page by server-given URLs take the next page back as `next_page`
        // (the `meta.next_cursor` of the previous result).
        let mut params = params;
        let next_url = match params.get(crate::meta::NEXT_PAGE_PARAM) {
            Some(_) if op.follows_urls() && op.param(crate::meta::NEXT_PAGE_PARAM).is_none() => {
                match params.remove(crate::meta::NEXT_PAGE_PARAM) {
                    Some(Value::String(url)) => Some(url),
                    Some(Value::Null) => None,
                    Some(other) => {
                        return Err(Error::invalid(
                            "params.next_page",
                            format!(
                            "must be the meta.next_cursor string of the previous page, got {other}"
                        ),
                        ))
                    }
                    None => None,
                }
            }
            _ => None,
        };
        // A cursor that is a number (a page number) comes back from `meta.next_cursor` as
        // text.
        if let Some(name) = op.cursor_param.filter(|n| {
            op.param(n)
                .is_some_and(|p| p.kind == crate::meta::ParamKind::Integer)
        }) {
            if let Some(n) = params
                .get(name)
                .and_then(Value::as_str)
                .and_then(|s| s.parse::<i64>().ok())
            {
                params.insert(name.to_string(), Value::from(n));
            }
        }
        // A download's chunk options are not the spec's params: checked here, passed on.
        let mut chunking = serde_json::Map::new();
        if op.action == meta::Action::Download {
            for name in crate::download::EXTRA_PARAMS {
                if let Some(v) = params.remove(*name) {
                    if !v.is_string() {
                        return Err(Error::invalid(
                            *name,
                            format!("must be a string (`{name}: \"bytes=0-65535\"`), got {v}"),
                        ));
                    }
                    chunking.insert(name.to_string(), v);
                }
            }
        }
        let mut params = crate::params::check_untyped(op, params)?;
        params.extend(chunking);
        let extras = crate::transport::CallExtras {
            next_url: next_url.as_deref(),
            ..extras
        };
        self.inner.transport.execute(op, &params, extras).await
    }
}

/// Agent surface: self-description generated from the spec (see [`crate::introspect`]).
impl Client {
    /// The connector's metadata and readiness. Hosted mode asks Airbyte
    /// (`GET /api/v1/integrations/connectors/{id}/inspect`: its view of the connector, with a
    /// `docs_skill_id`); direct mode returns local metadata (`"mode": "direct"`, the version
    /// of the spec, the entities and their actions) and makes no request.
    pub async fn inspect(&self) -> Result<Value, Error> {
        match &self.inner.transport {
            Transport::Hosted(h) => h.inspect().await,
            Transport::Direct(_) => Ok(crate::progressive::local_inspect(self.inner.meta)),
        }
    }

    /// Airbyte's skill docs for this connector (hosted mode only): the outline, or one
    /// section. The SDK's own docs ([`crate::progressive::docs`]) describe exactly the calls
    /// this SDK validates and need no request; these are Airbyte's, for its hosted version of
    /// the connector. Direct mode: [`Error::HostedOnly`], before any request.
    pub async fn skill_docs(&self, section: Option<&str>) -> Result<Value, Error> {
        match &self.inner.transport {
            Transport::Hosted(h) => h.skill_docs(section).await,
            Transport::Direct(_) => Err(Error::HostedOnly {
                operation: "skill docs".to_string(),
            }),
        }
    }

    /// Every entity with its actions and params. See [`introspect::entities`].
    pub fn entities(&self) -> Vec<introspect::EntityDescription> {
        introspect::entities(self.inner.meta)
    }
}

/// The outcome of [`Client::check`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CheckResult {
    /// Healthy or not.
    pub status: CheckStatus,
    /// What went wrong, when unhealthy.
    pub error: Option<String>,
    /// The entity the check read.
    pub checked_entity: Option<String>,
    /// The action the check ran.
    pub checked_action: Option<String>,
}

/// Health of a connector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckStatus {
    /// The check call succeeded.
    Healthy,
    /// The check call failed; see [`CheckResult::error`].
    Unhealthy,
}

/// A pending [`Client::create`]; await it.
#[derive(Debug)]
#[must_use = "nothing is created until this is awaited"]
pub struct CreateConnector {
    meta: &'static ConnectorMeta,
    airbyte: AirbyteAuthConfig,
    credentials: Credentials,
    name: Option<String>,
    replication_config: Option<Value>,
    source_template_id: Option<String>,
    http: HttpSettings,
}

impl CreateConnector {
    /// The connector's name in Airbyte (default `<connector> - <workspace>`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Replication settings passed through to Airbyte as given.
    pub fn replication_config(mut self, config: Value) -> Self {
        self.replication_config = Some(config);
        self
    }

    /// An Airbyte source template to create the connector from.
    pub fn source_template_id(mut self, id: impl Into<String>) -> Self {
        self.source_template_id = Some(id.into());
        self
    }

    async fn run(self) -> Result<Client, Error> {
        let workspace = self.airbyte.workspace_name.clone().ok_or_else(|| {
            Error::invalid(
                "workspace_name",
                "creating a hosted connector needs a workspace: call .workspace_name(..) on AirbyteAuthConfig",
            )
        })?;
        self.credentials.validate()?;
        let mut config = self.airbyte;
        config.connector_id = None;
        let hosted = HostedTransport::new(self.meta, &config, &self.http)?;
        let name = self
            .name
            .unwrap_or_else(|| format!("{} - {workspace}", self.meta.name));
        hosted
            .create(
                &workspace,
                &name,
                &self.credentials,
                self.replication_config.as_ref(),
                self.source_template_id.as_deref(),
            )
            .await?;
        let base_url = hosted_base(&config);
        Ok(Client {
            inner: Arc::new(Inner {
                transport: Transport::Hosted(Box::new(hosted)),
                base_url,
                meta: self.meta,
            }),
        })
    }
}

impl std::future::IntoFuture for CreateConnector {
    type Output = Result<Client, Error>;
    type IntoFuture = crate::BoxFuture<Self::Output>;
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

fn hosted_base(config: &AirbyteAuthConfig) -> String {
    config
        .api_url
        .clone()
        .unwrap_or_else(|| crate::transport::hosted::DEFAULT_AIRBYTE_API_URL.to_string())
        .trim_end_matches('/')
        .to_string()
}

/// The environment variables of the direct-mode credentials, for messages
/// (`INCIDENT_IO_API_KEY`; schemes joined with "or").
fn direct_env_names(meta: &ConnectorMeta) -> String {
    let schemes: Vec<String> = meta
        .auth
        .iter()
        .map(|s| {
            s.fields
                .iter()
                .filter(|f| f.required)
                .map(|f| f.env)
                .collect::<Vec<_>>()
                .join(" and ")
        })
        .filter(|s| !s.is_empty())
        .collect();
    if schemes.is_empty() {
        format!("{}_* credentials", meta.env_prefix)
    } else {
        schemes.join(", or ")
    }
}

/// Builds a [`Client`]; every setting is checked in [`build`](Self::build) or where it is
/// given, before any request.
#[derive(Debug)]
#[must_use]
pub struct ClientBuilder {
    meta: &'static ConnectorMeta,
    auth: Option<AuthChoice>,
    base_url: Option<String>,
    config: std::collections::BTreeMap<String, String>,
    http: HttpSettings,
    rate_limit: Option<u32>,
}

impl ClientBuilder {
    /// The credentials: the API's own (direct mode) or Airbyte's (hosted mode).
    pub fn auth(mut self, auth: AuthChoice) -> Self {
        self.auth = Some(auth);
        self
    }

    /// Overrides the API's base URL (default: the spec's `servers[0].url`). It must be
    /// `https`, except for loopback hosts (`127.0.0.1`, `::1`, `localhost`), which may use
    /// `http` (the emulator, test servers).
    pub fn base_url(mut self, url: &str) -> Result<Self, Error> {
        self.base_url = Some(check_base_url("base_url", url)?);
        Ok(self)
    }

    /// Sets a value of the connector's configuration ([`meta::ConfigFieldMeta`]): a variable
    /// of the server URL (`workspace` in `https://{workspace}.example.com`) or a key that
    /// fills parameters the caller leaves out. An unknown key is refused by
    /// [`build`](Self::build), with the valid ones listed.
    pub fn config(mut self, key: &str, value: impl Into<String>) -> Self {
        self.config.insert(key.to_string(), value.into());
        self
    }

    /// Time allowed to establish a connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.http.connect_timeout = timeout;
        self
    }

    /// Time allowed for a whole request, body included (default 60 s). A stalled body ends in
    /// [`Error::Timeout`], never a hang.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.http.timeout = timeout;
        self
    }

    /// How failed requests are retried (default [`RetryPolicy::default`]: 4 attempts, jittered
    /// exponential backoff, `Retry-After` honoured). See [`crate::retry`].
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.http.sender.policy = policy;
        self
    }

    /// Tries every request once, with no retries.
    pub fn no_retries(self) -> Self {
        self.retry_policy(RetryPolicy::none())
    }

    /// Keeps this client (and all its clones) under `per_minute` requests per minute, by
    /// waiting before sending instead of collecting 429s. Off by default. Retries count
    /// against the limit too.
    pub fn rate_limit(mut self, per_minute: u32) -> Self {
        self.rate_limit = Some(per_minute);
        self
    }

    /// The largest response body accepted, in bytes (default
    /// [`DEFAULT_MAX_RESPONSE_BYTES`](crate::DEFAULT_MAX_RESPONSE_BYTES), 64 MiB). A larger
    /// body is refused with [`Error::ResponseTooLarge`] as soon as it is known to be larger,
    /// before it is read in full; nothing beyond the limit is kept in memory.
    pub fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.http.max_response_bytes = bytes;
        self
    }

    /// Sends OAuth 2 token refreshes to `url` instead of the spec's `refreshUrl` (a test
    /// server, a proxy). Same rules as [`base_url`](Self::base_url): `https`, or `http` to a
    /// loopback host.
    pub fn token_url(mut self, url: &str) -> Result<Self, Error> {
        self.http.token_url = Some(check_base_url("token_url", url)?);
        Ok(self)
    }

    /// Appends a product token to the `User-Agent` (default `<crate>/<version>`).
    pub fn user_agent_suffix(mut self, suffix: &str) -> Self {
        self.http.user_agent = format!("{} {suffix}", self.meta.user_agent);
        self
    }

    /// Builds the client (no request is made).
    pub fn build(mut self) -> Result<Client, Error> {
        let meta = self.meta;
        if self.http.max_response_bytes == 0 {
            return Err(Error::invalid(
                "max_response_bytes",
                "0 bytes would refuse every response; pass a positive limit (the default is 64 MiB)",
            ));
        }
        if let Some(n) = self.rate_limit {
            let n = std::num::NonZeroU32::new(n).ok_or_else(|| {
                Error::invalid(
                    "rate_limit",
                    format!(
                        "0 requests per minute would block forever; pass at least 1{}",
                        meta.hints
                            .rate_limit
                            .map(|l| format!(" ({l})"))
                            .unwrap_or_default()
                    ),
                )
            })?;
            self.http.sender.limiter = Some(crate::retry::limiter(n));
        }
        let auth = self.auth.ok_or_else(|| {
            Error::invalid(
                "auth",
                format!(
                    "no credentials: call .auth({}) (direct) or .auth(AirbyteAuthConfig::new(client_id, client_secret)) (hosted) on the builder",
                    meta.auth_example
                ),
            )
        })?;
        if let Some(key) = self.config.keys().find(|k| meta.config_field(k).is_none()) {
            return Err(Error::invalid(
                format!("config.{key}"),
                if meta.config.is_empty() {
                    format!("{} takes no configuration values", meta.display_name)
                } else {
                    format!(
                        "unknown configuration key `{key}`; valid keys: {}",
                        meta.config
                            .iter()
                            .map(|c| c.name)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                },
            ));
        }
        let (transport, base_url) = match auth {
            AuthChoice::Direct(credentials) => {
                let base_from_spec = self.base_url.is_none();
                let base_url = match self.base_url {
                    Some(url) => url,
                    None => render_base_url(meta, &self.config)?,
                };
                let t = DirectTransport::new(
                    meta,
                    &credentials,
                    &base_url,
                    base_from_spec,
                    &self.http,
                    std::mem::take(&mut self.config),
                )?;
                (Transport::Direct(Box::new(t)), base_url)
            }
            AuthChoice::Hosted(config) => {
                if self.base_url.is_some() {
                    return Err(Error::invalid(
                        "base_url",
                        format!("hosted mode calls Airbyte, not {}: set the Airbyte URL with AirbyteAuthConfig::airbyte_api_url(..) instead", meta.display_name),
                    ));
                }
                let t = HostedTransport::new(meta, &config, &self.http)?;
                (Transport::Hosted(Box::new(t)), hosted_base(&config))
            }
        };
        Ok(Client {
            inner: Arc::new(Inner {
                transport,
                base_url,
                meta,
            }),
        })
    }
}

/// The spec's server URL with its variables filled: each from the configuration, else its
/// default (as plain text, the way the reference runtime substitutes them), then checked
/// like any base URL.
pub(crate) fn render_base_url(
    meta: &'static ConnectorMeta,
    config: &std::collections::BTreeMap<String, String>,
) -> Result<String, Error> {
    let mut url = meta.base_url.trim_end_matches('/').to_string();
    for field in meta.config.iter().filter(|c| c.server_variable) {
        let placeholder = format!("{{{}}}", field.name);
        if !url.contains(&placeholder) {
            continue;
        }
        // A default that is the placeholder itself (`{subdomain}`) is no value.
        let value = config
            .get(field.name)
            .map(String::as_str)
            .or(field.default.filter(|d| *d != placeholder));
        let Some(value) = value else {
            return Err(Error::invalid(
                format!("config.{}", field.name),
                format!(
                    "the {} base URL {} needs `{}`{}: set it on the builder (`.{}(..)`) or in {}",
                    meta.display_name,
                    meta.base_url,
                    field.name,
                    if field.description.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", field.description.trim_end_matches('.'))
                    },
                    field.name,
                    field.env
                ),
            ));
        };
        // A value fills one part of the URL: it may hold a whole origin only where the
        // template starts with it (`{origin}/v1`); elsewhere (a host label, a path segment)
        // it cannot add a host, a path, a query or credentials.
        let whole_origin = meta.base_url.starts_with(&placeholder);
        if !whole_origin
            && value
                .chars()
                .any(|c| "/\\?#@:%".contains(c) || c.is_whitespace() || c.is_control())
        {
            return Err(Error::invalid(
                format!("config.{}", field.name),
                format!(
                    "{value:?} cannot fill `{{{}}}` in {}: it may not contain `/`, `\\`, `?`, `#`, `@`, `:`, `%` or spaces",
                    field.name, meta.base_url
                ),
            ));
        }
        url = url.replace(&placeholder, value);
    }
    check_base_url("base_url", &url)
}
