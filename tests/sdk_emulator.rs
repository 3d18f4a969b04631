//! The SDK against the in-process emulator (a real HTTP server on 127.0.0.1): every entity and
//! action through the typed API and `execute`, with what went over the wire, full pagination,
//! and the auth failure a wrong key gives.

use std::collections::HashSet;

use connector_sdk_emulator::Emulator;
use futures::TryStreamExt;
use incident_io_connector::{meta, Error, IncidentIoAuthConfig, IncidentIoConnector};
use serde_json::json;

fn connector(emu: &Emulator, key: &str) -> IncidentIoConnector {
    IncidentIoConnector::builder()
        .auth(IncidentIoAuthConfig::new(key))
        .base_url(&emu.base_url())
        .unwrap()
        .build()
        .unwrap()
}

/// Asserts the last request the emulator saw.
fn assert_last(emu: &Emulator, path: &str, query: Option<&str>) {
    let reqs = emu.requests();
    let last = reqs.last().expect("a request was made");
    assert_eq!(last.method, "GET");
    assert_eq!(last.path, path);
    assert_eq!(last.query.as_deref(), query, "query of {path}");
    assert_eq!(
        last.header("authorization"),
        Some(format!("Bearer {}", emu.api_key()).as_str())
    );
}

macro_rules! typed_list_and_get {
    ($emu:expr, $c:expr, $entity:ident, $path:literal, $query:expr) => {{
        let page = $c.$entity().list().await.unwrap();
        assert_last(&$emu, $path, $query);
        let expected = $emu.record(stringify!($entity), 0).unwrap();
        assert!(!page.data.is_empty(), "{}", stringify!($entity));
        assert_eq!(page.data[0].id, expected["id"].as_str().unwrap());
        let id = page.data[1].id.clone();
        let one = $c.$entity().get(id.clone()).await.unwrap();
        assert_eq!(one.id, id);
        assert_last(&$emu, &format!("{}/{}", $path, id), None);
        // The typed record re-encodes to what the server sent, minus nothing we model.
        let sent = $emu.record(stringify!($entity), 1).unwrap();
        assert_eq!(serde_json::to_value(&one).unwrap()["id"], sent["id"]);
    }};
}

#[tokio::test]
async fn every_entity_and_action_typed() {
    let emu = Emulator::builder(incident_io_connector::SPEC_JSON)
        .default_count(30)
        .start()
        .await
        .unwrap();
    let c = connector(&emu, emu.api_key());
    typed_list_and_get!(emu, c, incidents, "/v2/incidents", None);
    typed_list_and_get!(emu, c, alerts, "/v2/alerts", Some("page_size=25"));
    typed_list_and_get!(emu, c, escalations, "/v2/escalations", None);
    typed_list_and_get!(emu, c, users, "/v2/users", None);
    typed_list_and_get!(emu, c, incident_roles, "/v1/incident_roles", None);
    typed_list_and_get!(emu, c, incident_statuses, "/v1/incident_statuses", None);
    typed_list_and_get!(emu, c, incident_timestamps, "/v2/incident_timestamps", None);
    typed_list_and_get!(emu, c, severities, "/v1/severities", None);
    typed_list_and_get!(emu, c, custom_fields, "/v2/custom_fields", None);
    typed_list_and_get!(emu, c, catalog_types, "/v2/catalog_types", None);
    typed_list_and_get!(emu, c, schedules, "/v2/schedules", None);
    typed_list_and_get!(emu, c, teams, "/v3/teams", None);

    // incident_updates is list-only; its filter goes on the query.
    let incident = emu.record("incidents", 0).unwrap();
    let iid = incident["id"].as_str().unwrap();
    let updates = c
        .incident_updates()
        .list()
        .incident_id(iid)
        .page_size(250)
        .await
        .unwrap();
    assert_last(
        &emu,
        "/v2/incident_updates",
        Some(&format!("incident_id={iid}&page_size=250")),
    );
    assert!(updates
        .data
        .iter()
        .all(|u| u.incident_id.as_deref() == Some(iid)));
}

#[tokio::test]
async fn every_entity_and_action_via_execute() {
    let emu = Emulator::builder(incident_io_connector::SPEC_JSON)
        .default_count(7)
        .start()
        .await
        .unwrap();
    let c = connector(&emu, emu.api_key());
    for entity in meta::entities() {
        let list = c.execute(entity.name, "list", json!({})).await.unwrap();
        let data = list["data"].as_array().unwrap();
        assert_eq!(
            data.len(),
            emu.record_count(entity.name).unwrap().min(25),
            "{}",
            entity.name
        );
        assert!(list["meta"]
            .as_object()
            .unwrap()
            .contains_key("next_cursor"));
        let first_id = data[0]["id"].as_str().unwrap().to_string();
        assert_eq!(first_id, emu.record(entity.name, 0).unwrap()["id"]);
        if entity.operation("get").is_some() {
            let got = c
                .execute(entity.name, "get", json!({"id": first_id}))
                .await
                .unwrap();
            assert_eq!(got["id"], first_id.as_str());
            let path = entity
                .operation("get")
                .unwrap()
                .path
                .replace("{id}", &first_id);
            assert_last(&emu, &path, None);
        }
    }
}

#[tokio::test]
async fn pages_1000_incidents_in_4_requests_in_server_order() {
    let emu = Emulator::builder(incident_io_connector::SPEC_JSON)
        .count("incidents", 1000)
        .start()
        .await
        .unwrap();
    let c = connector(&emu, emu.api_key());
    emu.clear_requests();
    let all: Vec<_> = c
        .incidents()
        .list()
        .page_size(250)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 1000);
    let ids: HashSet<_> = all.iter().map(|i| i.id.clone()).collect();
    assert_eq!(ids.len(), 1000, "no duplicates");
    for (i, inc) in all.iter().enumerate().step_by(97) {
        assert_eq!(
            inc.id,
            emu.record("incidents", i).unwrap()["id"].as_str().unwrap(),
            "server order at {i}"
        );
    }
    let reqs = emu.requests();
    assert_eq!(reqs.len(), 4);
    assert_eq!(reqs[0].query.as_deref(), Some("page_size=250"));
    assert_eq!(reqs[1].query_param("after"), Some(all[249].id.as_str()));
    assert_eq!(reqs[3].query_param("after"), Some(all[749].id.as_str()));
}

#[tokio::test]
async fn pages_10000_incidents_exactly() {
    let emu = Emulator::builder(incident_io_connector::SPEC_JSON)
        .count("incidents", 10_000)
        .start()
        .await
        .unwrap();
    let c = connector(&emu, emu.api_key());
    let mut seen = HashSet::new();
    let mut n = 0;
    let mut stream = std::pin::pin!(c.incidents().list().page_size(250).stream());
    while let Some(inc) = stream.try_next().await.unwrap() {
        assert!(seen.insert(inc.id), "duplicate");
        n += 1;
    }
    assert_eq!(n, 10_000);
    assert_eq!(emu.request_count(), 40);
}

#[tokio::test]
async fn wrong_key_is_an_auth_error_with_the_servers_message() {
    let emu = Emulator::start(incident_io_connector::SPEC_JSON)
        .await
        .unwrap();
    let c = connector(&emu, "not-the-key");
    let err = c.incidents().list().await.unwrap_err();
    let Error::Auth(api) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(api.status, 401);
    assert_eq!(api.errors[0].code.as_deref(), Some("access_token_invalid"));
    let text = err.to_string();
    assert!(
        text.contains(api.errors[0].message.as_deref().unwrap()),
        "{text}"
    );
    assert!(!text.contains("not-the-key"));

    let e = connector(&emu, emu.api_key())
        .incidents()
        .get("01ZZZZZZZZZZZZZZZZZZZZZZZZ")
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotFound(_)), "{e:?}");
}

#[tokio::test]
async fn check_in_direct_mode_asks_for_one_user() {
    let emu = Emulator::start(incident_io_connector::SPEC_JSON)
        .await
        .unwrap();
    let c = connector(&emu, emu.api_key());
    let result = c.check().await;
    assert_eq!(
        result.status,
        incident_io_connector::CheckStatus::Healthy,
        "{result:?}"
    );
    assert_last(&emu, "/v2/users", Some("page_size=1"));
    let bad = connector(&emu, "wrong").check().await;
    assert_eq!(bad.status, incident_io_connector::CheckStatus::Unhealthy);
    assert!(bad.error.unwrap().contains("401"));
}

#[tokio::test]
async fn search_needs_hosted_mode() {
    let emu = Emulator::start(incident_io_connector::SPEC_JSON)
        .await
        .unwrap();
    let c = connector(&emu, emu.api_key());
    emu.clear_requests();
    let q = incident_io_connector::search::SearchQuery::new();
    let err = c.incidents().search(q).await.unwrap_err();
    assert!(matches!(err, Error::HostedOnly { .. }), "{err:?}");
    let err = c
        .execute("incidents", "search", json!({"query": {}}))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("needs hosted mode"), "{err}");
    assert_eq!(emu.request_count(), 0);
}
