//! Direct transport against a wiremock server on 127.0.0.1: exact wire assertions (method,
//! path, query, headers) and what the typed API returns, including every error mapping.

use std::time::Duration;

use futures::TryStreamExt;
use incident_io_connector::models::{IncidentMode, IncidentStatusCategory};
use incident_io_connector::{Error, IncidentIoAuthConfig, IncidentIoConnector};
use serde_json::{json, Value};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "test-key-123";

/// Retries are covered by the fault-injection suite; here every error must surface as is.
fn connector(server: &MockServer) -> IncidentIoConnector {
    IncidentIoConnector::builder()
        .no_retries()
        .auth(IncidentIoAuthConfig::new(KEY))
        .base_url(&server.uri())
        .unwrap()
        .build()
        .unwrap()
}

fn incident(id: &str) -> Value {
    json!({
        "id": id,
        "name": format!("Incident {id}"),
        "reference": "INC-1",
        "mode": "standard",
        "visibility": "public",
        "created_at": "2021-08-17T13:28:57.801578Z",
        "updated_at": "2021-08-17T13:28:57Z",
        "incident_status": {"id": "S1", "name": "Live", "category": "live", "rank": 3},
        "severity": {"id": "SEV1", "name": "Major", "rank": 2},
        "creator": {"workflow": {"id": "W1", "name": "Auto-declare"}},
        "custom_field_entries": [{
            "custom_field": {"id": "CF1", "name": "Cost", "field_type": "numeric"},
            "values": [{"value_numeric": "12.5"}]
        }],
        "team_ids": [],
        "slack_channel_id": ""
    })
}

async fn requests(server: &MockServer) -> Vec<wiremock::Request> {
    server.received_requests().await.unwrap_or_default()
}

#[tokio::test]
async fn list_sends_bearer_and_query_and_decodes_a_page() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/incidents"))
        .and(query_param("page_size", "250"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "incidents": [incident("01A"), incident("01B")],
            "pagination_meta": {"after": "01B", "page_size": 250, "total_record_count": 9}
        })))
        .expect(1)
        .mount(&server)
        .await;

    let page = connector(&server)
        .incidents()
        .list()
        .page_size(250)
        .await
        .unwrap();
    assert_eq!(page.data.len(), 2);
    assert_eq!(page.next_cursor.as_deref(), Some("01B"));
    let first = &page.data[0];
    assert_eq!(first.id, "01A");
    assert_eq!(first.mode, Some(IncidentMode::Standard));
    let status = first.incident_status.as_ref().unwrap();
    assert_eq!(status.category, Some(IncidentStatusCategory::Live));
    assert_eq!(status.rank, Some(3));
    assert!(first.creator.as_ref().unwrap().workflow.is_some());
    assert_eq!(first.slack_channel_id.as_deref(), Some(""));
    assert_eq!(
        first.created_at.unwrap().to_rfc3339(),
        "2021-08-17T13:28:57.801578+00:00"
    );

    let reqs = requests(&server).await;
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].method.as_str(), "GET");
    assert_eq!(reqs[0].url.path(), "/v2/incidents");
    assert_eq!(reqs[0].url.query(), Some("page_size=250"));
    let ua = reqs[0].headers.get("user-agent").unwrap().to_str().unwrap();
    assert!(ua.starts_with("incident-io-connector/"), "{ua}");
}

#[tokio::test]
async fn after_cursor_is_sent_and_send_equals_await() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/users"))
        .and(query_param("after", "01X"))
        .and(query_param("page_size", "3"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "users": [{"id": "U1", "name": "Ada", "is_active": true, "seats": {"on_call": "full_access", "response": "brand_new_seat"}}],
            "pagination_meta": {"page_size": 3}
        })))
        .mount(&server)
        .await;
    let page = connector(&server)
        .users()
        .list()
        .page_size(3)
        .after("01X")
        .send()
        .await
        .unwrap();
    assert_eq!(
        page.next_cursor, None,
        "no `after` in pagination_meta means last page"
    );
    let seats = page.data[0].seats.as_ref().unwrap();
    // An enum value the SDK does not know decodes into Unknown, verbatim.
    assert_eq!(seats.response.as_ref().unwrap().as_str(), "brand_new_seat");
    assert!(seats.response.as_ref().unwrap().is_unknown());
}

#[tokio::test]
async fn alerts_always_send_page_size() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/alerts"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "alerts": [], "pagination_meta": {"page_size": 25}
        })))
        .mount(&server)
        .await;
    let page = connector(&server).alerts().list().await.unwrap();
    assert!(page.data.is_empty());
    let reqs = requests(&server).await;
    assert_eq!(reqs[0].url.query(), Some("page_size=25"));
}

#[tokio::test]
async fn unpaginated_list_has_no_cursor_and_sends_no_query() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/severities"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "severities": [{"id": "S1", "name": "Minor", "rank": 1}, {"id": "S2", "name": "Major", "rank": 2, "brand_new_field": {"x": 1}}]
        })))
        .mount(&server)
        .await;
    let page = connector(&server).severities().list().await.unwrap();
    assert_eq!(page.data.len(), 2);
    assert_eq!(page.next_cursor, None);
    assert_eq!(page.data[1].rank, Some(2));
    assert_eq!(requests(&server).await[0].url.query(), None);
}

#[tokio::test]
async fn ids_that_could_change_the_path_are_refused_before_any_request() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"incident": incident("X")})))
        .mount(&server)
        .await;
    let c = connector(&server);
    for bad in [
        "../v1/x?y",
        "a/b",
        "a?b",
        "a#b",
        "a%2Fb",
        "..",
        ".",
        "",
        "   ",
        "a b",
        "inc\u{e9}",
        "x..y",
    ] {
        let err = c.incidents().get(bad).await.unwrap_err();
        let Error::InvalidInput { field, message } = &err else {
            panic!("{bad:?}: {err:?}")
        };
        assert_eq!(field, "id", "{bad:?}");
        assert!(
            message.contains("must match the pattern")
                || message.contains("empty")
                || message.contains("would change the request path"),
            "{bad:?}: {message}"
        );
    }
    assert_eq!(requests(&server).await.len(), 0);

    // Real id shapes go through untouched: ULIDs, numeric references, Slack-style ids.
    for good in ["01FDAG4SAP5TYPT98WGR2N7W91", "123", "C01ABC:x-y_z.1"] {
        c.incidents().get(good).await.unwrap();
    }
    let paths: Vec<String> = requests(&server)
        .await
        .iter()
        .map(|r| r.url.path().to_string())
        .collect();
    assert_eq!(
        paths,
        [
            "/v2/incidents/01FDAG4SAP5TYPT98WGR2N7W91",
            "/v2/incidents/123",
            "/v2/incidents/C01ABC:x-y_z.1"
        ]
    );
}

#[tokio::test]
async fn page_size_bounds_are_checked_before_any_request() {
    let server = MockServer::start().await;
    let c = connector(&server);
    for (size, entity) in [
        (0, "incidents"),
        (251, "incidents"),
        (51, "alerts"),
        (-1, "users"),
    ] {
        let err = match entity {
            "incidents" => c.incidents().list().page_size(size).await.unwrap_err(),
            "alerts" => c.alerts().list().page_size(size).await.unwrap_err(),
            _ => c.users().list().page_size(size).await.unwrap_err(),
        };
        let text = err.to_string();
        assert!(text.starts_with("invalid page_size:"), "{text}");
        assert!(text.contains("must be an integer from 1 to"), "{text}");
    }
    // The real maxima differ per endpoint: users allow 10000, incident_updates 250.
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"users": [], "incident_updates": []})),
        )
        .mount(&server)
        .await;
    c.users().list().page_size(10_000).await.unwrap();
    c.incident_updates().list().page_size(250).await.unwrap();
    assert_eq!(requests(&server).await.len(), 2);
}

async fn error_for(status: u16, body: &str, headers: &[(&str, &str)]) -> Error {
    let server = MockServer::start().await;
    let mut t =
        ResponseTemplate::new(status).set_body_raw(body.as_bytes().to_vec(), "application/json");
    for (k, v) in headers {
        t = t.insert_header(*k, *v);
    }
    Mock::given(method("GET"))
        .respond_with(t)
        .mount(&server)
        .await;
    connector(&server).incidents().get("01A").await.unwrap_err()
}

#[tokio::test]
async fn error_mapping_401_uses_the_servers_message() {
    let err = error_for(
        401,
        r#"{"type":"authentication_error","status":401,"request_id":"req-1","errors":[{"code":"access_token_invalid","message":"The API key you provided is invalid"}]}"#,
        &[],
    )
    .await;
    let Error::Auth(api) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(api.status, 401);
    assert_eq!(api.error_type.as_deref(), Some("authentication_error"));
    assert_eq!(err.request_id(), Some("req-1"));
    let text = err.to_string();
    assert!(
        text.contains("The API key you provided is invalid"),
        "{text}"
    );
    assert!(text.contains("INCIDENT_IO_API_KEY"), "{text}");
    assert!(!text.contains(KEY));
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn error_mapping_403_404_422_429_500() {
    let e = error_for(403, r#"{"type":"resource_forbidden","status":403,"errors":[{"code":"forbidden","message":"missing scope incidents.view"}]}"#, &[]).await;
    assert!(matches!(e, Error::Auth(_)), "{e:?}");

    let e = error_for(404, "", &[]).await;
    assert!(matches!(e, Error::NotFound(_)), "{e:?}");
    assert!(e.to_string().contains("empty response body"), "{e}");

    let e = error_for(422, r#"{"type":"validation_error","status":422,"request_id":"r","errors":[{"code":"invalid_value","message":"must be at most 250","source":{"field":"page_size"}}]}"#, &[]).await;
    let Error::Validation(api) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(api.errors[0].field.as_deref(), Some("page_size"));
    assert!(
        e.to_string().contains("page_size: must be at most 250"),
        "{e}"
    );

    let e = error_for(429, r#"{"type":"too_many_requests","status":429,"errors":[],"rate_limit":{"name":"api","limit":1200,"remaining":0,"retry_after":"2025-04-17T11:17:18Z"}}"#, &[("retry-after", "7")]).await;
    assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
    assert!(e.is_retryable());
    assert!(e.to_string().contains("retry after 7.0s"), "{e}");

    let e = error_for(
        500,
        r#"{"type":"api_error","status":500,"errors":[{"code":"internal","message":"boom"}]}"#,
        &[],
    )
    .await;
    assert!(matches!(&e, Error::Api(a) if a.status == 500), "{e:?}");
    assert!(e.is_retryable());
    assert!(e.to_string().contains("boom"), "{e}");
}

#[tokio::test]
async fn error_mapping_html_and_garbage_bodies() {
    let e = error_for(
        502,
        "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
        &[],
    )
    .await;
    assert!(matches!(&e, Error::Api(a) if a.status == 502), "{e:?}");
    let text = e.to_string();
    assert!(
        text.contains("HTML page") && text.contains("502 Bad Gateway"),
        "{text}"
    );

    // A 200 whose body is not the expected JSON is a decode error naming the call.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(b"{\"incident\": {\"id\": 5}}".to_vec(), "application/json"),
        )
        .mount(&server)
        .await;
    let e = connector(&server).incidents().get("01A").await.unwrap_err();
    let Error::Decode {
        entity,
        action,
        snippet,
        ..
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!((entity.as_str(), action.as_str()), ("incidents", "get"));
    assert!(snippet.contains("\"id\": 5"), "{snippet}");
}

#[tokio::test]
async fn decodes_nulls_omissions_and_fraction_digits() {
    let server = MockServer::start().await;
    let mut inc = incident("01A");
    let obj = inc.as_object_mut().unwrap();
    obj.insert("summary".into(), Value::Null);
    obj.insert("team_ids".into(), Value::Null);
    obj.insert("custom_field_entries".into(), Value::Null);
    obj.remove("mode");
    obj.insert("visibility".into(), json!("internal_only"));
    obj.insert("updated_at".into(), json!("2021-08-17T13:28:57.123456789Z"));
    obj.insert("last_activity_at".into(), json!("2021-08-17T13:28:57.1Z"));
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"incident": inc})))
        .mount(&server)
        .await;
    let got = connector(&server).incidents().get("01A").await.unwrap();
    assert_eq!(got.summary, None);
    assert_eq!(got.team_ids, None);
    assert_eq!(got.mode, None);
    assert_eq!(got.visibility.as_ref().unwrap().as_str(), "internal_only");
    assert_eq!(
        got.updated_at.unwrap().timestamp_subsec_nanos(),
        123_456_789
    );
    assert_eq!(got.last_activity_at.unwrap().timestamp_subsec_millis(), 100);
}

#[tokio::test]
async fn stream_pages_until_the_cursor_disappears() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/incidents"))
        .and(query_param("after", "02"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"incidents": [incident("03")]})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/incidents"))
        .and(query_param("after", "01"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "incidents": [incident("02")], "pagination_meta": {"after": "02", "page_size": 1}
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/incidents"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "incidents": [incident("01")], "pagination_meta": {"after": "01", "page_size": 1}
        })))
        .with_priority(10)
        .mount(&server)
        .await;
    let all: Vec<_> = connector(&server)
        .incidents()
        .list()
        .page_size(1)
        .stream()
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<_> = all.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(
        ids,
        ["01", "02", "03"],
        "pagination_meta absent ends the stream"
    );
    assert_eq!(requests(&server).await.len(), 3);
}

#[tokio::test]
async fn a_repeated_cursor_is_an_error_not_a_loop() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "incidents": [incident("01")], "pagination_meta": {"after": "01", "page_size": 1}
        })))
        .mount(&server)
        .await;
    let result: Result<Vec<_>, _> = connector(&server)
        .incidents()
        .list()
        .stream()
        .try_collect()
        .await;
    let err = result.unwrap_err();
    assert!(matches!(err, Error::Pagination { .. }), "{err:?}");
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn execute_validates_before_any_request_and_returns_envelopes() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/incidents"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "incidents": [incident("01")], "pagination_meta": {"after": "01", "page_size": 5}
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/severities/S1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"severity": {"id": "S1", "name": "Minor", "rank": 1}})),
        )
        .mount(&server)
        .await;
    let c = connector(&server);

    let e = c
        .execute("incidentz", "list", json!({}))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("unknown entity `incidentz`") && e.contains("incidents, alerts"),
        "{e}"
    );
    let e = c
        .execute("incident_updates", "get", json!({"id": "x"}))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("no action `get`") && e.contains("valid actions: list"),
        "{e}"
    );
    let e = c
        .execute("incidents", "list", json!({"limit": 5}))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("no parameter `limit`") && e.contains("page_size, after"),
        "{e}"
    );
    let e = c
        .execute("incidents", "list", json!({"page_size": "5"}))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("params.page_size") && e.contains("integer from 1 to 250"),
        "{e}"
    );
    let e = c
        .execute("incidents", "list", json!([1]))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("must be a JSON object"), "{e}");
    let e = c
        .execute("incidents", "get", json!({}))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("requires `id`"), "{e}");
    assert_eq!(requests(&server).await.len(), 0);

    let v = c
        .execute("incidents", "list", json!({"page_size": 5}))
        .await
        .unwrap();
    assert_eq!(v["data"][0]["id"], "01");
    assert_eq!(v["meta"]["next_cursor"], "01");
    let v = c
        .execute("severities", "get", json!({"id": "S1"}))
        .await
        .unwrap();
    assert_eq!(v, json!({"id": "S1", "name": "Minor", "rank": 1}));
    let reqs = requests(&server).await;
    assert_eq!(reqs[0].url.query(), Some("page_size=5"));
}

#[tokio::test]
async fn configuration_errors_name_the_problem() {
    let err = IncidentIoConnector::builder()
        .base_url("http://api.incident.io")
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("plain http to a non-loopback host"),
        "{err}"
    );
    let err = IncidentIoConnector::builder().build().unwrap_err();
    assert!(
        err.to_string().contains("IncidentIoAuthConfig::new"),
        "{err}"
    );
    let err = IncidentIoConnector::builder()
        .auth(IncidentIoAuthConfig::new(" "))
        .build()
        .unwrap_err();
    assert!(err.to_string().starts_with("invalid api_key"), "{err}");
}
