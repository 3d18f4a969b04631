//! Progressive docs for agents: the three tool definitions stay small (the figures are
//! printed, and the test fails past 8,000 characters), the docs and the runtime agree (every
//! call an entity's section documents succeeds, one past a documented bound is refused before
//! any request), and `inspect` / `skill_docs` work in both modes over the wire.

use connector_sdk_emulator::Emulator;
use incident_io_connector::{
    progressive, AirbyteAuthConfig, Error, IncidentIoAuthConfig, IncidentIoConnector,
};
use serde_json::{json, Value};

/// The target for the progressive form: the three definitions together.
const MAX_PROGRESSIVE_CHARS: usize = 8_000;

#[test]
fn the_three_tools_fit_in_8000_characters() {
    let tools = IncidentIoConnector::tools();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "incident_io_execute",
            "incident_io_docs",
            "incident_io_inspect"
        ]
    );
    let sizes: Vec<usize> = tools.iter().map(|t| t.size()).collect();
    let total: usize = sizes.iter().sum();
    let single = IncidentIoConnector::single_tool();
    println!(
        "tool definitions (name + description + compact schema, characters): progressive {total} (execute {}, docs {}, inspect {}); single tool {} (description {}, schema {})",
        sizes[0],
        sizes[1],
        sizes[2],
        single.size(),
        single.description.chars().count(),
        single.input_schema.to_string().chars().count()
    );
    assert!(
        total <= MAX_PROGRESSIVE_CHARS,
        "the progressive tools take {total} characters, over {MAX_PROGRESSIVE_CHARS}"
    );
    assert!(total * 4 < single.size(), "a fraction of the single tool");
    for t in &tools {
        jsonschema::meta::validate(&t.input_schema).unwrap();
        assert_eq!(t.input_schema["type"], "object");
        assert!(
            !t.description.contains("\n\n"),
            "no blank lines: {}",
            t.name
        );
    }
}

#[test]
fn the_outline_lists_topics_and_entities_and_bad_sections_say_what_is_valid() {
    let outline = IncidentIoConnector::docs(None).unwrap();
    for id in progressive::outline().iter().map(|s| s.id.clone()) {
        assert!(
            outline.contains(&format!("- {id}: ")),
            "{id} in:\n{outline}"
        );
    }
    for e in IncidentIoConnector::entities() {
        assert!(outline.contains(&format!("- {}: ", e.entity)));
    }
    for topic in ["paging", "shaping", "search", "sql", "errors"] {
        let text = IncidentIoConnector::docs(Some(topic)).unwrap();
        assert!(text.starts_with(&format!("# {topic}\n")), "{text}");
        assert!(text.len() > 80, "{topic}: {text}");
    }
    assert!(IncidentIoConnector::docs(Some("sql"))
        .unwrap()
        .contains("semantic_search("));
    let e = IncidentIoConnector::docs(Some("incidentz")).unwrap_err();
    assert!(
        matches!(&e, Error::InvalidInput { field, .. } if field == "section"),
        "{e}"
    );
    assert!(
        e.to_string().contains("valid sections: paging, shaping"),
        "{e}"
    );
}

/// A param as an entity's section documents it.
#[derive(Debug)]
struct DocParam {
    name: String,
    kind: String,
    bounds: Option<(i64, i64)>,
    allowed: Vec<String>,
    required: bool,
}

/// The `(action, params)` an entity's section documents, read from its text the way an agent
/// reads it: `- list: ...` starts an action, `  - name: type, a..=b, ..., required|optional.`
/// lines are its params.
fn documented(section: &str) -> Vec<(String, Vec<DocParam>)> {
    let mut out: Vec<(String, Vec<DocParam>)> = Vec::new();
    for line in section.lines() {
        if let Some(rest) = line.strip_prefix("- ") {
            let action = rest.split([':', ' ']).next().unwrap().to_string();
            if matches!(action.as_str(), "list" | "get") {
                out.push((action, Vec::new()));
            }
        } else if let Some(rest) = line.strip_prefix("  - ") {
            let (name, spec) = rest.split_once(": ").unwrap();
            let head = spec.split(". ").next().unwrap();
            let parts: Vec<&str> = head.split(", ").collect();
            let bounds = parts.iter().find_map(|p| {
                let (a, b) = p.split_once("..=")?;
                Some((a.parse().ok()?, b.parse().ok()?))
            });
            let allowed = parts
                .iter()
                .find_map(|p| p.strip_prefix("one of "))
                .map(|v| v.split('|').map(str::to_string).collect())
                .unwrap_or_default();
            out.last_mut()
                .expect("a param under an action")
                .1
                .push(DocParam {
                    name: name.to_string(),
                    kind: parts[0].to_string(),
                    bounds,
                    allowed,
                    required: parts.contains(&"required"),
                });
        }
    }
    out
}

#[tokio::test]
async fn every_call_an_entity_section_documents_succeeds() {
    let emu = Emulator::builder(incident_io_connector::SPEC_JSON)
        .default_count(12)
        .start()
        .await
        .unwrap();
    let c = IncidentIoConnector::builder()
        .auth(IncidentIoAuthConfig::new(emu.api_key()))
        .base_url(&emu.base_url())
        .unwrap()
        .build()
        .unwrap();
    let schema = IncidentIoConnector::tools()[0].input_schema.clone();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let mut calls = 0;
    for e in IncidentIoConnector::entities() {
        let section = IncidentIoConnector::docs(Some(e.entity)).unwrap();
        let actions = documented(&section);
        assert_eq!(
            actions.iter().map(|(a, _)| a.as_str()).collect::<Vec<_>>(),
            e.actions
                .iter()
                .filter(|a| !a.hosted_only)
                .map(|a| a.action)
                .collect::<Vec<_>>(),
            "{}: the section documents every action",
            e.entity
        );
        let first_id = emu.record(e.entity, 0).unwrap()["id"].clone();
        let parent = emu.record("incidents", 0).unwrap()["id"].clone();
        for (action, params) in &actions {
            let real = e.action(action).unwrap();
            assert_eq!(params.len(), real.params.len(), "{}.{action}", e.entity);
            // Every documented param at the edge of what the docs allow.
            let mut p = serde_json::Map::new();
            for d in params {
                let v = match (d.kind.as_str(), d.bounds, d.allowed.first()) {
                    (_, _, Some(first)) => json!(first),
                    ("integer", Some((_, max)), _) => json!(max),
                    ("string", _, _) if d.name == "id" => first_id.clone(),
                    ("string", _, _) if d.name.ends_with("_id") => parent.clone(),
                    ("string", _, _) if d.name == "after" => continue,
                    (kind, _, _) => {
                        panic!("{}.{action}: no value for {} ({kind})", e.entity, d.name)
                    }
                };
                if d.required
                    || d.bounds.is_some()
                    || !d.allowed.is_empty()
                    || d.name.ends_with("_id")
                {
                    p.insert(d.name.clone(), v);
                }
            }
            let call = json!({"entity": e.entity, "action": action, "params": p});
            assert!(validator.is_valid(&call), "the compact schema takes {call}");
            let got = c.execute(e.entity, action, Value::Object(p.clone())).await;
            assert!(got.is_ok(), "documented call failed: {call}: {got:?}");
            calls += 1;
            // One past a documented bound is refused before any request.
            if let Some(d) = params.iter().find(|d| d.bounds.is_some()) {
                let (_, max) = d.bounds.unwrap();
                let mut over = p.clone();
                over.insert(d.name.clone(), json!(max + 1));
                let before = emu.request_count();
                let e2 = c
                    .execute(e.entity, action, Value::Object(over))
                    .await
                    .unwrap_err();
                assert!(matches!(e2, Error::InvalidInput { .. }), "{e2}");
                assert_eq!(emu.request_count(), before);
            }
        }
    }
    assert!(calls >= 25, "{calls} calls");
}

#[tokio::test]
async fn inspect_and_skill_docs_in_both_modes() {
    let emu = Emulator::builder(incident_io_connector::SPEC_JSON)
        .default_count(3)
        .start()
        .await
        .unwrap();
    let direct = IncidentIoConnector::builder()
        .auth(IncidentIoAuthConfig::new(emu.api_key()))
        .base_url(&emu.base_url())
        .unwrap()
        .build()
        .unwrap();
    let local = direct.inspect().await.unwrap();
    assert_eq!(local["mode"], "direct");
    assert_eq!(local["connector_version"], "1.0.5");
    assert!(local["entities"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["name"] == "teams"));
    assert!(local["warning"].as_str().unwrap().contains("hosted"));
    assert_eq!(emu.request_count(), 0, "direct inspect makes no request");
    let e = direct.skill_docs(None).await.unwrap_err();
    assert!(matches!(e, Error::HostedOnly { .. }), "{e:?}");

    let hosted = IncidentIoConnector::builder()
        .auth(
            AirbyteAuthConfig::new(emu.airbyte_client_id(), emu.airbyte_client_secret())
                .workspace_name(emu.airbyte_workspace())
                .airbyte_api_url(emu.airbyte_api_url()),
        )
        .build()
        .unwrap();
    let remote = hosted.inspect().await.unwrap();
    assert_eq!(remote["id"], emu.airbyte_connector_id());
    assert_eq!(remote["status"], "ready");
    let skill = remote["docs_skill_id"].as_str().unwrap().to_string();
    let outline = hosted.skill_docs(None).await.unwrap();
    assert_eq!(outline["id"], skill);
    assert!(outline["outline"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["id"] == "incidents"));
    let section = hosted.skill_docs(Some("incidents")).await.unwrap();
    assert_eq!(section["section_id"], "incidents");
    let paths: Vec<String> = emu
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(paths.iter().any(|p| p.ends_with(&format!(
        "/connectors/{}/inspect",
        emu.airbyte_connector_id()
    ))));
    let docs_calls: Vec<_> = emu
        .requests()
        .into_iter()
        .filter(|r| r.path == "/api/v1/skills/docs")
        .collect();
    assert_eq!(docs_calls.len(), 2);
    assert!(docs_calls[1]
        .query_pairs
        .contains(&("section".to_string(), "incidents".to_string())));
    let e = hosted.skill_docs(Some("nope")).await.unwrap_err();
    assert_eq!(e.status(), Some(404), "{e}");
}
