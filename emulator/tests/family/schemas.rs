//! Synthetic records fit their schemas (`schemas.yaml` and an inline spec): `oneOf` with and
//! without `null`, `type: null`, multi-type `type`, typed and free maps, non-identifier
//! property names, `allOf` merges, inline record schemas.

use std::collections::HashSet;

use connector_sdk_emulator::Emulator;
use serde_json::{json, Value};

use crate::common::{assert_all_once, get, records_at, spec, spec_value};
use crate::walk;

/// Checks `v` against the JSON Schema subset the fixtures use (`$ref`, `type` (string or
/// list), `enum`, `oneOf` (exactly one), `anyOf`, `allOf`, `properties`, `required`,
/// `additionalProperties`, `items`).
fn validate(root: &Value, schema: &Value, v: &Value, at: &str) -> Result<(), String> {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let target = root
            .pointer(r.trim_start_matches('#'))
            .expect("a resolvable $ref");
        return validate(root, target, v, at);
    }
    if let Value::Bool(b) = schema {
        return if *b {
            Ok(())
        } else {
            Err(format!("{at}: false schema"))
        };
    }
    if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
        for p in parts {
            validate(root, p, v, at)?;
        }
    }
    if let Some(alts) = schema.get("oneOf").and_then(Value::as_array) {
        let n = alts
            .iter()
            .filter(|a| validate(root, a, v, at).is_ok())
            .count();
        if n != 1 {
            return Err(format!("{at}: {v} matches {n} oneOf alternatives"));
        }
    }
    if let Some(alts) = schema.get("anyOf").and_then(Value::as_array) {
        if !alts.iter().any(|a| validate(root, a, v, at).is_ok()) {
            return Err(format!("{at}: {v} matches no anyOf alternative"));
        }
    }
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !types.is_empty() {
        let ok = types.iter().any(|t| match *t {
            "null" => v.is_null(),
            "string" => v.is_string(),
            "integer" => v.is_i64() || v.is_u64(),
            "number" => v.is_number(),
            "boolean" => v.is_boolean(),
            "array" => v.is_array(),
            "object" => v.is_object(),
            _ => false,
        });
        if !ok {
            return Err(format!("{at}: {v} is not {types:?}"));
        }
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array) {
        if !e.contains(v) {
            return Err(format!("{at}: {v} not in {e:?}"));
        }
    }
    if let Value::Object(obj) = v {
        for r in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let r = r.as_str().unwrap();
            if !obj.contains_key(r) {
                return Err(format!("{at}: required {r} missing in {v}"));
            }
        }
        let props = schema.get("properties").and_then(Value::as_object);
        for (k, x) in obj {
            let here = format!("{at}.{k}");
            match props.and_then(|p| p.get(k)) {
                Some(s) => validate(root, s, x, &here)?,
                None => match schema.get("additionalProperties") {
                    Some(Value::Bool(false)) => return Err(format!("{here}: not allowed")),
                    Some(s) if s.is_object() => validate(root, s, x, &here)?,
                    _ => {}
                },
            }
        }
    }
    if let (Value::Array(items), Some(s)) = (v, schema.get("items")) {
        for (i, x) in items.iter().enumerate() {
            validate(root, s, x, &format!("{at}[{i}]"))?;
        }
    }
    Ok(())
}

fn schema_at<'a>(root: &'a Value, pointer: &str) -> &'a Value {
    root.pointer(pointer)
        .unwrap_or_else(|| panic!("no schema at {pointer}"))
}

#[tokio::test]
async fn opalgrid_records_fit_their_schemas() {
    let root = spec_value("schemas.yaml");
    let emu = Emulator::builder(&spec("schemas.yaml"))
        .count("campaigns", 40)
        .count("ad_insights", 60)
        .count("automations", 30)
        .count("audiences", 20)
        .start()
        .await
        .unwrap();

    // The list is typed from CampaignSummary, the get from Campaign: one record, two shapes.
    let summary = schema_at(&root, "/components/schemas/CampaignSummary");
    let full = schema_at(&root, "/components/schemas/Campaign");
    let (list, _) = walk(
        &emu,
        "/campaigns",
        &[],
        |b| records_at(b, "/data"),
        |r| {
            r.json()
                .pointer("/paging/next_cursor")
                .and_then(Value::as_str)
                .map(|c| format!("/campaigns?after={c}"))
        },
    )
    .await;
    assert_all_once(&emu, "campaigns", &list);
    let mut seen: HashSet<String> = HashSet::new();
    let mut kinds: HashSet<(String, &str)> = HashSet::new();
    for rec in &list {
        validate(&root, summary, rec, "summary").unwrap();
        let id = rec["id"]
            .as_str()
            .expect("ids take the first alternative (string)");
        let r = get(&emu, &format!("/campaigns/{id}"), &[]).await;
        assert_eq!(r.status, 200);
        let got = r.json()["data"].clone();
        validate(&root, full, &got, "campaign").unwrap();
        for k in ["id", "name", "type"] {
            assert_eq!(got.get(k), rec.get(k), "{k} agrees between list and get");
        }
        for (k, v) in got.as_object().unwrap() {
            seen.insert(k.clone());
            let kind = match v {
                Value::Null => "null",
                Value::Bool(_) => "boolean",
                Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
                Value::Number(_) => "number",
                Value::String(_) => "string",
                Value::Array(_) => "array",
                Value::Object(_) => "object",
            };
            kinds.insert((k.clone(), kind));
        }
    }
    for k in [
        "self",
        "budget",
        "labels",
        "metrics_by_day",
        "custom_fields",
        "targeting",
    ] {
        assert!(seen.contains(k), "campaigns carry {k}");
    }
    // Several non-null types: both appear across records.
    for (k, a, b) in [
        ("owner_ref", "integer", "string"),
        ("bid_amount", "number", "string"),
        ("tracking", "boolean", "object"),
    ] {
        assert!(
            kinds.contains(&(k.to_string(), a)) && kinds.contains(&(k.to_string(), b)),
            "{k}: {:?}",
            kinds.iter().filter(|(n, _)| n == k).collect::<Vec<_>>()
        );
    }

    // Non-identifier and keyword property names; offset pagination by next_offset.
    let insight = schema_at(&root, "/components/schemas/AdInsight");
    let (rows, pages) = walk(
        &emu,
        "/insights",
        &[],
        |b| records_at(b, "/rows"),
        |r| {
            r.json()
                .pointer("/summary/next_offset")
                .and_then(Value::as_u64)
                .map(|o| format!("/insights?offset={o}"))
        },
    )
    .await;
    assert_eq!(pages.len(), 3);
    assert_eq!(pages[0].at("/summary/total_rows"), json!(60));
    assert_eq!(pages[2].at("/summary/next_offset"), Value::Null);
    assert_all_once(&emu, "ad_insights", &rows);
    let mut keys: HashSet<String> = HashSet::new();
    for r in &rows {
        validate(&root, insight, r, "insight").unwrap();
        keys.extend(r.as_object().unwrap().keys().cloned());
    }
    for k in [
        "1d_click", "+1", "$field", "b2b?", "a.b", "16x16", "self", "ref", "match", "virtual",
        "return",
    ] {
        assert!(keys.contains(k), "insights carry {k:?}");
    }

    // Object variants told apart by a required `kind`.
    let automation = schema_at(&root, "/components/schemas/Automation");
    let r = get(&emu, "/automations", &[]).await;
    let autos = records_at(&r.json(), "/automations");
    assert_all_once(&emu, "automations", &autos);
    let mut trigger_kinds = HashSet::new();
    for a in &autos {
        validate(&root, automation, a, "automation").unwrap();
        trigger_kinds.insert(a["trigger"]["kind"].as_str().unwrap().to_string());
    }
    assert_eq!(trigger_kinds.len(), 2, "{trigger_kinds:?}");

    // An inline record schema (no component) at the extractor path.
    let inline = schema_at(
        &root,
        "/paths/~1audiences/get/responses/200/content/application~1json/schema/properties/audiences/items",
    );
    let r = get(&emu, "/audiences", &[]).await;
    let auds = records_at(&r.json(), "/audiences");
    assert_all_once(&emu, "audiences", &auds);
    for a in &auds {
        validate(&root, inline, a, "audience").unwrap();
    }
    assert!(auds.iter().any(|a| a["rule"]["source"]["kind"].is_string()));
}

/// A spec of our own: `allOf` merges, `type: null`, `oneOf` wrappers on the way to the
/// records, an inline record schema, an object-with-null `type`.
fn inline_spec() -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Inline", "version": "1", "x-airbyte-connector-name": "inline",
                 "x-airbyte-connector-definition-id": "00000000-0000-4000-8000-000000000001"},
        "servers": [{"url": "https://inline.example.com"}],
        "paths": {
            "/things": {"get": {
                "x-airbyte-entity": "things", "x-airbyte-action": "list",
                "x-airbyte-record-extractor": "$.page.things",
                "x-airbyte-no-pagination": "small",
                "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {
                    "type": "object",
                    "properties": {"page": {"oneOf": [{"$ref": "#/components/schemas/Page"}, {"type": "null"}]}}
                }}}}}
            }}
        },
        "components": {"schemas": {
            "Page": {"type": ["object", "null"], "properties": {"things": {"type": "array", "items": {"$ref": "#/components/schemas/Thing"}}}},
            "Base": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}, "kind": {"type": "string", "enum": ["a", "b"]}}},
            "Extra": {"allOf": [{"type": "object", "required": ["size"], "properties": {"size": {"type": "integer", "minimum": 3, "maximum": 9}}}]},
            "Thing": {"allOf": [
                {"$ref": "#/components/schemas/Base"},
                {"$ref": "#/components/schemas/Extra"},
                {"type": "object", "required": ["nothing", "maybe"], "properties": {
                    "nothing": {"type": "null"},
                    "maybe": {"oneOf": [{"type": "string", "format": "date"}, {"type": "null"}]},
                    "attrs": {"type": "object", "additionalProperties": {"type": "integer"}},
                    "free": {"type": "object", "additionalProperties": true}
                }}
            ]}
        }}
    })
}

#[tokio::test]
async fn all_of_null_and_inline_wrappers() {
    let root = inline_spec();
    let emu = Emulator::builder(&root.to_string())
        .count("things", 25)
        .start()
        .await
        .unwrap();
    let r = get(&emu, "/things", &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let things = records_at(&r.json(), "/page/things");
    assert_all_once(&emu, "things", &things);
    let thing = schema_at(&root, "/components/schemas/Thing");
    for t in &things {
        validate(&root, thing, t, "thing").unwrap();
        assert_eq!(t["nothing"], Value::Null, "{t}");
        let size = t["size"].as_i64().unwrap();
        assert!((3..=9).contains(&size));
        if let Some(attrs) = t.get("attrs") {
            assert!(attrs.as_object().unwrap().values().all(Value::is_i64));
        }
    }
}
