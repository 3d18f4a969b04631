//! Direct transport: progenitor's generated client over one pooled `reqwest::Client`, with
//! `Authorization: Bearer <api key>` set as a sensitive default header, talking to
//! `https://api.incident.io` (or a loopback emulator). Maps every progenitor/reqwest failure
//! into [`Error`] with the call's context.

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, RETRY_AFTER};
use secrecy::ExposeSecret;
use tracing::Instrument;

use super::{DirectCall, RawError};
use crate::auth::IncidentIoAuthConfig;
use crate::error::Context;
use crate::generated::raw;
use crate::meta::OperationMeta;
use crate::retry::{should_retry, Sender};
use crate::Error;

/// Settings shared by the transports' HTTP clients.
#[derive(Debug, Clone)]
pub(crate) struct HttpSettings {
    pub(crate) connect_timeout: Duration,
    pub(crate) timeout: Duration,
    pub(crate) user_agent: String,
    pub(crate) sender: Sender,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
            user_agent: crate::USER_AGENT.to_string(),
            sender: Sender::default(),
        }
    }
}

/// Builds a `reqwest::Client` with rustls (ring provider, the platform's trust store), the
/// given default headers, timeouts and user agent.
pub(crate) fn http_client(
    settings: &HttpSettings,
    headers: HeaderMap,
) -> Result<reqwest::Client, Error> {
    use rustls_platform_verifier::BuilderVerifierExt;
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let tls_error = |e: rustls::Error| Error::invalid("tls", format!("cannot set up TLS: {e}"));
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?
        .with_platform_verifier()
        .map_err(tls_error)?
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .default_headers(headers)
        .connect_timeout(settings.connect_timeout)
        .timeout(settings.timeout)
        .user_agent(settings.user_agent.clone())
        .pool_idle_timeout(Duration::from_secs(90))
        .build()
        .map_err(|e| Error::invalid("http_client", format!("cannot build the HTTP client: {e}")))
}

/// Calls incident.io directly.
#[derive(Debug)]
pub(crate) struct DirectTransport {
    raw: raw::Client,
    sender: Sender,
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
        let client = http_client(settings, headers)?;
        Ok(DirectTransport {
            raw: raw::Client::new_with_client(base_url, client),
            sender: settings.sender.clone(),
        })
    }

    /// Runs one operation through the progenitor client, inside a tracing span.
    pub(crate) async fn call<P: DirectCall>(
        &self,
        op: &'static OperationMeta,
        params: &P,
    ) -> Result<P::Output, Error> {
        let span = tracing::debug_span!(
            "incident_io.call",
            entity = op.entity,
            action = op.action.as_str(),
            transport = "direct",
            status = tracing::field::Empty,
            attempts = tracing::field::Empty,
        );
        async {
            // Every operation is a GET: safe to repeat (see `retry`).
            let result = self
                .sender
                .run(should_retry, |_| async {
                    match params.call(&self.raw).await {
                        Ok(r) => Ok(r),
                        Err(e) => Err(map_error(op, e).await),
                    }
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

/// Maps a progenitor error into [`Error`]; reads the body of unexpected responses.
pub(crate) async fn map_error(op: &OperationMeta, e: RawError) -> Error {
    let ctx = Context::new(op.entity, op.action.as_str());
    match e {
        RawError::InvalidRequest(msg) => Error::invalid("request", msg),
        RawError::CommunicationError(e) | RawError::ResponseBodyError(e) => from_reqwest(&ctx, e),
        RawError::InvalidResponsePayload(body, e) => Error::decode_json(&ctx, &e, &body),
        RawError::UnexpectedResponse(resp) => from_response(ctx, resp).await,
        RawError::ErrorResponse(resp) => {
            Error::from_response(ctx, resp.status().as_u16(), None, b"")
        }
        other => Error::Network {
            context: ctx.to_string(),
            message: other.to_string(),
            source: None,
        },
    }
}

/// Reads an error response (status, `Retry-After`, body) into [`Error`].
pub(crate) async fn from_response(ctx: Context, resp: reqwest::Response) -> Error {
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    match resp.bytes().await {
        Ok(body) => Error::from_response(ctx, status, retry_after.as_deref(), &body),
        Err(e) => from_reqwest(&ctx, e),
    }
}

/// Classifies a reqwest failure as timeout or network.
pub(crate) fn from_reqwest(ctx: &Context, e: reqwest::Error) -> Error {
    let phase = if e.is_connect() {
        "connecting"
    } else if e.is_body() || e.is_decode() {
        "reading the response body"
    } else {
        "sending the request"
    };
    if e.is_timeout() {
        Error::Timeout {
            context: ctx.to_string(),
            message: format!("no complete response while {phase}"),
        }
    } else {
        let mut message = format!("failed while {phase}: {e}");
        let mut source: Option<&dyn std::error::Error> = std::error::Error::source(&e);
        while let Some(s) = source {
            message.push_str(&format!(": {s}"));
            source = s.source();
        }
        Error::Network {
            context: ctx.to_string(),
            message,
            source: Some(e),
        }
    }
}
