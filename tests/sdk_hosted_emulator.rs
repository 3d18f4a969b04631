//! The SDK in hosted mode against the emulator's Airbyte API (a real HTTP server on 127.0.0.1):
//! the same per-entity matrix as direct mode, 10,000 incidents through `/execute` with one
//! token exchange, connector creation, and context-store search end to end.

use std::collections::HashSet;

use connector_sdk_emulator::Emulator;
use futures::TryStreamExt;
use incident_io_connector::entities::IncidentsSearchField as F;
use incident_io_connector::search::{Condition, SearchQuery, SortOrder};
use incident_io_connector::{
    meta, AirbyteAuthConfig, Error, IncidentIoAuthConfig, IncidentIoConnector,
};
use serde_json::{json, Value};

fn airbyte(emu: &Emulator) -> AirbyteAuthConfig {
    AirbyteAuthConfig::new(emu.airbyte_client_id(), emu.airbyte_client_secret())
        .workspace_name(emu.airbyte_workspace())
        .airbyte_api_url(emu.airbyte_api_url())
}

fn hosted(emu: &Emulator) -> IncidentIoConnector {
    IncidentIoConnector::builder()
        .auth(airbyte(emu))
        .build()
        .unwrap()
}

fn execute_calls(emu: &Emulator) -> Vec<Value> {
    emu.requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/execute"))
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

macro_rules! typed_list_and_get {
    ($emu:expr, $c:expr, $entity:ident) => {{
        let page = $c.$entity().list().await.unwrap();
        let expected = $emu.record(stringify!($entity), 0).unwrap();
        assert_eq!(page.data[0].id, expected["id"].as_str().unwrap(), "{}", stringify!($entity));
        let id = page.data[1].id.clone();
        let one = $c.$entity().get(id.clone()).await.unwrap();
        assert_eq!(one.id, id);
        let calls = execute_calls(&$emu);
        let n = calls.len();
        assert_eq!(calls[n - 2]["entity"], stringify!($entity));
        assert_eq!(calls[n - 2]["action"], "list");
        assert_eq!(calls[n - 1], json!({"entity": stringify!($entity), "action": "get", "params": {"id": id}, "skip_truncation": true}));
    }};
}

#[tokio::test]
async fn every_entity_and_action_typed_in_hosted_mode() {
    let emu = Emulator::builder(incident_io_connector::SPEC_JSON)
        .default_count(30)
        .start()
        .await
        .unwrap();
    let c = hosted(&emu);
    typed_list_and_get!(emu, c, incidents);
    typed_list_and_get!(emu, c, alerts);
    typed_list_and_get!(emu, c, escalations);
    typed_list_and_get!(emu, c, users);
    typed_list_and_get!(emu, c, teams);
    typed_list_and_get!(emu, c, incident_roles);
    typed_list_and_get!(emu, c, incident_statuses);
    typed_list_and_get!(emu, c, incident_timestamps);
    typed_list_and_get!(emu, c, severities);
    typed_list_and_get!(emu, c, custom_fields);
    typed_list_and_get!(emu, c, catalog_types);
    typed_list_and_get!(emu, c, schedules);
    let updates = c.incident_updates().list().page_size(250).await.unwrap();
    assert!(!updates.data.is_empty());
    assert_eq!(c.connector_id(), Some(emu.airbyte_connector_id()));
    // Alerts always send page_size, hosted too.
    let alerts_call = execute_calls(&emu)
        .into_iter()
        .find(|b| b["entity"] == "alerts")
        .unwrap();
    assert_eq!(alerts_call["params"], json!({"page_size": 25}));
    assert_eq!(emu.tokens_issued(), 1);
}

#[tokio::test]
async fn every_entity_via_execute_in_hosted_mode() {
    let emu = Emulator::builder(incident_io_connector::SPEC_JSON)
        .default_count(7)
        .start()
        .await
        .unwrap();
    let c = hosted(&emu);
    for entity in meta::entities() {
        let list = c.execute(entity.name, "list", json!({})).await.unwrap();
        let data = list["data"].as_array().unwrap();
        assert_eq!(
            data[0]["id"],
            emu.record(entity.name, 0).unwrap()["id"],
            "{}",
            entity.name
        );
        assert!(list["meta"]
            .as_object()
            .unwrap()
            .contains_key("next_cursor"));
        if entity.operation("get").is_some() {
            let id = data[0]["id"].clone();
            let got = c
                .execute(entity.name, "get", json!({"id": id}))
                .await
                .unwrap();
            assert_eq!(
                got,
                emu.record(entity.name, 0).unwrap(),
                "hosted execute passes records through"
            );
        }
    }
}

#[tokio::test]
async fn ten_thousand_incidents_through_execute_with_one_token() {
    let emu = Emulator::builder(incident_io_connector::SPEC_JSON)
        .count("incidents", 10_000)
        .start()
        .await
        .unwrap();
    let c = hosted(&emu);
    let all: Vec<_> = c
        .incidents()
        .list()
        .page_size(250)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 10_000);
    let ids: HashSet<_> = all.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids.len(), 10_000);
    assert_eq!(
        emu.tokens_issued(),
        1,
        "exactly one token request for the whole run"
    );
    let calls = execute_calls(&emu);
    assert_eq!(calls.len(), 40);
    assert_eq!(calls[1]["params"]["after"], all[249].id.as_str());
}

#[tokio::test]
async fn create_then_use_the_new_connector() {
    let emu = Emulator::builder(incident_io_connector::SPEC_JSON)
        .airbyte_seed_connectors(0)
        .start()
        .await
        .unwrap();
    let err = hosted(&emu).incidents().list().await.unwrap_err();
    assert!(matches!(err, Error::ConnectorNotFound { .. }), "{err:?}");

    let c = IncidentIoConnector::create(airbyte(&emu), IncidentIoAuthConfig::new(emu.api_key()))
        .name("my incident.io")
        .await
        .unwrap();
    let id = c.connector_id().unwrap().to_string();
    let page = c.incidents().list().page_size(3).await.unwrap();
    assert_eq!(page.data.len(), 3);
    let created = emu.airbyte_connectors();
    assert!(created
        .iter()
        .any(|k| k["id"] == id.as_str() && k["name"] == "my incident.io"));
    // A fresh connector finds it by workspace lookup now.
    assert_eq!(hosted(&emu).resolve_connector_id().await.unwrap(), id);
}

#[tokio::test]
async fn several_connectors_are_ambiguous() {
    let emu = Emulator::builder(incident_io_connector::SPEC_JSON)
        .airbyte_seed_connectors(2)
        .start()
        .await
        .unwrap();
    let err = hosted(&emu).resolve_connector_id().await.unwrap_err();
    let Error::AmbiguousConnector { ids, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(ids.len(), 2);
}

#[tokio::test]
async fn search_end_to_end() {
    let emu = Emulator::builder(incident_io_connector::SPEC_JSON)
        .count("incidents", 200)
        .start()
        .await
        .unwrap();
    let c = hosted(&emu);
    let all: Vec<Value> = (0..200)
        .map(|i| emu.record("incidents", i).unwrap())
        .collect();
    let standard: Vec<&str> = all
        .iter()
        .filter(|r| r["mode"] == "standard")
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(!standard.is_empty());

    let query = SearchQuery::new()
        .filter(Condition::eq(F::Mode, "standard"))
        .sort(F::CreatedAt, SortOrder::Asc)
        .limit(7);
    let hits: Vec<_> = c
        .incidents()
        .search(query)
        .stream()
        .try_collect()
        .await
        .unwrap();
    let got: Vec<&str> = hits.iter().map(|h| h.id.as_deref().unwrap()).collect();
    assert_eq!(
        got, standard,
        "every match once, in created_at order, across pages of 7"
    );

    let page = c
        .incidents()
        .search(
            SearchQuery::new()
                .filter(Condition::like(F::Reference, "INC-1%"))
                .fields([F::Id, F::Reference])
                .limit(500),
        )
        .await
        .unwrap();
    assert!(!page.has_more);
    assert!(page
        .data
        .iter()
        .all(|h| h.reference.as_deref().unwrap().starts_with("INC-1") && h.name.is_none()));
    let raw = c
        .execute(
            "incidents",
            "search",
            json!({"query": {"filter": {"eq": {"id": all[3]["id"]}}}}),
        )
        .await
        .unwrap();
    assert_eq!(raw["data"][0]["id"], all[3]["id"]);
}

#[tokio::test]
async fn check_in_hosted_mode() {
    let emu = Emulator::start(incident_io_connector::SPEC_JSON)
        .await
        .unwrap();
    let result = hosted(&emu).check().await;
    assert_eq!(
        result.status,
        incident_io_connector::CheckStatus::Healthy,
        "{result:?}"
    );
    let last = execute_calls(&emu).pop().unwrap();
    assert_eq!(
        last,
        json!({"entity": "users", "action": "list", "params": {"page_size": 1}, "skip_truncation": true})
    );
}
