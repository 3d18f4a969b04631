//! Wire-level tests of the emulator's Airbyte-hosted API (reqwest over 127.0.0.1).

use std::collections::HashSet;
use std::time::Duration;

use connector_sdk_emulator::{Emulator, Fault};
use serde_json::{json, Value};

const TOKEN: &str = "/api/v1/account/applications/token";
const CONNECTORS: &str = "/api/v1/integrations/connectors";

fn client() -> reqwest::Client {
    // The SDK builds reqwest without a default TLS provider; plain http needs none, but
    // reqwest wants one installed to build a client.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().build().expect("client")
}

async fn send(req: reqwest::RequestBuilder) -> (u16, Value) {
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn token_with(emu: &Emulator, id: &str, secret: &str) -> (u16, Value) {
    send(
        client()
            .post(format!("{}{TOKEN}", emu.airbyte_api_url()))
            .json(&json!({"client_id": id, "client_secret": secret})),
    )
    .await
}

/// A fresh access token for the emulator's own credentials.
async fn token(emu: &Emulator) -> String {
    let (status, body) =
        token_with(emu, emu.airbyte_client_id(), emu.airbyte_client_secret()).await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_string()
}

/// An authenticated Airbyte session.
struct Session<'a> {
    emu: &'a Emulator,
    token: String,
    http: reqwest::Client,
}

impl<'a> Session<'a> {
    async fn new(emu: &'a Emulator) -> Session<'a> {
        Session {
            emu,
            token: token(emu).await,
            http: client(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.emu.airbyte_api_url())
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        send(self.http.get(self.url(path)).bearer_auth(&self.token)).await
    }

    async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        send(
            self.http
                .post(self.url(path))
                .bearer_auth(&self.token)
                .json(body),
        )
        .await
    }

    async fn lookup(&self, workspace: &str, definition: &str) -> (u16, Value) {
        self.get(&format!(
            "{CONNECTORS}?workspace_name={workspace}&definition_id={definition}"
        ))
        .await
    }

    async fn execute_on(
        &self,
        connector: &str,
        entity: &str,
        action: &str,
        params: Value,
    ) -> (u16, Value) {
        self.post(
            &format!("{CONNECTORS}/{connector}/execute"),
            &json!({"entity": entity, "action": action, "params": params}),
        )
        .await
    }

    async fn execute(&self, entity: &str, action: &str, params: Value) -> (u16, Value) {
        self.execute_on(self.emu.airbyte_connector_id(), entity, action, params)
            .await
    }

    /// A successful search: its `result`.
    async fn search(&self, entity: &str, params: Value) -> Value {
        let (status, body) = self
            .execute(entity, "context_store_search", params.clone())
            .await;
        assert_eq!(status, 200, "{params}: {body}");
        body["result"].clone()
    }

    /// The ids a filter finds (every page, default sort).
    async fn search_ids(&self, entity: &str, filter: Value) -> Vec<String> {
        let result = self
            .search(entity, json!({"query": {"filter": filter}}))
            .await;
        assert_eq!(result["meta"]["has_more"], json!(false));
        ids(&result["data"])
    }

    /// A failed search: (status, message).
    async fn search_err(&self, entity: &str, params: Value) -> (u16, String) {
        let (status, body) = self.execute(entity, "context_store_search", params).await;
        (
            status,
            body["message"].as_str().unwrap_or_default().to_string(),
        )
    }
}

/// The incident.io API directly, for comparison.
async fn direct(emu: &Emulator, path_and_query: &str) -> (u16, Value) {
    send(
        client()
            .get(format!("{}{path_and_query}", emu.base_url()))
            .bearer_auth(emu.api_key()),
    )
    .await
}

fn ids(records: &Value) -> Vec<String> {
    records
        .as_array()
        .expect("array of records")
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_string())
        .collect()
}

fn records(emu: &Emulator, entity: &str) -> Vec<Value> {
    (0..emu.record_count(entity).unwrap())
        .map(|i| emu.record(entity, i).unwrap())
        .collect()
}

/// Ids of the records `keep` accepts, in server order.
fn expect_ids(all: &[Value], keep: impl Fn(&Value) -> bool) -> Vec<String> {
    all.iter()
        .filter(|r| keep(r))
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

// ───────────────────────────── tokens and auth ─────────────────────────────

#[tokio::test]
async fn token_exchange() {
    let emu = Emulator::start(incident_io_connector::SPEC_JSON)
        .await
        .unwrap();
    assert_eq!(emu.airbyte_api_url(), emu.base_url());
    assert_eq!(emu.airbyte_client_id(), "emulator-client-id");
    assert_eq!(emu.airbyte_client_secret(), "emulator-client-secret");
    assert_eq!(emu.tokens_issued(), 0);

    let (status, a) = token_with(&emu, "emulator-client-id", "emulator-client-secret").await;
    assert_eq!(status, 200, "{a}");
    assert_eq!(a["token_type"], json!("Bearer"));
    assert_eq!(a["expires_in"], json!(900));
    assert!(!a["access_token"].as_str().unwrap().is_empty());
    let (_, b) = token_with(&emu, "emulator-client-id", "emulator-client-secret").await;
    assert_ne!(
        a["access_token"], b["access_token"],
        "each call issues a new token"
    );
    assert_eq!(emu.tokens_issued(), 2);

    for (id, secret) in [
        ("emulator-client-id", "wrong"),
        ("wrong", "emulator-client-secret"),
        ("", ""),
    ] {
        let (status, body) = token_with(&emu, id, secret).await;
        assert_eq!(status, 401);
        assert_eq!(body, json!({"message": "Invalid client credentials"}));
    }
    // Missing fields and non-JSON bodies are missing credentials too.
    let url = format!("{}{TOKEN}", emu.airbyte_api_url());
    let (status, body) = send(client().post(&url).json(&json!({}))).await;
    assert_eq!(
        (status, &body["message"]),
        (401, &json!("Invalid client credentials"))
    );
    let (status, _) = send(client().post(&url).body("not json")).await;
    assert_eq!(status, 401);
    assert_eq!(emu.tokens_issued(), 2);

    // Custom credentials and TTL.
    let emu = Emulator::builder(incident_io_connector::SPEC_JSON)
        .airbyte_credentials("id-1", "secret-1")
        .airbyte_token_ttl(Duration::from_millis(1500))
        .start()
        .await
        .unwrap();
    assert_eq!(emu.airbyte_client_id(), "id-1");
    assert_eq!(emu.airbyte_client_secret(), "secret-1");
    let (status, body) = token_with(&emu, "id-1", "secret-1").await;
    assert_eq!(status, 200);
    assert_eq!(body["expires_in"], json!(1.5));
    let (status, _) = token_with(&emu, "emulator-client-id", "emulator-client-secret").await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn auth_is_required() {
    let emu = Emulator::builder(incident_io_connector::SPEC_JSON)
        .airbyte_token_ttl(Duration::from_millis(300))
        .start()
        .await
        .unwrap();
    let lookup = format!(
        "{}{CONNECTORS}?workspace_name=default&definition_id={}",
        emu.airbyte_api_url(),
        incident_io_connector::DEFINITION_ID
    );
    let execute = format!(
        "{}{CONNECTORS}/conn-emulator/execute",
        emu.airbyte_api_url()
    );
    let body = json!({"entity": "incidents", "action": "list", "params": {}});

    // No token.
    let (status, resp) = send(client().get(&lookup)).await;
    assert_eq!(status, 401);
    assert!(
        resp["message"].as_str().unwrap().contains("Bearer"),
        "{resp}"
    );
    let (status, _) = send(client().post(&execute).json(&body)).await;
    assert_eq!(status, 401);
    let (status, _) = send(
        client()
            .post(format!("{}{CONNECTORS}", emu.base_url()))
            .json(&json!({})),
    )
    .await;
    assert_eq!(status, 401);
    // Not an issued token; the incident.io key is not an Airbyte token either.
    for bad in ["nope", emu.api_key()] {
        let (status, resp) = send(client().get(&lookup).bearer_auth(bad)).await;
        assert_eq!(status, 401);
        assert_eq!(resp["message"], json!("Invalid access token"));
    }
    // A wrong scheme.
    let t = token(&emu).await;
    let (status, _) = send(
        client()
            .get(&lookup)
            .header("authorization", format!("Basic {t}")),
    )
    .await;
    assert_eq!(status, 401);
    // An issued token works (scheme case-insensitive) ...
    let (status, _) = send(
        client()
            .get(&lookup)
            .header("authorization", format!("bearer {t}")),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = send(client().post(&execute).bearer_auth(&t).json(&body)).await;
    assert_eq!(status, 200);
    // ... until it expires.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let (status, resp) = send(client().get(&lookup).bearer_auth(&t)).await;
    assert_eq!(status, 401);
    assert_eq!(resp["message"], json!("Access token expired"));
    // A new token works again; the incident.io routes still want the API key.
    let t2 = token(&emu).await;
    let (status, _) = send(client().get(&lookup).bearer_auth(&t2)).await;
    assert_eq!(status, 200);
    let (status, _) = send(
        client()
            .get(format!("{}/v2/incidents", emu.base_url()))
            .bearer_auth(&t2),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(emu.tokens_issued(), 2);
}

#[tokio::test]
async fn organization_header() {
    let emu = Emulator::builder(incident_io_connector::SPEC_JSON)
        .airbyte_organization_id("org-42")
        .start()
        .await
        .unwrap();
    assert_eq!(emu.airbyte_organization_id(), Some("org-42"));
    // The token exchange does not need it.
    let t = token(&emu).await;
    let url = format!(
        "{}{CONNECTORS}?workspace_name=default&definition_id={}",
        emu.base_url(),
        emu.airbyte_definition_id()
    );
    let (status, body) = send(client().get(&url).bearer_auth(&t)).await;
    assert_eq!(status, 403);
    assert!(body["message"].is_string());
    let (status, _) = send(
        client()
            .get(&url)
            .bearer_auth(&t)
            .header("x-organization-id", "org-1"),
    )
    .await;
    assert_eq!(status, 403);
    let (status, body) = send(
        client()
            .get(&url)
            .bearer_auth(&t)
            .header("X-Organization-Id", "org-42"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // Auth comes first: a bad token is 401 even with the right organization.
    let (status, _) = send(
        client()
            .get(&url)
            .bearer_auth("nope")
            .header("X-Organization-Id", "org-42"),
    )
    .await;
    assert_eq!(status, 401);
    // Execute checks it too.
    let exec = format!("{}{CONNECTORS}/conn-emulator/execute", emu.base_url());
    let body = json!({"entity": "severities", "action": "list", "params": {}});
    let (status, _) = send(client().post(&exec).bearer_auth(&t).json(&body)).await;
    assert_eq!(status, 403);
    let (status, _) = send(
        client()
            .post(&exec)
            .bearer_auth(&t)
            .header("X-Organization-Id", "org-42")
            .json(&body),
    )
    .await;
    assert_eq!(status, 200);

    // Without a configured organization the header is ignored.
    let emu = Emulator::start(incident_io_connector::SPEC_JSON)
        .await
        .unwrap();
    assert_eq!(emu.airbyte_organization_id(), None);
    let s = Session::new(&emu).await;
    let (status, _) = send(
        s.http
            .get(s.url(&format!(
                "{CONNECTORS}?workspace_name=default&definition_id={}",
                emu.airbyte_definition_id()
            )))
            .bearer_auth(&s.token)
            .header("X-Organization-Id", "anything"),
    )
    .await;
    assert_eq!(status, 200);
}

// ───────────────────────────── connectors ─────────────────────────────

#[tokio::test]
async fn connector_lookup_filters() {
    let emu = Emulator::start(incident_io_connector::SPEC_JSON)
        .await
        .unwrap();
    let def = incident_io_connector::DEFINITION_ID;
    assert_eq!(emu.airbyte_definition_id(), def);
    assert_eq!(emu.airbyte_workspace(), "default");
    assert_eq!(emu.airbyte_connector_id(), "conn-emulator");
    let s = Session::new(&emu).await;
    let (status, body) = s.lookup("default", def).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"data": [{
            "id": "conn-emulator",
            "name": "incident-io - default",
            "workspace_name": "default",
            "definition_id": def,
        }]})
    );
    let (_, body) = s.lookup("other", def).await;
    assert_eq!(body, json!({"data": []}));
    let (_, body) = s
        .lookup("default", "00000000-0000-0000-0000-000000000000")
        .await;
    assert_eq!(body, json!({"data": []}));
    // Both parameters are required.
    for (q, missing) in [
        (
            "",
            vec!["workspace_name is required", "definition_id is required"],
        ),
        ("?workspace_name=default", vec!["definition_id is required"]),
        (
            &format!("?definition_id={def}&workspace_name=") as &str,
            vec!["workspace_name is required"],
        ),
    ] {
        let (status, body) = s.get(&format!("{CONNECTORS}{q}")).await;
        assert_eq!(status, 422, "{q}");
        assert_eq!(body["errors"], json!(missing), "{q}");
        assert!(body["message"].is_string());
    }

    // Workspace, id and number of seeded connectors.
    let emu = Emulator::builder(incident_io_connector::SPEC_JSON)
        .airbyte_workspace("prod")
        .airbyte_connector_id("abc")
        .airbyte_seed_connectors(3)
        .start()
        .await
        .unwrap();
    let s = Session::new(&emu).await;
    let (_, body) = s.lookup("prod", def).await;
    assert_eq!(ids(&body["data"]), ["abc", "abc-2", "abc-3"]);
    assert_eq!(body["data"][0]["name"], json!("incident-io - prod"));
    let (_, body) = s.lookup("default", def).await;
    assert_eq!(body["data"], json!([]));
    for id in ["abc", "abc-3"] {
        let (status, body) = s.execute_on(id, "severities", "list", json!({})).await;
        assert_eq!(status, 200, "{id}: {body}");
    }

    let emu = Emulator::builder(incident_io_connector::SPEC_JSON)
        .airbyte_seed_connectors(0)
        .start()
        .await
        .unwrap();
    let s = Session::new(&emu).await;
    let (_, body) = s.lookup("default", def).await;
    assert_eq!(body, json!({"data": []}));
    let (status, body) = s.execute("severities", "list", json!({})).await;
    assert_eq!(status, 404);
    assert_eq!(body["message"], json!("connector conn-emulator not found"));
}

#[tokio::test]
async fn create_then_lookup() {
    let emu = Emulator::builder(incident_io_connector::SPEC_JSON)
        .airbyte_seed_connectors(0)
        .start()
        .await
        .unwrap();
    let def = emu.airbyte_definition_id().to_string();
    let s = Session::new(&emu).await;
    assert!(emu.airbyte_connectors().is_empty());
    let (status, created) = s
        .post(
            CONNECTORS,
            &json!({
                "name": "my incident.io",
                "definition_id": def,
                "workspace_name": "team-a",
                "credentials": {"api_key": emu.api_key()},
                "replication_config": {"start_date": "2024-01-01"},
                "source_template_id": "tmpl-1",
            }),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    assert!(!id.is_empty());
    assert_eq!(
        created,
        json!({"id": id, "name": "my incident.io", "workspace_name": "team-a", "definition_id": def})
    );
    let (_, found) = s.lookup("team-a", &def).await;
    assert_eq!(found["data"], json!([created]));
    let (_, other) = s.lookup("default", &def).await;
    assert_eq!(other["data"], json!([]));

    let stored = emu.airbyte_connectors();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["id"], json!(id));
    assert_eq!(stored[0]["credentials"]["api_key"], json!(emu.api_key()));
    assert_eq!(
        stored[0]["replication_config"],
        json!({"start_date": "2024-01-01"})
    );
    assert_eq!(stored[0]["source_template_id"], json!("tmpl-1"));

    // The new connector executes with the stored key.
    let (status, body) = s.execute_on(&id, "severities", "list", json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"].as_array().unwrap().len(), 5);

    // A second one in the same workspace makes the lookup ambiguous; a bad upstream key
    // fails like incident.io refusing it.
    let (status, second) = s
        .post(
            CONNECTORS,
            &json!({
                "name": "second",
                "definition_id": def,
                "workspace_name": "team-a",
                "credentials": {"api_key": "not-the-key"},
            }),
        )
        .await;
    assert_eq!(status, 201);
    let second_id = second["id"].as_str().unwrap();
    assert_ne!(second_id, id);
    let (_, found) = s.lookup("team-a", &def).await;
    assert_eq!(ids(&found["data"]), [id.clone(), second_id.to_string()]);
    let (status, body) = s
        .execute_on(second_id, "severities", "list", json!({}))
        .await;
    assert_eq!(status, 401);
    assert!(
        body["message"].as_str().unwrap().contains("API key"),
        "{body}"
    );
    assert_eq!(emu.airbyte_connectors().len(), 2);
    assert_eq!(
        emu.airbyte_connectors()[1]["credentials"]["api_key"],
        json!("not-the-key")
    );
}

#[tokio::test]
async fn create_validation() {
    let emu = Emulator::start(incident_io_connector::SPEC_JSON)
        .await
        .unwrap();
    let s = Session::new(&emu).await;
    let (status, body) = s.post(CONNECTORS, &json!({})).await;
    assert_eq!(status, 422);
    assert_eq!(
        body["errors"],
        json!([
            "name is required",
            "definition_id is required",
            "workspace_name is required",
            "credentials.api_key is required",
        ])
    );
    assert!(body["message"].is_string());
    let (status, body) = s
        .post(
            CONNECTORS,
            &json!({
                "name": "x",
                "definition_id": emu.airbyte_definition_id(),
                "workspace_name": "w",
                "credentials": {"api_key": ""},
            }),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["errors"], json!(["credentials.api_key is required"]));
    let (status, body) = s
        .post(
            CONNECTORS,
            &json!({"name": "x", "definition_id": "d", "workspace_name": "w", "credentials": "k"}),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["errors"], json!(["credentials.api_key is required"]));
    let (status, _) = s.post(CONNECTORS, &json!([1, 2])).await;
    assert_eq!(status, 422);
    let (status, body) = send(
        s.http
            .post(s.url(CONNECTORS))
            .bearer_auth(&s.token)
            .body("{not json"),
    )
    .await;
    assert_eq!(status, 400);
    assert!(body["message"].is_string());
    assert!(emu.airbyte_connectors().is_empty());
}

// ───────────────────────────── execute: list and get ─────────────────────────────

#[tokio::test]
async fn execute_list_pages_like_incident_io() {
    let emu = Emulator::builder(incident_io_connector::SPEC_JSON)
        .count("incidents", 1_000)
        .start()
        .await
        .unwrap();
    let s = Session::new(&emu).await;
    let mut cursor: Option<String> = None;
    let mut all = Vec::new();
    let mut calls = 0;
    loop {
        let mut params = json!({"page_size": 250});
        if let Some(c) = &cursor {
            params["after"] = json!(c);
        }
        let (status, body) = s.execute("incidents", "list", params).await;
        assert_eq!(status, 200, "{body}");
        calls += 1;
        let page = body["result"].as_array().unwrap();
        assert_eq!(page.len(), 250);
        // Same page and cursor as incident.io itself.
        let q = match &cursor {
            Some(c) => format!("/v2/incidents?page_size=250&after={c}"),
            None => "/v2/incidents?page_size=250".to_string(),
        };
        let (_, direct_page) = direct(&emu, &q).await;
        assert_eq!(&body["result"], &direct_page["incidents"]);
        let next = &body["connector_metadata"]["next_cursor"];
        assert_eq!(
            next,
            &direct_page["pagination_meta"]
                .get("after")
                .cloned()
                .unwrap_or(Value::Null)
        );
        all.extend(page.iter().cloned());
        if calls < 4 {
            // The cursor is the id of the last record of the page.
            assert_eq!(next, &page[249]["id"]);
            cursor = Some(next.as_str().unwrap().to_string());
        } else {
            assert_eq!(next, &Value::Null);
            break;
        }
    }
    assert_eq!(calls, 4);
    assert_eq!(all.len(), 1_000);
    assert_eq!(all[0], emu.record("incidents", 0).unwrap());
    assert_eq!(all[999], emu.record("incidents", 999).unwrap());
    let unique: HashSet<&str> = all.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(unique.len(), 1_000);

    // Default page size and unpaginated lists.
    let (status, body) = s.execute("incidents", "list", json!({})).await;
    assert_eq!(status, 200);
    let (_, d) = direct(&emu, "/v2/incidents").await;
    assert_eq!(body["result"], d["incidents"]);
    let (_, body) = s
        .execute("severities", "list", json!({"page_size": null}))
        .await;
    assert_eq!(body["result"].as_array().unwrap().len(), 5);
    assert_eq!(body["connector_metadata"], json!({"next_cursor": null}));
}

#[tokio::test]
async fn execute_list_filters_and_errors() {
    let emu = Emulator::builder(incident_io_connector::SPEC_JSON)
        .count("incidents", 10)
        .count("incident_updates", 100)
        .start()
        .await
        .unwrap();
    let s = Session::new(&emu).await;
    let target = emu.record("incident_updates", 0).unwrap()["incident_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, body) = s
        .execute(
            "incident_updates",
            "list",
            json!({"incident_id": target, "page_size": 250}),
        )
        .await;
    assert_eq!(status, 200);
    let (_, d) = direct(
        &emu,
        &format!("/v2/incident_updates?incident_id={target}&page_size=250"),
    )
    .await;
    assert_eq!(body["result"], d["incident_updates"]);
    assert!(!body["result"].as_array().unwrap().is_empty());

    // Validation matches incident.io's (status and message).
    for (params, query) in [
        (json!({"page_size": 0}), "page_size=0"),
        (json!({"page_size": 501}), "page_size=501"),
        (json!({"page_size": "ten"}), "page_size=ten"),
        (json!({"after": "nope"}), "after=nope"),
    ] {
        let (status, body) = s.execute("incidents", "list", params.clone()).await;
        let (dstatus, d) = direct(&emu, &format!("/v2/incidents?{query}")).await;
        assert_eq!(status, 422, "{params}: {body}");
        assert_eq!(dstatus, 422);
        let message = d["errors"][0]["message"].clone();
        assert_eq!(
            body,
            json!({"message": message, "errors": [message]}),
            "{params}"
        );
    }
}

#[tokio::test]
async fn execute_get_404_and_unknowns() {
    let emu = Emulator::start(incident_io_connector::SPEC_JSON)
        .await
        .unwrap();
    let s = Session::new(&emu).await;
    let rec = emu.record("incidents", 7).unwrap();
    let (status, body) = s
        .execute("incidents", "get", json!({"id": rec["id"]}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"], rec);
    assert!(body["connector_metadata"].is_object());
    // The numeric reference works as on incident.io.
    let (_, body) = s.execute("incidents", "get", json!({"id": "8"})).await;
    assert_eq!(body["result"], rec);

    let (status, body) = s
        .execute(
            "incidents",
            "get",
            json!({"id": "01HK1572QZ6X10000001SD6DT3"}),
        )
        .await;
    assert_eq!(status, 404);
    let (_, d) = direct(&emu, "/v2/incidents/01HK1572QZ6X10000001SD6DT3").await;
    let message = d["errors"][0]["message"].clone();
    assert_eq!(body, json!({"message": message, "errors": [message]}));

    // Unknown entity, action, connector; bad bodies.
    let (status, body) = s.execute("nope", "list", json!({})).await;
    assert_eq!(status, 422);
    assert!(body["message"].as_str().unwrap().contains("nope"));
    let (status, body) = s.execute("incidents", "delete", json!({})).await;
    assert_eq!(status, 422);
    assert!(body["message"].as_str().unwrap().contains("delete"));
    // incident_updates has no get operation.
    let (status, _) = s
        .execute("incident_updates", "get", json!({"id": "x"}))
        .await;
    assert_eq!(status, 422);
    let (status, body) = s.execute_on("nope", "incidents", "list", json!({})).await;
    assert_eq!(status, 404);
    assert_eq!(body, json!({"message": "connector nope not found"}));
    let exec = format!("{CONNECTORS}/conn-emulator/execute");
    let (status, _) = s.post(&exec, &json!({"action": "list"})).await;
    assert_eq!(status, 422);
    let (status, _) = s
        .post(
            &exec,
            &json!({"entity": "incidents", "action": "list", "params": [1]}),
        )
        .await;
    assert_eq!(status, 422);
    // params may be left out.
    let (status, _) = s
        .post(&exec, &json!({"entity": "severities", "action": "list"}))
        .await;
    assert_eq!(status, 200);
}

// ───────────────────────────── execute: search ─────────────────────────────

async fn search_emulator() -> Emulator {
    Emulator::builder(incident_io_connector::SPEC_JSON)
        .count("incidents", 300)
        .count("schedules", 120)
        .start()
        .await
        .unwrap()
}

#[tokio::test]
async fn search_comparisons() {
    let emu = search_emulator().await;
    let s = Session::new(&emu).await;
    let all = records(&emu, "incidents");

    let reference = all[41]["reference"].clone();
    assert_eq!(
        s.search_ids("incidents", json!({"eq": {"reference": reference}}))
            .await,
        expect_ids(&all, |r| r["reference"] == reference)
    );
    assert_eq!(
        s.search_ids("incidents", json!({"neq": {"reference": reference}}))
            .await
            .len(),
        299
    );
    // RFC3339 timestamps compare as strings: [10, 20).
    let (lo, hi) = (all[10]["created_at"].clone(), all[20]["created_at"].clone());
    assert_eq!(
        s.search_ids(
            "incidents",
            json!({"and": [{"gte": {"created_at": lo}}, {"lt": {"created_at": hi}}]})
        )
        .await,
        expect_ids(&all[10..20], |_| true)
    );
    assert_eq!(
        s.search_ids("incidents", json!({"gt": {"created_at": lo}}))
            .await,
        expect_ids(&all[11..], |_| true)
    );
    assert_eq!(
        s.search_ids("incidents", json!({"lte": {"created_at": lo}}))
            .await,
        expect_ids(&all[..11], |_| true)
    );
    // Numbers compare numerically (not as text), nested paths are dotted.
    let num = |r: &Value, k: &str| r[k].as_f64();
    let expected = expect_ids(&all, |r| {
        num(r, "workload_minutes_total").is_some_and(|n| n > 100.0)
    });
    assert!(!expected.is_empty() && expected.len() < 300);
    assert_eq!(
        s.search_ids("incidents", json!({"gt": {"workload_minutes_total": 100}}))
            .await,
        expected
    );
    let expected = expect_ids(&all, |r| {
        r["severity"]["rank"].as_i64().is_some_and(|n| n >= 3)
    });
    assert!(!expected.is_empty() && expected.len() < 300);
    assert_eq!(
        s.search_ids("incidents", json!({"gte": {"severity.rank": 3}}))
            .await,
        expected
    );
    assert_eq!(
        s.search_ids("incidents", json!({"lte": {"severity.rank": 2.5}}))
            .await,
        expect_ids(&all, |r| r["severity"]["rank"]
            .as_i64()
            .is_some_and(|n| n <= 2))
    );
    let mode = all[0]["mode"].clone();
    assert_eq!(
        s.search_ids("incidents", json!({"eq": {"mode": mode}}))
            .await,
        expect_ids(&all, |r| r["mode"] == mode)
    );
    // in
    let refs = [
        all[3]["reference"].clone(),
        all[200]["reference"].clone(),
        json!("INC-0"),
    ];
    assert_eq!(
        s.search_ids("incidents", json!({"in": {"reference": refs}}))
            .await,
        expect_ids(&all, |r| refs.contains(&r["reference"]))
    );
    assert_eq!(
        s.search_ids("incidents", json!({"in": {"severity.rank": [1, 4]}}))
            .await,
        expect_ids(&all, |r| [json!(1), json!(4)]
            .contains(&r["severity"]["rank"]))
    );
}

#[tokio::test]
async fn search_text_operators() {
    let emu = search_emulator().await;
    let s = Session::new(&emu).await;
    let all = records(&emu, "incidents");
    let name = |r: &Value| r["name"].as_str().unwrap_or_default().to_lowercase();

    // like: % wildcard, case-insensitive, whole value.
    let word = name(&all[0]).rsplit(' ').next().unwrap().to_string();
    let expected = expect_ids(&all, |r| name(r).contains(&word));
    assert!(!expected.is_empty() && expected.len() < 300, "{word}");
    assert_eq!(
        s.search_ids(
            "incidents",
            json!({"like": {"name": format!("%{}%", word.to_uppercase())}})
        )
        .await,
        expected
    );
    assert_eq!(
        s.search_ids("incidents", json!({"like": {"name": "INCIDENT 1%"}}))
            .await,
        expect_ids(&all, |r| name(r).starts_with("incident 1"))
    );
    assert_eq!(
        s.search_ids("incidents", json!({"like": {"reference": "inc-4_"}}))
            .await,
        Vec::<String>::new(),
        "only % is a wildcard"
    );
    assert_eq!(
        s.search_ids("incidents", json!({"like": {"reference": "inc-42"}}))
            .await,
        expect_ids(&all, |r| r["reference"] == json!("INC-42"))
    );

    // fuzzy: every word, in order, case-insensitive.
    let expected = expect_ids(&all, |r| {
        let n = name(r);
        n.find("incident")
            .is_some_and(|at| n[at + 8..].contains(&word))
    });
    assert_eq!(
        s.search_ids(
            "incidents",
            json!({"fuzzy": {"name": format!("Incident {word}")}})
        )
        .await,
        expected
    );
    assert_eq!(
        s.search_ids(
            "incidents",
            json!({"fuzzy": {"name": format!("{word} incident")}})
        )
        .await,
        Vec::<String>::new(),
        "order matters"
    );

    // keyword: any word.
    let other = name(&all[1]).rsplit(' ').next().unwrap().to_string();
    let words = |r: &Value| -> Vec<String> {
        name(r)
            .split(|c: char| !c.is_alphanumeric())
            .map(str::to_string)
            .collect()
    };
    let expected = expect_ids(&all, |r| {
        let w = words(r);
        w.contains(&word) || w.contains(&other)
    });
    assert_eq!(
        s.search_ids(
            "incidents",
            json!({"keyword": {"name": format!("{} {}", word.to_uppercase(), other)}})
        )
        .await,
        expected
    );
}

#[tokio::test]
async fn search_array_and_logic_operators() {
    let emu = search_emulator().await;
    let s = Session::new(&emu).await;
    let schedules = records(&emu, "schedules");
    let teams = |r: &Value| r["team_ids"].as_array().cloned().unwrap_or_default();
    let with_teams: Vec<&Value> = schedules.iter().filter(|r| !teams(r).is_empty()).collect();
    let a = teams(with_teams[0])[0].clone();
    let b = teams(with_teams.last().unwrap())[0].clone();

    // contains / any
    let expected = expect_ids(&schedules, |r| teams(r).contains(&a));
    assert!(!expected.is_empty() && expected.len() < schedules.len());
    assert_eq!(
        s.search_ids("schedules", json!({"contains": {"team_ids": a}}))
            .await,
        expected
    );
    let expected = expect_ids(&schedules, |r| {
        teams(r).contains(&a) || teams(r).contains(&b)
    });
    assert_eq!(
        s.search_ids("schedules", json!({"any": {"team_ids": [a, b, "nope"]}}))
            .await,
        expected
    );
    assert!(
        s.search_ids("schedules", json!({"contains": {"name": "Schedule"}}))
            .await
            .is_empty(),
        "contains needs an array field"
    );

    // not / and / or
    let all = records(&emu, "incidents");
    let rank = |r: &Value| r["severity"]["rank"].as_i64();
    let mode = all[0]["mode"].clone();
    assert_eq!(
        s.search_ids("incidents", json!({"not": {"eq": {"mode": mode}}}))
            .await,
        expect_ids(&all, |r| r["mode"] != mode)
    );
    assert_eq!(
        s.search_ids(
            "incidents",
            json!({"and": [{"eq": {"mode": mode}}, {"gte": {"severity.rank": 3}}]})
        )
        .await,
        expect_ids(&all, |r| r["mode"] == mode
            && rank(r).is_some_and(|n| n >= 3))
    );
    assert_eq!(
        s.search_ids(
            "incidents",
            json!({"or": [{"eq": {"mode": mode}}, {"not": {"lt": {"severity.rank": 4}}}]})
        )
        .await,
        expect_ids(&all, |r| r["mode"] == mode
            || rank(r).is_none_or(|n| n >= 4))
    );
    // A leaf with two fields needs both; empty and/or.
    assert_eq!(
        s.search_ids(
            "incidents",
            json!({"eq": {"mode": mode, "visibility": "private"}})
        )
        .await,
        expect_ids(&all, |r| r["mode"] == mode
            && r["visibility"] == json!("private"))
    );
    assert_eq!(
        s.search_ids("incidents", json!({"and": []})).await.len(),
        300
    );
    assert!(s
        .search_ids("incidents", json!({"or": []}))
        .await
        .is_empty());
}

#[tokio::test]
async fn search_sort_limit_cursor() {
    let emu = Emulator::builder(incident_io_connector::SPEC_JSON)
        .count("incidents", 1_000)
        .start()
        .await
        .unwrap();
    let s = Session::new(&emu).await;
    let all = records(&emu, "incidents");

    // Default: every record in server order, limit 1000.
    let r = s.search("incidents", json!({})).await;
    assert_eq!(ids(&r["data"]), expect_ids(&all, |_| true));
    assert_eq!(r["meta"]["has_more"], json!(false));
    assert_eq!(r["meta"]["cursor"], Value::Null);
    assert!(r["meta"]["took_ms"].is_u64());

    // Sort descending by a timestamp.
    let r = s
        .search(
            "incidents",
            json!({"query": {"sort": [{"created_at": "desc"}]}, "limit": 5}),
        )
        .await;
    let mut newest = expect_ids(&all, |_| true);
    newest.reverse();
    assert_eq!(ids(&r["data"]), newest[..5]);

    // Two keys: severity rank ascending, then newest first.
    let r = s
        .search(
            "incidents",
            json!({"query": {"sort": [{"severity.rank": "asc"}, {"created_at": "desc"}]}}),
        )
        .await;
    let mut expected: Vec<(Option<i64>, String, String)> = all
        .iter()
        .map(|r| {
            (
                r["severity"]["rank"].as_i64(),
                r["created_at"].as_str().unwrap().to_string(),
                r["id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    expected.sort_by(|a, b| {
        let ra = a.0.map_or(i64::MAX, |n| n);
        let rb = b.0.map_or(i64::MAX, |n| n);
        ra.cmp(&rb).then_with(|| b.1.cmp(&a.1))
    });
    let expected: Vec<String> = expected.into_iter().map(|t| t.2).collect();
    assert_eq!(ids(&r["data"]), expected);

    // limit + cursor paging over a filtered, sorted set.
    let filter = json!({"gte": {"created_at": all[100]["created_at"]}});
    let mut got = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = Vec::new();
    loop {
        let mut params =
            json!({"query": {"filter": filter, "sort": [{"created_at": "desc"}]}, "limit": 300});
        if let Some(c) = &cursor {
            params["cursor"] = json!(c);
        }
        let r = s.search("incidents", params).await;
        let page = ids(&r["data"]);
        pages.push(page.len());
        got.extend(page);
        let has_more = r["meta"]["has_more"].as_bool().unwrap();
        match r["meta"]["cursor"].as_str() {
            Some(c) => {
                assert!(has_more);
                cursor = Some(c.to_string());
            }
            None => {
                assert!(!has_more);
                break;
            }
        }
    }
    assert_eq!(pages, [300, 300, 300]);
    let mut expected = expect_ids(&all[100..], |_| true);
    expected.reverse();
    assert_eq!(got, expected);

    // A bad cursor or limit is a 422.
    let (status, message) = s
        .search_err("incidents", json!({"cursor": "not-a-cursor"}))
        .await;
    assert_eq!(status, 422);
    assert!(message.contains("cursor"), "{message}");
    for limit in [json!(0), json!(-1), json!("10"), json!(1.5)] {
        let (status, _) = s.search_err("incidents", json!({"limit": limit})).await;
        assert_eq!(status, 422, "{limit}");
    }
}

#[tokio::test]
async fn search_covers_every_record() {
    let emu = Emulator::builder(incident_io_connector::SPEC_JSON)
        .count("incidents", 2_500)
        .start()
        .await
        .unwrap();
    let s = Session::new(&emu).await;
    let mut seen = Vec::new();
    let mut cursor = Value::Null;
    let mut pages = 0;
    loop {
        let r = s
            .search("incidents", json!({"cursor": cursor, "fields": [["id"]]}))
            .await;
        pages += 1;
        seen.extend(ids(&r["data"]));
        cursor = r["meta"]["cursor"].clone();
        if !r["meta"]["has_more"].as_bool().unwrap() {
            break;
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 2_500);
    assert_eq!(seen[2_499], emu.record("incidents", 2_499).unwrap()["id"]);
    // The last match is found without paging.
    let last = emu.record("incidents", 2_499).unwrap();
    let r = s
        .search(
            "incidents",
            json!({"query": {"filter": {"eq": {"id": last["id"]}}}}),
        )
        .await;
    assert_eq!(ids(&r["data"]), [last["id"].as_str().unwrap()]);
}

#[tokio::test]
async fn search_fields_projection() {
    let emu = search_emulator().await;
    let s = Session::new(&emu).await;
    let all = records(&emu, "incidents");

    // Without fields: the searchable top-level fields only.
    let r = s.search("incidents", json!({"limit": 3})).await;
    let searchable: HashSet<&str> = [
        "id",
        "name",
        "reference",
        "summary",
        "mode",
        "visibility",
        "permalink",
        "created_at",
        "updated_at",
        "last_activity_at",
        "creator",
        "incident_status",
        "severity",
        "incident_type",
        "incident_role_assignments",
        "custom_field_entries",
        "duration_metrics",
        "incident_timestamp_values",
        "team_ids",
        "has_debrief",
        "slack_channel_id",
        "slack_channel_name",
        "slack_team_id",
        "workload_minutes_total",
        "workload_minutes_working",
        "workload_minutes_late",
        "workload_minutes_sleeping",
    ]
    .into_iter()
    .collect();
    for (k, rec) in r["data"].as_array().unwrap().iter().enumerate() {
        let full = all[k].as_object().unwrap();
        let expected: serde_json::Map<String, Value> = full
            .iter()
            .filter(|(key, _)| searchable.contains(key.as_str()))
            .map(|(key, v)| (key.clone(), v.clone()))
            .collect();
        assert_eq!(rec, &Value::Object(expected));
        assert!(rec.get("call_url").is_none());
    }

    // Array paths and dotted strings.
    let r = s
        .search(
            "incidents",
            json!({"fields": [["id"], ["severity", "name"], "incident_status.category"], "limit": 300}),
        )
        .await;
    for (rec, full) in r["data"].as_array().unwrap().iter().zip(&all) {
        let mut expected = json!({"id": full["id"]});
        if let Some(name) = full["severity"].get("name") {
            expected["severity"] = json!({"name": name});
        }
        if let Some(cat) = full["incident_status"].get("category") {
            expected["incident_status"] = json!({"category": cat});
        }
        assert_eq!(rec, &expected);
    }
    // Nested creator fields exist only on some records (the creator is a union).
    let r = s
        .search(
            "incidents",
            json!({"fields": [["creator", "user", "email"]], "limit": 300}),
        )
        .await;
    let with_email = r["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|rec| rec["creator"]["user"]["email"].is_string())
        .count();
    assert_eq!(
        with_email,
        all.iter()
            .filter(|f| f["creator"]["user"]["email"].is_string())
            .count()
    );
    assert!(r["data"].as_array().unwrap().iter().all(|rec| rec
        .as_object()
        .unwrap()
        .keys()
        .all(|k| k == "creator")));
}

#[tokio::test]
async fn search_validation() {
    let emu = search_emulator().await;
    let s = Session::new(&emu).await;
    for (params, needle) in [
        (
            json!({"query": {"filter": {"eq": {"call_url": "x"}}}}),
            "not a searchable field",
        ),
        (
            json!({"query": {"filter": {"eq": {"severity.nope": 1}}}}),
            "not a searchable field",
        ),
        (
            json!({"query": {"filter": {"regex": {"name": "x"}}}}),
            "unknown operator",
        ),
        (
            json!({"query": {"filter": {"in": {"mode": "test"}}}}),
            "list",
        ),
        (
            json!({"query": {"filter": {"like": {"name": 5}}}}),
            "string",
        ),
        (
            json!({"query": {"filter": {"and": {"eq": {"id": "x"}}}}}),
            "list of conditions",
        ),
        (
            json!({"query": {"filter": {"eq": {"id": 1}, "neq": {"id": 2}}}}),
            "one operator",
        ),
        (
            json!({"query": {"sort": [{"call_url": "asc"}]}}),
            "not a searchable field",
        ),
        (json!({"query": {"sort": [{"name": "up"}]}}), "asc"),
        (json!({"query": {"group": []}}), "unknown key"),
        (json!({"fields": [["call_url"]]}), "not a searchable field"),
        (json!({"fields": "id"}), "list of field paths"),
        (json!({"page_size": 10}), "unknown parameter"),
    ] {
        let (status, message) = s.search_err("incidents", params.clone()).await;
        assert_eq!(status, 422, "{params}");
        assert!(message.contains(needle), "{params}: {message}");
    }

    // An entity without context-store fields cannot be searched.
    let mut spec: Value = serde_json::from_str(incident_io_connector::SPEC_JSON).unwrap();
    spec["info"]["x-airbyte-context-store"]["entities"]
        .as_array_mut()
        .unwrap()
        .retain(|e| e["entity"] != json!("severities"));
    let emu = Emulator::builder(incident_io_connector::SPEC_JSON)
        .spec_json(&spec.to_string())
        .start()
        .await
        .unwrap();
    let s = Session::new(&emu).await;
    let (status, message) = s.search_err("severities", json!({})).await;
    assert_eq!(status, 422);
    assert!(message.contains("cannot be searched"), "{message}");
    let (status, _) = s.search_err("incidents", json!({})).await;
    assert_eq!(status, 200);
}

// ───────────────────────────── faults and the request log ─────────────────────────────

#[tokio::test]
async fn faults_and_log_apply_to_airbyte_routes() {
    let emu = Emulator::start(incident_io_connector::SPEC_JSON)
        .await
        .unwrap();
    let s = Session::new(&emu).await;
    let exec = format!("{CONNECTORS}/conn-emulator/execute");
    let body = json!({"entity": "severities", "action": "list", "params": {}});

    emu.faults().push(Fault::status(503));
    let (status, resp) = s.post(&exec, &body).await;
    assert_eq!(status, 503);
    assert_eq!(resp["status"], json!(503));
    let (status, _) = s.post(&exec, &body).await;
    assert_eq!(status, 200);

    // The token exchange is faulted too.
    emu.faults().push(Fault::rate_limited(2));
    let resp = client()
        .post(format!("{}{TOKEN}", emu.airbyte_api_url()))
        .json(&json!({"client_id": emu.airbyte_client_id(), "client_secret": emu.airbyte_client_secret()}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 429);
    assert_eq!(resp.headers()["retry-after"], "2");
    assert_eq!(emu.tokens_issued(), 1);

    emu.faults().push(Fault::Html { status: 502 });
    let resp = s
        .http
        .get(s.url(&format!(
            "{CONNECTORS}?workspace_name=default&definition_id={}",
            emu.airbyte_definition_id()
        )))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 502);
    assert_eq!(resp.headers()["content-type"], "text/html");

    emu.faults().push(Fault::ResetConnection);
    let err = s
        .http
        .post(s.url(&exec))
        .bearer_auth(&s.token)
        .json(&body)
        .send()
        .await
        .unwrap_err();
    assert!(err.status().is_none(), "{err:?}");

    emu.faults().push(Fault::TruncatedBody);
    let resp = s
        .http
        .post(s.url(&exec))
        .bearer_auth(&s.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let text = resp.text().await.unwrap();
    assert!(serde_json::from_str::<Value>(&text).is_err());
    assert_eq!(emu.faults().pending(), 0);

    // Every Airbyte request is in the log, as sent.
    let log = emu.requests();
    assert_eq!(log[0].method, "POST");
    assert_eq!(log[0].path, TOKEN);
    let execs: Vec<_> = log.iter().filter(|r| r.path == exec).collect();
    assert_eq!(execs.len(), 4);
    let sent: Value = serde_json::from_slice(&execs[0].body).unwrap();
    assert_eq!(sent, body);
    assert_eq!(
        execs[0].header("authorization"),
        Some(format!("Bearer {}", s.token).as_str())
    );
    let lookups: Vec<_> = log.iter().filter(|r| r.path == CONNECTORS).collect();
    assert_eq!(lookups[0].query_param("workspace_name"), Some("default"));
    assert_eq!(emu.request_count(), log.len());
}
