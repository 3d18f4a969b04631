//! Normalizing a connector spec so openapiv3/progenitor can read it, and so the generated
//! models survive the real API:
//!
//! - OpenAPI 3.1 → 3.0.3: `type: [X, "null"]` becomes `type: X, nullable: true`.
//! - Every optional property accepts `null` (`nullable: true`), so an absent, null or empty
//!   value all decode.
//! - String enums become named components; the generator replaces them with open enums that
//!   keep an `Unknown(String)` arm (the API adds enum values without notice).
//! - `additionalProperties: false` is dropped (the API adds fields without notice), and so are
//!   typed extras beside properties (ignored like any unknown field); without properties,
//!   `additionalProperties: {schema}` is a map of that schema.
//! - Unions (`oneOf`, several types in `type`) become untagged enums whose last variant,
//!   `Other(serde_json::Value)`, keeps any value the spec did not foresee; `allOf` of objects is
//!   merged; `anyOf`, `const`, `discriminator` and boolean schemas are refused (see `compose`).
//! - Two properties whose Rust field names would clash keep the first (the docs say so).
//! - Parameter schemas lose bounds, defaults and enums (the entity layer checks those itself
//!   and hands progenitor plain `i64`/`&str` values).
//! - The record field of each response envelope becomes required, so a response without it is
//!   a decode error rather than an empty page.

use heck::{ToSnakeCase, ToUpperCamelCase};
use serde_yaml_ng::{Mapping, Value};

use crate::compose;
use crate::error::{ptr, SpecError};
use crate::model::{non_null_type, Spec};

/// A string enum to be generated as an open enum.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenEnum {
    /// Component name (`IncidentMode`).
    pub name: String,
    /// Description.
    pub description: String,
    /// Known wire values, in spec order.
    pub values: Vec<String>,
}

/// The normalized document and what was learned while normalizing it.
#[derive(Debug, Clone)]
pub struct Normalized {
    /// An OpenAPI 3.0.3 document that openapiv3 and progenitor accept.
    pub doc: Value,
    /// Open enums to generate (and to substitute for typify's closed enums).
    pub enums: Vec<OpenEnum>,
}

fn key(s: &str) -> Value {
    Value::String(s.to_string())
}

/// Normalizes `spec.doc` (see the module docs).
pub fn normalize(spec: &Spec) -> Result<Normalized, SpecError> {
    let mut doc = spec.doc.clone();
    doc.as_mapping_mut()
        .expect("checked by the loader")
        .insert(key("openapi"), key("3.0.3"));

    // Components: refuse what is not supported, merge `allOf`, move unions into components
    // of their own (see `compose`), hoist inline enums, then rewrite every schema.
    let mut enums = Vec::new();
    if let Some(Value::Mapping(schemas)) =
        doc.get_mut("components").and_then(|c| c.get_mut("schemas"))
    {
        let prepared = compose::prepare(schemas)?;
        let names: Vec<String> = schemas
            .keys()
            .filter_map(|k| k.as_str().map(str::to_string))
            .collect();
        let mut taken = names.clone();
        taken.extend(prepared.names);
        let mut hoisted: Vec<(String, Value)> = Vec::new();
        for name in &names {
            let at = ptr("/components/schemas", name);
            let schema = schemas.get_mut(name.as_str()).expect("listed above");
            hoist_enums(schema, name, &at, &taken, &mut hoisted)?;
        }
        for (name, schema) in hoisted {
            schemas.insert(key(&name), schema);
        }
        for (name, schema) in schemas.iter_mut() {
            let name = name.as_str().unwrap_or_default().to_string();
            let at = ptr("/components/schemas", &name);
            if let Some(e) = as_string_enum(schema, &name, &at)? {
                enums.push(e);
            }
            rewrite_schema(schema, &at)?;
        }
    }

    // Paths: parameter schemas and response envelopes.
    // The record field becomes required where the records sit in one top-level field.
    let records: Vec<(String, String)> = spec
        .operations()
        .filter(|o| {
            o.record_path.len() == 1 && o.record_element == crate::model::RecordElement::Whole
        })
        .map(|o| (o.pointer.clone(), o.record_field.clone()))
        .collect();
    if let Some(Value::Mapping(paths)) = doc.get_mut("paths") {
        for (path, item) in paths.iter_mut() {
            let path_ptr = ptr("/paths", path.as_str().unwrap_or_default());
            let Value::Mapping(methods) = item else {
                continue;
            };
            for (method, op) in methods.iter_mut() {
                let op_ptr = ptr(&path_ptr, method.as_str().unwrap_or_default());
                if let Some(Value::Sequence(params)) = op.get_mut("parameters") {
                    for (i, p) in params.iter_mut().enumerate() {
                        let p_ptr = ptr(&ptr(&op_ptr, "parameters"), &i.to_string());
                        if let Some(s) = p.get_mut("schema") {
                            simplify_param_schema(s, &ptr(&p_ptr, "schema"))?;
                        }
                    }
                }
                if let Some(Value::Mapping(responses)) = op.get_mut("responses") {
                    for (code, resp) in responses.iter_mut() {
                        let r_ptr = ptr(
                            &ptr(&op_ptr, "responses"),
                            code.as_str().unwrap_or_default(),
                        );
                        if let Some(Value::Mapping(content)) = resp.get_mut("content") {
                            for (ct, media) in content.iter_mut() {
                                let m_ptr =
                                    ptr(&ptr(&r_ptr, "content"), ct.as_str().unwrap_or_default());
                                if let Some(schema) = media.get_mut("schema") {
                                    rewrite_schema(schema, &ptr(&m_ptr, "schema"))?;
                                    if let Some((_, field)) =
                                        records.iter().find(|(p, _)| *p == op_ptr)
                                    {
                                        require(schema, field);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    // progenitor only contributes types here (the runtime builds requests from the
    // operation metadata), so it sees each operation under a plain path of its own, without
    // parameters: virtual keys (`/v3/reports:run:weekly`, `/search?entity=x`), header,
    // array and deepObject parameters and non-identifier names never reach it.
    let kept: Vec<(String, String)> = spec
        .operations()
        .map(|o| (o.pointer.clone(), o.operation_id.clone()))
        .collect();
    if let Some(Value::Mapping(paths)) = doc.get_mut("paths") {
        let old = std::mem::take(paths);
        for (path, item) in old {
            let path_ptr = ptr("/paths", path.as_str().unwrap_or_default());
            let Value::Mapping(methods) = item else {
                continue;
            };
            for (method, mut op) in methods {
                let method_name = method.as_str().unwrap_or_default().to_string();
                let op_ptr = ptr(&path_ptr, &method_name);
                let Some((_, id)) = kept.iter().find(|(p, _)| *p == op_ptr) else {
                    continue;
                };
                if let Some(m) = op.as_mapping_mut() {
                    m.remove("parameters");
                    m.remove("requestBody");
                }
                let mut item = Mapping::new();
                item.insert(key(&method_name), op);
                paths.insert(
                    key(&format!("/{}", id.to_snake_case())),
                    Value::Mapping(item),
                );
            }
        }
    }
    Ok(Normalized { doc, enums })
}

fn require(schema: &mut Value, field: &str) {
    let Some(m) = schema.as_mapping_mut() else {
        return;
    };
    if m.get("$ref").is_some() {
        return;
    }
    let req = m
        .entry(key("required"))
        .or_insert_with(|| Value::Sequence(Vec::new()));
    if let Value::Sequence(list) = req {
        if !list.iter().any(|v| v.as_str() == Some(field)) {
            list.push(key(field));
        }
    }
    // A required record field must not be nullable, or typify wraps it in Option.
    if let Some(Value::Mapping(f)) = m.get_mut("properties").and_then(|p| p.get_mut(field)) {
        f.remove("nullable");
    }
}

fn as_string_enum(schema: &Value, name: &str, at: &str) -> Result<Option<OpenEnum>, SpecError> {
    let Some(Value::Sequence(values)) = schema.get("enum") else {
        return Ok(None);
    };
    let ty = non_null_type(schema).map_err(|m| SpecError::new(ptr(at, "type"), m))?;
    if ty.as_deref() != Some("string") {
        return Err(SpecError::new(
            ptr(at, "enum"),
            "unsupported construct: an `enum` on a non-string schema; only string enums are supported",
        ));
    }
    let mut out = Vec::new();
    for (i, v) in values.iter().enumerate() {
        match v {
            Value::String(s) => {
                if !out.contains(s) {
                    out.push(s.clone())
                }
            }
            Value::Null => {}
            other => {
                return Err(SpecError::new(
                    ptr(&ptr(at, "enum"), &i.to_string()),
                    format!("enum value {other:?} is not a string"),
                ))
            }
        }
    }
    Ok(Some(OpenEnum {
        name: name.to_string(),
        description: schema
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .trim()
            .to_string(),
        values: out,
    }))
}

/// Moves inline string enums found in properties into their own components, named after the
/// type that holds them (`IncidentMode`), so they become open enums. Also looks inside
/// "X or null" (`oneOf: [X, {type: 'null'}]`), union branches (named after the union and the
/// branch: `ShowAdmissionWaitlistKind`) and map values (`ShowAttributesValue`).
fn hoist_enums(
    schema: &mut Value,
    owner: &str,
    at: &str,
    taken: &[String],
    out: &mut Vec<(String, Value)>,
) -> Result<(), SpecError> {
    if let Some(Value::Mapping(props)) = schema.get_mut("properties") {
        for (prop, sub) in props.iter_mut() {
            let prop = prop.as_str().unwrap_or_default().to_string();
            let sub_at = ptr(&ptr(at, "properties"), &prop);
            hoist_enum_slot(sub, owner, &prop.to_upper_camel_case(), &sub_at, taken, out)?;
        }
    }
    if let Some(items) = schema.get_mut("items") {
        hoist_enums(items, owner, &ptr(at, "items"), taken, out)?;
    }
    let has_props = matches!(schema.get("properties"), Some(Value::Mapping(p)) if !p.is_empty());
    if let (false, Some(ap @ Value::Mapping(_))) =
        (has_props, schema.get_mut("additionalProperties"))
    {
        hoist_enum_slot(
            ap,
            owner,
            "Value",
            &ptr(at, "additionalProperties"),
            taken,
            out,
        )?;
    }
    if let Some(Value::Sequence(branches)) = schema.get_mut("oneOf") {
        // Union branches (titled by `compose`); "X or null" is handled by the slot holding it.
        for (i, b) in branches.iter_mut().enumerate() {
            if b.get("$ref").is_some() || compose::is_null_schema(b) {
                continue;
            }
            if let Some(title) = b.get("title").and_then(Value::as_str).map(str::to_string) {
                let b_at = ptr(&ptr(at, "oneOf"), &i.to_string());
                hoist_enums(b, &format!("{owner}{title}"), &b_at, taken, out)?;
            }
        }
    }
    Ok(())
}

/// [`hoist_enums`] for what one slot of `owner` holds (property `part`, or map `Value`s).
fn hoist_enum_slot(
    sub: &mut Value,
    owner: &str,
    part: &str,
    at: &str,
    taken: &[String],
    out: &mut Vec<(String, Value)>,
) -> Result<(), SpecError> {
    if sub.get("oneOf").is_some_and(compose::is_nullable_pair) {
        if let Some(Value::Sequence(branches)) = sub.get_mut("oneOf") {
            for (i, b) in branches.iter_mut().enumerate() {
                if !compose::is_null_schema(b) {
                    let b_at = ptr(&ptr(at, "oneOf"), &i.to_string());
                    hoist_enum_slot(b, owner, part, &b_at, taken, out)?;
                }
            }
        }
        return Ok(());
    }
    if sub.get("enum").is_some() && sub.get("$ref").is_none() {
        let base = format!("{owner}{part}");
        let name = unique_name(&base, taken, out);
        let mut hoisted = sub.clone();
        if let Some(m) = hoisted.as_mapping_mut() {
            m.insert(key("type"), key("string"));
            m.remove("nullable");
        }
        out.push((name.clone(), hoisted));
        *sub = ref_to(&name);
    } else if sub
        .get("items")
        .is_some_and(|i| i.get("enum").is_some() && i.get("$ref").is_none())
    {
        let base = format!("{owner}{part}Item");
        let name = unique_name(&base, taken, out);
        let items = sub.get_mut("items").expect("checked above");
        let mut hoisted = items.clone();
        if let Some(m) = hoisted.as_mapping_mut() {
            m.insert(key("type"), key("string"));
            m.remove("nullable");
        }
        out.push((name.clone(), hoisted));
        *items = ref_to(&name);
    } else {
        // The type that holds the next level: its title if it has one (progenitor names it
        // so), else the path.
        let child_owner = match sub.get("title").and_then(Value::as_str) {
            Some(t) if sub.get("properties").is_some() => compose::pascal(t),
            _ => format!("{owner}{part}"),
        };
        hoist_enums(sub, &child_owner, at, taken, out)?;
    }
    Ok(())
}

fn unique_name(base: &str, taken: &[String], out: &[(String, Value)]) -> String {
    let mut name = base.to_string();
    let mut n = 2;
    while taken.contains(&name) || out.iter().any(|(o, _)| *o == name) {
        name = format!("{base}{n}");
        n += 1;
    }
    name
}

fn ref_to(name: &str) -> Value {
    let mut r = Mapping::new();
    r.insert(key("$ref"), key(&format!("#/components/schemas/{name}")));
    Value::Mapping(r)
}

/// `oneOf` (or `anyOf`) of one schema and `{type: 'null'}`, in either order, the common way
/// 3.1 specs write "X or null": replaced by X, marked nullable (a `$ref` stays a bare `$ref`;
/// the field is then optional, which is how a nullable reference decodes). A `oneOf` of one
/// schema is that schema. Returns whether null was allowed (the field then decodes as
/// optional).
fn collapse_nullable_union(schema: &mut Value) -> bool {
    let Some(m) = schema.as_mapping_mut() else {
        return false;
    };
    for combinator in ["oneOf", "anyOf"] {
        let Some(Value::Sequence(branches)) = m.get(combinator) else {
            continue;
        };
        let non_null: Vec<&Value> = branches
            .iter()
            .filter(|b| !compose::is_null_schema(b))
            .collect();
        let nulls = branches.len() - non_null.len();
        let single = combinator == "oneOf" && branches.len() == 1;
        if non_null.len() != 1 || !(nulls == 1 && branches.len() == 2 || single) {
            continue;
        }
        let mut inner = non_null[0].clone();
        let description = m.get("description").cloned();
        if let Some(im) = inner.as_mapping_mut() {
            if im.get("$ref").is_none() && nulls > 0 {
                im.insert(key("nullable"), Value::Bool(true));
            }
            if let (Some(d), None) = (description, im.get("description")) {
                if im.get("$ref").is_none() {
                    im.insert(key("description"), d);
                }
            }
        }
        *schema = inner;
        return nulls > 0;
    }
    false
}

/// Rewrites one schema (recursively) into OpenAPI 3.0 form (see module docs).
fn rewrite_schema(schema: &mut Value, at: &str) -> Result<(), SpecError> {
    if let Value::Bool(b) = schema {
        return Err(compose::boolean_schema(at, *b));
    }
    collapse_nullable_union(schema);
    let Some(m) = schema.as_mapping_mut() else {
        return Ok(());
    };
    if m.get("$ref").is_some() {
        // In 3.0 siblings of $ref are ignored; drop them so nothing surprises openapiv3.
        m.retain(|k, _| k.as_str() == Some("$ref"));
        return Ok(());
    }
    compose::check_node(m, at)?;
    if compose::is_union(&Value::Mapping(m.clone())) {
        return rewrite_union(m, at);
    }
    let ty = {
        let probe = Value::Mapping(m.clone());
        non_null_type(&probe).map_err(|msg| SpecError::new(ptr(at, "type"), msg))?
    };
    if ty.as_deref().is_some_and(|t| t.contains('|')) {
        return Err(SpecError::new(
            ptr(at, "enum"),
            "unsupported construct: an `enum` over several types; only string enums are supported (write `type: string`)",
        ));
    }
    let nullable = match m.get("type") {
        Some(Value::Sequence(items)) => items.iter().any(|v| v.as_str() == Some("null")),
        Some(Value::String(s)) => s == "null",
        _ => false,
    };
    m.remove("type");
    if let Some(t) = &ty {
        m.insert(key("type"), key(t));
    }
    if nullable {
        m.insert(key("nullable"), Value::Bool(true));
    }
    for k in [
        "examples",
        "$schema",
        "$id",
        "$comment",
        "unevaluatedProperties",
    ] {
        m.remove(k);
    }
    compose::drop_clashing_fields(m);
    let has_props = matches!(m.get("properties"), Some(Value::Mapping(p)) if !p.is_empty());
    match m.get("additionalProperties") {
        // The API adds fields without notice.
        Some(Value::Bool(false)) => {
            m.remove("additionalProperties");
        }
        // `{}` is `true` (progenitor would otherwise capture extras in a flattened map).
        Some(Value::Mapping(ap)) if ap.is_empty() => {
            m.insert(key("additionalProperties"), Value::Bool(true));
        }
        // Typed extras beside properties are ignored like every unknown field: a flattened
        // map is slow to decode and fails on the first extra field of another type.
        Some(Value::Mapping(_)) if has_props => {
            m.insert(key("additionalProperties"), Value::Bool(true));
        }
        _ => {}
    }
    for combinator in ["allOf", "oneOf", "anyOf"] {
        if m.get(combinator).is_some() {
            let fix = if combinator == "allOf" {
                "unsupported construct: `allOf` outside `components/schemas`; move the schema into a component (where an `allOf` of objects is merged) and `$ref` it"
            } else {
                "unsupported construct: a `oneOf` with no schema but `null`; write `type: 'null'` or the value's type"
            };
            return Err(SpecError::new(ptr(at, combinator), fix));
        }
    }
    let mut required: Vec<String> = m
        .get("required")
        .and_then(Value::as_sequence)
        .map(|s| {
            s.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    // A required property that may be null decodes as optional.
    let before = required.len();
    if let Some(Value::Mapping(props)) = m.get_mut("properties") {
        for (name, sub) in props.iter_mut() {
            let nullable_union = compose::is_union(sub) && compose::union_has_null(sub);
            if collapse_nullable_union(sub) || nullable_union {
                let name = name.as_str().unwrap_or_default();
                required.retain(|r| r != name);
            }
        }
    }
    if required.len() != before {
        m.insert(
            key("required"),
            Value::Sequence(required.iter().map(|r| key(r)).collect()),
        );
    }
    if let Some(Value::Mapping(props)) = m.get_mut("properties") {
        for (name, sub) in props.iter_mut() {
            let name = name.as_str().unwrap_or_default().to_string();
            rewrite_schema(sub, &ptr(&ptr(at, "properties"), &name))?;
            if !required.contains(&name) {
                if let Some(sm) = sub.as_mapping_mut() {
                    if sm.get("$ref").is_none() {
                        sm.insert(key("nullable"), Value::Bool(true));
                    }
                }
            }
        }
    }
    if let Some(items) = m.get_mut("items") {
        rewrite_schema(items, &ptr(at, "items"))?;
    }
    if let Some(ap) = m.get_mut("additionalProperties") {
        if ap.is_mapping() {
            rewrite_schema(ap, &ptr(at, "additionalProperties"))?;
        }
    }
    Ok(())
}

/// A union (`oneOf` of two or more schemas, or a `type` list of two or more types) as the
/// `oneOf` progenitor turns into an untagged enum: its branches rewritten and titled with
/// their variant names (see `compose`), integers before numbers, then a last branch that
/// accepts any value (`Other(serde_json::Value)`), so a value no branch describes still
/// decodes. A union that admits null is nullable (an `Option` of the enum).
fn rewrite_union(m: &mut Mapping, at: &str) -> Result<(), SpecError> {
    let nullable = compose::shape_union(m);
    let Some(Value::Sequence(branches)) = m.get_mut("oneOf") else {
        return Ok(());
    };
    for (i, b) in branches.iter_mut().enumerate() {
        rewrite_schema(b, &ptr(&ptr(at, "oneOf"), &i.to_string()))?;
    }
    let other = compose::catch_all(branches);
    branches.push(other);
    m.retain(|k, _| matches!(k.as_str(), Some("oneOf" | "description" | "title")));
    if nullable {
        m.insert(key("nullable"), Value::Bool(true));
    }
    Ok(())
}

fn simplify_param_schema(schema: &mut Value, at: &str) -> Result<(), SpecError> {
    let ty = non_null_type(schema).map_err(|m| SpecError::new(ptr(at, "type"), m))?;
    let Some(m) = schema.as_mapping_mut() else {
        return Ok(());
    };
    if m.get("$ref").is_some() {
        return Err(SpecError::new(
            at,
            "unsupported construct: a `$ref` parameter schema; write the parameter's type inline",
        ));
    }
    m.clear();
    let ty = ty.unwrap_or_else(|| "string".to_string());
    m.insert(key("type"), key(&ty));
    if ty == "integer" {
        m.insert(key("format"), key("int64"));
    }
    if ty == "number" {
        m.insert(key("format"), key("double"));
    }
    Ok(())
}
