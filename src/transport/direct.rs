//! Direct transport: one pooled `reqwest::Client` with `Authorization: Bearer <api key>` set
//! as a sensitive default header, talking to `https://api.incident.io` (or a loopback
//! emulator). Requests are built from the operation metadata ([`crate::request`]); bodies are
//! read under the size cap and every failure is mapped into [`Error`] with the call's context.

use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use secrecy::ExposeSecret;
use serde_json::{Map, Value};
use tracing::Instrument;

use crate::auth::IncidentIoAuthConfig;
use crate::error::Context;
use crate::http::{from_reqwest, http_client, read_ok, Body, HttpSettings};
use crate::meta::OperationMeta;
use crate::retry::{should_retry, Sender};
use crate::Error;

/// Calls the API directly.
#[derive(Debug)]
pub(crate) struct DirectTransport {
    http: reqwest::Client,
    base_url: String,
    sender: Sender,
    max_response_bytes: usize,
}

impl DirectTransport {
    pub(crate) fn new(
        auth: &IncidentIoAuthConfig,
        base_url: &str,
        settings: &HttpSettings,
    ) -> Result<Self, Error> {
        auth.validate()?;
        let mut bearer =
            HeaderValue::from_str(&format!("Bearer {}", auth.api_key().expose_secret())).map_err(
                |_| {
                    Error::invalid(
                "api_key",
                "it is not a valid HTTP header value; use the key exactly as incident.io shows it",
            )
                },
            )?;
        bearer.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, bearer);
        Ok(DirectTransport {
            http: http_client(settings, headers)?,
            base_url: base_url.trim_end_matches('/').to_string(),
            sender: settings.sender.clone(),
            max_response_bytes: settings.max_response_bytes,
        })
    }

    /// Runs one operation (with retries; the decode is part of each attempt, so a truncated
    /// body is retried too), inside a tracing span.
    pub(crate) async fn call<R>(
        &self,
        op: &'static OperationMeta,
        params: &Map<String, Value>,
        decode: impl Fn(&Context, &Body) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let url = crate::request::url(&self.base_url, op, params)?;
        let method = reqwest::Method::from_bytes(op.method.as_bytes()).map_err(|_| {
            Error::invalid("method", format!("`{}` is not an HTTP method", op.method))
        })?;
        let ctx = Context::new(op.entity, op.action.as_str());
        let span = tracing::debug_span!(
            "incident_io.call",
            entity = op.entity,
            action = op.action.as_str(),
            transport = "direct",
            status = tracing::field::Empty,
            attempts = tracing::field::Empty,
        );
        async {
            // Every operation is a read: safe to repeat (see `retry`).
            let result = self
                .sender
                .run(should_retry, |_| async {
                    let resp = self
                        .http
                        .request(method.clone(), &url)
                        .send()
                        .await
                        .map_err(|e| from_reqwest(&ctx, e))?;
                    let body = read_ok(&ctx, resp, self.max_response_bytes).await?;
                    decode(&ctx, &body)
                })
                .await;
            let status = match &result {
                Ok(_) => 200,
                Err(e) => e.status().unwrap_or(0),
            };
            tracing::Span::current().record("status", status);
            result
        }
        .instrument(span)
        .await
    }
}
