//! Hosted transport against a wiremock stand-in for Airbyte's API on 127.0.0.1: exact request
//! bodies and headers, token caching/expiry/single-flight, 401 replay, connector lookup and
//! creation, `from_env`, and that no secret ever shows in Debug or error text.

use std::time::Duration;

use futures::TryStreamExt;
use incident_io_connector::{
    AirbyteAuthConfig, CheckStatus, Error, IncidentIoAuthConfig, IncidentIoConnector, DEFINITION_ID,
};
use serde_json::{json, Value};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const CLIENT_ID: &str = "client-abc";
const CLIENT_SECRET: &str = "cs-topsecret-value";
const TOKEN: &str = "tok-very-private";

fn config(server: &MockServer) -> AirbyteAuthConfig {
    AirbyteAuthConfig::new(CLIENT_ID, CLIENT_SECRET)
        .workspace_name("acme")
        .organization_id("org-1")
        .airbyte_api_url(server.uri())
}

/// Retries are covered by the fault-injection suite; here every error must surface as is.
fn connector(config: AirbyteAuthConfig) -> IncidentIoConnector {
    IncidentIoConnector::builder()
        .no_retries()
        .auth(config)
        .build()
        .unwrap()
}

async fn mount_token(server: &MockServer, expires_in: Option<u64>) {
    let mut body = json!({"access_token": TOKEN, "token_type": "Bearer"});
    if let Some(e) = expires_in {
        body["expires_in"] = json!(e);
    }
    Mock::given(method("POST"))
        .and(path("/api/v1/account/applications/token"))
        .and(body_json(
            json!({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(server)
        .await;
}

async fn mount_lookup(server: &MockServer, ids: &[&str]) {
    let data: Vec<Value> = ids
        .iter()
        .map(|id| json!({"id": id, "name": "x"}))
        .collect();
    Mock::given(method("GET"))
        .and(path("/api/v1/integrations/connectors"))
        .and(query_param("workspace_name", "acme"))
        .and(query_param("definition_id", DEFINITION_ID))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": data})))
        .mount(server)
        .await;
}

fn incident(id: &str) -> Value {
    json!({"id": id, "name": format!("Incident {id}"), "mode": "standard", "brand_new": 1})
}

async fn mount_execute(server: &MockServer, entity: &str, result: Value, cursor: Option<&str>) {
    Mock::given(method("POST"))
        .and(path("/api/v1/integrations/connectors/conn-1/execute"))
        .and(wiremock::matchers::body_partial_json(
            json!({"entity": entity}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "result": result,
            "connector_metadata": {"next_cursor": cursor},
        })))
        .mount(server)
        .await;
}

async fn received(server: &MockServer, p: &str) -> Vec<Request> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.url.path() == p)
        .collect()
}

#[tokio::test]
async fn typed_list_goes_through_execute_with_exact_body_and_headers() {
    let server = MockServer::start().await;
    mount_token(&server, Some(900)).await;
    mount_lookup(&server, &["conn-1"]).await;
    mount_execute(
        &server,
        "incidents",
        json!([incident("01A"), incident("01B")]),
        Some("01B"),
    )
    .await;

    let c = connector(config(&server));
    assert_eq!(c.connector_id(), None, "not looked up yet");
    let page = c.incidents().list().page_size(5).await.unwrap();
    assert_eq!(page.data.len(), 2);
    assert_eq!(page.data[0].id, "01A");
    assert_eq!(page.next_cursor.as_deref(), Some("01B"));
    assert_eq!(c.connector_id(), Some("conn-1"));

    let exec = received(&server, "/api/v1/integrations/connectors/conn-1/execute").await;
    assert_eq!(exec.len(), 1);
    let body: Value = serde_json::from_slice(&exec[0].body).unwrap();
    assert_eq!(
        body,
        json!({"entity": "incidents", "action": "list", "params": {"page_size": 5}, "skip_truncation": true}),
        "typed calls ask for records in full"
    );
    let h = &exec[0].headers;
    assert_eq!(h.get("authorization").unwrap(), &format!("Bearer {TOKEN}"));
    assert_eq!(h.get("x-organization-id").unwrap(), "org-1");
    assert!(h
        .get("user-agent")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("incident-io-connector/"));

    let token = received(&server, "/api/v1/account/applications/token").await;
    assert_eq!(token.len(), 1);
    assert!(
        token[0].headers.get("authorization").is_none(),
        "the token call carries no bearer"
    );
    let lookup = received(&server, "/api/v1/integrations/connectors").await;
    assert_eq!(
        lookup[0].headers.get("authorization").unwrap(),
        &format!("Bearer {TOKEN}")
    );
}

#[tokio::test]
async fn hosted_get_execute_and_alerts_default_page_size() {
    let server = MockServer::start().await;
    mount_token(&server, None).await;
    mount_execute(&server, "incidents", incident("01A"), None).await;
    mount_execute(&server, "alerts", json!([]), None).await;
    let c = connector(config(&server).connector_id("conn-1"));
    assert_eq!(c.connector_id(), Some("conn-1"));

    let one = c.incidents().get("01A").await.unwrap();
    assert_eq!(one.name, "Incident 01A");
    // execute keeps Airbyte's raw JSON, unknown fields included.
    let raw = c
        .execute("incidents", "get", json!({"id": "01A"}))
        .await
        .unwrap();
    assert_eq!(raw["brand_new"], 1);
    let list = c.execute("alerts", "list", json!({})).await.unwrap();
    assert_eq!(list, json!({"data": [], "meta": {"next_cursor": null}}));
    c.alerts().list().await.unwrap();

    let bodies: Vec<Value> = received(&server, "/api/v1/integrations/connectors/conn-1/execute")
        .await
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(
        bodies[0],
        json!({"entity": "incidents", "action": "get", "params": {"id": "01A"}, "skip_truncation": true})
    );
    assert_eq!(
        bodies[2]["params"],
        json!({"page_size": 25}),
        "alerts always send page_size"
    );
    assert_eq!(bodies[3]["params"], json!({"page_size": 25}));
    assert!(
        received(&server, "/api/v1/integrations/connectors")
            .await
            .is_empty(),
        "no lookup with a connector id"
    );
    // Bad params never reach Airbyte.
    let e = c
        .execute("incidents", "list", json!({"page_size": 0}))
        .await
        .unwrap_err();
    assert!(e.to_string().starts_with("invalid page_size"), "{e}");
    assert_eq!(
        received(&server, "/api/v1/integrations/connectors/conn-1/execute")
            .await
            .len(),
        4
    );
}

#[tokio::test]
async fn streams_page_with_next_cursor_and_one_token() {
    let server = MockServer::start().await;
    mount_token(&server, None).await;
    for (after, ids, next) in [
        (None, ["01", "02"], Some("02")),
        (Some("02"), ["03", "04"], None),
    ] {
        let mut body = json!({"entity": "incidents", "params": {"page_size": 2}});
        if let Some(a) = after {
            body["params"]["after"] = json!(a);
        }
        Mock::given(method("POST"))
            .and(path("/api/v1/integrations/connectors/conn-1/execute"))
            .and(body_json(
                json!({"entity": "incidents", "action": "list", "params": body["params"], "skip_truncation": true}),
            ))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "result": ids.iter().map(|i| incident(i)).collect::<Vec<_>>(),
                "connector_metadata": {"next_cursor": next},
            })))
            .mount(&server)
            .await;
    }
    let c = connector(config(&server).connector_id("conn-1"));
    let all: Vec<_> = c
        .incidents()
        .list()
        .page_size(2)
        .stream()
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<_> = all.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["01", "02", "03", "04"]);
    assert_eq!(
        received(&server, "/api/v1/account/applications/token")
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn hundred_concurrent_calls_on_a_cold_connector_make_one_token_request() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/account/applications/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": TOKEN}))
                .set_delay(Duration::from_millis(100)),
        )
        .mount(&server)
        .await;
    mount_lookup(&server, &["conn-1"]).await;
    mount_execute(&server, "severities", json!([]), None).await;
    let c = connector(config(&server));
    let calls = (0..100).map(|_| {
        let c = c.clone();
        async move { c.severities().list().await }
    });
    let results = futures::future::join_all(calls).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(
        received(&server, "/api/v1/account/applications/token")
            .await
            .len(),
        1
    );
    assert_eq!(
        received(&server, "/api/v1/integrations/connectors")
            .await
            .len(),
        1,
        "lookup is single-flight and remembered"
    );
    assert_eq!(
        received(&server, "/api/v1/integrations/connectors/conn-1/execute")
            .await
            .len(),
        100
    );
}

#[tokio::test]
async fn token_expiry_is_honoured() {
    let server = MockServer::start().await;
    // expires_in 1 s: refreshed after half of it (short tokens are refreshed at half-life).
    mount_token(&server, Some(1)).await;
    mount_execute(&server, "severities", json!([]), None).await;
    let c = connector(config(&server).connector_id("conn-1"));
    c.severities().list().await.unwrap();
    c.severities().list().await.unwrap();
    assert_eq!(
        received(&server, "/api/v1/account/applications/token")
            .await
            .len(),
        1
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    c.severities().list().await.unwrap();
    assert_eq!(
        received(&server, "/api/v1/account/applications/token")
            .await
            .len(),
        2
    );
}

#[tokio::test]
async fn a_401_drops_the_token_and_replays_once() {
    let server = MockServer::start().await;
    mount_token(&server, Some(3600)).await;
    Mock::given(method("POST"))
        .and(path("/api/v1/integrations/connectors/conn-1/execute"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"message": "token expired"})))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    mount_execute(
        &server,
        "severities",
        json!([{"id": "S1", "name": "Minor"}]),
        None,
    )
    .await;
    let c = connector(config(&server).connector_id("conn-1"));
    let page = c.severities().list().await.unwrap();
    assert_eq!(page.data[0].id, "S1");
    assert_eq!(
        received(&server, "/api/v1/account/applications/token")
            .await
            .len(),
        2
    );
    assert_eq!(
        received(&server, "/api/v1/integrations/connectors/conn-1/execute")
            .await
            .len(),
        2
    );

    // Two 401s in a row: an auth error, replayed only once.
    let server = MockServer::start().await;
    mount_token(&server, Some(3600)).await;
    Mock::given(method("POST"))
        .and(path("/api/v1/integrations/connectors/conn-1/execute"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"message": "not allowed"})))
        .mount(&server)
        .await;
    let c = connector(config(&server).connector_id("conn-1"));
    let err = c.severities().list().await.unwrap_err();
    assert!(matches!(err, Error::Auth(_)), "{err:?}");
    assert!(err.to_string().contains("not allowed"), "{err}");
    assert_eq!(
        received(&server, "/api/v1/integrations/connectors/conn-1/execute")
            .await
            .len(),
        2
    );
}

#[tokio::test]
async fn lookup_none_and_many() {
    let server = MockServer::start().await;
    mount_token(&server, None).await;
    mount_lookup(&server, &[]).await;
    let err = connector(config(&server))
        .severities()
        .list()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ConnectorNotFound { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("no incident.io connector exists in Airbyte workspace \"acme\""),
        "{text}"
    );
    assert!(text.contains("IncidentIoConnector::create"), "{text}");

    let server = MockServer::start().await;
    mount_token(&server, None).await;
    mount_lookup(&server, &["c-1", "c-2"]).await;
    let c = connector(config(&server));
    let err = c.resolve_connector_id().await.unwrap_err();
    assert!(
        matches!(err, Error::AmbiguousConnector { ref ids, .. } if ids == &["c-1", "c-2"]),
        "{err:?}"
    );
    assert!(err.to_string().contains("c-1, c-2"), "{err}");
}

#[tokio::test]
async fn create_sends_the_documented_body_and_binds_the_new_id() {
    let server = MockServer::start().await;
    mount_token(&server, None).await;
    Mock::given(method("POST"))
        .and(path("/api/v1/integrations/connectors"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!({"id": "conn-new", "name": "n"})),
        )
        .mount(&server)
        .await;
    let c = IncidentIoConnector::create(config(&server), IncidentIoAuthConfig::new("inc-key-1"))
        .replication_config(json!({"start_date": "2024-01-01"}))
        .source_template_id("tpl-9")
        .await
        .unwrap();
    assert_eq!(c.connector_id(), Some("conn-new"));
    assert!(c.is_hosted());
    let reqs = received(&server, "/api/v1/integrations/connectors").await;
    let body: Value = serde_json::from_slice(&reqs[0].body).unwrap();
    assert_eq!(
        body,
        json!({
            "name": "incident-io - acme",
            "definition_id": DEFINITION_ID,
            "workspace_name": "acme",
            "credentials": {"api_key": "inc-key-1"},
            "replication_config": {"start_date": "2024-01-01"},
            "source_template_id": "tpl-9",
        })
    );

    // No workspace: a clear error before any request.
    let before = server.received_requests().await.unwrap().len();
    let err = IncidentIoConnector::create(
        AirbyteAuthConfig::new(CLIENT_ID, CLIENT_SECRET).airbyte_api_url(server.uri()),
        IncidentIoAuthConfig::new("k"),
    )
    .name("x")
    .await
    .unwrap_err();
    assert!(err.to_string().contains("needs a workspace"), "{err}");
    assert_eq!(server.received_requests().await.unwrap().len(), before);
}

#[tokio::test]
async fn airbyte_errors_map_into_the_same_variants() {
    let server = MockServer::start().await;
    mount_token(&server, None).await;
    Mock::given(method("POST"))
        .and(path("/api/v1/integrations/connectors/conn-1/execute"))
        .respond_with(ResponseTemplate::new(422).set_body_json(
            json!({"message": "Invalid params", "errors": ["page_size must be <= 250"]}),
        ))
        .mount(&server)
        .await;
    let c = connector(config(&server).connector_id("conn-1"));
    let err = c.incidents().list().await.unwrap_err();
    assert!(matches!(err, Error::Validation(_)), "{err:?}");
    assert!(
        err.to_string().contains("page_size must be <= 250"),
        "{err}"
    );

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/account/applications/token"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"message": "invalid client credentials"})),
        )
        .mount(&server)
        .await;
    let c = connector(config(&server).connector_id("conn-1"));
    let err = c.incidents().list().await.unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, Error::Auth(_))
            && text.contains("invalid client credentials")
            && text.contains("AIRBYTE_CLIENT_ID"),
        "{text}"
    );
}

#[tokio::test]
async fn check_uses_a_one_record_users_list_and_never_fails() {
    let server = MockServer::start().await;
    mount_token(&server, None).await;
    mount_execute(
        &server,
        "users",
        json!([{"id": "U1", "name": "Ada"}]),
        Some("U1"),
    )
    .await;
    let c = connector(config(&server).connector_id("conn-1"));
    let result = c.check().await;
    assert_eq!(result.status, CheckStatus::Healthy, "{result:?}");
    assert_eq!(result.checked_entity.as_deref(), Some("users"));
    assert_eq!(result.checked_action.as_deref(), Some("list"));
    let body: Value = serde_json::from_slice(
        &received(&server, "/api/v1/integrations/connectors/conn-1/execute").await[0].body,
    )
    .unwrap();
    assert_eq!(body["params"], json!({"page_size": 1}));

    let dead = connector(
        AirbyteAuthConfig::new(CLIENT_ID, CLIENT_SECRET)
            .connector_id("c")
            .airbyte_api_url("http://127.0.0.1:9"),
    );
    let result = dead.check().await;
    assert_eq!(result.status, CheckStatus::Unhealthy);
    assert!(
        result.error.as_deref().unwrap().contains("network error"),
        "{result:?}"
    );
    assert_eq!(result.checked_entity.as_deref(), Some("users"));
}

#[test]
fn from_env_combinations() {
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    };
    let c = IncidentIoConnector::from_env_with(env(&[
        ("INCIDENT_IO_API_KEY", "k"),
        ("INCIDENT_IO_BASE_URL", "http://127.0.0.1:1"),
    ]))
    .unwrap();
    assert!(!c.is_hosted());
    assert_eq!(c.base_url(), "http://127.0.0.1:1");

    let c = IncidentIoConnector::from_env_with(env(&[
        ("AIRBYTE_CLIENT_ID", "id"),
        ("AIRBYTE_CLIENT_SECRET", "secret"),
        ("AIRBYTE_CONNECTOR_ID", "conn-9"),
        ("AIRBYTE_API_URL", "http://127.0.0.1:2"),
    ]))
    .unwrap();
    assert!(c.is_hosted());
    assert_eq!(c.connector_id(), Some("conn-9"));
    assert_eq!(c.base_url(), "http://127.0.0.1:2");

    let err = IncidentIoConnector::from_env_with(env(&[("AIRBYTE_CLIENT_ID", "id")])).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("missing: INCIDENT_IO_API_KEY, or AIRBYTE_CLIENT_SECRET"),
        "{text}"
    );
    let err = IncidentIoConnector::from_env_with(env(&[])).unwrap_err();
    assert!(
        err.to_string()
            .contains("AIRBYTE_CLIENT_ID and AIRBYTE_CLIENT_SECRET"),
        "{err}"
    );
    let err = IncidentIoConnector::from_env_with(env(&[
        ("AIRBYTE_CLIENT_ID", "id"),
        ("AIRBYTE_CLIENT_SECRET", "s"),
        ("AIRBYTE_API_URL", "http://airbyte.example"),
    ]))
    .unwrap_err();
    assert!(
        err.to_string().starts_with("invalid airbyte_api_url"),
        "{err}"
    );
}

#[tokio::test]
async fn no_secret_in_debug_or_errors() {
    let server = MockServer::start().await;
    mount_token(&server, None).await;
    Mock::given(method("POST"))
        .and(path("/api/v1/integrations/connectors/conn-1/execute"))
        .respond_with(ResponseTemplate::new(500).set_body_string("oops"))
        .mount(&server)
        .await;
    let cfg = config(&server).connector_id("conn-1");
    let c = connector(cfg.clone());
    let err = c.incidents().list().await.unwrap_err();
    let direct = IncidentIoConnector::builder()
        .auth(IncidentIoAuthConfig::new("inc-secret-key"))
        .build()
        .unwrap();
    let texts = [
        format!("{cfg:?}"),
        format!("{c:?}"),
        format!("{err} {err:?}"),
        format!("{direct:?}"),
        format!("{:?}", IncidentIoAuthConfig::new("inc-secret-key")),
    ];
    for t in &texts {
        for secret in [CLIENT_SECRET, TOKEN, "inc-secret-key"] {
            assert!(!t.contains(secret), "{secret} leaked in {t}");
        }
    }
}
