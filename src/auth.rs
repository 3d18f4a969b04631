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

/// The credentials a connector is built with: direct (incident.io API key) or, in a later
/// version, Airbyte-hosted.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Auth {
    /// Direct mode with an incident.io API key.
    IncidentIo(IncidentIoAuthConfig),
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
