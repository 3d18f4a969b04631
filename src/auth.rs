//! Credentials. Secrets are [`secrecy::SecretString`]s: they are zeroized on drop, never
//! appear in `Debug` output, errors or logs, and are exposed only where a header is built.

use secrecy::{ExposeSecret, SecretString};

use crate::Error;

/// Direct mode: an incident.io API key, sent as `Authorization: Bearer <key>` straight to
/// `https://api.incident.io`. Create a key at <https://app.incident.io/settings/api-keys>.
#[derive(Clone)]
pub struct IncidentIoAuthConfig {
    api_key: SecretString,
}

impl IncidentIoAuthConfig {
    /// Wraps an API key.
    pub fn new(api_key: impl Into<String>) -> Self {
        IncidentIoAuthConfig {
            api_key: SecretString::from(api_key.into()),
        }
    }

    /// The key, for building the `Authorization` header.
    pub(crate) fn api_key(&self) -> &SecretString {
        &self.api_key
    }

    /// Rejects an empty key or one with whitespace (a copy-paste slip) before any request.
    pub(crate) fn validate(&self) -> Result<(), Error> {
        check_secret(
            "api_key",
            self.api_key.expose_secret(),
            "INCIDENT_IO_API_KEY",
        )
    }
}

impl std::fmt::Debug for IncidentIoAuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IncidentIoAuthConfig")
            .field("api_key", &"[redacted]")
            .finish()
    }
}

pub(crate) fn check_secret(field: &str, value: &str, env: &str) -> Result<(), Error> {
    if value.trim().is_empty() {
        return Err(Error::invalid(
            field,
            format!("it is empty; pass a non-empty value (for example from {env})"),
        ));
    }
    if value.chars().any(char::is_whitespace) {
        return Err(Error::invalid(
            field,
            "it contains whitespace (a copy-paste slip?); pass the value without spaces or newlines",
        ));
    }
    if value.chars().any(|c| c.is_control() || !c.is_ascii()) {
        return Err(Error::invalid(
            field,
            "it contains non-ASCII or control characters; credentials are printable ASCII",
        ));
    }
    Ok(())
}

/// Hosted mode: Airbyte application credentials. Calls go through Airbyte's API
/// (`POST /api/v1/integrations/connectors/{id}/execute`); the incident.io API key stays stored
/// in Airbyte and never reaches this process.
///
/// The connector is found by `connector_id` when given, else looked up once by
/// `workspace_name` (default `"default"`) and the spec's definition id.
#[derive(Clone)]
pub struct AirbyteAuthConfig {
    pub(crate) client_id: String,
    pub(crate) client_secret: SecretString,
    pub(crate) workspace_name: Option<String>,
    pub(crate) organization_id: Option<String>,
    pub(crate) connector_id: Option<String>,
    pub(crate) api_url: Option<String>,
}

impl AirbyteAuthConfig {
    /// Airbyte application credentials (client id and secret).
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        AirbyteAuthConfig {
            client_id: client_id.into(),
            client_secret: SecretString::from(client_secret.into()),
            workspace_name: None,
            organization_id: None,
            connector_id: None,
            api_url: None,
        }
    }

    /// The Airbyte workspace that holds the incident.io connector (used to look it up, and
    /// required by [`IncidentIoConnector::create`](crate::IncidentIoConnector::create)).
    pub fn workspace_name(mut self, name: impl Into<String>) -> Self {
        self.workspace_name = Some(name.into());
        self
    }

    /// The older name of [`workspace_name`](Self::workspace_name), as Airbyte's original
    /// product page and the Python SDK's `customer_name` call it. Same effect: it sets the
    /// workspace.
    pub fn customer_name(self, name: impl Into<String>) -> Self {
        self.workspace_name(name)
    }

    /// The Airbyte organization, for clients that can reach several (sent as
    /// `X-Organization-Id`).
    pub fn organization_id(mut self, id: impl Into<String>) -> Self {
        self.organization_id = Some(id.into());
        self
    }

    /// The hosted connector's id; skips the lookup.
    pub fn connector_id(mut self, id: impl Into<String>) -> Self {
        self.connector_id = Some(id.into());
        self
    }

    /// Overrides the Airbyte API URL (default `https://api.airbyte.ai`). It must be https,
    /// except for loopback hosts; checked when the connector is built.
    pub fn airbyte_api_url(mut self, url: impl Into<String>) -> Self {
        self.api_url = Some(url.into());
        self
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        check_secret("client_id", &self.client_id, "AIRBYTE_CLIENT_ID")?;
        check_secret(
            "client_secret",
            self.client_secret.expose_secret(),
            "AIRBYTE_CLIENT_SECRET",
        )?;
        for (field, value) in [
            ("workspace_name", &self.workspace_name),
            ("organization_id", &self.organization_id),
            ("connector_id", &self.connector_id),
        ] {
            if let Some(v) = value {
                if v.trim().is_empty() {
                    return Err(Error::invalid(
                        field,
                        "it is empty; leave it unset or pass a value",
                    ));
                }
            }
        }
        Ok(())
    }
}

impl std::fmt::Debug for AirbyteAuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AirbyteAuthConfig")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("workspace_name", &self.workspace_name)
            .field("organization_id", &self.organization_id)
            .field("connector_id", &self.connector_id)
            .field("api_url", &self.api_url)
            .finish()
    }
}

/// The credentials a connector is built with: direct (incident.io API key) or Airbyte-hosted.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Auth {
    /// Direct mode with an incident.io API key.
    IncidentIo(IncidentIoAuthConfig),
    /// Hosted mode through Airbyte.
    Airbyte(AirbyteAuthConfig),
}

impl From<AirbyteAuthConfig> for Auth {
    fn from(c: AirbyteAuthConfig) -> Self {
        Auth::Airbyte(c)
    }
}

impl From<IncidentIoAuthConfig> for Auth {
    fn from(c: IncidentIoAuthConfig) -> Self {
        Auth::IncidentIo(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_key() {
        let c = IncidentIoAuthConfig::new("sk_live_supersecret");
        let shown = format!("{c:?} {:?}", Auth::from(c.clone()));
        assert!(!shown.contains("supersecret"), "{shown}");
        let a = AirbyteAuthConfig::new("client", "cs_verysecret").workspace_name("w");
        let shown = format!("{a:?} {:?}", Auth::from(a.clone()));
        assert!(!shown.contains("verysecret"), "{shown}");
        assert!(shown.contains("client"), "{shown}");
    }

    #[test]
    fn rejects_empty_and_whitespace_keys() {
        for bad in ["", "   ", "abc def", "abc\n"] {
            let err = IncidentIoAuthConfig::new(bad).validate().unwrap_err();
            assert!(err.to_string().starts_with("invalid api_key:"), "{err}");
        }
        IncidentIoAuthConfig::new("abc").validate().unwrap();
    }
}
