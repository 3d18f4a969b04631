//! Auth schemes from the spec: `components.securitySchemes`, each with its
//! `x-airbyte-auth-config` (the credential fields, how they map onto the request, extra
//! headers) and, for OAuth 2, how the token is refreshed (`x-airbyte-token-refresh` and the
//! flow's `refreshUrl`). Everything is checked here, so the runtime gets only schemes it can
//! apply: an unknown scheme type, a template naming no field, or a mapping slot the scheme
//! does not have is an error with its JSON pointer.

use heck::ToShoutySnakeCase;
use serde_yaml_ng::Value;

use crate::error::{ptr, SpecError};

/// What kind of scheme, and where the credentials go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthKind {
    /// `http` / `bearer`.
    Bearer,
    /// `http` / `basic`.
    Basic,
    /// `apiKey` in a header.
    ApiKeyHeader(String),
    /// `apiKey` in the query.
    ApiKeyQuery(String),
    /// `oauth2`.
    OAuth2,
}

impl AuthKind {
    /// The `auth_mapping` slots this kind has.
    pub fn slots(&self) -> &'static [&'static str] {
        match self {
            AuthKind::Bearer => &["token"],
            AuthKind::Basic => &["username", "password"],
            AuthKind::ApiKeyHeader(_) | AuthKind::ApiKeyQuery(_) => &["api_key"],
            AuthKind::OAuth2 => &[
                "access_token",
                "refresh_token",
                "client_id",
                "client_secret",
                "credentials_json",
            ],
        }
    }
}

/// A piece of an `auth_mapping` template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplatePart {
    /// Literal text.
    Literal(String),
    /// `${field}`.
    Field(String),
}

/// One credential field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthField {
    /// Its name (`api_key`).
    pub name: String,
    /// Its title.
    pub title: String,
    /// Its description.
    pub description: String,
    /// Whether the scheme needs it.
    pub required: bool,
    /// Whether it is a secret: marked `airbyte_secret`, or feeding a secret slot (token,
    /// password, API key, access or refresh token, client secret).
    pub secret: bool,
    /// Its environment variable (`INCIDENT_IO_API_KEY`).
    pub env: String,
}

/// How an OAuth 2 token is refreshed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRefresh {
    /// The flow's `refreshUrl`.
    pub url: String,
    /// `body`, `basic` or `none`.
    pub auth_style: String,
    /// `form` or `json`.
    pub body_format: String,
    /// The token header.
    pub header: String,
    /// The token prefix (empty: the token alone).
    pub prefix: String,
    /// `x-airbyte-token-extract`: token-answer fields that set server variables.
    pub extract: Vec<String>,
    /// `refresh_token` or `jwt_bearer`.
    pub grant_type: String,
    /// The flow's scopes joined by spaces (the claim of a `jwt_bearer` assertion).
    pub scopes: String,
}

/// One auth scheme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthScheme {
    /// Its key in `components.securitySchemes`.
    pub key: String,
    /// Its kind.
    pub kind: AuthKind,
    /// `x-airbyte-auth-config.title`.
    pub title: String,
    /// The scheme's description.
    pub description: String,
    /// The credential fields, in spec order.
    pub fields: Vec<AuthField>,
    /// `auth_mapping`, slot by slot.
    pub mapping: Vec<(String, Vec<TemplatePart>)>,
    /// `additional_headers`: name and `{{ field }}` template.
    pub additional_headers: Vec<(String, String)>,
    /// OAuth 2 refresh, when the flow has a `refreshUrl`.
    pub refresh: Option<TokenRefresh>,
}

const SECRET_SLOTS: &[&str] = &[
    "token",
    "password",
    "api_key",
    "access_token",
    "refresh_token",
    "client_secret",
    "credentials_json",
];

fn text(node: &Value, key: &str) -> String {
    node.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// Parses `${field}` templates: literal text and field references.
pub fn parse_template(template: &str, at: &str) -> Result<Vec<TemplatePart>, SpecError> {
    let mut parts = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        if start > 0 {
            parts.push(TemplatePart::Literal(rest[..start].to_string()));
        }
        let Some(end) = rest[start..].find('}').map(|e| start + e) else {
            return Err(SpecError::new(
                at,
                format!("`{template}` opens `${{` without closing `}}`; write `${{field}}`"),
            ));
        };
        let name = rest[start + 2..end].trim();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(SpecError::new(
                at,
                format!("`{template}` has `${{{name}}}`, which is not a field name"),
            ));
        }
        parts.push(TemplatePart::Field(name.to_string()));
        rest = &rest[end + 1..];
    }
    if !rest.is_empty() {
        parts.push(TemplatePart::Literal(rest.to_string()));
    }
    Ok(parts)
}

/// Every auth scheme of the spec, in spec order. `env_prefix` names the environment
/// variables (`INCIDENT_IO` gives `INCIDENT_IO_API_KEY`).
pub fn read(doc: &Value, env_prefix: &str) -> Result<Vec<AuthScheme>, SpecError> {
    let base = "/components/securitySchemes";
    let Some(Value::Mapping(schemes)) =
        doc.get("components").and_then(|c| c.get("securitySchemes"))
    else {
        return Ok(Vec::new());
    };
    let mut out: Vec<AuthScheme> = Vec::new();
    for (k, node) in schemes {
        let key = k.as_str().unwrap_or_default().to_string();
        let at = ptr(base, &key);
        let kind = match (text(node, "type").as_str(), text(node, "scheme").to_ascii_lowercase().as_str()) {
            ("http", "bearer") => AuthKind::Bearer,
            ("http", "basic") => AuthKind::Basic,
            ("apiKey", _) => {
                let name = text(node, "name");
                if name.is_empty() {
                    return Err(SpecError::new(
                        ptr(&at, "name"),
                        "an apiKey scheme needs the `name` of its header or query parameter",
                    ));
                }
                match text(node, "in").as_str() {
                    "header" => AuthKind::ApiKeyHeader(name),
                    "query" => AuthKind::ApiKeyQuery(name),
                    other => {
                        return Err(SpecError::new(
                            ptr(&at, "in"),
                            format!("unsupported construct: an API key `in: {other}`; use `header` or `query`"),
                        ))
                    }
                }
            }
            ("oauth2", _) => AuthKind::OAuth2,
            (ty, scheme) => {
                return Err(SpecError::new(
                    ptr(&at, "type"),
                    format!("unsupported construct: auth scheme `type: {ty}`{}; supported are http bearer and basic, apiKey (header or query) and oauth2", if scheme.is_empty() { String::new() } else { format!(" with `scheme: {scheme}`") }),
                ))
            }
        };
        let cfg_at = ptr(&at, "x-airbyte-auth-config");
        let Some(cfg) = node.get("x-airbyte-auth-config") else {
            return Err(SpecError::new(
                &cfg_at,
                "missing: every scheme needs `x-airbyte-auth-config` (its credential fields and `auth_mapping`)",
            ));
        };
        if cfg.get("oneOf").is_some() {
            return Err(SpecError::new(
                ptr(&cfg_at, "oneOf"),
                "unsupported construct: `oneOf` in an auth config; declare each alternative as its own security scheme",
            ));
        }
        let required: Vec<String> = cfg
            .get("required")
            .and_then(Value::as_sequence)
            .map(|s| {
                s.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        // Mapping first: it decides which fields are secrets.
        let mut mapping = Vec::new();
        let map_at = ptr(&cfg_at, "auth_mapping");
        if let Some(Value::Mapping(m)) = cfg.get("auth_mapping") {
            for (slot, template) in m {
                let slot = slot.as_str().unwrap_or_default().to_string();
                let here = ptr(&map_at, &slot);
                if !kind.slots().contains(&slot.as_str()) {
                    return Err(SpecError::new(
                        &here,
                        format!(
                            "`{slot}` is not a slot of this scheme; its auth_mapping slots are {}",
                            kind.slots().join(", ")
                        ),
                    ));
                }
                let Some(template) = template.as_str() else {
                    return Err(SpecError::new(
                        &here,
                        "must be a string template like `${api_key}`",
                    ));
                };
                mapping.push((slot, parse_template(template, &here)?));
            }
        }
        let mut fields = Vec::new();
        if let Some(Value::Mapping(props)) = cfg.get("properties") {
            for (name, f) in props {
                let name = name.as_str().unwrap_or_default().to_string();
                let feeds_secret = mapping.iter().any(|(slot, parts)| {
                    SECRET_SLOTS.contains(&slot.as_str())
                        && parts
                            .iter()
                            .any(|p| matches!(p, TemplatePart::Field(n) if *n == name))
                });
                let secret = f
                    .get("airbyte_secret")
                    .and_then(Value::as_bool)
                    .unwrap_or(false)
                    || feeds_secret;
                fields.push(AuthField {
                    env: format!("{env_prefix}_{}", name.to_shouty_snake_case()),
                    title: text(f, "title"),
                    description: text(f, "description"),
                    required: required.contains(&name),
                    secret,
                    name,
                });
            }
        }
        for (slot, parts) in &mapping {
            for p in parts {
                if let TemplatePart::Field(name) = p {
                    if !fields.iter().any(|f| &f.name == name) {
                        return Err(SpecError::new(
                            ptr(&map_at, slot),
                            format!(
                                "`${{{name}}}` names no property of the auth config (its properties: {})",
                                fields.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join(", ")
                            ),
                        ));
                    }
                }
            }
        }
        let needed: &[&str] = match kind {
            AuthKind::Bearer => &["token"],
            AuthKind::Basic => &["username"],
            AuthKind::ApiKeyHeader(_) | AuthKind::ApiKeyQuery(_) => &["api_key"],
            AuthKind::OAuth2 => &[],
        };
        for slot in needed {
            if !mapping.iter().any(|(s, _)| s == slot) {
                return Err(SpecError::new(
                    &map_at,
                    format!("this scheme needs `{slot}` in its auth_mapping, e.g. `{slot}: \"${{field}}\"`"),
                ));
            }
        }
        let mut additional_headers = Vec::new();
        if let Some(Value::Mapping(h)) = cfg.get("additional_headers") {
            for (name, template) in h {
                let name = name.as_str().unwrap_or_default().to_string();
                let Some(template) = template.as_str() else {
                    return Err(SpecError::new(
                        ptr(&ptr(&cfg_at, "additional_headers"), &name),
                        "must be a string (a constant or a `{{ field }}` template)",
                    ));
                };
                additional_headers.push((name, template.to_string()));
            }
        }
        let refresh = match kind {
            AuthKind::OAuth2 => oauth2_refresh(node, &at)?,
            _ => None,
        };
        if kind == AuthKind::OAuth2
            && refresh.is_none()
            && !mapping.iter().any(|(s, _)| s == "access_token")
        {
            return Err(SpecError::new(
                &map_at,
                "an oauth2 scheme without a refreshUrl needs `access_token` in its auth_mapping",
            ));
        }
        out.push(AuthScheme {
            key,
            kind,
            title: text(cfg, "title"),
            description: text(node, "description"),
            fields,
            mapping,
            additional_headers,
            refresh,
        });
    }
    Ok(out)
}

fn oauth2_refresh(node: &Value, at: &str) -> Result<Option<TokenRefresh>, SpecError> {
    let flows_at = ptr(at, "flows");
    let flow = [
        "authorizationCode",
        "clientCredentials",
        "password",
        "implicit",
    ]
    .iter()
    .find_map(|f| node.get("flows").and_then(|fl| fl.get(*f)));
    let url = flow.map(|f| text(f, "refreshUrl")).unwrap_or_default();
    if flow.is_none() {
        return Err(SpecError::new(
            flows_at,
            "an oauth2 scheme needs `flows` with one of authorizationCode, clientCredentials, password or implicit",
        ));
    }
    let cfg = node.get("x-airbyte-token-refresh");
    let cfg_at = ptr(at, "x-airbyte-token-refresh");
    let get = |k: &str, default: &str| {
        cfg.and_then(|c| c.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| default.to_string())
    };
    if let Some(Value::Mapping(m)) = cfg {
        for k in m.keys().filter_map(Value::as_str) {
            if ![
                "auth_style",
                "body_format",
                "header",
                "prefix",
                "grant_type",
            ]
            .contains(&k)
            {
                return Err(SpecError::new(
                    ptr(&cfg_at, k),
                    format!("unknown key `{k}`; x-airbyte-token-refresh takes auth_style, body_format, header, prefix and grant_type"),
                ));
            }
        }
    }
    let grant = get("grant_type", "refresh_token");
    if grant != "refresh_token" && grant != "jwt_bearer" {
        return Err(SpecError::new(
            ptr(&cfg_at, "grant_type"),
            format!(
                "unsupported construct: grant_type `{grant}`; use `refresh_token` or `jwt_bearer`"
            ),
        ));
    }
    let scopes: Vec<String> = flow
        .and_then(|f| f.get("scopes"))
        .and_then(Value::as_mapping)
        .map(|m| {
            m.keys()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    if grant == "jwt_bearer" && scopes.is_empty() {
        return Err(SpecError::new(
            flows_at.clone(),
            "a jwt_bearer flow needs `scopes`: the assertion asks for them",
        ));
    }
    let auth_style = get("auth_style", "body");
    if !["body", "basic", "none"].contains(&auth_style.as_str()) {
        return Err(SpecError::new(
            ptr(&cfg_at, "auth_style"),
            format!("`{auth_style}` is not an auth style; use body, basic or none"),
        ));
    }
    let body_format = get("body_format", "form");
    if !["form", "json"].contains(&body_format.as_str()) {
        return Err(SpecError::new(
            ptr(&cfg_at, "body_format"),
            format!("`{body_format}` is not a body format; use form or json"),
        ));
    }
    let extract_at = ptr(at, "x-airbyte-token-extract");
    let extract: Vec<String> = match node.get("x-airbyte-token-extract") {
        None => Vec::new(),
        Some(Value::Sequence(items)) => items
            .iter()
            .map(|i| i.as_str().map(str::to_string))
            .collect::<Option<_>>()
            .ok_or_else(|| {
                SpecError::new(&extract_at, "must be a list of token-answer field names")
            })?,
        Some(_) => {
            return Err(SpecError::new(
                &extract_at,
                "must be a list of token-answer field names",
            ))
        }
    };
    if url.is_empty() {
        if !extract.is_empty() {
            return Err(SpecError::new(
                &extract_at,
                "token values can only be extracted from a refresh: give the flow a `refreshUrl`",
            ));
        }
        return Ok(None);
    }
    Ok(Some(TokenRefresh {
        url,
        auth_style,
        body_format,
        header: get("header", "Authorization"),
        prefix: get("prefix", "Bearer"),
        extract,
        grant_type: grant,
        scopes: scopes.join(" "),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        assert_eq!(
            parse_template("${email}/token", "/x").unwrap(),
            vec![
                TemplatePart::Field("email".into()),
                TemplatePart::Literal("/token".into())
            ]
        );
        assert_eq!(
            parse_template("Token ${key}", "/x").unwrap(),
            vec![
                TemplatePart::Literal("Token ".into()),
                TemplatePart::Field("key".into())
            ]
        );
        assert_eq!(
            parse_template("X", "/x").unwrap(),
            vec![TemplatePart::Literal("X".into())]
        );
        assert!(parse_template("${", "/x").is_err());
        assert!(parse_template("${a b}", "/x").is_err());
    }
}
