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
