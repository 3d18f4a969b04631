//! The Airbyte-hosted API, served on the same listener as the incident.io routes so the
//! SDK's hosted mode runs against the emulator (point `airbyte_api_url` at
//! [`Emulator::airbyte_api_url`](super::Emulator::airbyte_api_url)).
//!
//! Routes (JSON in and out; errors are `{"message": "...", "errors"?: ["..."]}`):
//! - `POST /api/v1/account/applications/token` with `{client_id, client_secret}` →
//!   `{access_token, token_type: "Bearer", expires_in}`; a new token per call. Wrong or
//!   missing credentials → 401.
//! - Every other route needs `Authorization: Bearer <issued, unexpired token>` (else 401)
//!   and, when the emulator has an organization id, a matching `X-Organization-Id` (else 403).
//! - `GET /api/v1/integrations/connectors?workspace_name=W&definition_id=D` →
//!   `{data: [{id, name, workspace_name, definition_id}]}` (both parameters required, 422).
//! - `POST /api/v1/integrations/connectors` with `{name, definition_id, workspace_name,
//!   credentials: {api_key}, replication_config?, source_template_id?}` → 201 `{id, name,
//!   workspace_name, definition_id}`.
//! - `POST /api/v1/integrations/connectors/{id}/execute` with `{entity, action, params}` →
//!   `{result, connector_metadata}`. `list`, `get`, `create`, `update` and `delete` run
//!   through the same [`Backend`](super::backend::Backend) (and write store) as the
//!   incident.io routes, so both transports see the same records, cursors and validation
//!   (a write's `params` hold its path parameters and body properties flat; the result is
//!   the record, or `{}` when the API answers without a body); `download` answers the file
//!   (or one chunk of it as JSON, see `downloads.rs`); `context_store_search` is
//!   evaluated by `context_store`. incident.io errors keep their status and become
//!   `{"message": <incident.io message>, "errors": [<messages>]}`. A connector whose stored
//!   api_key is not the emulator's incident.io key answers 401, like a failed upstream auth.
//!
//! These routes sit in front of the wire middleware, so faults, latency and the request log
//! apply to them exactly as to the incident.io routes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::http::{header, HeaderMap, HeaderValue};
use serde_json::{json, Value};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::backend::ApiError;
use super::context_store::{self, EntityFields};
use super::spec::mix;

/// Path of the token exchange.
pub(crate) const TOKEN_PATH: &str = "/api/v1/account/applications/token";
/// Path of connector lookup and creation.
pub(crate) const CONNECTORS_PATH: &str = "/api/v1/integrations/connectors";
/// Path of the execute route.
pub(crate) const EXECUTE_PATH: &str = "/api/v1/integrations/connectors/{id}/execute";
/// A connector's metadata.
pub(crate) const INSPECT_PATH: &str = "/api/v1/integrations/connectors/{id}/inspect";
/// Skill docs.
pub(crate) const SKILL_DOCS_PATH: &str = "/api/v1/skills/docs";
/// The search action on the wire.
pub(crate) const SEARCH_ACTION: &str = "context_store_search";

/// Airbyte settings chosen on the [`EmulatorBuilder`](super::EmulatorBuilder).
#[derive(Debug, Clone)]
pub(crate) struct AirbyteConfig {
    /// Accepted `client_id`.
    pub client_id: String,
    /// Accepted `client_secret`.
    pub client_secret: String,
    /// Workspace of the seeded connectors.
    pub workspace: String,
    /// Id of the first seeded connector.
    pub connector_id: String,
    /// Required `X-Organization-Id`, if any.
    pub organization_id: Option<String>,
    /// Lifetime of issued tokens.
    pub token_ttl: Duration,
    /// Number of connectors present at start.
    pub seed_connectors: usize,
}

impl Default for AirbyteConfig {
    fn default() -> Self {
        AirbyteConfig {
            client_id: "emulator-client-id".to_string(),
            client_secret: "emulator-client-secret".to_string(),
            workspace: "default".to_string(),
            connector_id: "conn-emulator".to_string(),
            organization_id: None,
            token_ttl: Duration::from_secs(900),
            seed_connectors: 1,
        }
    }
}

/// One connector known to the emulated Airbyte.
#[derive(Debug, Clone)]
pub(crate) struct Connector {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) workspace_name: String,
    pub(crate) definition_id: String,
    pub(crate) api_key: String,
    /// The stored creation body plus `id`, for connectors created through the API.
    pub(crate) created: Option<Value>,
}

impl Connector {
    pub(crate) fn summary(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "workspace_name": self.workspace_name,
            "definition_id": self.definition_id,
        })
    }
}

/// The emulated Airbyte's state: credentials, issued tokens, connectors, searchable fields.
#[derive(Debug)]
pub(crate) struct Airbyte {
    /// The configuration it was started with.
    pub config: AirbyteConfig,
    /// The spec's `info.x-airbyte-connector-definition-id`.
    pub definition_id: String,
    pub(crate) search_fields: HashMap<String, EntityFields>,
    pub(crate) tokens: Mutex<HashMap<String, Instant>>,
    pub(crate) issued: AtomicUsize,
    pub(crate) connectors: Mutex<Vec<Connector>>,
    pub(crate) seed: u64,
    pub(crate) seq: AtomicU64,
    /// The inspect and skill-docs answers.
    pub(crate) skill_docs: super::inspect::SkillDocs,
}

impl Airbyte {
    /// Reads the definition id and context-store fields from the spec and seeds the
    /// configured connectors (each holding `api_key`).
    pub(crate) fn new(config: AirbyteConfig, spec: &Value, api_key: &str, seed: u64) -> Airbyte {
        let definition_id = spec
            .pointer("/info/x-airbyte-connector-definition-id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let connector_name = spec
            .pointer("/info/x-airbyte-connector-name")
            .and_then(Value::as_str)
            .unwrap_or("connector")
            .to_string();
        let connectors = (1..=config.seed_connectors)
            .map(|k| {
                let (id, name) = if k == 1 {
                    (
                        config.connector_id.clone(),
                        format!("{connector_name} - {}", config.workspace),
                    )
                } else {
                    (
                        format!("{}-{k}", config.connector_id),
                        format!("{connector_name} - {} {k}", config.workspace),
                    )
                };
                Connector {
                    id,
                    name,
                    workspace_name: config.workspace.clone(),
                    definition_id: definition_id.clone(),
                    api_key: api_key.to_string(),
                    created: None,
                }
            })
            .collect();
        Airbyte {
            search_fields: context_store::read_fields(spec),
            definition_id,
            config,
            tokens: Mutex::new(HashMap::new()),
            issued: AtomicUsize::new(0),
            connectors: Mutex::new(connectors),
            seed,
            seq: AtomicU64::new(0),
            skill_docs: super::inspect::SkillDocs::read(spec),
        }
    }

    /// Number of tokens issued so far.
    pub(crate) fn tokens_issued(&self) -> usize {
        self.issued.load(Ordering::SeqCst)
    }

    /// Connectors created through the API, as stored (with `id` and the credentials).
    pub(crate) fn created_connectors(&self) -> Vec<Value> {
        self.connectors()
            .iter()
            .filter_map(|c| c.created.clone())
            .collect()
    }

    pub(crate) fn tokens(&self) -> MutexGuard<'_, HashMap<String, Instant>> {
        self.tokens.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn connectors(&self) -> MutexGuard<'_, Vec<Connector>> {
        self.connectors.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn next(&self) -> u64 {
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        mix(self.seed ^ mix(n ^ 0xA1B7_E000))
    }

    /// Issues a fresh token, remembering its expiry; drops expired ones.
    pub(crate) fn issue(&self) -> String {
        let now = Instant::now();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let a = self.next();
        let b = mix(a ^ nanos);
        let token = format!("abt_{a:016x}{b:016x}");
        // A TTL too large for the clock never expires in practice.
        let expires = now
            .checked_add(self.config.token_ttl)
            .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600));
        let mut tokens = self.tokens();
        tokens.retain(|_, exp| *exp > now);
        tokens.insert(token.clone(), expires);
        self.issued.fetch_add(1, Ordering::SeqCst);
        token
    }

    /// Checks the bearer token and the organization header.
    pub(crate) fn authorize(&self, headers: &HeaderMap) -> Result<(), AbError> {
        let raw = headers
            .get(header::AUTHORIZATION)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string())
            .unwrap_or_default();
        let token = match raw.split_once(' ') {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
            _ => "",
        };
        if token.is_empty() {
            return Err(AbError::new(
                401,
                "Missing bearer token: send Authorization: Bearer <access_token>",
            ));
        }
        {
            let mut tokens = self.tokens();
            match tokens.get(token) {
                Some(exp) if Instant::now() < *exp => {}
                Some(_) => {
                    tokens.remove(token);
                    return Err(AbError::new(401, "Access token expired"));
                }
                None => return Err(AbError::new(401, "Invalid access token")),
            }
        }
        if let Some(org) = &self.config.organization_id {
            let got = headers
                .get("x-organization-id")
                .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string());
            match got {
                Some(g) if g == *org => {}
                Some(g) => {
                    return Err(AbError::new(
                        403,
                        format!("Organization {g:?} is not accessible with these credentials"),
                    ))
                }
                None => {
                    return Err(AbError::new(
                        403,
                        "X-Organization-Id header is required for this application",
                    ))
                }
            }
        }
        Ok(())
    }
}

/// An Airbyte-style error: `{"message", "errors"?}`.
#[derive(Debug, Clone)]
pub(crate) struct AbError {
    pub(crate) status: u16,
    pub(crate) message: String,
    pub(crate) errors: Vec<String>,
}

impl AbError {
    pub(crate) fn new(status: u16, message: impl Into<String>) -> AbError {
        AbError {
            status,
            message: message.into(),
            errors: Vec::new(),
        }
    }

    /// A 422 whose `errors` repeat the message.
    pub(crate) fn invalid(message: impl Into<String>) -> AbError {
        let message = message.into();
        AbError {
            status: 422,
            errors: vec![message.clone()],
            message,
        }
    }

    pub(crate) fn from_api(e: &ApiError) -> AbError {
        AbError {
            status: e.status,
            message: e.message.clone(),
            errors: vec![e.message.clone()],
        }
    }
}

impl IntoResponse for AbError {
    fn into_response(self) -> Response {
        let mut body = json!({ "message": self.message });
        if !self.errors.is_empty() {
            body["errors"] = json!(self.errors);
        }
        json_response(self.status, &body)
    }
}

pub(crate) fn json_response(status: u16, body: &Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body.to_string(),
    )
        .into_response()
}
