//! Context-store search in hosted mode, against a wiremock stand-in for Airbyte: the typed
//! query builder's exact wire form for every operator family, decoding, paging by cursor, and
//! run-time field checks on the untyped `execute` path.

use futures::TryStreamExt;
use incident_io_connector::entities::{IncidentsSearchField as F, UsersSearchField};
use incident_io_connector::search::{Condition, SearchQuery, SortOrder};
use incident_io_connector::{AirbyteAuthConfig, ExecuteOptions, IncidentIoConnector};
use serde_json::{json, Value};
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn hosted(server: &MockServer) -> IncidentIoConnector {
    Mock::given(method("POST"))
        .and(path("/api/v1/account/applications/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"access_token": "t"})))
        .mount(server)
        .await;
    IncidentIoConnector::builder()
        .auth(
            AirbyteAuthConfig::new("id", "secret")
                .connector_id("c1")
                .airbyte_api_url(server.uri()),
        )
        .build()
        .unwrap()
}

async fn execute_bodies(server: &MockServer) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path().ends_with("/execute"))
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

#[tokio::test]
async fn typed_query_wire_form_and_decoding() {
    let server = MockServer::start().await;
    let c = hosted(&server).await;
    Mock::given(method("POST"))
        .and(path("/api/v1/integrations/connectors/c1/execute"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "result": {
                "data": [{"id": "01A", "name": "DB down", "mode": "standard", "workload_minutes_total": 12.5, "extra": true}],
                "meta": {"has_more": false, "cursor": null, "took_ms": 7}
            }
        })))
        .mount(&server)
        .await;

    let filter = Condition::eq(F::Mode, "standard")
        .and(Condition::gte(F::CreatedAt, "2026-01-01T00:00:00Z"))
        .and(Condition::is_in(F::Visibility, ["public", "private"]))
        .and(Condition::either([
            Condition::like(F::Name, "%database%"),
            Condition::fuzzy(F::Summary, "primary failover"),
            Condition::keyword(F::Name, "db outage"),
        ]))
        .and(!Condition::neq(F::CreatorUserEmail, "bot@example.com"))
        .and(Condition::lt(F::WorkloadMinutesTotal, 100))
        .and(Condition::lte(F::UpdatedAt, "2026-12-31T00:00:00Z"))
        .and(Condition::gt(F::WorkloadMinutesLate, 0));
    let query = SearchQuery::new()
        .filter(filter)
        .sort(F::CreatedAt, SortOrder::Desc)
        .limit(10)
        .fields([F::Id, F::Name, F::CreatorUserEmail]);
    let page = c.incidents().search(query).await.unwrap();
    assert_eq!(page.data.len(), 1);
    assert_eq!(page.data[0].id.as_deref(), Some("01A"));
    assert_eq!(page.data[0].workload_minutes_total, Some(12.5));
    assert!(!page.has_more);
    assert_eq!(page.took_ms, Some(7));

    let body = &execute_bodies(&server).await[0];
    assert_eq!(body["entity"], "incidents");
    assert_eq!(body["action"], "context_store_search");
    assert_eq!(
        body["params"],
        json!({
            "query": {
                "filter": {"and": [
                    {"eq": {"mode": "standard"}},
                    {"gte": {"created_at": "2026-01-01T00:00:00Z"}},
                    {"in": {"visibility": ["public", "private"]}},
                    {"or": [
                        {"like": {"name": "%database%"}},
                        {"fuzzy": {"summary": "primary failover"}},
                        {"keyword": {"name": "db outage"}}
                    ]},
                    {"not": {"neq": {"creator.user.email": "bot@example.com"}}},
                    {"lt": {"workload_minutes_total": 100}},
                    {"lte": {"updated_at": "2026-12-31T00:00:00Z"}},
                    {"gt": {"workload_minutes_late": 0}}
                ]},
                "sort": [{"created_at": "desc"}]
            },
            "limit": 10,
            "fields": [["id"], ["name"], ["creator", "user", "email"]]
        })
    );
}

#[tokio::test]
async fn array_operators_and_stream_over_pages() {
    let server = MockServer::start().await;
    let c = hosted(&server).await;
    Mock::given(method("POST"))
        .and(body_partial_json(json!({"params": {"cursor": "p2"}})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "result": {"data": [{"id": "U3"}], "meta": {"has_more": false, "cursor": null}}
        })))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/integrations/connectors/c1/execute"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "result": {"data": [{"id": "U1"}, {"id": "U2"}], "meta": {"has_more": true, "cursor": "p2"}}
        })))
        .with_priority(5)
        .mount(&server)
        .await;
    let q = SearchQuery::new()
        .filter(
            Condition::contains(UsersSearchField::CustomRoles, "oncall")
                .or(Condition::any(UsersSearchField::CustomRoles, ["a", "b"])),
        )
        .limit(2);
    let ids: Vec<String> = c
        .users()
        .search(q)
        .stream()
        .map_ok(|u| u.id.unwrap())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids, ["U1", "U2", "U3"]);
    let bodies = execute_bodies(&server).await;
    assert_eq!(bodies.len(), 2);
    assert_eq!(
        bodies[0]["params"]["query"]["filter"],
        json!({"or": [{"contains": {"custom_roles": "oncall"}}, {"any": {"custom_roles": ["a", "b"]}}]})
    );
    assert_eq!(bodies[1]["params"]["cursor"], "p2");
}

#[tokio::test]
async fn execute_search_checks_fields_before_any_request() {
    let server = MockServer::start().await;
    let c = hosted(&server).await;
    Mock::given(method("POST"))
        .and(path("/api/v1/integrations/connectors/c1/execute"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "result": {"data": [{"id": "01A", "unknown_to_sdk": 1}], "meta": {"has_more": false}}
        })))
        .mount(&server)
        .await;
    for (params, needle) in [
        (
            json!({"query": {"filter": {"eq": {"nope": 1}}}}),
            "`nope` is not a searchable field of incidents",
        ),
        (
            json!({"query": {"filter": {"regex": {"name": "x"}}}}),
            "unknown operator `regex`",
        ),
        (
            json!({"query": {"filter": {"in": {"name": "x"}}}}),
            "takes a list of values",
        ),
        (
            json!({"query": {"sort": [{"name": "up"}]}}),
            "must be \"asc\" or \"desc\"",
        ),
        (
            json!({"fields": ["creator.user.nope"]}),
            "not a searchable field",
        ),
        (json!({"limit": 0}), "positive integer"),
        (json!({"page": 2}), "unknown parameter"),
    ] {
        let err = c
            .execute("incidents", "search", params)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains(needle), "{needle}: {err}");
    }
    assert!(execute_bodies(&server).await.is_empty());

    // Both action names work; the raw result is returned as Airbyte sent it.
    let v = c
        .execute("incidents", "context_store_search", json!({"query": {"filter": {"eq": {"creator.user.email": "a@b.c"}}}, "fields": ["id", ["name"]]}))
        .await
        .unwrap();
    assert_eq!(v["data"][0]["unknown_to_sdk"], 1);
    let v2 = c.execute("incidents", "search", json!({})).await.unwrap();
    assert_eq!(v, v2);
}

#[tokio::test]
async fn execute_raw_search_locates_records_and_cursor() {
    let server = MockServer::start().await;
    let c = hosted(&server).await;
    // `meta` before `data`, whitespace between tokens and a string holding `"data"`.
    let body = r#"{"result": {"meta": {"has_more": true, "cursor": "c-2", "took_ms": 3},
        "data": [ {"id": "01A", "note": "say \"data\": [1]", "n": null}, {"id": "01B", "x": [1, 2.50]} ]}}"#;
    Mock::given(method("POST"))
        .and(path("/api/v1/integrations/connectors/c1/execute"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "application/json"))
        .mount(&server)
        .await;
    let raw = c
        .execute_raw("incidents", "search", json!({}), ExecuteOptions::new())
        .await
        .unwrap();
    // Records as sent; the envelope compact.
    let records: Vec<&str> = raw.records().expect("a search has records").collect();
    assert_eq!(
        records,
        [
            r#"{"id": "01A", "note": "say \"data\": [1]", "n": null}"#,
            r#"{"id": "01B", "x": [1, 2.50]}"#
        ]
    );
    assert_eq!(raw.record_count(), Some(2));
    assert_eq!(raw.next_cursor(), Some("c-2"));
    assert_eq!(
        raw.as_str(),
        r#"{"meta":{"has_more":true,"cursor":"c-2","took_ms":3},"data":[{"id":"01A","note":"say \"data\": [1]","n":null},{"id":"01B","x":[1,2.50]}]}"#
    );
}
