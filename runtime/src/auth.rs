//! Credentials. Secrets are [`secrecy::SecretString`]s: they are zeroized on drop, never
//! appear in `Debug` output, errors or logs, and are exposed only where a header, a query
//! parameter or a request body is built.
//!
//! - [`Credentials`]: the values of one auth scheme of the spec (`x-airbyte-auth-config`),
//!   which the generated `<Connector>AuthConfig` wraps. How they reach a request (bearer,
//!   basic, API key header or query, OAuth 2) is the scheme's; see [`crate::meta::AuthKind`].
//! - [`AirbyteAuthConfig`]: Airbyte application credentials, for hosted mode.

use secrecy::{ExposeSecret, SecretString};

use crate::meta::{AuthSchemeMeta, TemplatePart};
use crate::Error;

/// The values of one auth scheme's credential fields. Built by the generated
/// `<Connector>AuthConfig` constructors; validated before any request.
#[derive(Clone)]
pub struct Credentials {
    scheme: &'static AuthSchemeMeta,
    values: Vec<(&'static str, SecretString)>,
}

impl Credentials {
    /// No values yet, for `scheme`.
    pub fn new(scheme: &'static AuthSchemeMeta) -> Self {
        Credentials {
            scheme,
            values: Vec::new(),
        }
    }

    /// Sets field `name` (a field of the scheme; other names are ignored).
    pub fn set(mut self, name: &str, value: impl Into<String>) -> Self {
        if let Some(field) = self.scheme.field(name) {
            self.values.retain(|(n, _)| *n != field.name);
            self.values
                .push((field.name, SecretString::from(value.into())));
        }
        self
    }

    /// The scheme these credentials are for.
    pub fn scheme(&self) -> &'static AuthSchemeMeta {
        self.scheme
    }

    /// The value of field `name`, if set.
    pub fn get(&self, name: &str) -> Option<&SecretString> {
        self.values.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// Whether field `name` fills the `credentials_json` slot (a JSON document).
    fn is_document(&self, name: &str) -> bool {
        self.scheme
            .mapping("credentials_json")
            .is_some_and(|parts| {
                parts
                    .iter()
                    .any(|p| matches!(p, crate::meta::TemplatePart::Field(n) if *n == name))
            })
    }

    /// Rejects a missing required field, and an empty value or one with whitespace or control
    /// characters in a secret (a copy-paste slip), before any request.
    pub fn validate(&self) -> Result<(), Error> {
        for f in self.scheme.fields {
            match self.get(f.name) {
                None if f.required => {
                    return Err(Error::invalid(
                        f.name,
                        format!(
                            "it is missing; pass it (for example from {}){}",
                            f.env,
                            if f.description.is_empty() {
                                String::new()
                            } else {
                                format!(": {}", f.description.trim_end_matches('.'))
                            }
                        ),
                    ))
                }
                None => {}
                // A JSON key file (a service account's `credentials_json`) has spaces and
                // newlines by nature; it is checked when it is parsed.
                Some(v)
                    if f.secret
                        && self.is_document(f.name)
                        && v.expose_secret().trim().is_empty() =>
                {
                    return Err(Error::invalid(
                        f.name,
                        format!(
                            "it is empty; pass the key file's JSON (for example from {})",
                            f.env
                        ),
                    ));
                }
                Some(_) if f.secret && self.is_document(f.name) => {}
                Some(v) if f.secret => check_secret(f.name, v.expose_secret(), f.env)?,
                Some(v) if v.expose_secret().trim().is_empty() => {
                    return Err(Error::invalid(
                        f.name,
                        format!(
                            "it is empty; leave it unset or pass a value (for example from {})",
                            f.env
                        ),
                    ))
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// Fills a template from the values; `None` when a field it names is not set.
    pub(crate) fn render(&self, template: &[TemplatePart]) -> Option<String> {
        let mut out = String::new();
        for part in template {
            match part {
                TemplatePart::Literal(text) => out.push_str(text),
                TemplatePart::Field(name) => out.push_str(self.get(name)?.expose_secret()),
            }
        }
        Some(out)
    }

    /// Fills a mapping slot of the scheme (`token`, `username`, `api_key`, ...).
    pub(crate) fn slot(&self, slot: &str) -> Option<SecretString> {
        self.scheme
            .mapping(slot)
            .and_then(|t| self.render(t))
            .map(SecretString::from)
    }

    /// The values as a JSON object, secrets exposed: the `credentials` of a hosted connector
    /// created in Airbyte.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        for f in self.scheme.fields {
            if let Some(v) = self.get(f.name) {
                m.insert(
                    f.name.to_string(),
                    serde_json::Value::String(v.expose_secret().to_string()),
                );
            }
        }
        serde_json::Value::Object(m)
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("Credentials");
        d.field("scheme", &self.scheme.key);
        for field in self.scheme.fields {
            match self.get(field.name) {
                None => {}
                Some(_) if field.secret => {
                    d.field(field.name, &"[redacted]");
                }
                Some(v) => {
                    d.field(field.name, &v.expose_secret());
                }
            }
        }
        d.finish()
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
/// (`POST /api/v1/integrations/connectors/{id}/execute`); the API's own credentials stay
/// stored in Airbyte and never reach this process.
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

    /// The Airbyte workspace that holds the connector (used to look it up, and required to
    /// create one).
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::{AuthFieldMeta, AuthKind};

    static SCHEME: AuthSchemeMeta = AuthSchemeMeta {
        key: "basicAuth",
        kind: AuthKind::Basic,
        title: "",
        description: "",
        fields: &[
            AuthFieldMeta {
                name: "email",
                title: "",
                description: "Login email.",
                required: true,
                secret: false,
                env: "TALLY_EMAIL",
            },
            AuthFieldMeta {
                name: "token",
                title: "",
                description: "",
                required: true,
                secret: true,
                env: "TALLY_TOKEN",
            },
        ],
        mapping: &[
            (
                "username",
                &[
                    TemplatePart::Field("email"),
                    TemplatePart::Literal("/token"),
                ],
            ),
            ("password", &[TemplatePart::Field("token")]),
        ],
        additional_headers: &[],
        refresh: None,
    };

    #[test]
    fn debug_never_shows_a_secret() {
        let c = Credentials::new(&SCHEME)
            .set("email", "me@example.com")
            .set("token", "sk_live_supersecret");
        let shown = format!("{c:?}");
        assert!(!shown.contains("supersecret"), "{shown}");
        assert!(shown.contains("me@example.com"), "{shown}");
        let a = AirbyteAuthConfig::new("client", "cs_verysecret").workspace_name("w");
        let shown = format!("{a:?}");
        assert!(!shown.contains("verysecret"), "{shown}");
        assert!(shown.contains("client"), "{shown}");
    }

    #[test]
    fn validation_and_templates() {
        for bad in ["", "   ", "abc def", "abc\n"] {
            let c = Credentials::new(&SCHEME)
                .set("email", "e")
                .set("token", bad);
            let err = c.validate().unwrap_err();
            assert!(err.to_string().starts_with("invalid token:"), "{err}");
        }
        let missing = Credentials::new(&SCHEME)
            .set("token", "t")
            .validate()
            .unwrap_err();
        assert!(missing.to_string().contains("TALLY_EMAIL"), "{missing}");
        let c = Credentials::new(&SCHEME)
            .set("email", "e@x")
            .set("token", "t");
        c.validate().unwrap();
        assert_eq!(c.slot("username").unwrap().expose_secret(), "e@x/token");
        assert_eq!(c.slot("password").unwrap().expose_secret(), "t");
        assert!(c.slot("api_key").is_none());
        assert_eq!(
            c.to_json(),
            serde_json::json!({"email": "e@x", "token": "t"})
        );
    }
}
