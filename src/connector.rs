//! The connector: one cheap-to-clone handle (an `Arc`) holding the chosen transport and its
//! connection pool, the builder that validates configuration before any request, and the
//! untyped `execute` entry point for agents.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::auth::{AirbyteAuthConfig, Auth, IncidentIoAuthConfig};
use crate::decode::RawOutput;
use crate::http::HttpSettings;
use crate::transport::direct::DirectTransport;
use crate::transport::hosted::HostedTransport;
use crate::transport::Transport;
use crate::{introspect, meta, Error, RetryPolicy};

/// A connection to incident.io. Cheap to clone (it is an `Arc`); clones share one connection
/// pool. Entity handles (`incidents()`, `users()`, …) are generated from the spec.
#[derive(Clone)]
pub struct IncidentIoConnector {
    inner: Arc<Inner>,
}

struct Inner {
    transport: Transport,
    base_url: String,
}

impl std::fmt::Debug for IncidentIoConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IncidentIoConnector")
            .field("transport", &self.inner.transport.name())
            .field("base_url", &self.inner.base_url)
            .finish_non_exhaustive()
    }
}

impl IncidentIoConnector {
    /// Starts building a connector.
    pub fn builder() -> IncidentIoConnectorBuilder {
        IncidentIoConnectorBuilder::default()
    }

    pub(crate) fn transport(&self) -> &Transport {
        &self.inner.transport
    }

    /// The incident.io base URL calls go to (direct mode), or the Airbyte API URL (hosted).
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

    /// Creates a hosted incident.io connector in Airbyte holding `credentials`, and returns a
    /// connector bound to it. Await the returned builder; `.name(..)`,
    /// `.replication_config(..)` and `.source_template_id(..)` are optional. The Airbyte config
    /// must name a workspace.
    ///
    /// ```no_run
    /// # use incident_io_connector::{AirbyteAuthConfig, IncidentIoAuthConfig, IncidentIoConnector};
    /// # async fn run() -> Result<(), incident_io_connector::Error> {
    /// let airbyte = AirbyteAuthConfig::new("client-id", "client-secret").workspace_name("acme");
    /// let connector = IncidentIoConnector::create(airbyte, IncidentIoAuthConfig::new("inc-key"))
    ///     .name("incident.io for Acme")
    ///     .await?;
    /// println!("created {:?}", connector.connector_id());
    /// # Ok(())
    /// # }
    /// ```
    pub fn create(
        airbyte: AirbyteAuthConfig,
        credentials: IncidentIoAuthConfig,
    ) -> CreateConnector {
        CreateConnector {
            airbyte,
            credentials,
            name: None,
            replication_config: None,
            source_template_id: None,
            http: HttpSettings::default(),
        }
    }

    /// Builds a connector from environment variables.
    ///
    /// Direct mode when `INCIDENT_IO_API_KEY` is set (with optional `INCIDENT_IO_BASE_URL`);
    /// otherwise hosted mode from `AIRBYTE_CLIENT_ID` and `AIRBYTE_CLIENT_SECRET` (with
    /// optional `AIRBYTE_ORGANIZATION_ID`, `AIRBYTE_WORKSPACE_NAME`, `AIRBYTE_CONNECTOR_ID`,
    /// `AIRBYTE_API_URL`). `AIRBYTE_CUSTOMER_NAME`, the older name of the workspace variable
    /// (Airbyte's original product page uses it), is read when `AIRBYTE_WORKSPACE_NAME` is not
    /// set. If neither set is complete, the error lists what is missing.
    pub fn from_env() -> Result<IncidentIoConnector, Error> {
        Self::from_env_with(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) with a custom lookup (a config map, a test fixture).
    pub fn from_env_with(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<IncidentIoConnector, Error> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        if let Some(key) = get("INCIDENT_IO_API_KEY") {
            let mut builder = Self::builder().auth(IncidentIoAuthConfig::new(key));
            if let Some(url) = get("INCIDENT_IO_BASE_URL") {
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
                Self::builder().auth(config).build()
            }
            (id, secret) => {
                let mut missing = Vec::new();
                if id.is_none() {
                    missing.push("AIRBYTE_CLIENT_ID");
                }
                if secret.is_none() {
                    missing.push("AIRBYTE_CLIENT_SECRET");
                }
                Err(Error::invalid(
                    "environment",
                    format!(
                        "no complete credentials: set INCIDENT_IO_API_KEY for direct mode, or AIRBYTE_CLIENT_ID and AIRBYTE_CLIENT_SECRET for hosted mode (missing: INCIDENT_IO_API_KEY, or {})",
                        missing.join(" and ")
                    ),
                ))
            }
        }
    }

    /// Checks that the connector can read data: a one-record list of the spec's preferred
    /// check entity (users). Never fails; the outcome is in the result.
    pub async fn check(&self) -> CheckResult {
        let op = meta::operations()
            .iter()
            .copied()
            .find(|o| o.preferred_for_check)
            .or_else(|| {
                meta::operations().iter().copied().find(|o| {
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
        let params = if op.param("page_size").is_some() {
            serde_json::json!({"page_size": 1})
        } else {
            serde_json::json!({})
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
    /// A result larger than [`DEFAULT_MAX_OUTPUT_CHARS`] (100,000) characters of JSON is
    /// refused with an [`Error::InvalidInput`] that says what to ask for instead (a smaller
    /// `page_size`, `limit` or `fields`); it is never truncated. Use
    /// [`execute_with`](Self::execute_with) to change or lift the limit.
    pub async fn execute(&self, entity: &str, action: &str, params: Value) -> Result<Value, Error> {
        self.execute_with(entity, action, params, ExecuteOptions::default())
            .await
    }

    /// [`execute`](Self::execute) with options: [`ExecuteOptions::max_output_chars`] caps the
    /// size of the result (`None` or `Some(0)`: no cap).
    ///
    /// ```no_run
    /// # use incident_io_connector::{ExecuteOptions, IncidentIoConnector};
    /// # async fn run(connector: IncidentIoConnector) -> Result<(), incident_io_connector::Error> {
    /// let options = ExecuteOptions::new().max_output_chars(Some(20_000));
    /// let page = connector
    ///     .execute_with("incidents", "list", serde_json::json!({"page_size": 5}), options)
    ///     .await?;
    /// # let _ = page;
    /// # Ok(())
    /// # }
    /// ```
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
    ///
    /// ```no_run
    /// # use incident_io_connector::{ExecuteOptions, IncidentIoConnector};
    /// # async fn run(connector: IncidentIoConnector) -> Result<(), incident_io_connector::Error> {
    /// let page = connector
    ///     .execute_raw("incidents", "list", serde_json::json!({"page_size": 250}), ExecuteOptions::new())
    ///     .await?;
    /// println!("{} records: {}", page.record_count().unwrap_or(0), page.as_str());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn execute_raw(
        &self,
        entity: &str,
        action: &str,
        params: Value,
        options: ExecuteOptions,
    ) -> Result<RawOutput, Error> {
        let result = self.execute_unlimited(entity, action, params).await?;
        match options.max_output_chars {
            Some(limit) if limit > 0 => check_output_size(entity, action, &result, limit)?,
            _ => {}
        }
        Ok(result)
    }

    async fn execute_unlimited(
        &self,
        entity: &str,
        action: &str,
        params: Value,
    ) -> Result<RawOutput, Error> {
        let ent = meta::entity(entity).ok_or_else(|| {
            Error::invalid(
                "entity",
                format!(
                    "unknown entity `{entity}`; valid entities: {}",
                    meta::entities()
                        .iter()
                        .map(|e| e.name)
                        .collect::<Vec<_>>()
                        .join(", ")
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
        if (action == "search" || action == crate::search::SEARCH_ACTION)
            && !ent.search_fields.is_empty()
        {
            crate::search::check_params(ent, &params)?;
            return match &self.inner.transport {
                Transport::Hosted(h) => h.search_raw(entity, params).await,
                Transport::Direct(_) => Err(Error::HostedOnly {
                    operation: format!("{entity}.search"),
                }),
            };
        }
        let op = ent.operation(action).ok_or_else(|| {
            let mut valid = ent.action_names();
            if !ent.search_fields.is_empty() {
                valid.push("search");
            }
            Error::invalid(
                "action",
                format!(
                    "`{entity}` has no action `{action}`; valid actions: {}",
                    valid.join(", ")
                ),
            )
        })?;
        let params = crate::generated::check_params(op, params)?;
        self.inner.transport.execute(op, &params).await
    }
}

/// Agent surface: self-description generated from the spec (see [`crate::introspect`]).
impl IncidentIoConnector {
    /// Every entity with its actions (`search` included, marked hosted-only) and their params:
    /// type, whether required, bounds, defaults. See [`introspect::entities`].
    pub fn entities() -> Vec<introspect::EntityDescription> {
        introspect::entities()
    }

    /// The JSON Schema of one record of `entity` (self-contained, draft 2020-12). An unknown
    /// entity is an [`Error::InvalidInput`] listing the valid ones. See
    /// [`introspect::entity_schema`].
    pub fn entity_schema(entity: &str) -> Result<Value, Error> {
        introspect::entity_schema(entity)
    }

    /// The docstring for an agent tool that calls [`execute`](Self::execute). See
    /// [`introspect::tool_description`].
    pub fn tool_description() -> String {
        introspect::tool_description()
    }

    /// The JSON Schema of that tool's `{entity, action, params}` input. See
    /// [`introspect::tool_input_schema`].
    pub fn tool_input_schema() -> Value {
        introspect::tool_input_schema()
    }
}

/// The default of [`ExecuteOptions::max_output_chars`]: larger results are refused.
pub const DEFAULT_MAX_OUTPUT_CHARS: usize = 100_000;

/// Options of [`IncidentIoConnector::execute_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExecuteOptions {
    /// The largest result, in characters of compact JSON, that is returned; a larger one is
    /// an [`Error::InvalidInput`] telling the caller to ask for less (a smaller `page_size`
    /// for lists, a smaller `limit` or fewer `fields` for search). It is never truncated.
    /// `None` or `Some(0)`: no limit. Default: `Some(`[`DEFAULT_MAX_OUTPUT_CHARS`]`)`.
    pub max_output_chars: Option<usize>,
}

impl Default for ExecuteOptions {
    fn default() -> Self {
        ExecuteOptions {
            max_output_chars: Some(DEFAULT_MAX_OUTPUT_CHARS),
        }
    }
}

impl ExecuteOptions {
    /// The defaults (a 100,000-character limit).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the output limit (`None` or `Some(0)`: no limit).
    pub fn max_output_chars(mut self, limit: Option<usize>) -> Self {
        self.max_output_chars = limit;
        self
    }
}

/// Checks that `result` has at most `limit` characters; otherwise an error that says how to
/// ask for less.
fn check_output_size(
    entity: &str,
    action: &str,
    result: &RawOutput,
    limit: usize,
) -> Result<(), Error> {
    // Characters, not bytes: count every byte that does not continue a UTF-8 sequence.
    let chars = result
        .as_str()
        .bytes()
        .filter(|b| (*b & 0xC0) != 0x80)
        .count();
    if chars <= limit {
        return Ok(());
    }
    let records = result.record_count().or_else(|| {
        // A search result: `{data: [...], meta}`; counted only on this error path.
        let value: Value = serde_json::from_str(result.as_str()).ok()?;
        value.get("data").and_then(Value::as_array).map(Vec::len)
    });
    let size = format!(
        "{entity}.{action} returned {} characters of JSON{}, over the limit of {}, so nothing was returned",
        introspect::group_thousands(chars),
        records
            .map(|n| format!(" ({n} records)"))
            .unwrap_or_default(),
        introspect::group_thousands(limit)
    );
    // How many records would fit, with some headroom.
    let fitting = records.map(|n| ((n as f64) * (limit as f64) / (chars as f64) * 0.9) as usize);
    let op = meta::entity(entity).and_then(|e| e.operation(action));
    let is_search = action == introspect::SEARCH || action == crate::search::SEARCH_ACTION;
    let (field, advice) = match (op, fitting) {
        (Some(op), Some(n)) if op.param("page_size").is_some() && n >= 1 => (
            "params.page_size",
            format!(
                "ask for fewer records: pass page_size {} or less, and follow meta.next_cursor with `after` for the rest",
                n
            ),
        ),
        _ if is_search && fitting.is_some_and(|n| n >= 1) => (
            "params.limit",
            format!(
                "ask for less: pass limit {} or less and follow meta.cursor, or name only the fields you need in `fields`",
                fitting.unwrap_or(1)
            ),
        ),
        _ if is_search => (
            "params.fields",
            "ask for less: name only the fields you need in `fields` and pass limit 1".to_string(),
        ),
        (Some(op), _) if op.action == meta::Action::List && !op.is_paginated() => (
            "max_output_chars",
            "this list is not paginated, so it cannot be asked for in smaller pages; raise max_output_chars, or use search with `fields` in hosted mode".to_string(),
        ),
        _ => (
            "max_output_chars",
            "the result cannot be made smaller with params; raise max_output_chars".to_string(),
        ),
    };
    Err(Error::invalid(field, format!("{size}; {advice}")))
}

/// The outcome of [`IncidentIoConnector::check`].
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

/// A pending [`IncidentIoConnector::create`]; await it.
#[derive(Debug)]
#[must_use = "nothing is created until this is awaited"]
pub struct CreateConnector {
    airbyte: AirbyteAuthConfig,
    credentials: IncidentIoAuthConfig,
    name: Option<String>,
    replication_config: Option<Value>,
    source_template_id: Option<String>,
    http: HttpSettings,
}

impl CreateConnector {
    /// The connector's name in Airbyte (default `incident-io - <workspace>`).
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

    async fn run(self) -> Result<IncidentIoConnector, Error> {
        let workspace = self.airbyte.workspace_name.clone().ok_or_else(|| {
            Error::invalid(
                "workspace_name",
                "creating a hosted connector needs a workspace: call .workspace_name(..) on AirbyteAuthConfig",
            )
        })?;
        self.credentials.validate()?;
        let mut config = self.airbyte;
        config.connector_id = None;
        let hosted = HostedTransport::new(&config, &self.http)?;
        let name = self
            .name
            .unwrap_or_else(|| format!("{} - {workspace}", crate::CONNECTOR_NAME));
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
        Ok(IncidentIoConnector {
            inner: Arc::new(Inner {
                transport: Transport::Hosted(Box::new(hosted)),
                base_url,
            }),
        })
    }
}

impl std::future::IntoFuture for CreateConnector {
    type Output = Result<IncidentIoConnector, Error>;
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

/// Builds an [`IncidentIoConnector`]; every setting is checked in [`build`](Self::build) or
/// where it is given, before any request.
#[derive(Debug, Default)]
#[must_use]
pub struct IncidentIoConnectorBuilder {
    auth: Option<Auth>,
    base_url: Option<String>,
    http: HttpSettings,
    rate_limit: Option<u32>,
}

impl IncidentIoConnectorBuilder {
    /// The credentials: [`IncidentIoAuthConfig`] for direct mode, [`AirbyteAuthConfig`] for
    /// hosted mode.
    pub fn auth(mut self, auth: impl Into<Auth>) -> Self {
        self.auth = Some(auth.into());
        self
    }

    /// Overrides the incident.io base URL (default `https://api.incident.io`). It must be
    /// `https`, except for loopback hosts (`127.0.0.1`, `::1`, `localhost`), which may use
    /// `http` (the emulator, test servers).
    pub fn base_url(mut self, url: &str) -> Result<Self, Error> {
        self.base_url = Some(check_base_url("base_url", url)?);
        Ok(self)
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

    /// Keeps this connector (and all its clones) under `per_minute` requests per minute, by
    /// waiting before sending instead of collecting 429s. incident.io allows 1,200 per minute
    /// per API key. Off by default. Retries count against the limit too.
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

    /// Appends a product token to the `User-Agent` (default `incident-io-connector/<version>`).
    pub fn user_agent_suffix(mut self, suffix: &str) -> Self {
        self.http.user_agent = format!("{} {suffix}", crate::USER_AGENT);
        self
    }

    /// Builds the connector (no request is made).
    pub fn build(mut self) -> Result<IncidentIoConnector, Error> {
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
                    "0 requests per minute would block forever; pass at least 1 (incident.io allows 1200)",
                )
            })?;
            self.http.sender.limiter = Some(crate::retry::limiter(n));
        }
        let auth = self.auth.ok_or_else(|| {
            Error::invalid(
                "auth",
                "no credentials: call .auth(IncidentIoAuthConfig::new(api_key)) (direct) or .auth(AirbyteAuthConfig::new(client_id, client_secret)) (hosted) on the builder",
            )
        })?;
        let (transport, base_url) = match auth {
            Auth::IncidentIo(config) => {
                let base_url = self
                    .base_url
                    .unwrap_or_else(|| crate::generated::ops::DEFAULT_BASE_URL.to_string());
                let t = DirectTransport::new(&config, &base_url, &self.http)?;
                (Transport::Direct(t), base_url)
            }
            Auth::Airbyte(config) => {
                if self.base_url.is_some() {
                    return Err(Error::invalid(
                        "base_url",
                        "hosted mode calls Airbyte, not incident.io: set the Airbyte URL with AirbyteAuthConfig::airbyte_api_url(..) instead",
                    ));
                }
                let t = HostedTransport::new(&config, &self.http)?;
                (Transport::Hosted(Box::new(t)), hosted_base(&config))
            }
        };
        Ok(IncidentIoConnector {
            inner: Arc::new(Inner {
                transport,
                base_url,
            }),
        })
    }
}

/// Checks a base URL: parseable, http(s), https unless the host is loopback, no query or
/// fragment. Returns it without a trailing slash.
pub(crate) fn check_base_url(field: &str, url: &str) -> Result<String, Error> {
    let parsed = url::Url::parse(url.trim()).map_err(|e| {
        Error::invalid(
            field,
            format!("{url:?} is not a URL ({e}); pass something like https://api.incident.io"),
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
    fn base_url_rules() {
        assert_eq!(
            check_base_url("base_url", "https://api.incident.io/").unwrap(),
            "https://api.incident.io"
        );
        assert_eq!(
            check_base_url("base_url", "http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert!(check_base_url("base_url", "http://[::1]:1").is_ok());
        assert!(check_base_url("base_url", "http://localhost:1/x").is_ok());
        for bad in [
            "api.incident.io",
            "http://api.incident.io",
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
