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

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::{IncomingStream, Listener};
use axum::Router;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use super::airbyte::{self, Airbyte};
use super::backend::{ApiError, Backend, Params};
use super::faults::{self, Faults};
use super::log::{RecordedRequest, RequestLog};
use super::spec::{mix, parse_query, Action};

/// Paths under this prefix are the emulator's own: never logged, faulted or authenticated.
pub(crate) const CONTROL_PREFIX: &str = "/__emulator/";
/// Request bodies larger than this are rejected with 413.
const MAX_BODY: usize = 16 * 1024 * 1024;
/// Advertised requests-per-minute limit (informational; never enforced).
const RATE_LIMIT: f64 = 1200.0;

/// State shared by every route of one emulator.
#[derive(Debug)]
pub(crate) struct Shared {
    /// Synthetic data and the operation logic.
    pub backend: Backend,
    /// Fault switches.
    pub faults: Faults,
    /// Request log.
    pub log: RequestLog,
    /// The bearer token incident.io routes accept.
    pub api_key: String,
    /// The emulated Airbyte API (credentials, tokens, connectors).
    pub airbyte: Airbyte,
    seed: u64,
    seq: AtomicU64,
    bucket: Mutex<(f64, Instant)>,
}

impl Shared {
    pub(crate) fn new(backend: Backend, api_key: String, seed: u64, airbyte: Airbyte) -> Shared {
        Shared {
            backend,
            faults: Faults::default(),
            log: RequestLog::default(),
            api_key,
            airbyte,
            seed,
            seq: AtomicU64::new(0),
            bucket: Mutex::new((RATE_LIMIT, Instant::now())),
        }
    }

    /// A fresh UUID-shaped request id.
    pub(crate) fn request_id(&self) -> String {
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        let a = mix(self.seed ^ mix(n ^ 0x1D));
        let b = mix(a);
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xFFFF,
            a & 0xFFF,
            0x8000 | (b >> 48 & 0x3FFF),
            b & 0xFFFF_FFFF_FFFF
        )
    }

    /// Takes one token from the informational 1200/min bucket; returns what is left.
    fn rate_remaining(&self) -> u64 {
        let mut guard = self.bucket.lock().unwrap_or_else(|p| p.into_inner());
        let (tokens, last) = &mut *guard;
        let now = Instant::now();
        *tokens =
            (*tokens + now.duration_since(*last).as_secs_f64() * RATE_LIMIT / 60.0).min(RATE_LIMIT);
        *last = now;
        *tokens = (*tokens - 1.0).max(0.0);
        *tokens as u64
    }

    fn authorize(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let raw = headers
            .get(header::AUTHORIZATION)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string())
            .unwrap_or_default();
        let token = match raw.split_once(' ') {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
            _ if raw.eq_ignore_ascii_case("bearer") => "",
            _ => raw.as_str(),
        };
        if token.is_empty() {
            return Err(ApiError {
                status: 401,
                error_type: "authentication_error",
                code: "missing_authorization_material",
                message: "No authorization material provided in request".into(),
                field: None,
            });
        }
        if token == self.api_key && raw.len() > token.len() {
            return Ok(());
        }
        Err(ApiError {
            status: 401,
            error_type: "authentication_error",
            code: "access_token_invalid",
            message: "The API key you provided is invalid, expired or revoked".into(),
            field: None,
        })
    }
}

/// Microseconds since the Unix epoch.
pub(crate) fn unix_now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// The complete emulator router: the Airbyte API routes, incident.io routes (spec-driven,
/// in the fallback), the control path, and the wire middleware around everything but the
/// control path.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        // Explicit routes, logged and faulted like the incident.io fallback.
        .merge(airbyte::routes())
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
        Some(f) => faults::apply(f, req, next, &shared).await,
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
    let result = shared.authorize(req.headers()).and_then(|()| {
        let mut params = path_params;
        params.extend(parse_query(req.uri().query()));
        let action = match route.action {
            Action::List => "list",
            Action::Get => "get",
        };
        let entity = &catalog.entities[route.entity].name;
        shared.backend.execute(entity, action, &Params(params))
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

/// Connection info handed to handlers: the peer address and a kill switch.
#[derive(Debug, Clone)]
pub(crate) struct ConnHandle {
    /// Peer address.
    #[allow(dead_code)]
    pub remote: SocketAddr,
    killed: Arc<AtomicBool>,
}

impl ConnHandle {
    /// Makes every further read or write on the connection fail, so hyper drops it; the
    /// socket is closed with a TCP reset.
    pub(crate) fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
    }
}

impl axum::extract::connect_info::Connected<IncomingStream<'_, KillableListener>> for ConnHandle {
    fn connect_info(stream: IncomingStream<'_, KillableListener>) -> Self {
        stream.remote_addr().clone()
    }
}

/// A TCP listener whose connections can be killed from a handler.
#[derive(Debug)]
pub(crate) struct KillableListener(pub TcpListener);

impl Listener for KillableListener {
    type Io = KillableStream;
    type Addr = ConnHandle;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.0.accept().await {
                Ok((stream, remote)) => {
                    let _ = stream.set_nodelay(true);
                    let killed = Arc::new(AtomicBool::new(false));
                    return (
                        KillableStream {
                            inner: stream,
                            killed: killed.clone(),
                        },
                        ConnHandle { remote, killed },
                    );
                }
                // Out of file descriptors and the like: back off briefly, keep serving.
                Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(ConnHandle {
            remote: self.0.local_addr()?,
            killed: Arc::new(AtomicBool::new(false)),
        })
    }
}

/// A TCP stream that starts failing once its [`ConnHandle`] is killed.
#[derive(Debug)]
pub(crate) struct KillableStream {
    inner: TcpStream,
    killed: Arc<AtomicBool>,
}

impl KillableStream {
    fn check(&self) -> io::Result<()> {
        if self.killed.load(Ordering::SeqCst) {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "emulator fault: connection reset",
            ));
        }
        Ok(())
    }
}

impl Drop for KillableStream {
    fn drop(&mut self) {
        if self.killed.load(Ordering::SeqCst) {
            // Zero linger: closing the socket sends RST instead of FIN.
            #[allow(deprecated)]
            let _ = self.inner.set_linger(Some(Duration::ZERO));
        }
    }
}

impl AsyncRead for KillableStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if let Err(e) = self.check() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for KillableStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if let Err(e) = self.check() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if let Err(e) = self.check() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Err(e) = self.check() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Err(e) = self.check() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
