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

use super::airbyte_routes;
use super::backend::{ApiError, Envelope, Params, Wire};
use super::faults;
use super::log::RecordedRequest;
use super::ops::Loc;
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

/// Serves every spec route: the `GET` list, get and search operations, authenticated as
/// the spec's schemes say, their parameters checked (see [`check_request`]).
async fn spec_routes(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    if req.method() != Method::GET {
        return empty_404();
    }
    let catalog = shared.backend.catalog();
    let query = parse_query(req.uri().query());
    let Some((op, path_params)) = catalog.router.find(req.uri().path(), &query) else {
        return empty_404();
    };
    let result = shared.authorize(req.headers(), &query).and_then(|()| {
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
        check_request(&shared, op, req.headers(), &query)?;
        let mut params = path_params;
        params.extend(query.iter().cloned());
        let wire = Wire {
            host: req
                .headers()
                .get(header::HOST)
                .and_then(|h| h.to_str().ok()),
            path: req.uri().path(),
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
            for (k, v) in &answer.headers {
                if let (Ok(k), Ok(v)) = (
                    HeaderName::from_bytes(k.as_bytes()),
                    HeaderValue::from_str(v),
                ) {
                    headers.append(k, v);
                }
            }
            (
                StatusCode::OK,
                headers,
                axum::body::Bytes::from(answer.body),
            )
                .into_response()
        }
        Err(e) => {
            let status =
                StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, headers, e.to_json(&shared.request_id())).into_response()
        }
    }
}

/// Checks the declared query and header parameters of operation `op` before answering
/// (400 naming the parameter): required ones present (a header with a default may be
/// absent), values of the declared type, enum members (array items and deepObject members
/// too; arrays read per `style`/`explode`). The pagination parameters are checked by the
/// pagination (422, as incident.io answers), credentials by the auth check; undeclared
/// query parameters are ignored.
fn check_request(
    shared: &Shared,
    op: usize,
    headers: &HeaderMap,
    query: &[(String, String)],
) -> Result<(), ApiError> {
    let o = &shared.backend.catalog().ops[op];
    let paging = o.paging_params();
    for p in &o.params {
        if paging.contains(&p.name.as_str()) {
            continue;
        }
        let header = match p.loc {
            Loc::Path => continue,
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
