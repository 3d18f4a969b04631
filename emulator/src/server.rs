//! The HTTP side: the axum [`router`], the wire middleware (request log, latency, faults),
//! the spec-driven API handler (operations, GraphQL, downloads and their file URLs), and a
//! TCP listener whose connections a [`Fault::ResetConnection`](super::Fault::ResetConnection)
//! can kill. The router serves both listeners (the API's and the storage host of
//! pre-signed download URLs), so faults and the request log cover file fetches too.
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

use axum::http::request::Parts;

use super::airbyte_routes;
use super::backend::{ApiError, Envelope, Params, Wire};
use super::bodies::{check_items, Received};
use super::downloads::{self, DOWNLOADS_PATH, FILES_PATH};
use super::faults;
use super::graphql;
use super::log::RecordedRequest;
use super::ops::{body_pairs, Loc, ParamDef};
use super::routes::{Hit, Target, Verb};
use super::spec::{parse_query, BodyKind};
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
/// (JSON body), the writes (`POST`, `PUT`, `PATCH`, `DELETE`, with a JSON, form, array or
/// free-form body read as `bodies.rs` says; see `backend.rs`), the GraphQL operations
/// ([`serve_graphql`]) and the downloads with their file URLs (`downloads.rs`),
/// authenticated as the spec's schemes say, their parameters and bodies checked (see
/// [`check_request`], and `check_items` for an array body's elements).
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
    if method == Verb::Get {
        if let Some(resp) = serve_file_url(&shared, &parts, &query) {
            return resp;
        }
    }
    // A POST read's or a write's body (JSON, or a write's form): its members take part in
    // choosing among operations that share a path (body defaults), then act as parameters
    // (or the record's fields).
    let received = match method {
        Verb::Get => Received::Empty,
        _ => match axum::body::to_bytes(body, MAX_BODY).await {
            Ok(bytes) => Received::read(&parts.headers, bytes),
            Err(_) => return StatusCode::PAYLOAD_TOO_LARGE.into_response(),
        },
    };
    let body = received.json_object();
    let body_pairs = received.members().map(body_pairs).unwrap_or_default();
    let mut route_pairs = query.clone();
    route_pairs.extend(body_pairs.iter().cloned());
    let gql_query = body
        .as_ref()
        .ok()
        .and_then(|b| b.get("query"))
        .and_then(Value::as_str);
    let Some(hit) = catalog
        .router
        .find(method, parts.uri.path(), &route_pairs, gql_query)
    else {
        return empty_404();
    };
    let op = match hit.target {
        Target::Download(d) => return serve_download(&shared, d, hit, &parts, query, body),
        Target::GraphqlUnmatched => return serve_graphql(&shared, None, hit, &parts, query, body),
        Target::Op(op) if catalog.ops[op].graphql.is_some() => {
            return serve_graphql(&shared, Some(op), hit, &parts, query, body)
        }
        Target::Op(op) => op,
    };
    let path_params = hit.params;
    let o = &catalog.ops[op];
    let write = o.action.is_write();
    // A write reads its body as it declares it (a form, an array, ...); one that declares
    // no body ignores whatever came with it.
    let body = match (&o.body, write) {
        (Some(def), true) => received.for_write(def),
        (None, true) => Ok(Value::Object(Map::new())),
        (_, false) => body.map(Value::Object),
    };
    let result = shared.authorize(&parts.headers, &query).and_then(|()| {
        let body = body?;
        let query = without_credentials(&shared, query);
        let empty = Map::new();
        check_request(
            &shared,
            op,
            &parts.headers,
            &query,
            body.as_object().unwrap_or(&empty),
        )?;
        if let (Some(BodyKind::Array(items)), Value::Array(elements)) =
            (o.body.as_ref().map(|b| &b.kind), &body)
        {
            check_items(elements, items)?;
        }
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
    let mut headers = api_headers(&shared);
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
        Err(e) => error_response(&shared, headers, &e),
    }
}

/// The headers of every API answer: JSON, and the informational rate limit.
fn api_headers(shared: &Shared) -> HeaderMap {
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
    headers
}

/// An [`ApiError`] in the API's error envelope.
fn error_response(shared: &Shared, headers: HeaderMap, e: &ApiError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, headers, e.to_json(&shared.request_id())).into_response()
}

/// The query without an API key sent in it (the credential, not a parameter).
fn without_credentials(shared: &Shared, query: Vec<(String, String)>) -> Vec<(String, String)> {
    query
        .into_iter()
        .filter(|(k, _)| {
            !shared
                .auth
                .iter()
                .any(|c| matches!(c, AuthCheck::Query { name } if name == k))
        })
        .collect()
}

/// Serves a GraphQL operation (`op`; `None` when the body's query matches no operation
/// of the endpoint). Auth failures are the API's 401; a body that is not a JSON object is a
/// 400 (415 for another `Content-Type`) and one without a string `query` a 400, each with
/// `{"errors": [{"message"}]}`; everything else is HTTP 200 as GraphQL answers: the data, or
/// `{"data": null, "errors": [...]}` for a query matching no operation
/// (`GRAPHQL_VALIDATION_FAILED`) or parameters that fail their checks (`BAD_USER_INPUT`,
/// naming the parameter in `extensions.field`), or the root field `null` with a
/// `NOT_FOUND` error for an unknown id. Parameters: those the request's `variables` carry
/// (see `graphql.rs`), then the URL's query parameters for the rest.
fn serve_graphql(
    shared: &Shared,
    op: Option<usize>,
    hit: Hit,
    parts: &Parts,
    query: Vec<(String, String)>,
    body: Result<Map<String, Value>, ApiError>,
) -> Response {
    let headers = api_headers(shared);
    let respond =
        |status: StatusCode, body: String| (status, headers.clone(), body).into_response();
    let request_error = |status: u16, message: &str| {
        respond(
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            serde_json::json!({"errors": [{"message": message}]}).to_string(),
        )
    };
    if let Err(e) = shared.authorize(&parts.headers, &query) {
        return error_response(shared, headers.clone(), &e);
    }
    let body = match body {
        Ok(b) => b,
        Err(e) => return request_error(e.status, &e.message),
    };
    if !body.get("query").is_some_and(Value::is_string) {
        return request_error(
            400,
            "The request body must carry the GraphQL query in `query`",
        );
    }
    let Some(op) = op else {
        return respond(
            StatusCode::OK,
            graphql::error_body(
                "The query matches no operation of this API",
                "GRAPHQL_VALIDATION_FAILED",
                None,
            ),
        );
    };
    let catalog = shared.backend.catalog();
    let o = &catalog.ops[op];
    let Some(g) = &o.graphql else {
        return empty_404();
    };
    let variables = match body.get("variables") {
        // Some clients send the variables as a JSON string.
        Some(Value::String(s)) => serde_json::from_str(s).unwrap_or(Value::Null),
        Some(v) => v.clone(),
        None => Value::Null,
    };
    let (mut pairs, inputs) = g.extract(&variables, &o.params);
    let named: Vec<String> = pairs.iter().map(|(k, _)| k.clone()).collect();
    let query = without_credentials(shared, query);
    pairs.extend(query.into_iter().filter(|(k, _)| !named.contains(k)));
    let result = check_request(shared, op, &parts.headers, &pairs, &inputs).and_then(|()| {
        let mut params = hit.params;
        params.extend(pairs.iter().cloned());
        if o.action.is_write() {
            return shared.backend.write(
                op,
                &Params(params),
                &Value::Object(inputs.clone()),
                Envelope::Api,
            );
        }
        let wire = Wire {
            host: parts
                .headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok()),
            path: parts.uri.path(),
            query: &pairs,
        };
        shared
            .backend
            .answer(op, &Params(params), Some(&wire), Envelope::Api)
    });
    match result {
        Ok(answer) => {
            let mut headers = headers.clone();
            for (k, v) in &answer.headers {
                if let (Ok(k), Ok(v)) = (
                    HeaderName::from_bytes(k.as_bytes()),
                    HeaderValue::from_str(v),
                ) {
                    headers.append(k, v);
                }
            }
            (StatusCode::OK, headers, answer.body).into_response()
        }
        Err(e) if e.status == 404 => respond(
            StatusCode::OK,
            graphql::not_found_body(g.root_field.as_deref(), &e.message),
        ),
        Err(e) => respond(
            StatusCode::OK,
            graphql::error_body(&e.message, "BAD_USER_INPUT", e.field.as_deref()),
        ),
    }
}

/// Serves a download (see `downloads.rs`): authenticated and checked like any operation,
/// then the bytes (one step) or the metadata holding the file URL (two steps).
fn serve_download(
    shared: &Shared,
    d: usize,
    hit: Hit,
    parts: &Parts,
    query: Vec<(String, String)>,
    body: Result<Map<String, Value>, ApiError>,
) -> Response {
    let headers = api_headers(shared);
    let fail = |e: ApiError| error_response(shared, headers.clone(), &e);
    if let Err(e) = shared.authorize(&parts.headers, &query) {
        return fail(e);
    }
    let backend = &shared.backend;
    let def = &backend.catalog().downloads[d];
    let body = match body {
        Err(_) if !def.params.iter().any(|p| p.loc == Loc::Body) => Ok(Map::new()),
        body => body,
    };
    let body = match body {
        Ok(b) => b,
        Err(e) => return fail(e),
    };
    let query = without_credentials(shared, query);
    if let Err(e) = check_params(shared, &def.params, &[], &parts.headers, &query, &body) {
        return fail(e);
    }
    let mut params = hit.params;
    params.extend(query);
    params.extend(body_pairs(&body));
    let params = Params(params);
    let id = backend.download_id(d, &params);
    let Some(two) = &def.two_step else {
        return match backend.download_file(d, &id, 0) {
            Ok(file) => {
                let mut extra = headers.clone();
                extra.remove(header::CONTENT_TYPE);
                downloads::file_response(&file, range_of(&parts.headers), extra)
            }
            Err(e) => fail(e),
        };
    };
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let seed = backend.seed();
    let url = |part: usize| {
        let t = downloads::token(d, part, &id);
        if two.presigned {
            format!(
                "{}{FILES_PATH}{t}?sig={}",
                shared.storage_origin,
                downloads::signature(seed, &t)
            )
        } else {
            format!("http://{host}{}{DOWNLOADS_PATH}{t}", hit.prefix)
        }
    };
    match backend.download_metadata(d, &id, &params, &url) {
        Ok(v) => (StatusCode::OK, headers.clone(), v.to_string()).into_response(),
        Err(e) => fail(e),
    }
}

/// The `Range` header, if any.
fn range_of(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::RANGE).and_then(|v| v.to_str().ok())
}

/// Serves the file URLs of two-step downloads (`None` for other paths): pre-signed
/// `/__files/<token>?sig=..` without auth (403 for a wrong signature), and
/// `[<server prefix>]/__downloads/<token>` with the API's auth; an unknown token or a file
/// that no longer exists is a 404.
fn serve_file_url(shared: &Shared, parts: &Parts, query: &[(String, String)]) -> Option<Response> {
    let path = parts.uri.path();
    let backend = &shared.backend;
    let (token, presigned) = if let Some(t) = path.strip_prefix(FILES_PATH) {
        (t, true)
    } else {
        let (head, t) = path.rsplit_once(DOWNLOADS_PATH)?;
        let segs: Vec<&str> = head.split('/').filter(|s| !s.is_empty()).collect();
        if !head.is_empty() && !backend.catalog().router.is_prefix(&segs) {
            return None;
        }
        (t, false)
    };
    let headers = api_headers(shared);
    if presigned {
        let sig = query
            .iter()
            .find(|(k, _)| k == "sig")
            .map(|(_, v)| v.as_str());
        if sig != Some(downloads::signature(backend.seed(), token).as_str()) {
            let mut h = HeaderMap::new();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/xml"),
            );
            let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature does not match.</Message></Error>";
            return Some((StatusCode::FORBIDDEN, h, body).into_response());
        }
    } else if let Err(e) = shared.authorize(&parts.headers, query) {
        return Some(error_response(shared, headers, &e));
    }
    let not_found = || {
        error_response(
            shared,
            headers.clone(),
            &ApiError::not_found("No such file".into()),
        )
    };
    let Some((d, part, id)) = downloads::read_token(token) else {
        return Some(not_found());
    };
    let ok = backend
        .catalog()
        .downloads
        .get(d)
        .and_then(|def| def.two_step.as_ref())
        .is_some_and(|two| two.presigned == presigned);
    if !ok {
        return Some(not_found());
    }
    Some(match backend.download_file(d, &id, part) {
        Ok(file) => {
            let mut extra = if presigned {
                HeaderMap::new()
            } else {
                headers.clone()
            };
            extra.remove(header::CONTENT_TYPE);
            downloads::file_response(&file, range_of(&parts.headers), extra)
        }
        Err(e) => error_response(shared, headers.clone(), &e),
    })
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
    check_params(shared, &o.params, &o.paging_params(), headers, query, body)
}

/// Checks `params` as [`check_request`] does, but those named in `paging`.
fn check_params(
    shared: &Shared,
    params: &[ParamDef],
    paging: &[&str],
    headers: &HeaderMap,
    query: &[(String, String)],
    body: &Map<String, Value>,
) -> Result<(), ApiError> {
    for p in params {
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
