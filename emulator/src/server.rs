//! The HTTP side: the axum [`router`], the wire middleware (request log, latency, faults),
//! the spec-driven API handler, and a TCP listener whose connections a
//! [`Fault::ResetConnection`](super::Fault::ResetConnection) can kill.
//!
//! # Adding routes
//!
//! Add them in [`router`] with `.merge(...)`/`.route(...)` *before* the `.layer(...)` call,
//! so they are logged and faulted like the spec routes (the Airbyte API in
//! `airbyte.rs` is merged this way). They share [`Shared`] (and through it the
//! [`Backend`](super::backend::Backend), whose `execute(entity, action, params)` answers exactly what the
//! spec routes answer). The spec routes live in the fallback, so explicit
//! routes win and the merged router must not set another fallback.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{Map, Value};

use super::airbyte_routes;
use super::backend::{ApiError, Envelope, Params, Wire};
use super::faults;
use super::log::RecordedRequest;
use super::ops::{body_pairs, Loc};
use super::routes::Verb;
use super::spec::parse_query;
use super::state::{AuthCheck, Shared};

/// Paths under this prefix are the emulator's own: never logged, faulted or authenticated.
pub(crate) const CONTROL_PREFIX: &str = "/__emulator/";
/// Request bodies larger than this are rejected with 413.
const MAX_BODY: usize = 16 * 1024 * 1024;

/// The complete emulator router: the Airbyte API routes, the spec's routes (spec-driven,
/// in the fallback), the control path, and the wire middleware around everything but the
/// control path.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        // Explicit routes, logged and faulted like the spec fallback.
        .merge(airbyte_routes::routes())
        .fallback(spec_routes)
        .layer(axum::middleware::from_fn_with_state(shared.clone(), wire))
        .route(&format!("{CONTROL_PREFIX}health"), get(|| async { "ok" }))
        .with_state(shared)
}

/// Logs the request, then applies latency and any fault before the route sees it.
async fn wire(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    if req.uri().path().starts_with(CONTROL_PREFIX) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            shared
                .log
                .push(RecordedRequest::new(&parts, &bytes::Bytes::new()));
            return StatusCode::PAYLOAD_TOO_LARGE.into_response();
        }
    };
    shared.log.push(RecordedRequest::new(&parts, &body));
    let req = Request::from_parts(parts, Body::from(body));
    let (latency, fault) = shared.faults.next_fault();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match fault {
        None => next.run(req).await,
        Some(f) => faults::apply(f, req, next, &|| shared.request_id()).await,
    }
}

/// 404 with an empty body: what incident.io sends for unknown routes and wrong methods.
fn empty_404() -> Response {
    (StatusCode::NOT_FOUND, Body::empty()).into_response()
}

/// Serves every spec route: the `GET` list, get and search operations, the `POST` reads
/// (JSON body), and the writes (`POST`, `PUT`, `PATCH`, `DELETE`; see `backend.rs`),
/// authenticated as the spec's schemes say, their parameters and bodies checked (see
/// [`check_request`]).
async fn spec_routes(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let method = match *req.method() {
        Method::GET => Verb::Get,
        Method::POST => Verb::Post,
        Method::PUT => Verb::Put,
        Method::PATCH => Verb::Patch,
        Method::DELETE => Verb::Delete,
        _ => return empty_404(),
    };
    let catalog = shared.backend.catalog();
    let query = parse_query(req.uri().query());
    let (parts, body) = req.into_parts();
    // A POST read's or a write's JSON body: its members take part in choosing among
    // operations that share a path (body defaults), then act as parameters (or the record's
    // fields).
    let body = match method {
        Verb::Get => Ok(Map::new()),
        _ => match axum::body::to_bytes(body, MAX_BODY).await {
            Ok(bytes) => read_body(&parts.headers, &bytes),
            Err(_) => return StatusCode::PAYLOAD_TOO_LARGE.into_response(),
        },
    };
    let body_pairs = body.as_ref().map(body_pairs).unwrap_or_default();
    let mut route_pairs = query.clone();
    route_pairs.extend(body_pairs.iter().cloned());
    let Some((op, path_params)) = catalog.router.find(method, parts.uri.path(), &route_pairs)
    else {
        return empty_404();
    };
    let o = &catalog.ops[op];
    let write = o.action.is_write();
    // A write that declares no body ignores whatever came with it.
    let body = match body {
        Err(_) if write && !o.params.iter().any(|p| p.loc == Loc::Body) => Ok(Map::new()),
        body => body,
    };
    let result = shared.authorize(&parts.headers, &query).and_then(|()| {
        let body = body?;
        // An API key sent in the query is the credential, not a parameter of the operation.
        let query: Vec<(String, String)> = query
            .into_iter()
            .filter(|(k, _)| {
                !shared
                    .auth
                    .iter()
                    .any(|c| matches!(c, AuthCheck::Query { name } if name == k))
            })
            .collect();
        check_request(&shared, op, &parts.headers, &query, &body)?;
        let mut params = path_params;
        params.extend(query.iter().cloned());
        if write {
            return shared
                .backend
                .write(op, &Params(params), &body, Envelope::Api);
        }
        params.extend(body_pairs);
        let wire = Wire {
            host: parts
                .headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok()),
            path: parts.uri.path(),
            query: &query,
        };
        shared
            .backend
            .answer(op, &Params(params), Some(&wire), Envelope::Api)
    });
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert("x-ratelimit-limit", HeaderValue::from_static("1200"));
    headers.insert(
        "x-ratelimit-remaining",
        HeaderValue::from(shared.rate_remaining()),
    );
    match result {
        Ok(answer) => {
            if answer.body.is_empty() {
                headers.remove(header::CONTENT_TYPE);
            }
            for (k, v) in &answer.headers {
                if let (Ok(k), Ok(v)) = (
                    HeaderName::from_bytes(k.as_bytes()),
                    HeaderValue::from_str(v),
                ) {
                    headers.append(k, v);
                }
            }
            let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
            if answer.body.is_empty() {
                // No `Content-Type` for an answer without a body (a 204).
                return (status, headers, Body::empty()).into_response();
            }
            (status, headers, axum::body::Bytes::from(answer.body)).into_response()
        }
        Err(e) => {
            let status =
                StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, headers, e.to_json(&shared.request_id())).into_response()
        }
    }
}

/// Reads a POST read's or a write's request body: empty (or only whitespace) is `{}`;
/// otherwise a JSON object. A `Content-Type` other than JSON is a 415; invalid JSON or a
/// JSON value other than an object is a 400 (`invalid_body`).
fn read_body(headers: &HeaderMap, bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    let body_error = |status: u16, code: &'static str, message: String| ApiError {
        status,
        error_type: "validation_error",
        code,
        message,
        field: None,
    };
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        let ct = String::from_utf8_lossy(ct.as_bytes()).into_owned();
        let mime = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if mime != "application/json" && !mime.ends_with("+json") {
            return Err(body_error(
                415,
                "unsupported_media_type",
                format!("The request body must be application/json, got Content-Type {ct:?}"),
            ));
        }
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => {
            let kind = match other {
                Value::Array(_) => "an array",
                Value::String(_) => "a string",
                Value::Number(_) => "a number",
                Value::Bool(_) => "a boolean",
                _ => "null",
            };
            Err(body_error(
                400,
                "invalid_body",
                format!("The request body must be a JSON object, got {kind}"),
            ))
        }
        Err(e) => Err(body_error(
            400,
            "invalid_body",
            format!("The request body is not valid JSON: {e}"),
        )),
    }
}

/// Checks the declared query and header parameters and body properties of operation `op`
/// before answering (400 naming the parameter): required ones present (a header with a
/// default may be absent), values of the declared type, enum members (array items and
/// deepObject members too; arrays read per `style`/`explode`; body values by their JSON
/// type). The pagination parameters (query or body) are checked by the pagination (422,
/// as incident.io answers), credentials by the auth check; undeclared query parameters
/// and body members are ignored.
fn check_request(
    shared: &Shared,
    op: usize,
    headers: &HeaderMap,
    query: &[(String, String)],
    body: &Map<String, Value>,
) -> Result<(), ApiError> {
    let o = &shared.backend.catalog().ops[op];
    let paging = o.paging_params();
    for p in &o.params {
        if paging.contains(&p.name.as_str()) {
            continue;
        }
        let header = match p.loc {
            Loc::Path => continue,
            Loc::Body => {
                p.check_body(body)?;
                continue;
            }
            Loc::Query => None,
            Loc::Header => {
                let lower = p.name.to_ascii_lowercase();
                if shared
                    .auth
                    .iter()
                    .any(|c| matches!(c, AuthCheck::Header { name, .. } if *name == lower))
                {
                    continue;
                }
                headers
                    .get(p.name.as_str())
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            }
        };
        p.check(query, header.as_deref())?;
    }
    Ok(())
}

// ───────────────────────────── listener ─────────────────────────────
