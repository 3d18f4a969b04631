//! Every auth scheme the published connector specs use, on the wire against wiremock on
//! 127.0.0.1: the headers and query each scheme sends (bearer, basic, API key in a header or
//! the query, additional headers), OAuth 2 refresh (before the first call, single-flight under
//! concurrency, on a 401 with one replay, refresh-token rotation, expiry), and that no secret
//! shows in `Debug` output or error text.
//!
//! The connector here is hand-built metadata, as generated code would build it: the runtime
//! knows nothing else about it.

use std::sync::OnceLock;
use std::time::Duration;

use base64::Engine as _;
use connector_sdk_runtime::meta::{
    Action, AuthFieldMeta, AuthKind, AuthSchemeMeta, ConnectorMeta, EntityMeta, OperationMeta,
    ParamKind, ParamLocation, ParamMeta, TemplatePart, TokenRefreshMeta,
};
use connector_sdk_runtime::{AuthChoice, Client, Credentials, Error, Hints};
use serde_json::json;
use wiremock::matchers::{body_string_contains, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const fn field(
    name: &'static str,
    required: bool,
    secret: bool,
    env: &'static str,
) -> AuthFieldMeta {
    AuthFieldMeta {
        name,
        title: "",
        description: "",
        required,
        secret,
        env,
    }
}

static LIST: OperationMeta = OperationMeta {
    entity: "things",
    action: Action::List,
    method: "GET",
    path: "/v1/things",
    summary: "",
    description: "",
    record_schema: "Thing",
    record_field: "things",
    record_path: &["things"],
    record_element: connector_sdk_runtime::meta::RecordElement::Whole,
    next_page: connector_sdk_runtime::meta::NextPage::None,
    cursor_path: &[],
    page_size_param: None,
    bulk_page_size: None,
    cursor_param: None,
    no_pagination: Some("small"),
    preferred_for_check: true,
    params: &[ParamMeta {
        name: "kind",
        location: ParamLocation::Query,
        kind: ParamKind::String { allowed: &[] },
        required: false,
        minimum: None,
        maximum: None,
        default: None,
        description: "",
        pattern: None,
    }],
    graphql: None,
    file_url: None,
    body: connector_sdk_runtime::meta::BodyKind::Json,
    transform: None,
};

static ENTITIES: &[EntityMeta] = &[EntityMeta {
    name: "things",
    description: "",
    record_schema: "Thing",
    operations: &[&LIST],
    search_fields: &[],
}];

fn span(_: &str, _: &str, _: &'static str) -> tracing::Span {
    tracing::Span::none()
}

macro_rules! connector {
    ($name:ident, $schemes:expr) => {
        connector!($name, $schemes, ENTITIES, &[&LIST]);
    };
    ($name:ident, $schemes:expr, $entities:expr, $ops:expr) => {
        static $name: ConnectorMeta = ConnectorMeta {
            name: "tallyboard",
            display_name: "Tallyboard",
            type_prefix: "Tallyboard",
            auth_example: "TallyboardAuthConfig::new(..)",
            definition_id: "0b7c2f4e-5a1d-4c3e-9f80-2d6b1a9e7c55",
            version: "1.0.0",
            base_url: "https://api.tallyboard.example",
            env_prefix: "TALLYBOARD",
            entities: $entities,
            operations: $ops,
            auth: $schemes,
            config: &[],
            config_params: &[],
            error_check: None,
            spec_json: "{}",
            user_agent: "tallyboard-connector/test",
            hints: Hints {
                service: "Tallyboard",
                credentials: "the Tallyboard credentials (TALLYBOARD_TOKEN)",
                rate_limit: None,
            },
            call_span: span,
            spec_cache: OnceLock::new(),
        };
    };
}

connector!(
    BEARER,
    &[AuthSchemeMeta {
        key: "tallyPat",
        kind: AuthKind::Bearer,
        title: "",
        description: "",
        fields: &[
            field("pat", true, true, "TALLYBOARD_PAT"),
            field("region_code", false, false, "TALLYBOARD_REGION_CODE"),
        ],
        mapping: &[("token", &[TemplatePart::Field("pat")])],
        additional_headers: &[
            ("X-Tally-Region", "{{ region_code }}"),
            ("X-Tally-Api", "3"),
        ],
        refresh: None,
    }]
);

connector!(
    BASIC,
    &[AuthSchemeMeta {
        key: "boardToken",
        kind: AuthKind::Basic,
        title: "",
        description: "",
        fields: &[
            field("login", true, false, "TALLYBOARD_LOGIN"),
            field("secret_token", false, true, "TALLYBOARD_SECRET_TOKEN"),
        ],
        mapping: &[
            (
                "username",
                &[
                    TemplatePart::Field("login"),
                    TemplatePart::Literal("/apikey")
                ],
            ),
            ("password", &[TemplatePart::Field("secret_token")]),
        ],
        additional_headers: &[],
        refresh: None,
    }]
);

connector!(
    KEY_HEADER,
    &[AuthSchemeMeta {
        key: "tallyKey",
        kind: AuthKind::ApiKeyHeader {
            name: "X-Tally-Key"
        },
        title: "",
        description: "",
        fields: &[field("key", true, true, "TALLYBOARD_KEY")],
        mapping: &[(
            "api_key",
            &[TemplatePart::Literal("Token "), TemplatePart::Field("key")],
        )],
        additional_headers: &[],
        refresh: None,
    }]
);

connector!(
    KEY_QUERY,
    &[AuthSchemeMeta {
        key: "tallyQueryKey",
        kind: AuthKind::ApiKeyQuery { name: "api_key" },
        title: "",
        description: "",
        fields: &[field("key", true, true, "TALLYBOARD_KEY")],
        mapping: &[("api_key", &[TemplatePart::Field("key")])],
        additional_headers: &[],
        refresh: None,
    }]
);

const OAUTH_FIELDS: &[AuthFieldMeta] = &[
    field("access_token", false, true, "TALLYBOARD_ACCESS_TOKEN"),
    field("refresh_token", true, true, "TALLYBOARD_REFRESH_TOKEN"),
    field("client_id", true, false, "TALLYBOARD_CLIENT_ID"),
    field("client_secret", true, true, "TALLYBOARD_CLIENT_SECRET"),
];
const OAUTH_MAPPING: &[(&str, &[TemplatePart])] = &[
    ("access_token", &[TemplatePart::Field("access_token")]),
    ("refresh_token", &[TemplatePart::Field("refresh_token")]),
    ("client_id", &[TemplatePart::Field("client_id")]),
    ("client_secret", &[TemplatePart::Field("client_secret")]),
];

connector!(
    OAUTH_BODY,
    &[AuthSchemeMeta {
        key: "tallyOAuth",
        kind: AuthKind::OAuth2,
        title: "",
        description: "",
        fields: OAUTH_FIELDS,
        mapping: OAUTH_MAPPING,
        additional_headers: &[],
        refresh: Some(TokenRefreshMeta {
            url: "https://auth.tallyboard.example/token",
            auth_style: "body",
            body_format: "form",
            header: "Authorization",
            prefix: "Bearer",
            extract: &[],
            grant_type: "refresh_token",
            scopes: "",
        }),
    }]
);

connector!(
    OAUTH_BASIC_JSON,
    &[AuthSchemeMeta {
        key: "tallyOAuth",
        kind: AuthKind::OAuth2,
        title: "",
        description: "",
        fields: OAUTH_FIELDS,
        mapping: OAUTH_MAPPING,
        additional_headers: &[],
        refresh: Some(TokenRefreshMeta {
            url: "https://auth.tallyboard.example/token",
            auth_style: "basic",
            body_format: "json",
            header: "X-Tally-Token",
            prefix: "",
            extract: &[],
            grant_type: "refresh_token",
            scopes: "",
        }),
    }]
);

fn client(meta: &'static ConnectorMeta, server: &MockServer, credentials: Credentials) -> Client {
    Client::builder(meta)
        .no_retries()
        .auth(AuthChoice::Direct(credentials))
        .base_url(&server.uri())
        .unwrap()
        .token_url(&format!("{}/oauth/token", server.uri()))
        .unwrap()
        .build()
        .unwrap()
}

async fn mount_things(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/v1/things"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"things": [{"id": "1"}]})))
        .mount(server)
        .await;
}

async fn requests(server: &MockServer, p: &str) -> Vec<Request> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.url.path() == p)
        .collect()
}

fn header_of(r: &Request, name: &str) -> Option<String> {
    r.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

#[tokio::test]
async fn bearer_with_additional_headers() {
    let server = MockServer::start().await;
    mount_things(&server).await;
    let creds = Credentials::new(&BEARER.auth[0])
        .set("pat", "pat-secret-1")
        .set("region_code", "eu");
    let c = client(&BEARER, &server, creds);
    let out = c.execute("things", "list", json!({})).await.unwrap();
    assert_eq!(out["data"][0]["id"], "1");
    let r = &requests(&server, "/v1/things").await[0];
    assert_eq!(
        header_of(r, "authorization").as_deref(),
        Some("Bearer pat-secret-1")
    );
    assert_eq!(header_of(r, "x-tally-region").as_deref(), Some("eu"));
    assert_eq!(header_of(r, "x-tally-api").as_deref(), Some("3"));
    assert_eq!(
        header_of(r, "user-agent").as_deref(),
        Some("tallyboard-connector/test")
    );

    // A missing optional field renders empty; a missing required one fails before any request.
    let missing = Client::builder(&BEARER)
        .auth(AuthChoice::Direct(Credentials::new(&BEARER.auth[0])))
        .build()
        .unwrap_err();
    assert!(missing.to_string().contains("TALLYBOARD_PAT"), "{missing}");
}

#[tokio::test]
async fn basic_from_a_templated_username() {
    let server = MockServer::start().await;
    mount_things(&server).await;
    let c = client(
        &BASIC,
        &server,
        Credentials::new(&BASIC.auth[0])
            .set("login", "me@example.com")
            .set("secret_token", "s3cret"),
    );
    c.execute("things", "list", json!({})).await.unwrap();
    // Without the optional password half, the password is empty.
    let c2 = client(
        &BASIC,
        &server,
        Credentials::new(&BASIC.auth[0]).set("login", "me@example.com"),
    );
    c2.execute("things", "list", json!({})).await.unwrap();
    let got: Vec<String> = requests(&server, "/v1/things")
        .await
        .iter()
        .map(|r| header_of(r, "authorization").unwrap())
        .collect();
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    assert_eq!(
        got,
        [
            format!("Basic {}", b64("me@example.com/apikey:s3cret")),
            format!("Basic {}", b64("me@example.com/apikey:")),
        ]
    );
}

#[tokio::test]
async fn api_key_in_a_header_and_in_the_query() {
    let server = MockServer::start().await;
    mount_things(&server).await;
    client(
        &KEY_HEADER,
        &server,
        Credentials::new(&KEY_HEADER.auth[0]).set("key", "k-123"),
    )
    .execute("things", "list", json!({}))
    .await
    .unwrap();
    let q = client(
        &KEY_QUERY,
        &server,
        Credentials::new(&KEY_QUERY.auth[0]).set("key", "k-456"),
    );
    q.execute("things", "list", json!({"kind": "a b"}))
        .await
        .unwrap();
    let reqs = requests(&server, "/v1/things").await;
    assert_eq!(
        header_of(&reqs[0], "x-tally-key").as_deref(),
        Some("Token k-123")
    );
    assert_eq!(header_of(&reqs[0], "authorization"), None);
    assert_eq!(reqs[1].url.query(), Some("kind=a+b&api_key=k-456"));

    // A network failure never echoes the URL, which holds the key.
    let dead = Client::builder(&KEY_QUERY)
        .no_retries()
        .auth(AuthChoice::Direct(
            Credentials::new(&KEY_QUERY.auth[0]).set("key", "k-789-secret"),
        ))
        .base_url("http://127.0.0.1:1")
        .unwrap()
        .build()
        .unwrap();
    let e = dead.execute("things", "list", json!({})).await.unwrap_err();
    assert!(matches!(e, Error::Network { .. }), "{e:?}");
    assert!(!format!("{e} {e:?}").contains("k-789-secret"), "{e:?}");
}

#[tokio::test]
async fn a_redirect_to_another_origin_is_not_followed_with_the_key() {
    let api = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    mount_things(&elsewhere).await;
    mount_things(&api).await;
    // Another origin (another port on the same host): not followed.
    Mock::given(method("GET"))
        .and(path("/v1/things"))
        .and(query_param("kind", "away"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("Location", format!("{}/v1/things", elsewhere.uri())),
        )
        .with_priority(1)
        .mount(&api)
        .await;
    let c = client(
        &KEY_HEADER,
        &api,
        Credentials::new(&KEY_HEADER.auth[0]).set("key", "k-redirect-secret"),
    );
    let e = c
        .execute("things", "list", json!({"kind": "away"}))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(302), "{e}");
    assert!(
        elsewhere.received_requests().await.unwrap().is_empty(),
        "the key went to another origin"
    );
    assert!(!format!("{e} {e:?}").contains("k-redirect-secret"), "{e:?}");
}

async fn mount_token(server: &MockServer, answer: serde_json::Value, delay: Duration) {
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(answer)
                .set_delay(delay),
        )
        .mount(server)
        .await;
}

fn oauth_creds(meta: &'static ConnectorMeta) -> Credentials {
    Credentials::new(&meta.auth[0])
        .set("refresh_token", "rt-1")
        .set("client_id", "cid")
        .set("client_secret", "csecret")
}

#[tokio::test]
async fn oauth2_refreshes_once_for_many_concurrent_first_calls() {
    let server = MockServer::start().await;
    mount_things(&server).await;
    mount_token(
        &server,
        json!({"access_token": "at-1", "expires_in": 3600}),
        Duration::from_millis(100),
    )
    .await;
    let c = client(&OAUTH_BODY, &server, oauth_creds(&OAUTH_BODY));
    let calls = (0..20).map(|_| c.execute("things", "list", json!({})));
    for r in futures::future::join_all(calls).await {
        r.unwrap();
    }
    let tokens = requests(&server, "/oauth/token").await;
    assert_eq!(tokens.len(), 1, "single-flight refresh");
    let body = String::from_utf8(tokens[0].body.clone()).unwrap();
    assert_eq!(
        header_of(&tokens[0], "content-type").as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    for part in [
        "grant_type=refresh_token",
        "refresh_token=rt-1",
        "client_id=cid",
        "client_secret=csecret",
    ] {
        assert!(body.contains(part), "{part} in {body}");
    }
    let things = requests(&server, "/v1/things").await;
    assert_eq!(things.len(), 20);
    assert!(things
        .iter()
        .all(|r| header_of(r, "authorization").as_deref() == Some("Bearer at-1")));
}

#[tokio::test]
async fn oauth2_a_401_refreshes_and_replays_once_with_the_rotated_refresh_token() {
    let server = MockServer::start().await;
    // The given access token is refused; the refreshed one works.
    Mock::given(method("GET"))
        .and(path("/v1/things"))
        .and(header("authorization", "Bearer stale"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"message": "expired"})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/things"))
        .and(header("authorization", "Bearer at-2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"things": []})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(body_string_contains("refresh_token=rt-1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": "at-2", "refresh_token": "rt-2"})),
        )
        .mount(&server)
        .await;
    let c = client(
        &OAUTH_BODY,
        &server,
        oauth_creds(&OAUTH_BODY).set("access_token", "stale"),
    );
    c.execute("things", "list", json!({})).await.unwrap();
    assert_eq!(requests(&server, "/v1/things").await.len(), 2, "one replay");
    assert_eq!(requests(&server, "/oauth/token").await.len(), 1);

    // The API now refuses at-2 too: the next refresh uses the rotated refresh token, and a
    // second 401 in a row is returned, not replayed forever.
    server.reset().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"message": "no"})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(body_string_contains("refresh_token=rt-2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"access_token": "at-3"})))
        .mount(&server)
        .await;
    let e = c.execute("things", "list", json!({})).await.unwrap_err();
    assert!(matches!(e, Error::Auth(_)), "{e:?}");
    assert_eq!(requests(&server, "/v1/things").await.len(), 2);
    assert_eq!(requests(&server, "/oauth/token").await.len(), 1);
}

#[tokio::test]
async fn oauth2_basic_client_auth_json_body_custom_header_and_expiry() {
    let server = MockServer::start().await;
    mount_things(&server).await;
    mount_token(
        &server,
        json!({"access_token": "at-x", "expires_in": 1}),
        Duration::ZERO,
    )
    .await;
    let c = client(&OAUTH_BASIC_JSON, &server, oauth_creds(&OAUTH_BASIC_JSON));
    c.execute("things", "list", json!({})).await.unwrap();
    let token = &requests(&server, "/oauth/token").await[0];
    let body: serde_json::Value = serde_json::from_slice(&token.body).unwrap();
    assert_eq!(
        body,
        json!({"grant_type": "refresh_token", "refresh_token": "rt-1"})
    );
    let basic = base64::engine::general_purpose::STANDARD.encode("cid:csecret");
    assert_eq!(
        header_of(token, "authorization"),
        Some(format!("Basic {basic}"))
    );
    let call = &requests(&server, "/v1/things").await[0];
    assert_eq!(header_of(call, "x-tally-token").as_deref(), Some("at-x"));
    // A one-second token is refreshed before it runs out.
    tokio::time::sleep(Duration::from_millis(600)).await;
    c.execute("things", "list", json!({})).await.unwrap();
    assert_eq!(requests(&server, "/oauth/token").await.len(), 2);
}

#[tokio::test]
async fn oauth2_failures_are_typed_and_never_show_a_secret() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(
            json!({"error": "invalid_grant", "message": "refresh token rt-1 revoked"}),
        ))
        .mount(&server)
        .await;
    let creds = oauth_creds(&OAUTH_BODY);
    let shown = format!("{creds:?}");
    assert!(
        !shown.contains("rt-1") && !shown.contains("csecret"),
        "{shown}"
    );
    assert!(shown.contains("cid"), "non-secret fields show: {shown}");
    let c = client(&OAUTH_BODY, &server, creds);
    let e = c.execute("things", "list", json!({})).await.unwrap_err();
    assert!(matches!(e, Error::Validation(_)), "{e:?}");
    // The server's message is relayed, with our secrets it echoed scrubbed.
    let text = format!("{e} {e:?}");
    assert!(
        text.contains("revoked") && text.contains("[redacted]"),
        "{text}"
    );
    assert!(
        !text.contains("rt-1") && !text.contains("csecret"),
        "{text}"
    );
    let garbage = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(
            ResponseTemplate::new(200).set_body_string("{\"access_token\": \"leak-me\", "),
        )
        .mount(&garbage)
        .await;
    let c = client(&OAUTH_BODY, &garbage, oauth_creds(&OAUTH_BODY));
    let e = c.execute("things", "list", json!({})).await.unwrap_err();
    assert!(matches!(e, Error::Decode { .. }), "{e:?}");
    assert!(!format!("{e} {e:?}").contains("leak-me"), "{e:?}");
    // No access token and nothing to refresh with: refused before any request.
    let none = Client::builder(&OAUTH_BODY)
        .auth(AuthChoice::Direct(
            Credentials::new(&OAUTH_BODY.auth[0])
                .set("client_id", "cid")
                .set("client_secret", "s")
                .set("refresh_token", " "),
        ))
        .build()
        .unwrap_err();
    assert!(matches!(none, Error::InvalidInput { .. }), "{none:?}");
}

#[tokio::test]
async fn query_param_filter_keeps_working_with_an_api_key_param() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/things"))
        .and(query_param("api_key", "k"))
        .and(query_param("kind", "x"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"things": []})))
        .mount(&server)
        .await;
    let c = client(
        &KEY_QUERY,
        &server,
        Credentials::new(&KEY_QUERY.auth[0]).set("key", "k"),
    );
    let out = c
        .execute("things", "list", json!({"kind": "x"}))
        .await
        .unwrap();
    assert_eq!(out["data"], json!([]));
}

connector!(
    TWO_SCHEMES,
    &[
        AuthSchemeMeta {
            key: "tallyPat",
            kind: AuthKind::Bearer,
            title: "",
            description: "",
            fields: &[field("pat", true, true, "TALLYBOARD_PAT")],
            mapping: &[("token", &[TemplatePart::Field("pat")])],
            additional_headers: &[],
            refresh: None,
        },
        AuthSchemeMeta {
            key: "tallyKey",
            kind: AuthKind::ApiKeyHeader {
                name: "X-Tally-Key"
            },
            title: "",
            description: "",
            fields: &[field("key", true, true, "TALLYBOARD_KEY")],
            mapping: &[("api_key", &[TemplatePart::Field("key")])],
            additional_headers: &[],
            refresh: None,
        },
    ]
);

#[tokio::test]
async fn several_schemes_from_the_environment() {
    let server = MockServer::start().await;
    mount_things(&server).await;
    let uri = server.uri();
    let env = |vars: &'static [(&'static str, &'static str)]| {
        let uri = uri.clone();
        move |name: &str| {
            if name == "TALLYBOARD_BASE_URL" {
                return Some(uri.clone());
            }
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    };
    // The scheme whose variables are set is the one used.
    let c = Client::from_env_with(&TWO_SCHEMES, env(&[("TALLYBOARD_KEY", "k-1")])).unwrap();
    c.execute("things", "list", json!({})).await.unwrap();
    let c = Client::from_env_with(&TWO_SCHEMES, env(&[("TALLYBOARD_PAT", "p-1")])).unwrap();
    c.execute("things", "list", json!({})).await.unwrap();
    let reqs = requests(&server, "/v1/things").await;
    assert_eq!(header_of(&reqs[0], "x-tally-key").as_deref(), Some("k-1"));
    assert_eq!(
        header_of(&reqs[1], "authorization").as_deref(),
        Some("Bearer p-1")
    );
    // Both set: ambiguous, refused with both names.
    let e = Client::from_env_with(
        &TWO_SCHEMES,
        env(&[("TALLYBOARD_KEY", "k"), ("TALLYBOARD_PAT", "p")]),
    )
    .unwrap_err();
    assert!(e.to_string().contains("tallyPat, tallyKey"), "{e}");
    // Neither: the message names both schemes' variables and Airbyte's.
    let e = Client::from_env_with(&TWO_SCHEMES, env(&[])).unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("TALLYBOARD_PAT, or TALLYBOARD_KEY") && text.contains("AIRBYTE_CLIENT_ID"),
        "{text}"
    );
}

/// A list paged by the `Link` header, for a scheme that sends its key in the query.
static LINKED: OperationMeta = OperationMeta {
    next_page: connector_sdk_runtime::meta::NextPage::LinkHeader("next"),
    no_pagination: None,
    ..LIST
};

static LINKED_ENTITIES: &[EntityMeta] = &[EntityMeta {
    name: "things",
    description: "",
    record_schema: "Thing",
    operations: &[&LINKED],
    search_fields: &[],
}];

connector!(
    KEY_QUERY_LINKED,
    &[AuthSchemeMeta {
        key: "tallyQueryKey",
        kind: AuthKind::ApiKeyQuery { name: "api_key" },
        title: "",
        description: "",
        fields: &[field("key", true, true, "TALLYBOARD_KEY")],
        mapping: &[("api_key", &[TemplatePart::Field("key")])],
        additional_headers: &[],
        refresh: None,
    }],
    LINKED_ENTITIES,
    &[&LINKED]
);

#[tokio::test]
async fn a_query_key_never_shows_in_a_next_page_link() {
    let server = MockServer::start().await;
    // The server echoes the key into its links, as some APIs do.
    Mock::given(method("GET"))
        .and(path("/v1/things"))
        .and(query_param("page", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"things": [{"id": "2"}]})))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/things"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header(
                    "Link",
                    format!(
                        "<{}/v1/things?page=2&api_key=k-link-secret>; rel=\"next\"",
                        server.uri()
                    ),
                )
                .set_body_json(json!({"things": [{"id": "1"}]})),
        )
        .mount(&server)
        .await;
    let c = client(
        &KEY_QUERY_LINKED,
        &server,
        Credentials::new(&KEY_QUERY_LINKED.auth[0]).set("key", "k-link-secret"),
    );
    let first = c.execute("things", "list", json!({})).await.unwrap();
    let next = first["meta"]["next_cursor"].as_str().unwrap().to_string();
    assert!(!next.contains("k-link-secret"), "{next}");
    assert!(next.ends_with("/v1/things?page=2"), "{next}");
    // Followed, the key goes back once, from the credentials.
    let second = c
        .execute("things", "list", json!({"next_page": next}))
        .await
        .unwrap();
    assert_eq!(second["data"][0]["id"], "2");
    let reqs = requests(&server, "/v1/things").await;
    assert_eq!(reqs[1].url.query(), Some("page=2&api_key=k-link-secret"));
}

static TENANT_META: ConnectorMeta = ConnectorMeta {
    name: "tallyboard",
    display_name: "Tallyboard",
    type_prefix: "Tallyboard",
    auth_example: "TallyboardAuthConfig::new(..)",
    definition_id: "0b7c2f4e-5a1d-4c3e-9f80-2d6b1a9e7c55",
    version: "1.0.0",
    base_url: "https://{tenant}.tallyboard.example/api",
    env_prefix: "TALLYBOARD",
    entities: ENTITIES,
    operations: &[&LIST],
    auth: KEY_HEADER.auth,
    config: &[connector_sdk_runtime::meta::ConfigFieldMeta {
        name: "tenant",
        description: "The tenant's host label",
        default: Some("{tenant}"),
        env: "TALLYBOARD_TENANT",
        server_variable: true,
    }],
    config_params: &[],
    error_check: None,
    spec_json: "{}",
    user_agent: "tallyboard-connector/test",
    hints: Hints {
        service: "Tallyboard",
        credentials: "the Tallyboard credentials (TALLYBOARD_TOKEN)",
        rate_limit: None,
    },
    call_span: span,
    spec_cache: OnceLock::new(),
};

#[test]
fn server_variables_fill_the_base_url_and_cannot_move_its_host() {
    let build = |tenant: Option<&str>| {
        let mut b = Client::builder(&TENANT_META).auth(AuthChoice::Direct(
            Credentials::new(&TENANT_META.auth[0]).set("key", "k"),
        ));
        if let Some(t) = tenant {
            b = b.config("tenant", t);
        }
        b.build()
    };
    assert_eq!(
        build(Some("acme")).unwrap().base_url(),
        "https://acme.tallyboard.example/api"
    );
    // A default that is its own placeholder is no value: the error says how to set it.
    let e = build(None).unwrap_err().to_string();
    assert!(
        e.contains("TALLYBOARD_TENANT") && e.contains(".tenant(..)"),
        "{e}"
    );
    // A value cannot bring a host, a path, a query or credentials of its own.
    for bad in [
        "evil.example/x",
        "a@evil.example",
        "a:8443",
        "a?b",
        "a b",
        "a%2F",
    ] {
        let e = build(Some(bad)).unwrap_err().to_string();
        assert!(e.contains("cannot fill `{tenant}`"), "{bad}: {e}");
    }
    // Unknown keys are refused, listing the known ones.
    let e = Client::builder(&TENANT_META)
        .auth(AuthChoice::Direct(
            Credentials::new(&TENANT_META.auth[0]).set("key", "k"),
        ))
        .config("tennant", "acme")
        .build()
        .unwrap_err()
        .to_string();
    assert!(e.contains("valid keys: tenant"), "{e}");
}

static INSTANCE: [connector_sdk_runtime::meta::ConfigFieldMeta; 1] =
    [connector_sdk_runtime::meta::ConfigFieldMeta {
        name: "instance_url",
        description: "The organisation's instance.",
        default: None,
        env: "TALLYBOARD_INSTANCE_URL",
        server_variable: true,
    }];

static OAUTH_EXTRACT: ConnectorMeta = ConnectorMeta {
    name: "tallyboard",
    display_name: "Tallyboard",
    type_prefix: "Tallyboard",
    auth_example: "TallyboardAuthConfig::new(..)",
    definition_id: "0b7c2f4e-5a1d-4c3e-9f80-2d6b1a9e7c55",
    version: "1.0.0",
    base_url: "{instance_url}",
    env_prefix: "TALLYBOARD",
    entities: ENTITIES,
    operations: &[&LIST],
    auth: &[AuthSchemeMeta {
        key: "tallyOAuth",
        kind: AuthKind::OAuth2,
        title: "",
        description: "",
        fields: OAUTH_FIELDS,
        mapping: OAUTH_MAPPING,
        additional_headers: &[],
        refresh: Some(TokenRefreshMeta {
            url: "https://auth.tallyboard.example/token",
            auth_style: "body",
            body_format: "form",
            header: "Authorization",
            prefix: "Bearer",
            extract: &["instance_url"],
            grant_type: "refresh_token",
            scopes: "",
        }),
    }],
    config: &INSTANCE,
    config_params: &[],
    error_check: None,
    spec_json: "{}",
    user_agent: "tallyboard-connector/test",
    hints: Hints {
        service: "Tallyboard",
        credentials: "the Tallyboard credentials (TALLYBOARD_TOKEN)",
        rate_limit: None,
    },
    call_span: span,
    spec_cache: OnceLock::new(),
};

/// `x-airbyte-token-extract`: the token answer names the organisation's instance, and
/// requests go there from the first one on, and to the next instance after a refresh that
/// names another (the token answer wins over the configured value).
#[tokio::test]
async fn oauth2_token_values_move_the_base_url() {
    let auth = MockServer::start().await;
    let configured = MockServer::start().await;
    let first = MockServer::start().await;
    let second = MockServer::start().await;
    for s in [&configured, &first, &second] {
        mount_things(s).await;
    }
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "at-1", "expires_in": 3600, "instance_url": first.uri(),
        })))
        .up_to_n_times(1)
        .mount(&auth)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "at-2", "expires_in": 3600, "instance_url": second.uri(),
        })))
        .mount(&auth)
        .await;
    // The second instance refuses the first token once, which forces a refresh.
    Mock::given(method("GET"))
        .and(path("/v1/things"))
        .and(header("authorization", "Bearer at-1"))
        .respond_with(ResponseTemplate::new(401))
        .with_priority(1)
        .mount(&first)
        .await;
    let c = Client::builder(&OAUTH_EXTRACT)
        .no_retries()
        .auth(AuthChoice::Direct(oauth_creds(&OAUTH_EXTRACT)))
        .config("instance_url", configured.uri())
        .token_url(&format!("{}/oauth/token", auth.uri()))
        .unwrap()
        .build()
        .unwrap();
    // The first token's instance refuses it; the refresh names the second instance, where
    // the replay (and every later call) goes.
    c.execute("things", "list", json!({})).await.unwrap();
    c.execute("things", "list", json!({})).await.unwrap();
    assert!(requests(&configured, "/v1/things").await.is_empty());
    assert_eq!(requests(&first, "/v1/things").await.len(), 1);
    let at_second = requests(&second, "/v1/things").await;
    assert_eq!(at_second.len(), 2);
    assert!(at_second
        .iter()
        .all(|r| header_of(r, "authorization").as_deref() == Some("Bearer at-2")));
}

/// A throwaway RSA key made for this test (never used anywhere else).
const TEST_KEY: &str = "-----BEGIN PRIVATE KEY-----\nMIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQCQysfBLmtXXEHK\nh8SdzRvumeydkDeqk68OJQuTQu1CvctcaCGNGukA1XkUEzma51DADRm4jSSV7S1R\nVe9ira/U9LURP94hLiS0eVFPET0V2rf6oTI972Qddn6Fh/pMzmbtZDf3EA4vdoa7\nhXnxfw8CRCMIY8Vt4LXmlwk0vHicxDUJlqTqxutc2K6IdKAIDrFQsU1Pi6AbizRB\nJPv48+SmATEjkO2NLhenzrbbEvxHj49smyEdW8e/r1prAZucPEM7D6B6MYnDYxdz\nVtyXuJ5MlgPFSaTpHuDLsnEC9TJZf65Q+Zq9NK8vgl85wpiSF0ULo7YGuvBfb21O\nG5GbdJ67AgMBAAECggEAPhxOfgb8ktgHfOqqpAqFTeAHiTuBNZHuiQHJKl2OS5AA\n+V3N7qq5gtsP+lWY42MQ16GHBAy/wfSg+QAFFW5uO8rRFVoxXkheBHD6ORGrA4H0\nY/XcCId1idH3yi4fZ+0uZ+0SuM/RVfjhKPXD7p1TgeRaptGtskmvnf/yOgYTMyOu\nar7MTfKCUfihkN3QEHZ28evnPye6+Oamj4m9n5UBaVT93HkHsIGQJbZ/BjMk4+8Q\nNj4cEBqVs7X8Q41QKY/ZuijXSplhmtFP6d5IOP8V7hoo2B622PrsBalxvCjiKaGG\nbgphORvFQMBSQddQOQcDKu7284lYiHDKhr78Ymz0KQKBgQDEdQuPAUsHNsyskY22\n8n7zvhW6T2KoTWRibeIzhVRjkYt+7BoTk3fYZU8YSPhc7mNZq40luJRPTllvZhvA\nTaBSeMhBHyx12meazdkxRCc2tn7s4CMdxKqkM3PSetxaVRLB/TJN1KmnhoVg72Uk\nTLpJ8LId5cngIktkSaOcXCtP/QKBgQC8rRUR6rJe4FllRWlR1p/WHoZBWs/BGWFw\nx5yFsRxiq+r/0I6gQ+D8N9RTqqlgyeXKhuQXVEqN/oKsvyYhUzd6sGOkkSrwaaSw\nn1oCRzL3QsASa+XIpTnB23YuXb9947NzDAYs+lh4Mp8w9JSQUuI152SRqvp6f/xZ\n4keTeJ/bFwKBgE3QJmHgGz2iQPNhO4ZpCku00JpY8zTCYq5x45SQjNpbPatqDPIQ\nCPoXNnrh/C2i5osP3fpA382BtP7grMFAfe3slTTmChAsD7lLK2nOGtIa+q8MIByc\nVxJupsOJklndNG7NwOz+/Ku0JoQ8jg0QrwC2a3ZYG9vA+aehW0KFZ0ppAoGAJckw\nEA+Fu3SI0rxM9GPcTOB+GLacJtrzZcfENA4dVjGB9cuJ1NTjSP/RWRQzqbuldqL/\nKSDrcXaIKxp5A3GMCdkri3i7Nbyii/DN8OjbbyOCHe5X7ZAReh5+k5iY0hh5BtBg\nqD9W2nOg6AgDfMfsn8kAnh+03DWnj0S++uzMbu8CgYBGsNb6lGDxUhjwYaIIK1gm\nILI+Ou+Hem0Oorm0Wuw6VbveQmy/iQlbtVRrZoI/Dg/hXyBvi1sfdjLBnVJxyFWC\nVUxVot8BcQ0hhzbX6iqF7jpGXyheeJgQWpGqIj4kDQYLz5ID3mxpZ06I0EWeduEG\ncr3ytNfin1ErSh6dlTACdw==\n-----END PRIVATE KEY-----";

static JWT_FIELDS: &[AuthFieldMeta] = &[field(
    "credentials_json",
    true,
    true,
    "TALLYBOARD_CREDENTIALS_JSON",
)];

connector!(
    OAUTH_JWT,
    &[AuthSchemeMeta {
        key: "serviceAccount",
        kind: AuthKind::OAuth2,
        title: "",
        description: "",
        fields: JWT_FIELDS,
        mapping: &[(
            "credentials_json",
            &[TemplatePart::Field("credentials_json")],
        )],
        additional_headers: &[],
        refresh: Some(TokenRefreshMeta {
            url: "https://auth.tallyboard.example/token",
            auth_style: "body",
            body_format: "form",
            header: "Authorization",
            prefix: "Bearer",
            extract: &[],
            grant_type: "jwt_bearer",
            scopes: "sheets.read drive.read",
        }),
    }]
);

/// `jwt_bearer`: the service account's key signs an RS256 assertion (checked here with the
/// key's public half) that is exchanged for the access token; no secret is sent otherwise.
#[tokio::test]
async fn oauth2_jwt_bearer_signs_an_assertion_with_the_service_account_key() {
    let server = MockServer::start().await;
    mount_things(&server).await;
    mount_token(
        &server,
        json!({"access_token": "at-jwt", "expires_in": 3600}),
        Duration::ZERO,
    )
    .await;
    let key_json =
        json!({"client_email": "robot@tally.example", "private_key": TEST_KEY}).to_string();
    let creds = Credentials::new(&OAUTH_JWT.auth[0]).set("credentials_json", key_json.as_str());
    let c = client(&OAUTH_JWT, &server, creds);
    c.execute("things", "list", json!({})).await.unwrap();
    let token = &requests(&server, "/oauth/token").await[0];
    let form: std::collections::HashMap<String, String> = url::form_urlencoded::parse(&token.body)
        .into_owned()
        .collect();
    assert_eq!(
        form.get("grant_type").map(String::as_str),
        Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
    );
    assert_eq!(form.len(), 2, "only the grant and the assertion: {form:?}");
    let jwt = &form["assertion"];
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3);
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header: serde_json::Value = serde_json::from_slice(&b64.decode(parts[0]).unwrap()).unwrap();
    assert_eq!(header, json!({"alg": "RS256", "typ": "JWT"}));
    let claims: serde_json::Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    assert_eq!(claims["iss"], "robot@tally.example");
    assert_eq!(claims["scope"], "sheets.read drive.read");
    assert_eq!(claims["aud"], format!("{}/oauth/token", server.uri()));
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        3600
    );
    // The signature verifies with the key's public half.
    let der: String = TEST_KEY
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(der)
        .unwrap();
    let pair = ring::signature::RsaKeyPair::from_pkcs8(&der).unwrap();
    use ring::signature::KeyPair as _;
    let public = ring::signature::UnparsedPublicKey::new(
        &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        pair.public_key().as_ref().to_vec(),
    );
    public
        .verify(
            format!("{}.{}", parts[0], parts[1]).as_bytes(),
            &b64.decode(parts[2]).unwrap(),
        )
        .expect("a valid RS256 signature");
    let things = requests(&server, "/v1/things").await;
    assert_eq!(
        header_of(&things[0], "authorization").as_deref(),
        Some("Bearer at-jwt")
    );
    // A key that is not one is refused when the client is built, without quoting it.
    let bad = Credentials::new(&OAUTH_JWT.auth[0]).set(
        "credentials_json",
        r#"{"client_email": "x", "private_key": "hunter2-secret"}"#,
    );
    let err = Client::builder(&OAUTH_JWT)
        .auth(AuthChoice::Direct(bad))
        .base_url(&server.uri())
        .unwrap()
        .build()
        .expect_err("not a key");
    assert!(!err.to_string().contains("hunter2"), "{err}");
    assert!(err.to_string().contains("credentials_json"), "{err}");
}
