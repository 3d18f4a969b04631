//! An in-process stand-in for the incident.io API, for tests, examples and benchmarks.
//!
//! [`Emulator`] runs an axum server on `127.0.0.1` that serves every entity of the
//! connector spec: each `paths.*.get` operation with `x-airbyte-entity` and
//! `x-airbyte-action` `list` or `get` becomes a route, with synthetic, deterministic records
//! generated from the record schema. Nothing is hard-coded per entity, so an entity added
//! to the spec is served without code changes.
//!
//! It behaves like the real API on the wire: bearer-token auth with incident.io's 401
//! bodies, cursor pagination (`page_size` bounds from the spec, `after` = id of the last
//! record seen, `pagination_meta` without `after` on the last page), 404/422 error
//! envelopes, empty-bodied 404s for unknown routes, and `X-RateLimit-*` headers.
//! Every request is recorded ([`Emulator::requests`]) and faults can be injected while
//! it runs ([`Emulator::faults`]).
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use incident_io_connector::emulator::{Emulator, Fault};
//!
//! let emulator = Emulator::builder().count("incidents", 1_000).seed(7).start().await?;
//! emulator.faults().push(Fault::rate_limited(1)); // the next request gets a 429
//! let url = format!("{}/v2/incidents?page_size=250", emulator.base_url());
//! // ... point the SDK at emulator.base_url() with emulator.api_key() ...
//! # let _ = url;
//! emulator.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Module layout: `spec` reads the spec into routes and compiled record shapes; `data`
//! generates records; `backend` answers (entity, action, params) with JSON (shared by
//! every transport); `server` holds the router, middleware and listener; `faults` and
//! `log` own fault injection and the request log.

mod backend;
mod data;
mod faults;
mod log;
mod server;
mod spec;

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use faults::{Fault, Faults};
pub use log::RecordedRequest;

use backend::Backend;
use server::{KillableListener, Shared};

/// How long [`Emulator::shutdown`] waits for open connections before aborting them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// A running emulator. The server stops when this is dropped or [`shutdown`](Self::shutdown).
pub struct Emulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl fmt::Debug for Emulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emulator")
            .field("base_url", &self.base_url())
            .field("entities", &self.entities())
            .finish_non_exhaustive()
    }
}

/// Configures and starts an [`Emulator`].
#[derive(Debug, Clone)]
pub struct EmulatorBuilder {
    seed: u64,
    api_key: String,
    counts: HashMap<String, usize>,
    default_count: Option<usize>,
    spec_json: Option<String>,
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        EmulatorBuilder {
            seed: 1,
            api_key: "emulator-api-key".to_string(),
            counts: HashMap::new(),
            default_count: None,
            spec_json: None,
        }
    }
}

impl EmulatorBuilder {
    /// Seed of the synthetic data (default 1). The same seed and counts give the same records.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The API key the server accepts as `Authorization: Bearer <key>` (default `emulator-api-key`).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = key.into();
        self
    }

    /// Number of records of `entity` (e.g. `"incidents"`).
    pub fn count(mut self, entity: &str, n: usize) -> Self {
        self.counts.insert(entity.to_string(), n);
        self
    }

    /// Number of records of every entity not given a [`count`](Self::count). Without it,
    /// paginated entities get 50 records and unpaginated ones 5.
    pub fn default_count(mut self, n: usize) -> Self {
        self.default_count = Some(n);
        self
    }

    /// Serves this spec (the connector spec as JSON) instead of the SDK's own.
    pub fn spec_json(mut self, json: &str) -> Self {
        self.spec_json = Some(json.to_string());
        self
    }

    /// Binds `127.0.0.1` on a free port and starts serving. Must be called inside a Tokio
    /// runtime. Fails with `InvalidData` if the spec cannot be read.
    pub async fn start(self) -> io::Result<Emulator> {
        let spec = self.spec_json.as_deref().unwrap_or(crate::SPEC_JSON);
        let backend = Backend::new(spec, self.seed, &self.counts, self.default_count)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("emulator: {e}")))?;
        let shared = Arc::new(Shared::new(backend, self.api_key, self.seed));

        let listener = tokio::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let app = server::router(shared.clone())
            .into_make_service_with_connect_info::<server::ConnHandle>();
        let (stop, stopped) = oneshot::channel::<()>();
        let serve =
            axum::serve(KillableListener(listener), app).with_graceful_shutdown(async move {
                let _ = stopped.await;
            });
        let task = tokio::spawn(async move {
            if let Err(e) = serve.await {
                tracing::warn!(error = %e, "emulator server stopped with an error");
            }
        });
        tracing::debug!(%addr, "emulator listening");
        Ok(Emulator {
            shared,
            addr,
            stop: Some(stop),
            task: Some(task),
        })
    }
}

impl Emulator {
    /// A builder with the defaults (seed 1, key `emulator-api-key`, the SDK's spec).
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    /// Starts an emulator with the defaults.
    pub async fn start() -> io::Result<Emulator> {
        Self::builder().start().await
    }

    /// `http://127.0.0.1:PORT`, with no trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The socket address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The API key the server accepts.
    pub fn api_key(&self) -> &str {
        &self.shared.api_key
    }

    /// Fault switches; changes apply to the next requests.
    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// Every request received so far (up to the latest 100,000), oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.log.snapshot()
    }

    /// Number of requests received since start or the last [`clear_requests`](Self::clear_requests).
    pub fn request_count(&self) -> usize {
        self.shared.log.count()
    }

    /// Empties the request log and resets [`request_count`](Self::request_count).
    pub fn clear_requests(&self) {
        self.shared.log.clear();
    }

    /// Number of records served for `entity`, or `None` if the spec has no such entity.
    pub fn record_count(&self, entity: &str) -> Option<usize> {
        self.shared.backend.count(entity)
    }

    /// Record `index` (0-based, in server order) of `entity`, exactly as the server sends it.
    pub fn record(&self, entity: &str, index: usize) -> Option<serde_json::Value> {
        self.shared.backend.record(entity, index)
    }

    /// The served entity names, sorted by name.
    pub fn entities(&self) -> Vec<String> {
        self.shared.backend.entities()
    }

    /// Stops accepting connections, lets open ones finish (up to 2 s), then stops.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(SHUTDOWN_GRACE, &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
