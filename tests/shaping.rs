//! Field shaping, truncation and intent on `execute`, in both modes, over the wire: what is
//! sent to Airbyte's `/execute`, what the emulator and the client do to the records, that bad
//! options fail before any request, and that the output limit is checked after shaping.

use std::io::Write;
use std::sync::{Arc, Mutex};

use connector_sdk_emulator::Emulator;
use incident_io_connector::{
    AirbyteAuthConfig, Error, ExecuteOptions, IncidentIoAuthConfig, IncidentIoConnector,
};
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The reference's truncation note.
const SUFFIX: &str =
    "... [truncated — use `get` action with the record id to retrieve the full value]";

fn direct(emu: &Emulator) -> IncidentIoConnector {
    IncidentIoConnector::builder()
        .auth(IncidentIoAuthConfig::new(emu.api_key()))
        .base_url(&emu.base_url())
        .unwrap()
        .build()
        .unwrap()
}

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

fn execute_bodies(emu: &Emulator) -> Vec<Value> {
    emu.requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/execute"))
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn select_and_exclude_shape_every_record_in_both_modes() {
    let emu = Emulator::builder(incident_io_connector::SPEC_JSON)
        .count("incidents", 30)
        .start()
        .await
        .unwrap();
    let select = ExecuteOptions::new().select_fields(["incident_status.name", "id", "nope"]);
    let exclude = ExecuteOptions::new().exclude_fields(["summary", "incident_status.id"]);
    let params = json!({"page_size": 10});
    for (mode, c) in [("direct", direct(&emu)), ("hosted", hosted(&emu))] {
        let page = c
            .execute_with("incidents", "list", params.clone(), select.clone())
            .await
            .unwrap();
        let data = page["data"].as_array().unwrap();
        assert_eq!(data.len(), 10, "{mode}");
        for (i, r) in data.iter().enumerate() {
            let sent = emu.record("incidents", i).unwrap();
            // In the order asked; a missing field is left out.
            let mut want = json!({"id": sent["id"]});
            if let Some(name) = sent.pointer("/incident_status/name") {
                want = json!({"incident_status": {"name": name}, "id": sent["id"]});
            }
            assert_eq!(r, &want, "{mode}");
            assert_eq!(keys(r)[keys(r).len() - 1], "id", "{mode}: select order");
        }
        assert_eq!(
            page["meta"]["next_cursor"], data[9]["id"],
            "{mode}: paging intact"
        );

        let page = c
            .execute_with("incidents", "list", params.clone(), exclude.clone())
            .await
            .unwrap();
        for (i, r) in page["data"].as_array().unwrap().iter().enumerate() {
            let mut want = emu.record("incidents", i).unwrap();
            want.as_object_mut().unwrap().shift_remove("summary");
            if let Some(Value::Object(s)) = want.get_mut("incident_status") {
                s.shift_remove("id");
            }
            assert_eq!(r, &want, "{mode}");
        }

        // A get is one record, shaped the same way.
        let id = emu.record("incidents", 3).unwrap()["id"].clone();
        let one = c
            .execute_with(
                "incidents",
                "get",
                json!({"id": id}),
                ExecuteOptions::new().select_fields(["id", "reference"]),
            )
            .await
            .unwrap();
        assert_eq!(keys(&one), ["id", "reference"], "{mode}");
    }
    // Hosted mode sent the options to Airbyte (and skip_truncation on every call).
    let bodies = execute_bodies(&emu);
    assert_eq!(
        bodies[0]["select_fields"],
        json!(["incident_status.name", "id", "nope"])
    );
    assert_eq!(bodies[0]["skip_truncation"], json!(true));
    assert!(bodies[0].get("exclude_fields").is_none());
    assert_eq!(
        bodies[1]["exclude_fields"],
        json!(["summary", "incident_status.id"])
    );
    assert_eq!(bodies[2]["select_fields"], json!(["id", "reference"]));
}

#[tokio::test]
async fn truncation_cuts_long_strings_of_collections_only_when_asked() {
    let long = "é".repeat(300);
    let record =
        json!({"id": "01A", "name": long, "nested": {"summary": "x".repeat(201)}, "short": "ok"});
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/incidents"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"incidents": [record]})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/incidents/01A"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"incident": record})))
        .mount(&server)
        .await;
    let c = IncidentIoConnector::builder()
        .auth(IncidentIoAuthConfig::new("k"))
        .base_url(&server.uri())
        .unwrap()
        .build()
        .unwrap();
    let cut = ExecuteOptions::new().skip_truncation(false);
    let page = c
        .execute_with("incidents", "list", json!({}), cut.clone())
        .await
        .unwrap();
    let r = &page["data"][0];
    assert_eq!(
        r["name"].as_str().unwrap(),
        format!("{}{SUFFIX}", "é".repeat(200)),
        "200 characters, not bytes"
    );
    assert!(r["nested"]["summary"].as_str().unwrap().ends_with(SUFFIX));
    assert_eq!(r["short"], "ok");
    // The default, and get (not a collection), return strings whole.
    let whole = c.execute("incidents", "list", json!({})).await.unwrap();
    assert_eq!(whole["data"][0], record);
    let one = c
        .execute_with("incidents", "get", json!({"id": "01A"}), cut)
        .await
        .unwrap();
    assert_eq!(one, record);
}

#[tokio::test]
async fn the_emulator_applies_hosted_options_like_airbyte() {
    let emu = Emulator::builder(incident_io_connector::SPEC_JSON)
        .count("incidents", 5)
        .start()
        .await
        .unwrap();
    let c = hosted(&emu);
    c.execute("incidents", "list", json!({})).await.unwrap();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let token = reqwest::Client::new()
        .post(format!(
            "{}/api/v1/account/applications/token",
            emu.airbyte_api_url()
        ))
        .json(&json!({"client_id": emu.airbyte_client_id(), "client_secret": emu.airbyte_client_secret()}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let exec = |body: Value| {
        let token = token.clone();
        let url = format!(
            "{}/api/v1/integrations/connectors/{}/execute",
            emu.airbyte_api_url(),
            emu.airbyte_connector_id()
        );
        async move {
            let r = reqwest::Client::new()
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (status, out) = exec(
        json!({"entity": "incidents", "action": "list", "params": {},
        "select_fields": ["id", "severity.name"], "skip_truncation": true}),
    )
    .await;
    assert_eq!(status, 200);
    for r in out["result"].as_array().unwrap() {
        assert!(keys(r) == ["id", "severity"] || keys(r) == ["id"], "{r}");
    }
    let (status, out) = exec(
        json!({"entity": "incidents", "action": "list", "params": {},
        "intent": "x".repeat(513)}),
    )
    .await;
    assert_eq!(status, 422, "{out}");
    let (status, _) = exec(
        json!({"entity": "incidents", "action": "list", "params": {},
        "select_fields": "id"}),
    )
    .await;
    assert_eq!(status, 422);
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn intent_is_sent_hosted_recorded_direct_and_checked_first() {
    let capture = Capture::default();
    let writer = capture.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .try_init()
        .expect("the only subscriber in this test binary");
    let emu = Emulator::builder(incident_io_connector::SPEC_JSON)
        .count("incidents", 5)
        .start()
        .await
        .unwrap();
    let why = "Summarise this week's incidents for the handover";
    let with_intent = ExecuteOptions::new().intent(why);
    let h = hosted(&emu);
    h.execute_with("incidents", "list", json!({}), with_intent.clone())
        .await
        .unwrap();
    assert_eq!(execute_bodies(&emu)[0]["intent"], why);

    let d = direct(&emu);
    d.execute_with("severities", "list", json!({}), with_intent)
        .await
        .unwrap();
    let log = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(
        log.lines().any(|l| l.contains("incident_io.call")
            && l.contains("transport=\"direct\"")
            && l.contains(&format!("intent=\"{why}\""))),
        "the direct call's span carries the intent:\n{log}"
    );

    // Too long, or a bad field name: refused before any request, in both modes.
    let before = emu.request_count();
    for c in [&h, &d] {
        let e = c
            .execute_with(
                "incidents",
                "list",
                json!({}),
                ExecuteOptions::new().intent("é".repeat(513)),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(&e, Error::InvalidInput { field, .. } if field == "intent"),
            "{e}"
        );
        let e = c
            .execute_with(
                "incidents",
                "list",
                json!({}),
                ExecuteOptions::new().select_fields(["a..b"]),
            )
            .await
            .unwrap_err();
        assert!(e.to_string().contains("select_fields"), "{e}");
    }
    assert_eq!(emu.request_count(), before);
}

#[tokio::test]
async fn the_output_limit_is_checked_after_shaping_and_suggests_it() {
    let emu = Emulator::builder(incident_io_connector::SPEC_JSON)
        .count("incidents", 100)
        .start()
        .await
        .unwrap();
    for c in [direct(&emu), hosted(&emu)] {
        let limit = ExecuteOptions::new().max_output_chars(Some(20_000));
        let e = c
            .execute_with(
                "incidents",
                "list",
                json!({"page_size": 100}),
                limit.clone(),
            )
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("select_fields"), "{e}");
        let small = c
            .execute_with(
                "incidents",
                "list",
                json!({"page_size": 100}),
                limit.select_fields(["id", "reference"]),
            )
            .await
            .unwrap();
        assert_eq!(small["data"].as_array().unwrap().len(), 100);
    }
}
