//! The HTTP side: the axum [`router`], the wire middleware (request log, latency, faults),
//! the spec-driven incident.io handler, and a TCP listener whose connections a
//! [`Fault::ResetConnection`](super::Fault::ResetConnection) can kill.
//!
//! # Adding routes
//!
//! Add them in [`router`] with `.merge(...)`/`.route(...)` *before* the `.layer(...)` call,
//! so they are logged and faulted like the incident.io routes (the Airbyte API in
//! `airbyte.rs` is merged this way). They share [`Shared`] (and through it the
//! [`Backend`], whose `execute(entity, action, params)` answers exactly what the
//! incident.io routes answer). The incident.io routes live in the fallback, so explicit
//! routes win and the merged router must not set another fallback.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::airbyte_routes;
use super::backend::{Envelope, Params};
use super::faults;
use super::log::RecordedRequest;
use super::spec::{parse_query, Action};
use super::state::{AuthCheck, Shared};

/// Paths under this prefix are the emulator's own: never logged, faulted or authenticated.
pub(crate) const CONTROL_PREFIX: &str = "/__emulator/";
/// Request bodies larger than this are rejected with 413.
const MAX_BODY: usize = 16 * 1024 * 1024;

/// The complete emulator router: the Airbyte API routes, incident.io routes (spec-driven,
/// in the fallback), the control path, and the wire middleware around everything but the
/// control path.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        // Explicit routes, logged and faulted like the incident.io fallback.
        .merge(airbyte_routes::routes())
        .fallback(incident_io)
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

/// Serves every spec route: `GET` list and get operations, bearer-authenticated.
async fn incident_io(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    if req.method() != Method::GET {
        return empty_404();
    }
    let catalog = shared.backend.catalog();
    let Some((route, path_params)) = catalog.match_route(req.uri().path()) else {
        return empty_404();
    };
    let query = parse_query(req.uri().query());
    let result = shared.authorize(req.headers(), &query).and_then(|()| {
        let mut params = path_params;
        // An API key sent in the query is the credential, not a parameter of the operation.
        params.extend(query.into_iter().filter(|(k, _)| {
            !shared
                .auth
                .iter()
                .any(|c| matches!(c, AuthCheck::Query { name } if name == k))
        }));
        let action = match route.action {
            Action::List => "list",
            Action::Get => "get",
        };
        let entity = &catalog.entities[route.entity].name;
        shared
            .backend
            .execute(entity, action, &Params(params), Envelope::Api)
            .map(axum::body::Bytes::from)
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
        Ok(body) => (StatusCode::OK, headers, body).into_response(),
        Err(e) => {
            let status =
                StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, headers, e.to_json(&shared.request_id())).into_response()
        }
    }
}

// ───────────────────────────── listener ─────────────────────────────
