//! Property tests: any JSON the API could send for an entity (unknown fields, nulls, unknown
//! enum values, wrong types, extra-long strings, deep nesting) either decodes into the typed
//! model or gives a decode error; it never panics. Base records come from the emulator, which
//! renders them from the spec.

use std::sync::OnceLock;

use connector_sdk_emulator::Emulator;
use incident_io_connector::models;
use proptest::prelude::*;
use serde_json::{Map, Value};

/// One real record per entity, as the emulator serves them.
fn bases() -> &'static Vec<(String, Value)> {
    static BASES: OnceLock<Vec<(String, Value)>> = OnceLock::new();
    BASES.get_or_init(|| {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let emu = Emulator::builder(incident_io_connector::SPEC_JSON)
                .default_count(3)
                .start()
                .await
                .unwrap();
            let mut out = Vec::new();
            for e in emu.entities() {
                for i in 0..3 {
                    out.push((e.clone(), emu.record(&e, i).unwrap()));
                }
            }
            out
        })
    })
}

/// Top-level fields of an entity's record that hold an enum (from the spec).
fn enum_fields(entity: &str) -> Vec<String> {
    let spec: Value = serde_json::from_str(incident_io_connector::SPEC_JSON).unwrap();
    let meta = incident_io_connector::meta::entity(entity).unwrap();
    let schemas = &spec["components"]["schemas"];
    let props = schemas[meta.record_schema]["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    props
        .into_iter()
        .filter(|(_, p)| {
            p["$ref"]
                .as_str()
                .and_then(|r| r.rsplit('/').next())
                .is_some_and(|name| schemas[name]["enum"].is_array())
        })
        .map(|(k, _)| k)
        .collect()
}

/// Decodes `bytes` as the record type of `entity`; `Ok(true)` if it decoded.
fn decode(entity: &str, bytes: &[u8]) -> bool {
    fn ok<T: serde::de::DeserializeOwned>(b: &[u8]) -> bool {
        serde_json::from_slice::<T>(b).is_ok()
    }
    match entity {
        "incidents" => ok::<models::Incident>(bytes),
        "alerts" => ok::<models::Alert>(bytes),
        "escalations" => ok::<models::Escalation>(bytes),
        "users" => ok::<models::User>(bytes),
        "incident_updates" => ok::<models::IncidentUpdate>(bytes),
        "incident_roles" => ok::<models::IncidentRole>(bytes),
        "incident_statuses" => ok::<models::IncidentStatus>(bytes),
        "incident_timestamps" => ok::<models::IncidentTimestamp>(bytes),
        "severities" => ok::<models::Severity>(bytes),
        "custom_fields" => ok::<models::CustomField>(bytes),
        "catalog_types" => ok::<models::CatalogType>(bytes),
        "schedules" => ok::<models::Schedule>(bytes),
        "teams" => ok::<models::Team>(bytes),
        other => panic!("no model mapped for entity {other}"),
    }
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "[a-z_]{0,12}".prop_map(Value::String),
        "\\PC{0,40}".prop_map(Value::String),
        (1usize..20_000).prop_map(|n| Value::String("x".repeat(n))),
    ];
    leaf.prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,10}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Every (path, value) pair of a JSON tree, so a mutation can pick any node.
fn paths(v: &Value, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    out.push(prefix.clone());
    match v {
        Value::Object(m) => {
            for (k, c) in m {
                prefix.push(k.clone());
                paths(c, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(a) => {
            for (i, c) in a.iter().enumerate() {
                prefix.push(i.to_string());
                paths(c, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

fn node_mut<'a>(v: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    let mut cur = v;
    for p in path {
        cur = match cur {
            Value::Object(m) => m.get_mut(p)?,
            Value::Array(a) => a.get_mut(p.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn deep(depth: usize) -> Value {
    let mut v = Value::from(1);
    for i in 0..depth {
        v = if i % 2 == 0 {
            Value::Array(vec![v])
        } else {
            serde_json::json!({ "n": v })
        };
    }
    v
}

#[derive(Debug, Clone)]
enum Mutation {
    Replace(usize, Value),
    UnknownString(usize, String),
    Null(usize),
    AddField(String, Value),
    Deep(usize, usize),
}

fn arb_mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), arb_json()).prop_map(|(i, v)| Mutation::Replace(i, v)),
        (any::<usize>(), "[a-z_]{1,20}").prop_map(|(i, s)| Mutation::UnknownString(i, s)),
        any::<usize>().prop_map(Mutation::Null),
        ("[a-z_]{1,15}", arb_json()).prop_map(|(k, v)| Mutation::AddField(k, v)),
        (any::<usize>(), 1usize..400).prop_map(|(i, d)| Mutation::Deep(i, d)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn mutated_records_decode_or_error_without_panicking(
        which in any::<usize>(),
        mutations in prop::collection::vec(arb_mutation(), 1..6),
    ) {
        let (entity, base) = &bases()[which % bases().len()];
        let mut v = base.clone();
        for m in mutations {
            let mut all = Vec::new();
            paths(&v, &mut Vec::new(), &mut all);
            let pick = |i: usize| all[i % all.len()].clone();
            match m {
                Mutation::Replace(i, new) => { if let Some(n) = node_mut(&mut v, &pick(i)) { *n = new; } }
                Mutation::UnknownString(i, s) => { if let Some(n) = node_mut(&mut v, &pick(i)) { if n.is_string() { *n = Value::String(s); } } }
                Mutation::Null(i) => { if let Some(n) = node_mut(&mut v, &pick(i)) { *n = Value::Null; } }
                Mutation::AddField(k, new) => { if let Value::Object(m) = &mut v { m.insert(format!("zz_{k}"), new); } }
                Mutation::Deep(i, d) => { if let Some(n) = node_mut(&mut v, &pick(i)) { *n = deep(d); } }
            }
        }
        let bytes = serde_json::to_vec(&v).unwrap();
        let _ = decode(entity, &bytes);
    }

    #[test]
    fn unknown_fields_nulls_and_new_enum_values_still_decode(which in any::<usize>(), extra in arb_json(), key in "[a-z_]{1,12}") {
        let (entity, base) = &bases()[which % bases().len()];
        let mut v = base.clone();
        let obj = v.as_object_mut().unwrap();
        obj.insert(format!("new_{key}"), extra);
        // A value added to an enum after this SDK was generated.
        for field in enum_fields(entity) {
            obj.insert(field, Value::String(format!("brand_new_{key}")));
        }
        // Every optional field may come back as null.
        let required = ["id", "name"];
        for (k, val) in obj.iter_mut() {
            if !required.contains(&k.as_str()) && !k.starts_with("new_") && val.is_object() {
                *val = Value::Null;
            }
        }
        let bytes = serde_json::to_vec(&v).unwrap();
        prop_assert!(decode(entity, &bytes), "{entity}: {}", String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512), which in any::<usize>()) {
        let (entity, _) = &bases()[which % bases().len()];
        let _ = decode(entity, &bytes);
    }
}

#[test]
fn every_entity_has_a_base_record_and_it_decodes() {
    let mut seen = std::collections::BTreeSet::new();
    for (entity, v) in bases() {
        assert!(decode(entity, &serde_json::to_vec(v).unwrap()), "{entity}");
        seen.insert(entity.clone());
    }
    assert_eq!(seen.len(), incident_io_connector::meta::entities().len());
    assert!(enum_fields("incidents").contains(&"mode".to_string()));
}
