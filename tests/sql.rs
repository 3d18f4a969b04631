//! Context-store SQL (`context_store_sql_query`): hosted mode over the wire against the
//! emulator (typed `sql()` and `execute`), checks before any request, and direct mode failing
//! with `HostedOnly` before any I/O.

use connector_sdk_emulator::Emulator;
use incident_io_connector::{
    AirbyteAuthConfig, Error, ExecuteOptions, IncidentIoAuthConfig, IncidentIoConnector,
};
use serde_json::{json, Value};

fn hosted(emu: &Emulator) -> IncidentIoConnector {
    IncidentIoConnector::builder()
        .auth(
            AirbyteAuthConfig::new(emu.airbyte_client_id(), emu.airbyte_client_secret())
                .workspace_name(emu.airbyte_workspace())
                .airbyte_api_url(emu.airbyte_api_url()),
        )
        .build()
        .unwrap()
}

async fn emulator() -> Emulator {
    Emulator::builder(incident_io_connector::SPEC_JSON)
        .count("incidents", 40)
        .start()
        .await
        .unwrap()
}

#[tokio::test]
async fn sql_over_the_wire_in_hosted_mode() {
    let emu = emulator().await;
    let c = hosted(&emu);
    let records: Vec<Value> = (0..40)
        .map(|i| emu.record("incidents", i).unwrap())
        .collect();
    let mode = records[0]["mode"].as_str().unwrap().to_string();
    let mut want: Vec<(String, Value)> = records
        .iter()
        .filter(|r| r["mode"] == json!(mode))
        .map(|r| {
            (
                r["reference"].as_str().unwrap().to_string(),
                r.pointer("/severity/name").cloned().unwrap_or(Value::Null),
            )
        })
        .collect();
    want.sort_by(|a, b| b.0.cmp(&a.0));

    // Typed.
    let sql = format!(
        "SELECT reference, severity.name AS severity FROM incidents WHERE mode = '{mode}' ORDER BY reference DESC"
    );
    let rows = c.incidents().sql(sql.clone()).await.unwrap();
    let got: Vec<(String, Value)> = rows
        .data
        .iter()
        .map(|r| {
            (
                r["reference"].as_str().unwrap().to_string(),
                r["severity"].clone(),
            )
        })
        .collect();
    assert_eq!(got, want);
    assert!(rows.meta.took_ms.is_some());

    // Untyped, with a limit; the records of the result can be shaped like any other.
    let page = c
        .execute_with(
            "incidents",
            "context_store_sql_query",
            json!({"sql": sql, "limit": 2}),
            ExecuteOptions::new().select_fields(["reference"]),
        )
        .await
        .unwrap();
    assert_eq!(
        page["data"],
        json!([{"reference": want[0].0}, {"reference": want[1].0}])
    );
    assert_eq!(page["meta"]["has_more"], json!(want.len() > 2));

    // What went over the wire.
    let bodies: Vec<Value> = emu
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/execute"))
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(bodies[0]["action"], "context_store_sql_query");
    assert_eq!(bodies[0]["params"], json!({"sql": sql}));
    assert_eq!(bodies[1]["params"]["limit"], 2);

    // Outside the emulator's subset: Airbyte's error, naming the construct.
    let e = c
        .incidents()
        .sql("SELECT mode, count(*) FROM incidents GROUP BY mode")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("count(*)"), "{e}");
}

#[tokio::test]
async fn bad_sql_params_and_direct_mode_fail_before_any_request() {
    let emu = emulator().await;
    let h = hosted(&emu);
    let d = IncidentIoConnector::builder()
        .auth(IncidentIoAuthConfig::new(emu.api_key()))
        .base_url(&emu.base_url())
        .unwrap()
        .build()
        .unwrap();
    for (params, needle) in [
        (json!({}), "params.sql"),
        (json!({"sql": " "}), "non-empty"),
        (json!({"sql": "SELECT 1", "limit": 0}), "positive integer"),
        (
            json!({"sql": "SELECT 1", "page_size": 5}),
            "unknown parameter `page_size`",
        ),
    ] {
        let e = h
            .execute("incidents", "context_store_sql_query", params.clone())
            .await
            .unwrap_err();
        assert!(e.to_string().contains(needle), "{params}: {e}");
    }
    let e = h.incidents().sql("").limit(3).await.unwrap_err();
    assert!(matches!(e, Error::InvalidInput { .. }), "{e}");
    assert_eq!(emu.request_count(), 0, "nothing was sent");

    let e = d
        .incidents()
        .sql("SELECT id FROM incidents")
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::HostedOnly { operation } if operation == "incidents.context_store_sql_query"),
        "{e:?}"
    );
    let e = d
        .execute(
            "users",
            "context_store_sql_query",
            json!({"sql": "SELECT id FROM users"}),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, Error::HostedOnly { .. }), "{e:?}");
    assert_eq!(emu.request_count(), 0, "direct mode sent nothing");
    // The action is listed among the valid ones.
    let e = d.execute("users", "delete", json!({})).await.unwrap_err();
    assert!(e.to_string().contains("context_store_sql_query"), "{e}");
}

#[test]
fn the_tool_description_explains_sql_and_semantic_search() {
    let d = IncidentIoConnector::tool_description();
    assert!(d.contains("context_store_sql_query"), "{d}");
    // The three fields connector 1.0.5 marks with x-airbyte-semantic-search.
    assert!(
        d.contains("semantic_search(entity => ")
            && d.contains("incidents.name, alerts.description, incident_updates.message"),
        "{d}"
    );
    let schema = IncidentIoConnector::tool_input_schema();
    assert!(schema["properties"]["action"]["enum"]
        .as_array()
        .unwrap()
        .contains(&json!("context_store_sql_query")));
}
