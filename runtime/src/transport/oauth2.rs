//! OAuth 2 access tokens for the direct transport, as the spec's scheme says
//! (`x-airbyte-token-refresh` and the flow's `refreshUrl`):
//!
//! - The access token given in the credentials is used until the API refuses it; without one,
//!   a token is fetched with the refresh token before the first request.
//! - Refreshing is single-flight: concurrent callers on a missing, expiring or refused token
//!   wait for one refresh. A token whose `expires_in` is known is refreshed a minute early
//!   (the lifetime is clamped: a server value never sizes a wait beyond a day).
//! - A 401 drops the token only if it is the one that was refused, refreshes it, and replays
//!   the call once. A refresh token in the answer replaces the old one.
//! - The refresh request: `POST` with `grant_type=refresh_token&refresh_token=...`, form or
//!   JSON; the client id and secret in the body (`body`), as HTTP Basic (`basic`) or not at
//!   all (`none`). Its body is never echoed in errors: it may hold a token.
//! - A `jwt_bearer` grant instead posts `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`
//!   with an RS256 assertion signed by the service account key in `credentials_json`
//!   (`iss` the account, `scope` the flow's scopes, `aud` the token URL, an hour of
//!   validity); the key is read when the client is built and never quoted in errors.
//! - Values of the token answer the spec extracts (`x-airbyte-token-extract`) are kept for
//!   the direct transport, which renders its base URL again with them.

use std::time::{Duration, Instant};

use reqwest::header::{HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::sync::{Mutex, RwLock};
use tracing::Instrument;

use crate::auth::Credentials;
use crate::error::{Context, Hints};
use crate::http::{from_reqwest, read_ok};
use crate::meta::TokenRefreshMeta;
use crate::retry::{should_retry, Sender};
use crate::Error;

/// The longest a token is used before a refresh, whatever `expires_in` claims.
const MAX_TOKEN_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// Refresh this long before the token expires.
const REFRESH_EARLY: Duration = Duration::from_secs(60);

struct Current {
    token: SecretString,
    /// When to refresh; `None`: until the API refuses it.
    refresh_at: Option<Instant>,
}

/// The access token of one connector, refreshed as the spec says.
pub(crate) struct OAuth2 {
    header: HeaderName,
    prefix: String,
    refresh: Option<Refresher>,
    current: RwLock<Option<Current>>,
    lock: Mutex<()>,
    /// The token-answer values the spec extracts (`x-airbyte-token-extract`), with a count
    /// of the refreshes that set them.
    extracted: std::sync::Mutex<(u64, Vec<(String, String)>)>,
}

/// A service account (`jwt_bearer`): its email and RSA key, from `credentials_json`.
struct ServiceAccount {
    email: String,
    key: ring::signature::RsaKeyPair,
}

impl ServiceAccount {
    /// Reads the service account's JSON key; errors never quote it.
    fn parse(json: &SecretString) -> Result<Self, Error> {
        #[derive(Deserialize)]
        struct Key {
            client_email: String,
            private_key: String,
        }
        let bad = |why: &str| {
            Error::invalid(
                "credentials_json",
                format!("{why}; give the service account's whole JSON key file (with client_email and private_key)"),
            )
        };
        let key: Key = serde_json::from_str(json.expose_secret())
            .map_err(|_| bad("is not a service account's JSON key"))?;
        let pem = key.private_key;
        let (begin, pkcs8) = if pem.contains("-----BEGIN PRIVATE KEY-----") {
            ("-----BEGIN PRIVATE KEY-----", true)
        } else if pem.contains("-----BEGIN RSA PRIVATE KEY-----") {
            ("-----BEGIN RSA PRIVATE KEY-----", false)
        } else {
            return Err(bad("has a private_key that is not a PEM RSA key"));
        };
        let body: String = pem
            .split(begin)
            .nth(1)
            .and_then(|rest| rest.split("-----END").next())
            .unwrap_or_default()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        use base64::Engine as _;
        let der = base64::engine::general_purpose::STANDARD
            .decode(body.as_bytes())
            .map_err(|_| bad("has a private_key whose PEM body is not base64"))?;
        let key_pair = if pkcs8 {
            ring::signature::RsaKeyPair::from_pkcs8(&der)
        } else {
            ring::signature::RsaKeyPair::from_der(&der)
        }
        .map_err(|_| bad("has a private_key that is not a usable RSA key"))?;
        Ok(ServiceAccount {
            email: key.client_email,
            key: key_pair,
        })
    }

    /// The signed RS256 assertion: `iss` the account, `scope`, `aud` the token URL, an hour
    /// of validity.
    fn assertion(&self, scopes: &str, audience: &str) -> Result<String, Error> {
        use base64::Engine as _;
        let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let header = b64(br#"{"alg":"RS256","typ":"JWT"}"#);
        let claims = serde_json::json!({
            "iss": self.email,
            "scope": scopes,
            "aud": audience,
            "iat": now,
            "exp": now.saturating_add(3600),
        });
        let input = format!("{header}.{}", b64(claims.to_string().as_bytes()));
        let mut signature = vec![0; self.key.public().modulus_len()];
        self.key
            .sign(
                &ring::signature::RSA_PKCS1_SHA256,
                &ring::rand::SystemRandom::new(),
                input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| Error::invalid("credentials_json", "the assertion could not be signed"))?;
        Ok(format!("{input}.{}", b64(&signature)))
    }
}

struct Refresher {
    meta: TokenRefreshMeta,
    /// For a `jwt_bearer` grant: the account that signs the assertion.
    account: Option<ServiceAccount>,
    url: String,
    client_id: Option<SecretString>,
    client_secret: Option<SecretString>,
    refresh_token: RwLock<Option<SecretString>>,
    http: reqwest::Client,
    sender: Sender,
    max_response_bytes: usize,
    hints: Hints,
}

impl std::fmt::Debug for OAuth2 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuth2")
            .field("header", &self.header)
            .field("refreshes", &self.refresh.is_some())
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires_in: Option<f64>,
    /// Everything else (values the spec may extract).
    #[serde(flatten)]
    extra: serde_json::Map<String, serde_json::Value>,
}

impl OAuth2 {
    /// The scheme's token handling; `token_url` overrides the spec's refresh URL (a test
    /// server, a proxy).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        credentials: &Credentials,
        refresh: Option<TokenRefreshMeta>,
        token_url: Option<&str>,
        http: reqwest::Client,
        sender: Sender,
        max_response_bytes: usize,
        hints: Hints,
    ) -> Result<Self, Error> {
        let scheme = credentials.scheme();
        let (header, prefix) = refresh
            .map(|r| (r.header, r.prefix))
            .unwrap_or(("Authorization", "Bearer"));
        let header = HeaderName::from_bytes(header.as_bytes()).map_err(|_| {
            Error::invalid(scheme.key, format!("`{header}` is not an HTTP header name"))
        })?;
        let current = credentials.slot("access_token").map(|token| Current {
            token,
            refresh_at: None,
        });
        let refresh_token = credentials.slot("refresh_token");
        let account = match refresh {
            Some(meta) if meta.grant_type == "jwt_bearer" => {
                let json = credentials.slot("credentials_json").ok_or_else(|| {
                    Error::invalid(
                        scheme.key,
                        "a jwt_bearer scheme needs credentials_json: the service account's JSON key",
                    )
                })?;
                Some(ServiceAccount::parse(&json)?)
            }
            _ => None,
        };
        let refresher = match refresh {
            Some(meta) if refresh_token.is_some() || account.is_some() => {
                let url = match token_url {
                    Some(u) => u.to_string(),
                    None => crate::transport::direct::render_jinja(meta.url, credentials),
                };
                Some(Refresher {
                    meta,
                    account,
                    url,
                    client_id: credentials.slot("client_id"),
                    client_secret: credentials.slot("client_secret"),
                    refresh_token: RwLock::new(refresh_token),
                    http,
                    sender,
                    max_response_bytes,
                    hints,
                })
            }
            _ => None,
        };
        if current.is_none() && refresher.is_none() {
            return Err(Error::invalid(
                scheme.key,
                "the OAuth 2 credentials give neither an access token nor a refresh token the spec can refresh with; set access_token, or refresh_token (with client_id and client_secret)",
            ));
        }
        Ok(OAuth2 {
            header,
            prefix: prefix.to_string(),
            refresh: refresher,
            current: RwLock::new(current),
            lock: Mutex::new(()),
            extracted: std::sync::Mutex::new((0, Vec::new())),
        })
    }

    /// The values extracted from the latest token answer, and how many answers set them
    /// (0: none yet).
    pub(crate) fn extracted(&self) -> (u64, Vec<(String, String)>) {
        self.extracted.lock().map(|g| g.clone()).unwrap_or_default()
    }

    /// Whether a refused token can be replaced.
    pub(crate) fn can_refresh(&self) -> bool {
        self.refresh.is_some()
    }

    /// The header carrying `token`.
    pub(crate) fn header(&self, token: &SecretString) -> Result<(HeaderName, HeaderValue), Error> {
        let text = if self.prefix.is_empty() {
            token.expose_secret().to_string()
        } else {
            format!("{} {}", self.prefix, token.expose_secret())
        };
        let mut value = HeaderValue::from_str(&text).map_err(|_| {
            Error::invalid(
                "access_token",
                "the access token is not a valid HTTP header value",
            )
        })?;
        value.set_sensitive(true);
        Ok((self.header.clone(), value))
    }

    fn usable(current: &Option<Current>) -> Option<SecretString> {
        let c = current.as_ref()?;
        match c.refresh_at {
            Some(at) if Instant::now() >= at => None,
            _ => Some(c.token.clone()),
        }
    }

    /// A usable access token: the current one, or one refresh shared by every caller.
    pub(crate) async fn token(&self) -> Result<SecretString, Error> {
        if let Some(t) = Self::usable(&*self.current.read().await) {
            return Ok(t);
        }
        let _guard = self.lock.lock().await;
        if let Some(t) = Self::usable(&*self.current.read().await) {
            return Ok(t);
        }
        let Some(refresher) = &self.refresh else {
            // A known expiry passed and nothing can refresh: use it until it is refused.
            return self
                .current
                .read()
                .await
                .as_ref()
                .map(|c| c.token.clone())
                .ok_or_else(|| Error::invalid("access_token", "no access token"));
        };
        let (token, ttl, extracted) = refresher
            .sender
            .run(should_retry, |_| refresher.fetch())
            .await?;
        if !refresher.meta.extract.is_empty() {
            if let Ok(mut slot) = self.extracted.lock() {
                slot.0 = slot.0.saturating_add(1);
                // An answer without a value keeps the one an earlier answer gave.
                for (name, value) in extracted {
                    slot.1.retain(|(n, _)| *n != name);
                    slot.1.push((name, value));
                }
            }
        }
        let now = Instant::now();
        let refresh_at = ttl.map(|ttl| {
            let ttl = ttl.min(MAX_TOKEN_TTL);
            let wait = if ttl > REFRESH_EARLY * 2 {
                ttl - REFRESH_EARLY
            } else {
                ttl / 2
            };
            now.checked_add(wait).unwrap_or(now)
        });
        *self.current.write().await = Some(Current {
            token: token.clone(),
            refresh_at,
        });
        Ok(token)
    }

    /// Drops the current token if it is still the one that was refused.
    pub(crate) async fn refused(&self, token: &SecretString) {
        let mut slot = self.current.write().await;
        if slot
            .as_ref()
            .is_some_and(|c| c.token.expose_secret() == token.expose_secret())
        {
            *slot = None;
        }
    }
}

impl Refresher {
    #[allow(clippy::type_complexity)]
    async fn fetch(
        &self,
    ) -> Result<(SecretString, Option<Duration>, Vec<(String, String)>), Error> {
        let ctx = Context::new("oauth2", "token refresh").with_hints(self.hints);
        let span = tracing::debug_span!("oauth2.refresh", status = tracing::field::Empty);
        async {
            let refresh_token = match &self.account {
                Some(_) => SecretString::from(String::new()),
                None => self
                    .refresh_token
                    .read()
                    .await
                    .clone()
                    .ok_or_else(|| Error::invalid("refresh_token", "no refresh token"))?,
            };
            let mut fields: Vec<(&str, String)> = match &self.account {
                // A signed assertion stands for the client: nothing else goes along.
                Some(account) => vec![
                    (
                        "grant_type",
                        "urn:ietf:params:oauth:grant-type:jwt-bearer".to_string(),
                    ),
                    ("assertion", account.assertion(self.meta.scopes, &self.url)?),
                ],
                None => vec![
                    ("grant_type", "refresh_token".to_string()),
                    ("refresh_token", refresh_token.expose_secret().to_string()),
                ],
            };
            if self.meta.auth_style == "body" && self.account.is_none() {
                if let Some(id) = &self.client_id {
                    fields.push(("client_id", id.expose_secret().to_string()));
                }
                if let Some(secret) = &self.client_secret {
                    fields.push(("client_secret", secret.expose_secret().to_string()));
                }
            }
            let mut req = self.http.post(&self.url);
            req = if self.meta.body_format == "json" {
                let body: serde_json::Map<String, serde_json::Value> = fields
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), serde_json::Value::String(v)))
                    .collect();
                req.json(&body)
            } else {
                let body = url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(fields.iter().map(|(k, v)| (*k, v.as_str())))
                    .finish();
                req.header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(body)
            };
            if self.meta.auth_style == "basic" && self.account.is_none() {
                req = req.basic_auth(
                    self.client_id
                        .as_ref()
                        .map(|s| s.expose_secret().to_string())
                        .unwrap_or_default(),
                    self.client_secret
                        .as_ref()
                        .map(|s| s.expose_secret().to_string()),
                );
            }
            let secrets: Vec<String> = [
                Some(refresh_token.expose_secret().to_string()),
                self.client_secret
                    .as_ref()
                    .map(|s| s.expose_secret().to_string()),
            ]
            .into_iter()
            .flatten()
            .collect();
            let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
            let resp = req
                .send()
                .await
                .map_err(|e| from_reqwest(&ctx, e).redact(&secrets))?;
            tracing::Span::current().record("status", resp.status().as_u16());
            let body = read_ok(&ctx, resp, self.max_response_bytes)
                .await
                .map_err(|e| e.redact(&secrets))?;
            let answer: TokenAnswer = serde_json::from_slice(&body.bytes)
                .map_err(|e| Error::decode_json(&ctx, &e, b"[redacted]"))?;
            if answer.access_token.trim().is_empty() {
                return Err(Error::decode(
                    &ctx,
                    "the token answer has an empty access_token",
                    b"",
                ));
            }
            if let Some(rt) = answer.refresh_token.filter(|t| !t.trim().is_empty()) {
                *self.refresh_token.write().await = Some(SecretString::from(rt));
            }
            let ttl = answer
                .expires_in
                .filter(|s| s.is_finite() && *s >= 0.0)
                .map(|s| Duration::try_from_secs_f64(s).unwrap_or(MAX_TOKEN_TTL));
            let extracted = self
                .meta
                .extract
                .iter()
                .filter_map(|name| {
                    let v = match answer.extra.get(*name)? {
                        serde_json::Value::String(s) => s.clone(),
                        serde_json::Value::Number(n) => n.to_string(),
                        _ => return None,
                    };
                    Some((name.to_string(), v))
                })
                .collect();
            Ok((SecretString::from(answer.access_token), ttl, extracted))
        }
        .instrument(span)
        .await
    }
}
