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
//!   `{result, connector_metadata}`. `list` and `get` run through the same
//!   [`Backend`](super::backend::Backend) as the incident.io routes, so both transports see
//!   the same records, cursors and validation; `context_store_search` is evaluated by
//!   `context_store`. incident.io errors keep their status and become
//!   `{"message": <incident.io message>, "errors": [<messages>]}`. A connector whose stored
//!   api_key is not the emulator's incident.io key answers 401, like a failed upstream auth.
//!
//! These routes sit in front of the wire middleware, so faults, latency and the request log
//! apply to them exactly as to the incident.io routes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Map, Value};

use super::backend::{ApiError, Params};
use super::context_store::{self, EntityFields};
use super::server::Shared;
use super::spec::{mix, parse_query};

/// Path of the token exchange.
const TOKEN_PATH: &str = "/api/v1/account/applications/token";
/// Path of connector lookup and creation.
const CONNECTORS_PATH: &str = "/api/v1/integrations/connectors";
/// Path of the execute route.
const EXECUTE_PATH: &str = "/api/v1/integrations/connectors/{id}/execute";
/// The search action on the wire.
const SEARCH_ACTION: &str = "context_store_search";

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
struct Connector {
    id: String,
    name: String,
    workspace_name: String,
    definition_id: String,
    api_key: String,
    /// The stored creation body plus `id`, for connectors created through the API.
    created: Option<Value>,
}

impl Connector {
    fn summary(&self) -> Value {
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
    search_fields: HashMap<String, EntityFields>,
    tokens: Mutex<HashMap<String, Instant>>,
    issued: AtomicUsize,
    connectors: Mutex<Vec<Connector>>,
    seed: u64,
    seq: AtomicU64,
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

    fn tokens(&self) -> MutexGuard<'_, HashMap<String, Instant>> {
        self.tokens.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn connectors(&self) -> MutexGuard<'_, Vec<Connector>> {
        self.connectors.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn next(&self) -> u64 {
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        mix(self.seed ^ mix(n ^ 0xA1B7_E000))
    }

    /// Issues a fresh token, remembering its expiry; drops expired ones.
    fn issue(&self) -> String {
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
    fn authorize(&self, headers: &HeaderMap) -> Result<(), AbError> {
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
struct AbError {
    status: u16,
    message: String,
    errors: Vec<String>,
}

impl AbError {
    fn new(status: u16, message: impl Into<String>) -> AbError {
        AbError {
            status,
            message: message.into(),
            errors: Vec::new(),
        }
    }

    /// A 422 whose `errors` repeat the message.
    fn invalid(message: impl Into<String>) -> AbError {
        let message = message.into();
        AbError {
            status: 422,
            errors: vec![message.clone()],
            message,
        }
    }

    fn from_api(e: &ApiError) -> AbError {
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

fn json_response(status: u16, body: &Value) -> Response {
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

/// The body as a JSON object.
fn object_body(body: &Bytes) -> Result<Map<String, Value>, AbError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(other) => Err(AbError::invalid(format!(
            "The request body must be a JSON object, got {other}"
        ))),
        Err(e) => Err(AbError {
            status: 400,
            message: format!("The request body is not valid JSON: {e}"),
            errors: Vec::new(),
        }),
    }
}

/// A non-empty string at `path` of `obj`.
fn text<'a>(obj: &'a Map<String, Value>, path: &[&str]) -> Option<&'a str> {
    let (last, parents) = path.split_last()?;
    let mut cur = obj;
    for p in parents {
        cur = cur.get(*p)?.as_object()?;
    }
    cur.get(*last)?.as_str().filter(|s| !s.trim().is_empty())
}

/// The Airbyte routes, to merge into the emulator router before its middleware layer.
pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route(TOKEN_PATH, post(token))
        .route(CONNECTORS_PATH, get(list_connectors).post(create_connector))
        .route(EXECUTE_PATH, post(execute))
}

async fn token(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let ab = &shared.airbyte;
    let ok = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| match v {
            Value::Object(m) => Some(m),
            _ => None,
        })
        .is_some_and(|m| {
            text(&m, &["client_id"]) == Some(ab.config.client_id.as_str())
                && text(&m, &["client_secret"]) == Some(ab.config.client_secret.as_str())
        });
    if !ok {
        return AbError::new(401, "Invalid client credentials").into_response();
    }
    let ttl = ab.config.token_ttl;
    let expires_in = if ttl.subsec_nanos() == 0 {
        json!(ttl.as_secs())
    } else {
        json!(ttl.as_secs_f64())
    };
    json_response(
        200,
        &json!({
            "access_token": ab.issue(),
            "token_type": "Bearer",
            "expires_in": expires_in,
        }),
    )
}

async fn list_connectors(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let ab = &shared.airbyte;
    if let Err(e) = ab.authorize(&headers) {
        return e.into_response();
    }
    let pairs = parse_query(query.as_deref());
    let param = |name: &str| {
        pairs
            .iter()
            .find(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.as_str())
    };
    let (workspace, definition) = (param("workspace_name"), param("definition_id"));
    let missing: Vec<String> = [("workspace_name", workspace), ("definition_id", definition)]
        .iter()
        .filter(|(_, v)| v.is_none())
        .map(|(k, _)| format!("{k} is required"))
        .collect();
    let (Some(workspace), Some(definition)) = (workspace, definition) else {
        return AbError {
            status: 422,
            message: format!("Invalid query parameters: {}", missing.join("; ")),
            errors: missing,
        }
        .into_response();
    };
    let data: Vec<Value> = ab
        .connectors()
        .iter()
        .filter(|c| c.workspace_name == workspace && c.definition_id == definition)
        .map(Connector::summary)
        .collect();
    json_response(200, &json!({ "data": data }))
}

async fn create_connector(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let ab = &shared.airbyte;
    if let Err(e) = ab.authorize(&headers) {
        return e.into_response();
    }
    let body = match object_body(&body) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let required: [(&str, &[&str]); 4] = [
        ("name", &["name"]),
        ("definition_id", &["definition_id"]),
        ("workspace_name", &["workspace_name"]),
        ("credentials.api_key", &["credentials", "api_key"]),
    ];
    let missing: Vec<String> = required
        .iter()
        .filter(|(_, path)| text(&body, path).is_none())
        .map(|(name, _)| format!("{name} is required"))
        .collect();
    if !missing.is_empty() {
        return AbError {
            status: 422,
            message: format!("Invalid connector: {}", missing.join("; ")),
            errors: missing,
        }
        .into_response();
    }
    let field = |path: &[&str]| text(&body, path).unwrap_or_default().to_string();
    let n = ab.next();
    let m = mix(n);
    let id = format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        n >> 32,
        (n >> 16) & 0xFFFF,
        n & 0xFFF,
        0x8000 | (m >> 48 & 0x3FFF),
        m & 0xFFFF_FFFF_FFFF
    );
    let mut stored = body.clone();
    stored.insert("id".into(), json!(id));
    let connector = Connector {
        id,
        name: field(&["name"]),
        workspace_name: field(&["workspace_name"]),
        definition_id: field(&["definition_id"]),
        api_key: field(&["credentials", "api_key"]),
        created: Some(Value::Object(stored)),
    };
    let summary = connector.summary();
    ab.connectors().push(connector);
    json_response(201, &summary)
}

async fn execute(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(e) = shared.airbyte.authorize(&headers) {
        return e.into_response();
    }
    let api_key = shared
        .airbyte
        .connectors()
        .iter()
        .find(|c| c.id == id)
        .map(|c| c.api_key.clone());
    let Some(api_key) = api_key else {
        return AbError::new(404, format!("connector {id} not found")).into_response();
    };
    let body = match object_body(&body) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    if api_key != shared.api_key {
        // What the connector relays when incident.io refuses the stored key.
        let message = "The API key you provided is invalid, expired or revoked";
        return AbError {
            status: 401,
            message: message.to_string(),
            errors: vec![message.to_string()],
        }
        .into_response();
    }
    let (Some(entity), Some(action)) = (
        body.get("entity").and_then(Value::as_str),
        body.get("action").and_then(Value::as_str),
    ) else {
        return AbError::invalid("entity and action are required strings").into_response();
    };
    let params = match body.get("params") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(other) => {
            return AbError::invalid(format!("params must be an object, got {other}"))
                .into_response()
        }
    };
    let (entity, action) = (entity.to_string(), action.to_string());
    let answer = if action == SEARCH_ACTION {
        // A search walks every record of the entity: keep it off the async workers.
        tokio::task::spawn_blocking(move || run(&shared, &entity, &action, &params))
            .await
            .unwrap_or_else(|e| Err(AbError::new(500, format!("execute failed: {e}"))))
    } else {
        run(&shared, &entity, &action, &params)
    };
    match answer {
        Ok(body) => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

/// Runs one execute call; returns the body `{result, connector_metadata}`. `list` and `get`
/// splice the incident.io body's bytes into the envelope (the record array, or the record,
/// copied as they are), so the route costs about what the direct route does.
fn run(
    shared: &Shared,
    entity: &str,
    action: &str,
    params: &Map<String, Value>,
) -> Result<String, AbError> {
    let catalog = shared.backend.catalog();
    let Some(e) = catalog.entity_index(entity) else {
        return Err(AbError::invalid(format!(
            "Unknown entity `{entity}`; entities: {}",
            shared.backend.entities().join(", ")
        )));
    };
    let def = &catalog.entities[e];
    let unsupported = || {
        let mut actions = Vec::new();
        if def.list.is_some() {
            actions.push("list");
        }
        if def.get.is_some() {
            actions.push("get");
        }
        if shared.airbyte.search_fields.contains_key(entity) {
            actions.push(SEARCH_ACTION);
        }
        AbError::invalid(format!(
            "Entity `{entity}` does not support action `{action}`; supported: {}",
            actions.join(", ")
        ))
    };
    match action {
        "list" => {
            let op = def.list.as_ref().ok_or_else(unsupported)?;
            let body = call(shared, entity, action, to_params(params))?;
            let cursor_path: Vec<&str> = op
                .pagination
                .as_ref()
                .map(|pg| pg.cursor_path.iter().map(String::as_str).collect())
                .unwrap_or_default();
            let (result, next) = splice(&body, &op.field, &cursor_path)?;
            let next = match next {
                Some(c) => Value::String(c).to_string(),
                None => "null".to_string(),
            };
            Ok(format!(
                "{{\"result\":{},\"connector_metadata\":{{\"next_cursor\":{next}}}}}",
                result.unwrap_or("[]")
            ))
        }
        "get" => {
            let op = def.get.as_ref().ok_or_else(unsupported)?;
            let mut p = to_params(params);
            if op.id_param != "id" && p.get(&op.id_param).is_none() {
                for (k, _) in p.0.iter_mut().filter(|(k, _)| k == "id") {
                    k.clone_from(&op.id_param);
                }
            }
            let body = call(shared, entity, action, p)?;
            let (result, _) = splice(&body, &op.field, &[])?;
            Ok(format!(
                "{{\"result\":{},\"connector_metadata\":{{}}}}",
                result.unwrap_or("null")
            ))
        }
        SEARCH_ACTION => {
            let Some(fields) = shared.airbyte.search_fields.get(entity) else {
                return Err(AbError::invalid(format!(
                    "Entity `{entity}` has no context-store fields, so it cannot be searched"
                )));
            };
            let result = context_store::search(&shared.backend, entity, fields, params)
                .map_err(|e| AbError::invalid(e.0))?;
            Ok(json!({"result": result, "connector_metadata": {}}).to_string())
        }
        _ => Err(unsupported()),
    }
}

/// Runs the incident.io operation on the backend; returns its body.
fn call(shared: &Shared, entity: &str, action: &str, params: Params) -> Result<Bytes, AbError> {
    shared
        .backend
        .execute(entity, action, &params)
        .map_err(|e| AbError::from_api(&e))
}

/// The raw text of top-level field `field` of `body`, and the string at `cursor_path`, read
/// without building a tree: only the objects on the cursor's path are parsed, as borrowed raw
/// values.
fn splice<'b>(
    body: &'b [u8],
    field: &str,
    cursor_path: &[&str],
) -> Result<(Option<&'b str>, Option<String>), AbError> {
    use serde_json::value::RawValue;
    type Object<'a> = HashMap<std::borrow::Cow<'a, str>, &'a RawValue>;
    let invalid =
        |e: serde_json::Error| AbError::new(500, format!("emulator produced invalid JSON: {e}"));
    let top: Object<'b> = serde_json::from_slice(body).map_err(invalid)?;
    let result = top.get(field).map(|r| r.get());
    let mut cursor = None;
    if let Some((first, rest)) = cursor_path.split_first() {
        let mut node = top.get(*first).copied();
        for step in rest {
            node = match node {
                Some(raw) => serde_json::from_str::<Option<Object<'b>>>(raw.get())
                    .ok()
                    .flatten()
                    .and_then(|o| o.get(*step).copied()),
                None => None,
            };
        }
        cursor = node
            .and_then(|raw| serde_json::from_str::<Option<String>>(raw.get()).ok())
            .flatten();
    }
    Ok((result, cursor))
}

/// JSON params as incident.io query parameters: scalars as text (`250`, `true`), arrays
/// repeated, objects as JSON, `null` dropped.
fn to_params(params: &Map<String, Value>) -> Params {
    fn scalar(v: &Value) -> Option<String> {
        match v {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    }
    let mut out = Vec::new();
    for (k, v) in params {
        match v {
            Value::Array(items) => {
                out.extend(items.iter().filter_map(scalar).map(|s| (k.clone(), s)));
            }
            v => out.extend(scalar(v).map(|s| (k.clone(), s))),
        }
    }
    Params(out)
}
