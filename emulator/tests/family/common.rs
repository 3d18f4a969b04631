//! Helpers of the family wire tests: the fixture specs, a minimal HTTP/1.1 client over
//! `std::net` (so the tests need no TLS setup), and page walkers.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;

use connector_sdk_emulator::Emulator;
use serde_json::Value;

/// A fixture spec of `codegen/tests/specs/family/`, as JSON text.
pub fn spec(file: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../codegen/tests/specs/family")
        .join(file);
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let v: Value = serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
    serde_json::to_string(&v).unwrap()
}

/// A spec of `conformance/spec/` (the conformance crate's), as JSON text.
pub fn conformance_spec(file: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../conformance/spec")
        .join(file);
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let v: Value = serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
    serde_json::to_string(&v).unwrap()
}

/// A fixture spec as a JSON value (to read schemas from).
pub fn spec_value(file: &str) -> Value {
    serde_json::from_str(&spec(file)).unwrap()
}

/// A response as received.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    /// Headers, names lower-cased, in order.
    pub headers: Vec<(String, String)>,
    /// The body as text (lossy for bytes that are not UTF-8).
    pub body: String,
    /// The body's bytes.
    pub bytes: Vec<u8>,
}

impl Resp {
    /// First value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    /// The body at a JSON pointer (`Null` when absent).
    pub fn at(&self, pointer: &str) -> Value {
        self.json().pointer(pointer).cloned().unwrap_or(Value::Null)
    }
}

/// `GET path_and_query` with the emulator's key as a bearer token plus `headers`.
pub async fn get(emu: &Emulator, path_and_query: &str, headers: &[(&str, &str)]) -> Resp {
    let url = format!("{}{path_and_query}", emu.base_url());
    let auth = format!("Bearer {}", emu.api_key());
    let mut all: Vec<(String, String)> = vec![("Authorization".into(), auth)];
    all.extend(headers.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    get_url(&url, all).await
}

/// `GET` of an absolute `http://host:port/...` URL with these headers.
pub async fn get_url(url: &str, headers: Vec<(String, String)>) -> Resp {
    let url = url.to_string();
    tokio::task::spawn_blocking(move || blocking_request("GET", &url, &headers, None))
        .await
        .unwrap()
}

/// `POST path_and_query` with `body` as `Content-Type: application/json` (as a generated
/// client sends a POST read), the emulator's key as a bearer token, plus `headers`.
pub async fn post(
    emu: &Emulator,
    path_and_query: &str,
    body: &str,
    headers: &[(&str, &str)],
) -> Resp {
    let mut all = vec![("Content-Type", "application/json")];
    all.extend_from_slice(headers);
    post_raw(emu, path_and_query, body.as_bytes(), &all).await
}

/// `POST path_and_query` with these exact body bytes and headers (plus the bearer token
/// and `Content-Length`), no `Content-Type` unless given.
pub async fn post_raw(
    emu: &Emulator,
    path_and_query: &str,
    body: &[u8],
    headers: &[(&str, &str)],
) -> Resp {
    let url = format!("{}{path_and_query}", emu.base_url());
    let auth = format!("Bearer {}", emu.api_key());
    let mut all: Vec<(String, String)> = vec![("Authorization".into(), auth)];
    all.extend(headers.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let body = body.to_vec();
    tokio::task::spawn_blocking(move || blocking_request("POST", &url, &all, Some(&body)))
        .await
        .unwrap()
}

/// A `method` request to `path_and_query` with the emulator's key as a bearer token, a JSON
/// body when `body` is given (`Content-Type: application/json`), plus `headers`.
pub async fn request(
    emu: &Emulator,
    method: &str,
    path_and_query: &str,
    body: Option<&Value>,
    headers: &[(&str, &str)],
) -> Resp {
    let auth = format!("Bearer {}", emu.api_key());
    let mut all: Vec<(String, String)> = vec![("Authorization".into(), auth)];
    if body.is_some() {
        all.push(("Content-Type".into(), "application/json".into()));
    }
    all.extend(headers.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    request_url(
        method,
        &format!("{}{path_and_query}", emu.base_url()),
        all,
        body.map(|b| b.to_string().into_bytes()),
    )
    .await
}

/// A `method` request to an absolute `http://` URL with exactly these headers and body.
pub async fn request_url(
    method: &str,
    url: &str,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
) -> Resp {
    let (method, url) = (method.to_string(), url.to_string());
    tokio::task::spawn_blocking(move || blocking_request(&method, &url, &headers, body.as_deref()))
        .await
        .unwrap()
}

/// Like [`request`], but returns the I/O error when the connection fails (a reset) instead
/// of panicking.
pub async fn try_request(
    emu: &Emulator,
    method: &str,
    path_and_query: &str,
    body: Option<&Value>,
) -> std::io::Result<Resp> {
    let url = format!("{}{path_and_query}", emu.base_url());
    let mut headers: Vec<(String, String)> =
        vec![("Authorization".into(), format!("Bearer {}", emu.api_key()))];
    if body.is_some() {
        headers.push(("Content-Type".into(), "application/json".into()));
    }
    let method = method.to_string();
    let body = body.map(|b| b.to_string().into_bytes());
    tokio::task::spawn_blocking(move || {
        try_blocking_request(&method, &url, &headers, body.as_deref())
    })
    .await
    .unwrap()
}

fn blocking_request(
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: Option<&[u8]>,
) -> Resp {
    try_blocking_request(method, url, headers, body).expect("a response")
}

fn try_blocking_request(
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: Option<&[u8]>,
) -> std::io::Result<Resp> {
    let rest = url.strip_prefix("http://").expect("an http:// URL");
    let (host, target) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let mut s = TcpStream::connect(host)?;
    let mut req = format!("{method} {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(body) = body {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body.unwrap_or_default());
    s.write_all(&bytes)?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)?;
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no complete response head"))?;
    let head = String::from_utf8_lossy(&buf[..split]).into_owned();
    let raw_body = &buf[split + 4..];
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .expect("a status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let body = if chunked {
        let mut out = Vec::new();
        let mut rest = raw_body;
        loop {
            let eol = rest.windows(2).position(|w| w == b"\r\n").unwrap();
            let n = usize::from_str_radix(std::str::from_utf8(&rest[..eol]).unwrap().trim(), 16)
                .unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&rest[eol + 2..eol + 2 + n]);
            rest = &rest[eol + 2 + n + 2..];
        }
        out
    } else {
        raw_body.to_vec()
    };
    Ok(Resp {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        bytes: body,
    })
}

/// The URL of `rel="next"` in an RFC 8288 `Link` header.
pub fn link_next(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        params
            .split(';')
            .any(|p| p.trim() == "rel=\"next\"")
            .then(|| {
                url.trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_string()
            })
    })
}

/// The decoded value of a query parameter in a URL.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let q = url.split_once('?')?.1;
    q.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (decode(k) == name).then(|| decode(v))
    })
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

/// `k=v&...`, each part percent-encoded.
pub fn qs(pairs: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The records at a JSON pointer of a body (an array).
pub fn records_at(body: &Value, pointer: &str) -> Vec<Value> {
    body.pointer(pointer)
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("no array at {pointer} in {body}"))
        .clone()
}

/// Asserts that `got` holds every record of `entity` exactly once, in server order, as
/// the emulator serves them, and that ids (where records have one) are unique.
pub fn assert_all_once(emu: &Emulator, entity: &str, got: &[Value]) {
    let n = emu.record_count(entity).unwrap();
    assert_eq!(got.len(), n, "{entity}: {} records for {n}", got.len());
    let want: Vec<Value> = (0..n).map(|i| emu.record(entity, i).unwrap()).collect();
    assert!(
        got == want.as_slice(),
        "{entity}: records differ from the data set"
    );
    let ids: Vec<String> = got
        .iter()
        .filter_map(|r| r.get("id").map(Value::to_string))
        .collect();
    if !ids.is_empty() {
        assert_eq!(ids.len(), n, "{entity}: every record has an id");
        assert_eq!(
            ids.iter().collect::<HashSet<_>>().len(),
            n,
            "{entity}: ids are unique"
        );
    }
}

/// Logs in to the emulated Airbyte; returns the bearer header.
pub async fn airbyte_auth(emu: &Emulator) -> (String, String) {
    let url = format!(
        "{}/api/v1/account/applications/token",
        emu.airbyte_api_url()
    );
    let body = serde_json::json!({
        "client_id": emu.airbyte_client_id(),
        "client_secret": emu.airbyte_client_secret(),
    });
    let headers = vec![("Content-Type".to_string(), "application/json".to_string())];
    let r = request_url("POST", &url, headers, Some(body.to_string().into_bytes())).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let token = r.json()["access_token"].as_str().unwrap().to_string();
    ("Authorization".to_string(), format!("Bearer {token}"))
}

/// Airbyte's `/execute` of the first seeded connector with `{entity, action, params}`.
pub async fn execute(
    emu: &Emulator,
    auth: &(String, String),
    entity: &str,
    action: &str,
    params: Value,
) -> Resp {
    let url = format!(
        "{}/api/v1/integrations/connectors/{}/execute",
        emu.airbyte_api_url(),
        emu.airbyte_connector_id()
    );
    let body = serde_json::json!({"entity": entity, "action": action, "params": params});
    let headers = vec![
        auth.clone(),
        ("Content-Type".to_string(), "application/json".to_string()),
    ];
    request_url("POST", &url, headers, Some(body.to_string().into_bytes())).await
}
