//! `incident-io mcp --emulator`, started as a child process and driven over stdio by the rmcp
//! client: initialize, list the tools (the progressive set by default, one large execute with
//! `--single-tool`), call execute (a list and a get), docs and inspect, bad params come back
//! as tool errors an agent can act on, and the check tool.

use rmcp::model::{CallToolRequestParams, CallToolResult, JsonObject};
use rmcp::service::RunningService;
use rmcp::transport::{ConfigureCommandExt, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt};
use serde_json::{json, Value};

use incident_io_connector::IncidentIoConnector;

async fn start(extra: &[&str]) -> RunningService<RoleClient, ()> {
    let bin = assert_cmd::cargo::cargo_bin("incident-io");
    let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    let transport = TokioChildProcess::new(tokio::process::Command::new(bin).configure(|cmd| {
        cmd.arg("mcp").arg("--emulator").args(&extra);
        for v in [
            "INCIDENT_IO_API_KEY",
            "AIRBYTE_CLIENT_ID",
            "AIRBYTE_CLIENT_SECRET",
        ] {
            cmd.env_remove(v);
        }
    }))
    .expect("spawns incident-io mcp");
    ().serve(transport).await.expect("MCP initialize")
}

fn args(v: Value) -> JsonObject {
    match v {
        Value::Object(m) => m,
        other => panic!("arguments must be an object: {other}"),
    }
}

async fn call(client: &RunningService<RoleClient, ()>, tool: &str, a: Value) -> CallToolResult {
    client
        .call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(args(a)))
        .await
        .expect("tools/call answers")
}

fn text(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("")
}

fn is_error(result: &CallToolResult) -> bool {
    result.is_error == Some(true)
}

#[tokio::test]
async fn mcp_server_over_stdio() {
    let client = start(&["--single-tool"]).await;

    // initialize: the server names itself and offers tools.
    let info = client.peer_info().expect("initialized");
    assert_eq!(info.server_info.as_ref().unwrap().name, "incident-io");
    assert!(info.capabilities.tools.is_some());
    assert!(info
        .instructions
        .as_deref()
        .unwrap_or("")
        .contains("incident_io_execute"));

    // tools/list: the generated description and input schema, read-only annotations.
    let tools = client.list_all_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(names, ["incident_io_execute", "incident_io_check"]);
    let execute = &tools[0];
    assert_eq!(
        execute.description.as_deref(),
        Some(IncidentIoConnector::tool_description().as_str())
    );
    assert_eq!(
        Value::Object(execute.input_schema.as_ref().clone()),
        IncidentIoConnector::tool_input_schema()
    );
    let annotations = execute.annotations.as_ref().unwrap();
    assert_eq!(annotations.read_only_hint, Some(true));
    assert_eq!(tools[1].input_schema.get("type"), Some(&json!("object")));

    // execute: a list page, then the next page through meta.next_cursor, then a get.
    let page = call(
        &client,
        "incident_io_execute",
        json!({"entity": "incidents", "action": "list", "params": {"page_size": 3}}),
    )
    .await;
    assert!(!is_error(&page), "{}", text(&page));
    let page: Value = serde_json::from_str(&text(&page)).unwrap();
    let data = page["data"].as_array().unwrap();
    assert_eq!(data.len(), 3);
    let cursor = page["meta"]["next_cursor"].as_str().unwrap();
    let next = call(
        &client,
        "incident_io_execute",
        json!({"entity": "incidents", "action": "list", "params": {"page_size": 3, "after": cursor}}),
    )
    .await;
    let next: Value = serde_json::from_str(&text(&next)).unwrap();
    assert_ne!(next["data"][0], data[0]);

    let id = data[0]["id"].as_str().unwrap();
    let got = call(
        &client,
        "incident_io_execute",
        json!({"entity": "incidents", "action": "get", "params": {"id": id}}),
    )
    .await;
    assert!(!is_error(&got), "{}", text(&got));
    let got: Value = serde_json::from_str(&text(&got)).unwrap();
    assert_eq!(got, data[0]);

    // Params can be left out when an action needs none.
    let severities = call(
        &client,
        "incident_io_execute",
        json!({"entity": "severities", "action": "list"}),
    )
    .await;
    assert!(!is_error(&severities), "{}", text(&severities));

    // Bad params: tool errors (isError), saying it is not retryable and what to change.
    for (bad, needles) in [
        (
            json!({"entity": "incidents", "action": "list", "params": {"page_size": 1000}}),
            &[
                "not retryable",
                "page_size must be an integer from 1 to 250",
            ][..],
        ),
        (
            json!({"entity": "incidents", "action": "list", "params": {"starting_after": "x"}}),
            &["not retryable", "valid parameters: page_size, after"],
        ),
        (
            json!({"entity": "incident", "action": "list"}),
            &["valid entities: incidents"],
        ),
        (
            json!({"entity": "incidents", "action": "list", "page_size": 5}),
            &["put action parameters inside params"],
        ),
        (json!({"action": "list"}), &["Pass `entity`"]),
        (
            json!({"entity": "incidents", "action": "search", "params": {}}),
            &["use list (and get) instead of search", "needs hosted mode"],
        ),
        (
            json!({"entity": "incidents", "action": "get", "params": {"id": "01NOPE"}}),
            &["Not found", "not retryable"],
        ),
    ] {
        let r = call(&client, "incident_io_execute", bad.clone()).await;
        assert!(is_error(&r), "{bad}: {}", text(&r));
        let t = text(&r);
        for n in needles {
            assert!(t.contains(n), "{bad}: {n:?} not in {t}");
        }
    }

    // check: healthy against the emulator.
    let check = call(&client, "incident_io_check", json!({})).await;
    assert!(!is_error(&check), "{}", text(&check));
    let report: Value = serde_json::from_str(&text(&check)).unwrap();
    assert_eq!(report["status"], "healthy");

    // An unknown tool is a protocol error, not a tool result.
    let unknown = client
        .call_tool(CallToolRequestParams::new("incident_io_delete"))
        .await;
    assert!(unknown.is_err());

    client.cancel().await.unwrap();
}

#[tokio::test]
async fn mcp_output_limit_is_an_actionable_tool_error() {
    let client = start(&["--max-output-chars", "20000"]).await;
    let r = call(
        &client,
        "incident_io_execute",
        json!({"entity": "incidents", "action": "list", "params": {"page_size": 50}}),
    )
    .await;
    assert!(is_error(&r));
    let t = text(&r);
    assert!(t.contains("over the limit of 20,000"), "{t}");
    assert!(t.contains("pass page_size"), "{t}");
    // Following the advice works.
    let n: u64 = t
        .split("pass page_size ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap();
    let ok = call(
        &client,
        "incident_io_execute",
        json!({"entity": "incidents", "action": "list", "params": {"page_size": n}}),
    )
    .await;
    assert!(!is_error(&ok), "{}", text(&ok));
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn mcp_execute_shapes_records_and_checks_its_options() {
    let client = start(&[]).await;
    let page = call(
        &client,
        "incident_io_execute",
        json!({"entity": "incidents", "action": "list", "params": {"page_size": 4},
               "select_fields": ["id", "severity.name"], "intent": "Which incidents are open?"}),
    )
    .await;
    assert!(!is_error(&page), "{}", text(&page));
    let page: Value = serde_json::from_str(&text(&page)).unwrap();
    for r in page["data"].as_array().unwrap() {
        let keys: Vec<&String> = r.as_object().unwrap().keys().collect();
        assert!(keys == ["id", "severity"] || keys == ["id"], "{r}");
    }
    let page = call(
        &client,
        "incident_io_execute",
        json!({"entity": "incidents", "action": "list", "params": {"page_size": 2},
               "exclude_fields": ["summary", "creator"], "skip_truncation": true}),
    )
    .await;
    let page: Value = serde_json::from_str(&text(&page)).unwrap();
    for r in page["data"].as_array().unwrap() {
        assert!(
            r.get("summary").is_none() && r.get("creator").is_none(),
            "{r}"
        );
        assert!(r.get("id").is_some());
    }
    // For agents, null and empty values are dropped unless compact is false; params may come
    // as a JSON string.
    let compacted = call(
        &client,
        "incident_io_execute",
        json!({"entity": "incidents", "action": "list", "params": "{\"page_size\": 25}"}),
    )
    .await;
    assert!(!is_error(&compacted), "{}", text(&compacted));
    let exact = call(
        &client,
        "incident_io_execute",
        json!({"entity": "incidents", "action": "list", "params": {"page_size": 25}, "compact": false}),
    )
    .await;
    let (c_text, e_text) = (text(&compacted), text(&exact));
    assert!(e_text.contains(":null") || e_text.contains(":[]") || e_text.contains(":\"\""));
    let c_records: Value = serde_json::from_str(&c_text).unwrap();
    for r in c_records["data"].as_array().unwrap() {
        for (k, v) in r.as_object().unwrap() {
            assert!(
                !(v.is_null() || v == &json!("") || v == &json!([]) || v == &json!({})),
                "{k} kept empty"
            );
        }
    }
    assert!(c_text.len() < e_text.len());
    for (bad, needle) in [
        (json!({"compact": "no"}), "compact must be true or false"),
        (json!({"params": "[1]"}), "params must be a JSON object"),
        (
            json!({"select_fields": "id"}),
            "select_fields must be a list",
        ),
        (
            json!({"skip_truncation": "yes"}),
            "skip_truncation must be true or false",
        ),
        (json!({"intent": "x".repeat(600)}), "at most 512 characters"),
    ] {
        let mut a = json!({"entity": "incidents", "action": "list"});
        for (k, v) in bad.as_object().unwrap() {
            a[k] = v.clone();
        }
        let r = call(&client, "incident_io_execute", a).await;
        assert!(is_error(&r), "{bad}");
        assert!(text(&r).contains(needle), "{}", text(&r));
        assert!(text(&r).contains("not retryable as is"), "{}", text(&r));
    }
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn mcp_serves_the_progressive_tools_by_default() {
    let client = start(&[]).await;
    let tools = client.list_all_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(
        names,
        [
            "incident_io_execute",
            "incident_io_docs",
            "incident_io_inspect",
            "incident_io_check"
        ]
    );
    let defs = IncidentIoConnector::tools();
    for (tool, def) in tools.iter().zip(&defs) {
        assert_eq!(tool.description.as_deref(), Some(def.description.as_str()));
        assert_eq!(
            Value::Object(tool.input_schema.as_ref().clone()),
            def.input_schema
        );
    }
    let sized: usize = tools[..3]
        .iter()
        .map(|t| {
            t.name.chars().count()
                + t.description.as_deref().unwrap_or("").chars().count()
                + Value::Object(t.input_schema.as_ref().clone())
                    .to_string()
                    .chars()
                    .count()
        })
        .sum();
    assert!(sized <= 8_000, "{sized}");

    // The outline, then an entity's section, then a call it documents.
    let outline = call(&client, "incident_io_docs", json!({})).await;
    assert!(!is_error(&outline));
    assert!(text(&outline).contains("- teams: "), "{}", text(&outline));
    let section = call(
        &client,
        "incident_io_docs",
        json!({"section": "severities"}),
    )
    .await;
    assert_eq!(
        text(&section),
        IncidentIoConnector::docs(Some("severities")).unwrap()
    );
    let page = call(
        &client,
        "incident_io_execute",
        json!({"entity": "severities", "action": "list"}),
    )
    .await;
    assert!(!is_error(&page), "{}", text(&page));
    let bad = call(&client, "incident_io_docs", json!({"section": "nope"})).await;
    assert!(
        is_error(&bad) && text(&bad).contains("valid sections"),
        "{}",
        text(&bad)
    );

    let inspect = call(&client, "incident_io_inspect", json!({})).await;
    assert!(!is_error(&inspect), "{}", text(&inspect));
    let inspect: Value = serde_json::from_str(&text(&inspect)).unwrap();
    assert_eq!(inspect["mode"], "direct");
    client.cancel().await.unwrap();
}

/// `--allow-writes` is accepted; incident.io's spec has no writes, so every tool stays
/// read-only and reads still work.
#[tokio::test]
async fn mcp_allow_writes_keeps_a_spec_without_writes_read_only() {
    let client = start(&["--allow-writes"]).await;
    let tools = client.list_all_tools().await.unwrap();
    assert!(!tools.is_empty());
    for t in &tools {
        let a = t.annotations.as_ref().expect("annotated");
        assert_eq!(a.read_only_hint, Some(true), "{}", t.name);
    }
    let result = call(
        &client,
        "incident_io_execute",
        json!({"entity": "severities", "action": "list", "params": {}}),
    )
    .await;
    assert!(!is_error(&result), "{}", text(&result));
    client.cancel().await.unwrap();
}
