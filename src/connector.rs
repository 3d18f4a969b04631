//! The connector: one cheap-to-clone handle (an `Arc`) holding the chosen transport and its
//! connection pool, the builder that validates configuration before any request, and the
//! untyped `execute` entry point for agents.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::auth::Auth;
use crate::transport::direct::{DirectTransport, HttpSettings};
use crate::transport::Transport;
use crate::{meta, Error};

/// A connection to incident.io. Cheap to clone (it is an `Arc`); clones share one connection
/// pool. Entity handles (`incidents()`, `users()`, …) are generated from the spec.
#[derive(Clone)]
pub struct IncidentIoConnector {
    inner: Arc<Inner>,
}

struct Inner {
    transport: Transport,
    base_url: String,
}

impl std::fmt::Debug for IncidentIoConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IncidentIoConnector")
            .field("transport", &self.inner.transport.name())
            .field("base_url", &self.inner.base_url)
            .finish_non_exhaustive()
    }
}

impl IncidentIoConnector {
    /// Starts building a connector.
    pub fn builder() -> IncidentIoConnectorBuilder {
        IncidentIoConnectorBuilder::default()
    }

    pub(crate) fn transport(&self) -> &Transport {
        &self.inner.transport
    }

    /// The incident.io base URL calls go to.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// Runs `action` on `entity` with untyped `params`, the single tool an agent calls.
    ///
    /// Returns the reference SDK's envelopes: for `list`, `{"data": [...], "meta":
    /// {"next_cursor": ...}}` (pass `next_cursor` back as `after` for the next page; it is
    /// `null` on the last page); for `get`, the record itself. An unknown entity, action or
    /// parameter, or a parameter of the wrong type or out of bounds, is rejected before any
    /// request with an [`Error::InvalidInput`] that lists what is valid.
    pub async fn execute(&self, entity: &str, action: &str, params: Value) -> Result<Value, Error> {
        let ent = meta::entity(entity).ok_or_else(|| {
            Error::invalid(
                "entity",
                format!(
                    "unknown entity `{entity}`; valid entities: {}",
                    meta::entities()
                        .iter()
                        .map(|e| e.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?;
        let op = ent.operation(action).ok_or_else(|| {
            Error::invalid(
                "action",
                format!(
                    "`{entity}` has no action `{action}`; valid actions: {}",
                    ent.action_names().join(", ")
                ),
            )
        })?;
        let params = match params {
            Value::Null => serde_json::Map::new(),
            Value::Object(map) => map,
            other => {
                return Err(Error::invalid(
                    "params",
                    format!("must be a JSON object like {{\"page_size\": 25}}, got {other}"),
                ))
            }
        };
        crate::generated::dispatch(self, op, params).await
    }
}

/// Builds an [`IncidentIoConnector`]; every setting is checked in [`build`](Self::build) or
/// where it is given, before any request.
#[derive(Debug, Default)]
#[must_use]
pub struct IncidentIoConnectorBuilder {
    auth: Option<Auth>,
    base_url: Option<String>,
    http: HttpSettings,
}

impl IncidentIoConnectorBuilder {
    /// The credentials: [`IncidentIoAuthConfig`](crate::IncidentIoAuthConfig) for direct mode.
    pub fn auth(mut self, auth: impl Into<Auth>) -> Self {
        self.auth = Some(auth.into());
        self
    }

    /// Overrides the incident.io base URL (default `https://api.incident.io`). It must be
    /// `https`, except for loopback hosts (`127.0.0.1`, `::1`, `localhost`), which may use
    /// `http` (the emulator, test servers).
    pub fn base_url(mut self, url: &str) -> Result<Self, Error> {
        self.base_url = Some(check_base_url("base_url", url)?);
        Ok(self)
    }

    /// Time allowed to establish a connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.http.connect_timeout = timeout;
        self
    }

    /// Time allowed for a whole request, body included (default 60 s). A stalled body ends in
    /// [`Error::Timeout`], never a hang.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.http.timeout = timeout;
        self
    }

    /// Appends a product token to the `User-Agent` (default `incident-io-connector/<version>`).
    pub fn user_agent_suffix(mut self, suffix: &str) -> Self {
        self.http.user_agent = format!("{} {suffix}", crate::USER_AGENT);
        self
    }

    /// Builds the connector (no request is made).
    pub fn build(self) -> Result<IncidentIoConnector, Error> {
        let auth = self.auth.ok_or_else(|| {
            Error::invalid(
                "auth",
                "no credentials: call .auth(IncidentIoAuthConfig::new(api_key)) on the builder",
            )
        })?;
        let base_url = self
            .base_url
            .unwrap_or_else(|| crate::generated::ops::DEFAULT_BASE_URL.to_string());
        let transport = match auth {
            Auth::IncidentIo(config) => {
                Transport::Direct(DirectTransport::new(&config, &base_url, &self.http)?)
            }
        };
        Ok(IncidentIoConnector {
            inner: Arc::new(Inner {
                transport,
                base_url,
            }),
        })
    }
}

/// Checks a base URL: parseable, http(s), https unless the host is loopback, no query or
/// fragment. Returns it without a trailing slash.
pub(crate) fn check_base_url(field: &str, url: &str) -> Result<String, Error> {
    let parsed = url::Url::parse(url.trim()).map_err(|e| {
        Error::invalid(
            field,
            format!("{url:?} is not a URL ({e}); pass something like https://api.incident.io"),
        )
    })?;
    let loopback = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    match parsed.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(Error::invalid(
                field,
                format!("{url:?} uses plain http to a non-loopback host, which would send the credentials unencrypted; use https (http is allowed only for 127.0.0.1, ::1 and localhost)"),
            ))
        }
        other => {
            return Err(Error::invalid(
                field,
                format!("{url:?} has scheme `{other}`; use https (or http for a loopback host)"),
            ))
        }
    }
    if parsed.host().is_none() {
        return Err(Error::invalid(field, format!("{url:?} has no host")));
    }
    if parsed.query().is_some()
        || parsed.fragment().is_some()
        || !parsed.username().is_empty()
        || parsed.password().is_some()
    {
        return Err(Error::invalid(
            field,
            format!("{url:?} must not carry a query, fragment or user info; pass only scheme, host, port and path prefix"),
        ));
    }
    Ok(parsed.as_str().trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_rules() {
        assert_eq!(
            check_base_url("base_url", "https://api.incident.io/").unwrap(),
            "https://api.incident.io"
        );
        assert_eq!(
            check_base_url("base_url", "http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert!(check_base_url("base_url", "http://[::1]:1").is_ok());
        assert!(check_base_url("base_url", "http://localhost:1/x").is_ok());
        for bad in [
            "api.incident.io",
            "http://api.incident.io",
            "ftp://x",
            "https://x/?a=b",
            "https://u:p@x",
        ] {
            let err = check_base_url("base_url", bad).unwrap_err();
            assert!(
                err.to_string().starts_with("invalid base_url:"),
                "{bad}: {err}"
            );
        }
    }
}
