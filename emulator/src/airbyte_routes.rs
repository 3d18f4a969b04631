//! The Airbyte API's routes (see [`Airbyte`](super::airbyte::Airbyte) for what they serve):
//! token exchange, connector lookup and creation, and `/execute`, which runs `list`, `get`,
//! the writes (`create`, `update`, `delete`, against the same write store) and `download`
//! through the same backend as the API routes and `context_store_search` through
//! `context_store`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Map, Value};

use super::airbyte::{
    json_response, AbError, Connector, CONNECTORS_PATH, EXECUTE_PATH, INSPECT_PATH, SEARCH_ACTION,
    SKILL_DOCS_PATH, TOKEN_PATH,
};
use super::backend::Params;
use super::context_store;
use super::downloads;
use super::spec::{mix, parse_query};
use super::state::Shared;

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
        .route(INSPECT_PATH, get(inspect))
        .route(SKILL_DOCS_PATH, get(skill_docs))
}

async fn inspect(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(e) = shared.airbyte.authorize(&headers) {
        return e.into_response();
    }
    let found = shared
        .airbyte
        .connectors()
        .iter()
        .find(|c| c.id == id)
        .map(|c| (c.summary(), c.definition_id.clone()));
    match found {
        Some((summary, definition)) => json_response(
            200,
            &shared.airbyte.skill_docs.inspect(summary, &definition),
        ),
        None => AbError::new(404, format!("connector {id} not found")).into_response(),
    }
}

async fn skill_docs(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    if let Err(e) = shared.airbyte.authorize(&headers) {
        return e.into_response();
    }
    let pairs = super::spec::parse_query(query.as_deref());
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let Some(id) = get("id") else {
        return AbError::invalid("the id query parameter is required (a docs_skill_id)")
            .into_response();
    };
    if id != super::inspect::skill_id(&shared.airbyte.definition_id) {
        return AbError::new(404, format!("skill {id} not found")).into_response();
    }
    match shared.airbyte.skill_docs.docs(id, get("section")) {
        Some(docs) => json_response(200, &docs),
        None => {
            AbError::new(404, format!("section {:?} not found", get("section"))).into_response()
        }
    }
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
    if action == DOWNLOAD_ACTION {
        return download(&shared, entity, &params);
    }
    let options = match super::shaping::Options::read(&body, action) {
        Ok(o) => o,
        Err(message) => return AbError::invalid(message).into_response(),
    };
    let (entity, action) = (entity.to_string(), action.to_string());
    let answer = if action == SEARCH_ACTION || action == SQL_ACTION {
        // A search walks every record of the entity: keep it off the async workers.
        tokio::task::spawn_blocking(move || run(&shared, &entity, &action, &params))
            .await
            .unwrap_or_else(|e| Err(AbError::new(500, format!("execute failed: {e}"))))
    } else {
        run(&shared, &entity, &action, &params)
    };
    // The request's shaping options, applied to the result as Airbyte does (only then is
    // the body parsed).
    let answer = answer.and_then(|body| {
        if options.is_noop() {
            return Ok(body);
        }
        let mut envelope: Value = serde_json::from_str(&body)
            .map_err(|e| AbError::new(500, format!("emulator produced invalid JSON: {e}")))?;
        if let Some(result) = envelope.get_mut("result") {
            options.apply(result);
        }
        Ok(envelope.to_string())
    });
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

/// Runs one execute call; returns the body `{result, connector_metadata}`. The backend
/// writes `list` and `get` bodies in that envelope directly (the same record bytes as the
/// API routes, nothing parsed or copied), so the route costs what the direct route does.
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
        for (name, op) in [
            ("create", def.create),
            ("update", def.update),
            ("delete", def.delete),
        ] {
            if op.is_some() {
                actions.push(name);
            }
        }
        if shared.backend.download_of(entity).is_some() {
            actions.push(DOWNLOAD_ACTION);
        }
        if shared.airbyte.search_fields.contains_key(entity) {
            actions.push(SEARCH_ACTION);
        }
        actions.push(SQL_ACTION);
        AbError::invalid(format!(
            "Entity `{entity}` does not support action `{action}`; supported: {}",
            actions.join(", ")
        ))
    };
    match action {
        "list" => {
            def.list.as_ref().ok_or_else(unsupported)?;
            call(shared, entity, action, to_params(params))
        }
        "get" => {
            let g = def.get.ok_or_else(unsupported)?;
            // The path id's name, else the body property of a POST get (`user`).
            let id_param = catalog.ops[g]
                .id_param
                .as_deref()
                .or(catalog.ops[g].body_id.as_deref())
                .unwrap_or("id");
            let mut p = to_params(params);
            if id_param != "id" && p.get(id_param).is_none() {
                for (k, _) in p.0.iter_mut().filter(|(k, _)| k == "id") {
                    *k = id_param.to_string();
                }
            }
            call(shared, entity, action, p)
        }
        "create" | "update" | "delete" => {
            let op = match action {
                "create" => def.create,
                "update" => def.update,
                _ => def.delete,
            }
            .ok_or_else(unsupported)?;
            shared
                .backend
                .execute_write(op, params)
                .map_err(|e| AbError::from_api(&e))
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
        SQL_ACTION => {
            let sql = match params.get("sql") {
                Some(Value::String(s)) => s,
                _ => return Err(AbError::invalid("params.sql is required: the SQL query")),
            };
            let limit = match params.get("limit") {
                None | Some(Value::Null) => None,
                Some(v) => match v.as_u64() {
                    Some(n) if n >= 1 => Some(usize::try_from(n).unwrap_or(usize::MAX)),
                    _ => return Err(AbError::invalid("params.limit must be a positive integer")),
                },
            };
            let query = super::sql::SqlQuery::parse(sql, entity).map_err(AbError::invalid)?;
            let count = shared.backend.count(entity).unwrap_or(0);
            let records: Vec<Value> = (0..count)
                .filter_map(|i| shared.backend.record(entity, i))
                .collect();
            Ok(json!({"result": query.run(records, limit), "connector_metadata": {}}).to_string())
        }
        _ => Err(unsupported()),
    }
}

/// The context store's SQL action.
const SQL_ACTION: &str = "context_store_sql_query";
/// The download action.
const DOWNLOAD_ACTION: &str = "download";

/// A hosted download (see `downloads.rs`): the same file the API serves (both steps run
/// inside), as the bytes themselves (`range_header` as the `Range`), or with
/// `_airbyte_response_type: "json"` as one chunk of at most 64 KiB in `result`
/// (`_airbyte_response_format`: `base64`, the default, or `text`).
fn download(shared: &Shared, entity: &str, params: &Map<String, Value>) -> Response {
    let backend = &shared.backend;
    let Some(d) = backend.download_of(entity) else {
        let message = if backend.catalog().entity_index(entity).is_some() {
            format!("Entity `{entity}` does not support action `download`")
        } else {
            format!("Unknown entity `{entity}` (no download serves it)")
        };
        return AbError::invalid(message).into_response();
    };
    let def = &backend.catalog().downloads[d];
    let file = downloads::execute_params(def, params).and_then(|(p, _)| {
        let id = backend.download_id(d, &p);
        let part = backend.download_part(d, &p)?;
        backend.download_file(d, &id, part)
    });
    let file = match file {
        Ok(f) => f,
        Err(e) => return AbError::from_api(&e).into_response(),
    };
    let range = match params.get("range_header") {
        None | Some(Value::Null) => None,
        Some(Value::String(r)) => Some(r.as_str()),
        Some(_) => return AbError::invalid("range_header must be a string").into_response(),
    };
    let text = match params.get("_airbyte_response_format") {
        None | Some(Value::Null) => false,
        Some(v) if v == "base64" => false,
        Some(v) if v == "text" => true,
        Some(other) => {
            return AbError::invalid(format!(
                "_airbyte_response_format must be base64 or text, got {other}"
            ))
            .into_response()
        }
    };
    if params.get("_airbyte_response_type").and_then(Value::as_str) != Some("json") {
        return downloads::file_response(&file, range, HeaderMap::new());
    }
    match downloads::chunk(&file, range, text) {
        Ok(result) => json_response(200, &json!({"result": result, "connector_metadata": {}})),
        Err((status, message)) => AbError::new(status, message).into_response(),
    }
}

/// Runs the incident.io operation on the backend, answered in the `/execute` envelope.
fn call(shared: &Shared, entity: &str, action: &str, params: Params) -> Result<String, AbError> {
    shared
        .backend
        .execute(entity, action, &params, super::backend::Envelope::Execute)
        .map_err(|e| AbError::from_api(&e))
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
