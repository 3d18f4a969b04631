//! The agent surface generated from the spec: entity descriptions, record JSON Schemas, the
//! tool description (snapshot) and the tool input schema (snapshot, and real example calls
//! validated against it with the `jsonschema` crate; the schema and `execute` must agree).
//!
//! Snapshots live in `tests/snapshots/`; `UPDATE_SNAPSHOTS=1 cargo test --test introspect`
//! rewrites them.

use connector_sdk_emulator::Emulator;
use incident_io_connector::{
    meta, AirbyteAuthConfig, Error, ExecuteOptions, IncidentIoAuthConfig, IncidentIoConnector,
};
use serde_json::{json, Value};

fn snapshot(name: &str, actual: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "missing snapshot {}; run UPDATE_SNAPSHOTS=1 cargo test --test introspect",
            path.display()
        )
    });
    if expected != actual {
        let line = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .map_or_else(
                || expected.lines().count().min(actual.lines().count()) + 1,
                |i| i + 1,
            );
        panic!(
            "snapshot {name} differs from line {line}:\n  expected: {:?}\n  actual:   {:?}\nreview, then run UPDATE_SNAPSHOTS=1 cargo test --test introspect",
            expected.lines().nth(line - 1).unwrap_or(""),
            actual.lines().nth(line - 1).unwrap_or("")
        );
    }
}

// ── entities() ──────────────────────────────────────────────────────────────────────────

#[test]
fn entities_describe_every_entity_action_and_param() {
    let described = IncidentIoConnector::entities();
    assert_eq!(described.len(), meta::entities().len());
    for (d, m) in described.iter().zip(meta::entities()) {
        assert_eq!(d.entity, m.name);
        assert!(!d.description.is_empty(), "{}", d.entity);
        for op in m.operations {
            let a = d
                .action(op.action.as_str())
                .unwrap_or_else(|| panic!("{}.{}", m.name, op.action));
            assert_eq!(a.params.len(), op.params.len());
            assert!(!a.hosted_only);
            for (p, pm) in a.params.iter().zip(op.params) {
                assert_eq!(p.name, pm.name);
                assert_eq!(p.json_type, pm.kind.json_type());
                assert_eq!((p.minimum, p.maximum), (pm.minimum, pm.maximum));
                assert_eq!(p.required, pm.required && pm.default.is_none());
            }
        }
        if m.search_fields.is_empty() {
            assert!(
                d.action("search").is_none(),
                "{}: no search without fields",
                m.name
            );
            continue;
        }
        let search = d
            .action("search")
            .expect("an entity with search fields has search");
        assert!(search.hosted_only);
        assert_eq!(
            search.params.iter().map(|p| p.name).collect::<Vec<_>>(),
            ["query", "limit", "cursor", "fields"]
        );
        assert_eq!(d.search_fields.len(), m.search_fields.len());
        assert_eq!(d.actions[0].action, "list", "list comes first");
    }
}

#[test]
fn entities_carry_bounds_defaults_and_hints() {
    let all = IncidentIoConnector::entities();
    let incidents = all.iter().find(|e| e.entity == "incidents").unwrap();
    let list = incidents.action("list").unwrap();
    assert_eq!(list.cursor_param, Some("after"));
    let page_size = list.param("page_size").unwrap();
    assert_eq!(
        (
            page_size.minimum,
            page_size.maximum,
            page_size.default.clone()
        ),
        (Some(1), Some(250), Some(json!(25)))
    );
    assert_eq!(
        list.signature(),
        "list(page_size?: integer 1..=250 = 25, after?: string)"
    );
    let get = incidents.action("get").unwrap();
    assert_eq!(get.signature(), "get(id: string)");
    assert_eq!(get.param("id").unwrap().location, "path");
    let hints = incidents.hints.as_ref().unwrap();
    assert!(hints.summary.as_deref().unwrap().contains("Incidents"));
    assert!(!hints.example_questions.is_empty());

    // A required param with a default is filled in by the SDK: not required for the caller.
    let alerts = all.iter().find(|e| e.entity == "alerts").unwrap();
    let p = alerts.action("list").unwrap().param("page_size").unwrap();
    assert!(!p.required);
    assert_eq!((p.maximum, p.default.clone()), (Some(50), Some(json!(25))));

    let severities = all.iter().find(|e| e.entity == "severities").unwrap();
    let list = severities.action("list").unwrap();
    assert!(list.cursor_param.is_none() && list.no_pagination.is_some());
    assert!(list.params.is_empty());

    // Serializes to the structured form agents and `incident-io describe` get.
    let v = serde_json::to_value(incidents).unwrap();
    assert_eq!(v["actions"][0]["params"][0]["type"], "integer");
    assert_eq!(v["actions"][0]["params"][0]["in"], "query");
    assert_eq!(v["actions"][2]["action"], "search");
}

// ── entity_schema() ─────────────────────────────────────────────────────────────────────

fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                out.push(r.clone());
            }
            m.values().for_each(|c| refs(c, out));
        }
        Value::Array(a) => a.iter().for_each(|c| refs(c, out)),
        _ => {}
    }
}

#[test]
fn entity_schemas_are_self_contained_valid_json_schemas() {
    for e in meta::entities() {
        let schema = IncidentIoConnector::entity_schema(e.name).unwrap();
        jsonschema::meta::validate(&schema)
            .unwrap_or_else(|err| panic!("{}: not a valid JSON Schema: {err}", e.name));
        assert_eq!(schema["type"], "object", "{}", e.name);
        assert_eq!(schema["title"], e.record_schema);
        let mut found = Vec::new();
        refs(&schema, &mut found);
        for r in found {
            let name = r
                .strip_prefix("#/$defs/")
                .unwrap_or_else(|| panic!("{}: ref {r} points outside the schema", e.name));
            assert!(
                schema["$defs"].get(name).is_some(),
                "{}: $defs lacks {name}",
                e.name
            );
        }
        let text = schema.to_string();
        assert!(
            !text.contains("x-airbyte"),
            "{}: extensions left in",
            e.name
        );
        assert!(!text.contains("components/schemas"), "{}", e.name);
        jsonschema::validator_for(&schema).unwrap();
    }
    let incidents = IncidentIoConnector::entity_schema("incidents").unwrap();
    assert_eq!(incidents["required"], json!(["id", "name"]));
    // Optional `$ref` fields may be null; enums are open (examples, not a closed enum).
    assert_eq!(
        incidents["properties"]["severity"]["anyOf"][1],
        json!({"type": "null"})
    );
    let v = jsonschema::validator_for(&incidents).unwrap();
    assert!(!v.is_valid(&json!({})), "id and name are required");
    assert!(
        !v.is_valid(&json!({"id": 1, "name": "x"})),
        "id is a string"
    );
    assert!(v.is_valid(&json!({"id": "1", "name": "x", "mode": "a-new-mode", "severity": null})));
    let mode = &incidents["$defs"]["IncidentMode"];
    assert!(mode.get("enum").is_none());
    assert!(mode["examples"]
        .as_array()
        .unwrap()
        .contains(&json!("standard")));
}

#[test]
fn entity_schema_of_an_unknown_entity_lists_the_valid_ones() {
    let err = IncidentIoConnector::entity_schema("incident").unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }));
    let msg = err.to_string();
    assert!(msg.contains("unknown entity `incident`"), "{msg}");
    for e in meta::entities() {
        assert!(msg.contains(e.name), "{msg}");
    }
}

/// Every record the SDK returns, in both modes, validates against its entity's schema.
#[tokio::test]
async fn records_from_execute_validate_against_entity_schema() {
    let emu = Emulator::builder(incident_io_connector::SPEC_JSON)
        .default_count(12)
        .start()
        .await
        .unwrap();
    let direct = IncidentIoConnector::builder()
        .auth(IncidentIoAuthConfig::new(emu.api_key()))
        .base_url(&emu.base_url())
        .unwrap()
        .build()
        .unwrap();
    let hosted = IncidentIoConnector::builder()
        .auth(
            AirbyteAuthConfig::new(emu.airbyte_client_id(), emu.airbyte_client_secret())
                .workspace_name(emu.airbyte_workspace())
                .airbyte_api_url(emu.airbyte_api_url()),
        )
        .build()
        .unwrap();
    for e in meta::entities() {
        let schema = IncidentIoConnector::entity_schema(e.name).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        for (mode, c) in [("direct", &direct), ("hosted", &hosted)] {
            let page = c
                .execute_with(
                    e.name,
                    "list",
                    json!({}),
                    ExecuteOptions::new().max_output_chars(None),
                )
                .await
                .unwrap();
            let records = page["data"].as_array().unwrap();
            assert!(!records.is_empty(), "{mode} {}", e.name);
            for r in records {
                if let Err(err) = validator.validate(r) {
                    panic!(
                        "{mode} {} record does not match its schema: {err}\n{r}",
                        e.name
                    );
                }
            }
            if e.operation("get").is_some() {
                let id = records[0]["id"].as_str().unwrap();
                let one = c.execute(e.name, "get", json!({"id": id})).await.unwrap();
                assert!(validator.is_valid(&one), "{mode} {}.get", e.name);
            }
        }
    }
}

// ── tool_description() ──────────────────────────────────────────────────────────────────

#[test]
fn tool_description_snapshot() {
    snapshot(
        "tool_description.txt",
        &format!("{}\n", IncidentIoConnector::tool_description()),
    );
}

#[test]
fn tool_description_is_right_for_incident_io() {
    let d = IncidentIoConnector::tool_description();
    // pydantic-ai (griffe) cuts a docstring at the first blank line.
    assert!(!d.lines().any(|l| l.trim().is_empty()), "blank line");
    assert!(!d.starts_with(char::is_whitespace) && !d.ends_with('\n'));
    // No line a Google-style docstring parser would take for a section header.
    for l in d.lines() {
        let head = l
            .split(':')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        assert!(
            !matches!(
                head.as_str(),
                "args"
                    | "arguments"
                    | "parameters"
                    | "params"
                    | "returns"
                    | "return"
                    | "raises"
                    | "yields"
                    | "examples"
                    | "example"
                    | "note"
                    | "notes"
                    | "warning"
                    | "warnings"
                    | "attributes"
            ) || !l.trim_end().ends_with(':'),
            "section-like line: {l}"
        );
        assert!(!l.starts_with(' '), "indented line: {l}");
    }
    // Paging as incident.io does it: next_cursor back as after; null on the last page.
    assert!(d.contains("\"after\": meta.next_cursor"), "{d}");
    assert!(d.contains("next_cursor null means this was the last page"));
    assert!(!d.contains("meta.has_more") || d.contains("no has_more"));
    assert!(d.contains("has no has_more, starting_after"));
    // Every entity, every action signature with bounds and defaults.
    for e in IncidentIoConnector::entities() {
        assert!(d.contains(&format!("- {}: ", e.entity)), "{}", e.entity);
        for a in e.actions.iter().filter(|a| !a.hosted_only) {
            assert!(d.contains(&a.signature()), "{}", a.signature());
        }
    }
    assert!(d.contains("page_size?: integer 1..=250 = 25"));
    // Search in hosted mode, with its operators.
    assert!(d.contains("hosted mode only"));
    for op in incident_io_connector::introspect::SEARCH_OPERATORS {
        assert!(d.contains(&format!("\"{op}\"")), "operator {op}");
    }
    // Example questions from the spec, and the output limit.
    assert!(d.contains("\"Which incidents are still open?\""));
    assert!(d.contains("\"Raise the severity of INC-42\""));
    assert!(d.contains("100,000 characters"));
}

// ── tool_input_schema() ─────────────────────────────────────────────────────────────────

#[test]
fn tool_input_schema_snapshot() {
    let schema = IncidentIoConnector::tool_input_schema();
    snapshot(
        "tool_input_schema.json",
        &format!("{}\n", serde_json::to_string_pretty(&schema).unwrap()),
    );
}

/// Keywords OpenAI (non-strict) and Anthropic function calling accept.
const PORTABLE_KEYWORDS: &[&str] = &[
    "type",
    "description",
    "title",
    "properties",
    "required",
    "additionalProperties",
    "enum",
    "const",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "pattern",
    "default",
    "items",
    "minProperties",
    "maxProperties",
    "propertyNames",
    "oneOf",
    "if",
    "then",
];

fn keywords(schema: &Value, at: &str, out: &mut Vec<(String, String)>) {
    let Some(obj) = schema.as_object() else {
        return;
    };
    for (k, v) in obj {
        out.push((at.to_string(), k.clone()));
        match k.as_str() {
            "properties" => {
                for (name, s) in v.as_object().unwrap() {
                    keywords(s, &format!("{at}/properties/{name}"), out);
                }
            }
            "items" | "additionalProperties" | "propertyNames" | "if" | "then" => {
                keywords(v, &format!("{at}/{k}"), out)
            }
            "oneOf" => {
                for (i, s) in v.as_array().unwrap().iter().enumerate() {
                    keywords(s, &format!("{at}/oneOf/{i}"), out);
                }
            }
            _ => {}
        }
    }
}

#[test]
fn tool_input_schema_fits_function_calling() {
    let schema = IncidentIoConnector::tool_input_schema();
    jsonschema::meta::validate(&schema).unwrap();
    assert_eq!(schema["type"], "object");
    assert_eq!(schema["additionalProperties"], false);
    assert_eq!(schema["required"], json!(["entity", "action"]));
    // Anthropic rejects oneOf/anyOf/allOf at the top of input_schema; no $ref anywhere.
    for k in ["oneOf", "anyOf", "allOf", "not", "$ref", "$defs", "enum"] {
        assert!(schema.get(k).is_none(), "top-level {k}");
    }
    assert!(!schema.to_string().contains("$ref"));
    let mut found = Vec::new();
    keywords(&schema, "", &mut found);
    for (at, k) in &found {
        assert!(PORTABLE_KEYWORDS.contains(&k.as_str()), "{at}: keyword {k}");
    }
    // One branch per (entity, action), each closed over its params, and one for context-store
    // SQL on any entity.
    let branches = schema["then"]["oneOf"].as_array().unwrap();
    let pairs: usize = IncidentIoConnector::entities()
        .iter()
        .map(|e| e.actions.len())
        .sum();
    assert_eq!(branches.len(), pairs + 1);
    for b in branches {
        let p = &b["properties"];
        if p["action"]["const"] == "context_store_sql_query" {
            assert_eq!(p["params"]["required"], json!(["sql"]));
            assert_eq!(p["params"]["additionalProperties"], false);
            continue;
        }
        assert!(p["entity"]["const"].is_string() && p["action"]["const"].is_string());
        assert_eq!(p["params"]["type"], "object");
        assert_eq!(p["params"]["additionalProperties"], false, "{}", b["title"]);
    }
    let entities: Vec<&str> = meta::entities().iter().map(|e| e.name).collect();
    assert_eq!(schema["properties"]["entity"]["enum"], json!(entities));
}

fn calls() -> (Vec<Value>, Vec<Value>) {
    let valid = vec![
        json!({"entity": "incidents", "action": "list"}),
        json!({"entity": "incidents", "action": "list", "params": {}}),
        json!({"entity": "incidents", "action": "list", "params": {"page_size": 250}}),
        json!({"entity": "incidents", "action": "list", "params": {"page_size": 1, "after": "01HK1572QZ6X10000001SD6DT2"}}),
        json!({"entity": "incidents", "action": "get", "params": {"id": "01FDAG4SAP5TYPT98WGR2N7W91"}}),
        json!({"entity": "incidents", "action": "get", "params": {"id": "123"}}),
        json!({"entity": "alerts", "action": "list", "params": {"page_size": 50}}),
        json!({"entity": "users", "action": "list", "params": {"page_size": 10000}}),
        json!({"entity": "incident_updates", "action": "list", "params": {"incident_id": "01FDAG4SAP5TYPT98WGR2N7W91"}}),
        json!({"entity": "severities", "action": "list"}),
        json!({"entity": "schedules", "action": "get", "params": {"id": "01HK1"}}),
        json!({"entity": "incidents", "action": "search", "params": {
            "query": {"filter": {"and": [{"eq": {"mode": "standard"}}, {"gte": {"created_at": "2026-01-01T00:00:00Z"}}]},
                      "sort": [{"created_at": "desc"}]},
            "limit": 10, "fields": ["id", "severity.name"]}}),
        json!({"entity": "users", "action": "search", "params": {"query": {"filter": {"like": {"email": "%@example.com"}}}}}),
        json!({"entity": "schedules", "action": "search"}),
        json!({"entity": "incidents", "action": "context_store_sql_query", "params": {"sql": "SELECT id FROM incidents ORDER BY id LIMIT 3"}}),
        json!({"entity": "users", "action": "context_store_sql_query", "params": {"sql": "SELECT id, email FROM users", "limit": 2}}),
        json!({"entity": "incidents", "action": "list", "params": {"page_size": 5},
               "select_fields": ["id", "severity.name"], "skip_truncation": false, "intent": "Triage the newest incidents"}),
        json!({"entity": "alerts", "action": "list", "params": {"page_size": 5}, "exclude_fields": ["attributes"]}),
    ];
    let invalid = vec![
        json!({}),
        json!({"entity": "incidents"}),
        json!({"action": "list"}),
        json!({"entity": "incident", "action": "list"}),
        json!({"entity": "incidents", "action": "create"}),
        json!({"entity": "incidents", "action": "list", "params": {"page_size": 251}}),
        json!({"entity": "incidents", "action": "list", "params": {"page_size": 0}}),
        json!({"entity": "incidents", "action": "list", "params": {"page_size": "5"}}),
        json!({"entity": "incidents", "action": "list", "params": {"limit": 5}}),
        json!({"entity": "incidents", "action": "list", "params": {"starting_after": "x"}}),
        json!({"entity": "incidents", "action": "list", "params": {"after": 5}}),
        json!({"entity": "incidents", "action": "list", "params": []}),
        json!({"entity": "incidents", "action": "list", "page_size": 5}),
        json!({"entity": "incidents", "action": "get"}),
        json!({"entity": "incidents", "action": "get", "params": {}}),
        json!({"entity": "incidents", "action": "get", "params": {"id": ""}}),
        json!({"entity": "incidents", "action": "get", "params": {"id": "../v1/x?y"}}),
        json!({"entity": "incidents", "action": "get", "params": {"id": "1", "page_size": 5}}),
        json!({"entity": "incident_updates", "action": "get", "params": {"id": "1"}}),
        json!({"entity": "alerts", "action": "list", "params": {"page_size": 51}}),
        json!({"entity": "severities", "action": "list", "params": {"page_size": 5}}),
        json!({"entity": "incidents", "action": "search", "params": {"query": {"filter": {"equals": {"mode": "x"}}}}}),
        json!({"entity": "incidents", "action": "search", "params": {"limit": 0}}),
        json!({"entity": "incidents", "action": "search", "params": {"fields": ["no_such_field"]}}),
        json!({"entity": "incidents", "action": "search", "params": {"query": {"sort": [{"created_at": "up"}]}}}),
        json!({"entity": "incidents", "action": "search", "params": {"page_size": 5}}),
        json!({"entity": "incidents", "action": "context_store_sql_query"}),
        json!({"entity": "incidents", "action": "context_store_sql_query", "params": {"sql": ""}}),
        json!({"entity": "incidents", "action": "context_store_sql_query", "params": {"sql": "SELECT 1", "limit": 0}}),
        json!({"entity": "incidents", "action": "context_store_sql_query", "params": {"sql": "SELECT 1", "page_size": 5}}),
        json!({"entity": "incidents", "action": "list", "select_fields": "id"}),
        json!({"entity": "incidents", "action": "list", "skip_truncation": "no"}),
        json!({"entity": "incidents", "action": "list", "intent": "x".repeat(513)}),
    ];
    (valid, invalid)
}

#[test]
fn example_calls_validate_against_tool_input_schema() {
    let schema = IncidentIoConnector::tool_input_schema();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let (valid, invalid) = calls();
    for call in &valid {
        if let Err(e) = validator.validate(call) {
            panic!("valid call rejected: {call}: {e}");
        }
    }
    for call in &invalid {
        assert!(!validator.is_valid(call), "invalid call accepted: {call}");
    }
}

/// The schema and `execute` agree: what the schema accepts, `execute` runs (hosted mode, so
/// search runs too); what it rejects for its params, `execute` refuses before any request.
#[tokio::test]
async fn tool_input_schema_agrees_with_execute() {
    let emu = Emulator::builder(incident_io_connector::SPEC_JSON)
        .default_count(5)
        .start()
        .await
        .unwrap();
    let c = IncidentIoConnector::builder()
        .auth(
            AirbyteAuthConfig::new(emu.airbyte_client_id(), emu.airbyte_client_secret())
                .workspace_name(emu.airbyte_workspace())
                .airbyte_api_url(emu.airbyte_api_url()),
        )
        .build()
        .unwrap();
    let first = |entity: &str| {
        emu.record(entity, 0).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (mut valid, invalid) = calls();
    // Ids that exist in the emulator, so the valid gets succeed.
    for call in &mut valid {
        if call["action"] == "get" {
            let entity = call["entity"].as_str().unwrap().to_string();
            call["params"]["id"] = json!(first(&entity));
        }
        if call["params"].get("after").is_some() {
            call["params"]["after"] = json!(first("incidents"));
        }
    }
    for call in &valid {
        let params = call.get("params").cloned().unwrap_or(Value::Null);
        let mut options = ExecuteOptions::new().max_output_chars(None);
        if let Some(f) = call.get("select_fields").and_then(Value::as_array) {
            options = options.select_fields(f.iter().map(|v| v.as_str().unwrap()));
        }
        if let Some(f) = call.get("exclude_fields").and_then(Value::as_array) {
            options = options.exclude_fields(f.iter().map(|v| v.as_str().unwrap()));
        }
        if let Some(b) = call.get("skip_truncation").and_then(Value::as_bool) {
            options = options.skip_truncation(b);
        }
        if let Some(i) = call.get("intent").and_then(Value::as_str) {
            options = options.intent(i);
        }
        let r = c
            .execute_with(
                call["entity"].as_str().unwrap(),
                call["action"].as_str().unwrap(),
                params,
                options,
            )
            .await;
        assert!(
            r.is_ok(),
            "schema-valid call failed: {call}: {}",
            r.unwrap_err()
        );
    }
    for call in &invalid {
        let (Some(entity), Some(action)) = (call["entity"].as_str(), call["action"].as_str())
        else {
            continue; // a missing entity or action cannot even be passed to execute
        };
        let wrapper_keys = [
            "page_size",
            "select_fields",
            "exclude_fields",
            "skip_truncation",
            "intent",
        ];
        if call.as_object().unwrap().len() > 3 || wrapper_keys.iter().any(|k| call.get(k).is_some())
        {
            continue; // a stray top-level key, or an option's type, is the tool wrapper's concern
        }
        let params = call.get("params").cloned().unwrap_or(Value::Null);
        let before = emu.request_count();
        match c.execute(entity, action, params).await {
            Err(Error::InvalidInput { .. }) => {}
            other => panic!("schema-invalid call not refused as invalid input: {call}: {other:?}"),
        }
        assert_eq!(emu.request_count(), before, "a request was sent for {call}");
    }
}

// ── max_output_chars ────────────────────────────────────────────────────────────────────

#[tokio::test]
async fn large_results_are_refused_with_advice_never_truncated() {
    let emu = Emulator::builder(incident_io_connector::SPEC_JSON)
        .count("incidents", 300)
        .start()
        .await
        .unwrap();
    let c = IncidentIoConnector::builder()
        .auth(IncidentIoAuthConfig::new(emu.api_key()))
        .base_url(&emu.base_url())
        .unwrap()
        .build()
        .unwrap();
    // The default page (25 incidents) fits the default limit.
    let page = c.execute("incidents", "list", json!({})).await.unwrap();
    assert_eq!(page["data"].as_array().unwrap().len(), 25);
    let size = page.to_string().chars().count();
    assert!(
        size <= incident_io_connector::DEFAULT_MAX_OUTPUT_CHARS,
        "{size}"
    );

    // 250 incidents do not.
    let err = c
        .execute("incidents", "list", json!({"page_size": 250}))
        .await
        .unwrap_err();
    let Error::InvalidInput { field, message } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(field, "params.page_size");
    assert!(
        message.contains("(250 records), over the limit of 100,000"),
        "{message}"
    );
    assert!(message.contains("pass page_size"), "{message}");
    assert!(!err.is_retryable());

    // The advice works: the suggested page size fits.
    let suggested: i64 = message
        .split("pass page_size ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!((1..250).contains(&suggested));
    let ok = c
        .execute("incidents", "list", json!({"page_size": suggested}))
        .await
        .unwrap();
    assert_eq!(ok["data"].as_array().unwrap().len() as i64, suggested);

    // A custom limit; a get larger than it cannot be split.
    let tiny = ExecuteOptions::new().max_output_chars(Some(100));
    let id = ok["data"][0]["id"].as_str().unwrap();
    let err = c
        .execute_with("incidents", "get", json!({"id": id}), tiny)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("raise max_output_chars"), "{err}");
    // Exactly at the limit passes; no limit (None or 0) passes everything.
    let record = c
        .execute("incidents", "get", json!({"id": id}))
        .await
        .unwrap();
    let exact = record.to_string().chars().count();
    let at = ExecuteOptions::new().max_output_chars(Some(exact));
    assert_eq!(
        c.execute_with("incidents", "get", json!({"id": id}), at)
            .await
            .unwrap(),
        record
    );
    let below = ExecuteOptions::new().max_output_chars(Some(exact - 1));
    assert!(c
        .execute_with("incidents", "get", json!({"id": id}), below)
        .await
        .is_err());
    for off in [None, Some(0)] {
        let all = c
            .execute_with(
                "incidents",
                "list",
                json!({"page_size": 250}),
                ExecuteOptions::new().max_output_chars(off),
            )
            .await
            .unwrap();
        assert_eq!(all["data"].as_array().unwrap().len(), 250);
    }
}
