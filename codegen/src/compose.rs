//! Schema composition, ahead of the 3.1 → 3.0 rewrite in [`crate::normalize`]: what a connector
//! spec may combine, and the names the combinations get.
//!
//! - **Refusals.** `anyOf` (other than "X or null"), `const`, `discriminator`, `not`,
//!   `if`/`then`/`else`, `patternProperties` and boolean schemas other than
//!   `additionalProperties: true/false` are refused, each at its JSON pointer with the fix. No
//!   published connector spec uses them.
//! - **`allOf` of objects** (in component schemas) is merged into one object: the properties
//!   and `required` of every branch, `$ref` branches followed. An `allOf` of one schema is that
//!   schema. Anything else (a branch that is not an object, a property two branches type
//!   differently) is refused.
//! - **Unions** (`oneOf` with two or more non-null branches, or `type` with two or more
//!   non-null types) become untagged enums: one variant per branch, tried in spec order
//!   (integers before numbers), then `Other(serde_json::Value)`, which keeps any value no
//!   branch matches, so a shape the API adds later still decodes. A union inside a component
//!   is moved to a component of its own named from its path (`Show` + `capacity` →
//!   `ShowCapacity`; `Show` + `show_code` → `ShowCode`, never `ShowShowCode`; a taken name gets
//!   the next number). A union that admits null makes its field an `Option`, even if required;
//!   a component union sends null to `Other`. `oneOf: [X, {type: 'null'}]` is not a union: it
//!   is X, nullable (see `normalize`).
//! - **Variant names** come from the branch: a `$ref` gives its component name, a `title` its
//!   title, an object the value of a required single-valued field (`kind: {enum: [waitlist]}`
//!   → `Waitlist`), a scalar its type (`String`, `Integer`, `Number`, `Boolean`, `List`,
//!   `DateTime`). An object branch is a struct variant; the inline objects inside it get
//!   explicit names (`ShowAdmissionWaitlistRules`). A string enum inside a union is a string.
//! - **Inline object names.** An inline object whose derived name is taken (`Show.door_policy`
//!   and `Show.door.policy` both derive `ShowDoorPolicy`) gets the next free one
//!   (`ShowDoorPolicy2`): progenitor would otherwise merge the two types silently.
//! - **Field names.** Two properties of one object whose Rust names would be equal (`a.b` and
//!   `a_b`) keep the first; see [`drop_clashing_fields`].

use std::collections::BTreeSet;

use heck::{ToSnakeCase, ToUpperCamelCase};
use serde_yaml_ng::{Mapping, Value};

use crate::error::{ptr, SpecError};

fn key(s: &str) -> Value {
    Value::String(s.to_string())
}

/// Keywords refused wherever they appear in a schema, with the fix.
const REFUSED: &[(&str, &str)] = &[
    (
        "const",
        "unsupported construct: `const`; write the plain type instead (for a string, `enum: [value]`, which decodes as an open enum)",
    ),
    (
        "discriminator",
        "unsupported construct: `discriminator`; remove it: a `oneOf` of object variants decodes as an untagged enum tried in order (keep a required field such as `kind` in each variant so they differ), with a catch-all for unknown variants",
    ),
    (
        "not",
        "unsupported construct: `not`; describe the value with one schema",
    ),
    (
        "if",
        "unsupported construct: `if`; describe the value with one schema (use a component with optional properties)",
    ),
    (
        "then",
        "unsupported construct: `then`; describe the value with one schema (use a component with optional properties)",
    ),
    (
        "else",
        "unsupported construct: `else`; describe the value with one schema (use a component with optional properties)",
    ),
    (
        "patternProperties",
        "unsupported construct: `patternProperties`; write `additionalProperties: {schema}` (a map) instead",
    ),
];

/// Checks the keywords of one schema node (not its children).
pub(crate) fn check_node(m: &Mapping, at: &str) -> Result<(), SpecError> {
    for (k, message) in REFUSED {
        if m.get(*k).is_some() {
            return Err(SpecError::new(ptr(at, k), *message));
        }
    }
    if let Some(branches) = m.get("anyOf") {
        if !is_nullable_pair(branches) {
            return Err(SpecError::new(
                ptr(at, "anyOf"),
                "unsupported construct: `anyOf`; write `oneOf` (decoded as an untagged enum tried in order, with a catch-all for other values)",
            ));
        }
    }
    for comb in ["oneOf", "anyOf", "allOf"] {
        match m.get(comb) {
            None | Some(Value::Sequence(_)) => {}
            Some(_) => {
                return Err(SpecError::new(
                    ptr(at, comb),
                    format!("`{comb}` must be a list of schemas"),
                ))
            }
        }
    }
    Ok(())
}

/// The error for a boolean schema where a schema is expected.
pub(crate) fn boolean_schema(at: &str, value: bool) -> SpecError {
    SpecError::new(
        at,
        format!("unsupported construct: a boolean schema (`{value}`) here; write `{{}}` for any value, or the value's type (`true` and `false` are only accepted as `additionalProperties`)"),
    )
}

/// Checks a schema and everything below it (see [`check_node`]).
fn check_tree(schema: &Value, at: &str) -> Result<(), SpecError> {
    let m = match schema {
        Value::Mapping(m) => m,
        Value::Bool(b) => return Err(boolean_schema(at, *b)),
        _ => return Ok(()),
    };
    if m.get("$ref").is_some() {
        return Ok(());
    }
    check_node(m, at)?;
    if let Some(Value::Mapping(props)) = m.get("properties") {
        for (name, sub) in props {
            let name = name.as_str().unwrap_or_default();
            check_tree(sub, &ptr(&ptr(at, "properties"), name))?;
        }
    }
    if let Some(items) = m.get("items") {
        check_tree(items, &ptr(at, "items"))?;
    }
    if let Some(ap @ Value::Mapping(_)) = m.get("additionalProperties") {
        check_tree(ap, &ptr(at, "additionalProperties"))?;
    }
    for comb in ["oneOf", "anyOf", "allOf"] {
        if let Some(Value::Sequence(branches)) = m.get(comb) {
            for (i, b) in branches.iter().enumerate() {
                check_tree(b, &ptr(&ptr(at, comb), &i.to_string()))?;
            }
        }
    }
    Ok(())
}

/// Whether a schema only admits `null` (`type: 'null'`, `type: ['null']`, `enum: [null]`).
pub(crate) fn is_null_schema(schema: &Value) -> bool {
    match schema.get("type") {
        Some(Value::String(t)) => t == "null",
        Some(Value::Sequence(ts)) => {
            !ts.is_empty() && ts.iter().all(|t| t.as_str() == Some("null"))
        }
        _ => {
            matches!(schema.get("enum"), Some(Value::Sequence(vs)) if !vs.is_empty() && vs.iter().all(Value::is_null))
        }
    }
}

/// `[X, {type: 'null'}]`, in either order: the way 3.1 specs write "X or null".
pub(crate) fn is_nullable_pair(branches: &Value) -> bool {
    match branches {
        Value::Sequence(bs) => {
            bs.len() == 2 && bs.iter().filter(|b| is_null_schema(b)).count() == 1
        }
        _ => false,
    }
}

/// The non-null types of a schema's `type` list, deduplicated, in spec order.
fn non_null_types(schema: &Value) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if let Some(Value::Sequence(ts)) = schema.get("type") {
        for t in ts.iter().filter_map(Value::as_str) {
            if t != "null" && !out.iter().any(|o| o == t) {
                out.push(t.to_string());
            }
        }
    }
    out
}

/// Whether a schema is a union: a `oneOf` with two or more non-null branches, or a `type`
/// list with two or more non-null types (and no `enum`, which makes it an enum).
pub(crate) fn is_union(schema: &Value) -> bool {
    if schema.get("$ref").is_some() {
        return false;
    }
    if let Some(Value::Sequence(bs)) = schema.get("oneOf") {
        return bs.iter().filter(|b| !is_null_schema(b)).count() >= 2;
    }
    schema.get("enum").is_none() && non_null_types(schema).len() >= 2
}

/// Whether a union admits `null` (a null branch, or `"null"` in its type list).
pub(crate) fn union_has_null(schema: &Value) -> bool {
    match schema.get("oneOf") {
        Some(Value::Sequence(bs)) => bs.iter().any(is_null_schema),
        _ => {
            matches!(schema.get("type"), Some(Value::Sequence(ts)) if ts.iter().any(|t| t.as_str() == Some("null")))
        }
    }
}

/// Rewrites a union written as a `type` list into the `oneOf` form (`type: [integer, string]`
/// → `oneOf: [{type: integer}, {type: string}]`), keeping the keywords that belong to each
/// type. Returns whether it admitted null (the null type is dropped).
fn type_list_to_one_of(m: &mut Mapping) -> bool {
    let probe = Value::Mapping(m.clone());
    let types = non_null_types(&probe);
    let nullable = union_has_null(&probe);
    // A numeric format belongs to the number, any other format to the string.
    let format = m.get("format").and_then(Value::as_str).unwrap_or_default();
    let numeric_format = ["int32", "int64", "float", "double"].contains(&format);
    let mut branches = Vec::new();
    for t in &types {
        let mut b = Mapping::new();
        b.insert(key("type"), key(t));
        let carried: &[&str] = match t.as_str() {
            "array" => &["items", "minItems", "maxItems"],
            "object" => &["properties", "required", "additionalProperties"],
            "string" if !numeric_format => &["format", "pattern", "minLength", "maxLength"],
            "string" => &["pattern", "minLength", "maxLength"],
            "integer" | "number" if numeric_format => &["format", "minimum", "maximum"],
            "integer" | "number" => &["minimum", "maximum"],
            _ => &[],
        };
        for k in carried {
            if let Some(v) = m.get(*k) {
                b.insert(key(k), v.clone());
            }
        }
        branches.push(Value::Mapping(b));
    }
    for k in [
        "type",
        "items",
        "minItems",
        "maxItems",
        "properties",
        "required",
        "additionalProperties",
        "format",
        "pattern",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "nullable",
    ] {
        m.remove(k);
    }
    m.insert(key("oneOf"), Value::Sequence(branches));
    nullable
}

/// Puts a union in its final shape: `oneOf` without null branches, integers before numbers,
/// and every inline branch titled with its variant name. Returns whether it admitted null.
pub(crate) fn shape_union(m: &mut Mapping) -> bool {
    let mut nullable = false;
    if m.get("oneOf").is_none() {
        nullable = type_list_to_one_of(m);
    }
    let Some(Value::Sequence(branches)) = m.get_mut("oneOf") else {
        return nullable;
    };
    nullable |= branches.iter().any(is_null_schema);
    branches.retain(|b| !is_null_schema(b));
    // An integer must not be taken by a number branch listed before it.
    let ty = |b: &Value| b.get("type").and_then(Value::as_str).map(str::to_string);
    if let (Some(i), Some(n)) = (
        branches
            .iter()
            .position(|b| ty(b).as_deref() == Some("integer")),
        branches
            .iter()
            .position(|b| ty(b).as_deref() == Some("number")),
    ) {
        if n < i {
            let int = branches.remove(i);
            branches.insert(n, int);
        }
    }
    for b in branches.iter_mut() {
        // A string enum inside a union is a string: the variant keeps any string.
        if let Some(bm) = b.as_mapping_mut() {
            if bm.get("$ref").is_none()
                && bm.get("enum").is_some()
                && ty(&Value::Mapping(bm.clone())).as_deref() == Some("string")
            {
                bm.remove("enum");
            }
        }
    }
    let names = variant_names(branches);
    for (b, name) in branches.iter_mut().zip(&names) {
        if let Some(bm) = b.as_mapping_mut() {
            if bm.get("$ref").is_none() {
                bm.insert(key("title"), key(name));
            }
        }
    }
    nullable
}

/// The catch-all branch appended to every union: any JSON value, kept as is.
pub(crate) fn catch_all(branches: &[Value]) -> Value {
    let names = variant_names(branches);
    let first_word = |n: &str| words(n).into_iter().next().unwrap_or_default();
    let name = ["Other", "Unknown", "Unrecognized", "UntypedValue"]
        .into_iter()
        .find(|c| {
            !names.iter().any(|n| n == c) && !names.iter().all(|n| first_word(n) == first_word(c))
        })
        .unwrap_or("UntypedValue");
    let mut m = Mapping::new();
    m.insert(key("title"), key(name));
    m.insert(
        key("description"),
        key("Any other value (a shape this SDK does not know yet), kept as JSON."),
    );
    Value::Mapping(m)
}

/// Variant names that would read as (or be) Rust names of another meaning.
const RESERVED_VARIANTS: &[&str] = &[
    "Self", "Option", "Some", "None", "Ok", "Err", "Result", "Box", "Vec", "Default",
];

/// The variant name of each union branch (see the module docs); unique, `$ref` names first.
pub(crate) fn variant_names(branches: &[Value]) -> Vec<String> {
    let refs: Vec<Option<String>> = branches
        .iter()
        .map(|b| {
            b.get("$ref")
                .and_then(Value::as_str)
                .map(|r| pascal(r.rsplit('/').next().unwrap_or(r)))
        })
        .collect();
    let mut taken: Vec<String> = refs.iter().flatten().cloned().collect();
    let mut out = Vec::new();
    for (b, r) in branches.iter().zip(&refs) {
        if let Some(r) = r {
            out.push(r.clone());
            continue;
        }
        let mut base = branch_name(b);
        if RESERVED_VARIANTS.contains(&base.as_str()) {
            base.push_str("Value");
        }
        let mut name = base.clone();
        let mut n = 2;
        while taken.contains(&name) {
            name = format!("{base}{n}");
            n += 1;
        }
        taken.push(name.clone());
        out.push(name);
    }
    out
}

fn branch_name(b: &Value) -> String {
    if let Some(t) = b.get("title").and_then(Value::as_str) {
        let t = pascal(t);
        if !t.is_empty() {
            return t;
        }
    }
    let ty = b.get("type").and_then(Value::as_str).unwrap_or_default();
    let is_object = ty == "object" || (ty.is_empty() && b.get("properties").is_some());
    if is_object {
        // Object variants are told apart by a required field with one value (`kind`).
        if let (Some(Value::Sequence(req)), Some(Value::Mapping(props))) =
            (b.get("required"), b.get("properties"))
        {
            for r in req.iter().filter_map(Value::as_str) {
                if let Some(Value::Sequence(vals)) = props.get(r).and_then(|p| p.get("enum")) {
                    if let [Value::String(v)] = vals.as_slice() {
                        let v = pascal(v);
                        if !v.is_empty() {
                            return v;
                        }
                    }
                }
            }
        }
        return "Object".to_string();
    }
    match ty {
        "string" => match b.get("format").and_then(Value::as_str) {
            Some("date-time") => "DateTime".to_string(),
            Some("date") => "Date".to_string(),
            _ => "String".to_string(),
        },
        "integer" => "Integer".to_string(),
        "number" => "Number".to_string(),
        "boolean" => "Boolean".to_string(),
        "array" => "List".to_string(),
        _ => "Any".to_string(),
    }
}

/// A type name from any text: `card payment` → `CardPayment`, `16x16` → `V16x16`.
pub(crate) fn pascal(s: &str) -> String {
    let p = s.to_upper_camel_case();
    if p.starts_with(|c: char| c.is_ascii_digit()) {
        format!("V{p}")
    } else {
        p
    }
}

fn words(s: &str) -> Vec<String> {
    s.to_snake_case()
        .split('_')
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// `owner` + `part`, without repeating the words `part` starts with that `owner` ends with:
/// `Event` + `event_code` → `EventCode`; `AdInsight` + `insight_kind` → `AdInsightKind`.
pub(crate) fn join_name(owner: &str, part: &str) -> String {
    let mut p = part.to_upper_camel_case();
    if p.is_empty() {
        p = "Value".to_string();
    }
    let ow = words(owner);
    let pw = words(&p);
    let overlap = (1..pw.len())
        .rev()
        .find(|&k| k <= ow.len() && ow[ow.len() - k..] == pw[..k])
        .unwrap_or(0);
    let rest: String = pw[overlap..]
        .iter()
        .map(|w| w.to_upper_camel_case())
        .collect();
    if overlap == 0 {
        format!("{owner}{p}")
    } else {
        format!("{owner}{rest}")
    }
}

/// What [`prepare`] did: the names it gave, for the passes after it.
#[derive(Debug, Default)]
pub(crate) struct Prepared {
    /// Names of types progenitor will generate for inline schemas (titled or derived), so
    /// later hoisting does not reuse them.
    pub names: Vec<String>,
}

/// Runs the composition passes over `components/schemas`: refusals, `allOf` merging, union
/// hoisting and inline names (see the module docs).
pub(crate) fn prepare(schemas: &mut Mapping) -> Result<Prepared, SpecError> {
    let names: Vec<String> = schemas
        .keys()
        .filter_map(|k| k.as_str().map(str::to_string))
        .collect();
    for name in &names {
        let at = ptr("/components/schemas", name);
        check_tree(&schemas[name.as_str()], &at)?;
    }
    let snapshot = schemas.clone();
    for name in &names {
        let at = ptr("/components/schemas", name);
        let schema = schemas.get_mut(name.as_str()).expect("listed above");
        merge_all_of(schema, &at, &snapshot, &mut vec![name.clone()])?;
    }
    let mut namer = Namer {
        taken: names.iter().cloned().collect(),
        inline: Vec::new(),
        hoisted: Vec::new(),
    };
    for name in &names {
        let at = ptr("/components/schemas", name);
        let schema = schemas.get_mut(name.as_str()).expect("listed above");
        if is_union(schema) {
            if let Some(m) = schema.as_mapping_mut() {
                // A component that is a union: `null` goes to its catch-all (a field that
                // refers to it is optional unless required).
                shape_union(m);
            }
        }
        namer.visit(schema, name, &at, false)?;
    }
    for (name, schema) in namer.hoisted {
        schemas.insert(key(&name), schema);
    }
    Ok(Prepared {
        names: namer.inline,
    })
}

/// Whether a schema describes an object with properties (a struct, not a map).
fn is_object(schema: &Value) -> bool {
    let typed_object = match schema.get("type") {
        Some(Value::String(t)) => t == "object",
        Some(Value::Sequence(ts)) => ts.iter().any(|t| t.as_str() == Some("object")),
        None => true,
        _ => false,
    };
    typed_object
        && schema.get("$ref").is_none()
        && matches!(schema.get("properties"), Some(Value::Mapping(p)) if !p.is_empty())
}

fn is_object_like(schema: &Value) -> bool {
    let typed = match schema.get("type") {
        Some(Value::String(t)) => t == "object",
        Some(Value::Sequence(ts)) => {
            ts.iter().any(|t| t.as_str() == Some("object"))
                && ts
                    .iter()
                    .all(|t| matches!(t.as_str(), Some("object" | "null")))
        }
        None => {
            schema.get("properties").is_some()
                || schema.get("required").is_some()
                || schema.get("allOf").is_some()
        }
        _ => false,
    };
    typed
        && schema.get("oneOf").is_none()
        && schema.get("anyOf").is_none()
        && schema.get("enum").is_none()
}

/// Merges every `allOf` in `schema` (see the module docs). `stack` holds the components
/// being merged, to refuse a cycle.
fn merge_all_of(
    schema: &mut Value,
    at: &str,
    comps: &Mapping,
    stack: &mut Vec<String>,
) -> Result<(), SpecError> {
    let Some(m) = schema.as_mapping_mut() else {
        return Ok(());
    };
    if m.get("$ref").is_some() {
        return Ok(());
    }
    if let Some(Value::Sequence(branches)) = m.remove("allOf") {
        let all_at = ptr(at, "allOf");
        let own_props = m.get("properties").is_some();
        if branches.len() == 1 && !own_props {
            // `allOf: [X]` (often with a description beside it): X.
            let mut only = branches.into_iter().next().expect("one branch");
            if only.get("$ref").is_none() {
                if let (Some(d), Some(om)) = (m.get("description").cloned(), only.as_mapping_mut())
                {
                    om.entry(key("description")).or_insert(d);
                }
            }
            *schema = only;
            return merge_all_of(schema, at, comps, stack);
        }
        let mut props = Mapping::new();
        let mut origin: Vec<(String, String)> = Vec::new();
        let mut required: Vec<Value> = Vec::new();
        let mut description = m.get("description").cloned();
        // Properties written beside `allOf` count as one more branch, first.
        let mut own = Mapping::new();
        for k in ["properties", "required"] {
            if let Some(v) = m.remove(k) {
                own.insert(key(k), v);
            }
        }
        let mut all: Vec<(String, Value)> = Vec::new();
        if !own.is_empty() {
            all.push((at.to_string(), Value::Mapping(own)));
        }
        for (i, b) in branches.into_iter().enumerate() {
            all.push((ptr(&all_at, &i.to_string()), b));
        }
        for (b_at, b) in all {
            let mut resolved = b.clone();
            let mut here = b_at.clone();
            if let Some(r) = b.get("$ref").and_then(Value::as_str) {
                let name = r.rsplit('/').next().unwrap_or(r).to_string();
                if stack.contains(&name) {
                    return Err(SpecError::new(
                        &b_at,
                        format!("`allOf` refers back to `{name}` (a cycle); write the properties out once"),
                    ));
                }
                resolved = resolve(&b, comps);
                here = ptr("/components/schemas", &name);
                stack.push(name);
                merge_all_of(&mut resolved, &here, comps, stack)?;
                stack.pop();
            } else {
                merge_all_of(&mut resolved, &here, comps, stack)?;
            }
            if !is_object_like(&resolved) {
                return Err(SpecError::new(
                    &b_at,
                    "unsupported construct: `allOf` of a schema that is not an object; only objects are merged (describe the value with one schema)",
                ));
            }
            if description.is_none() {
                description = resolved.get("description").cloned();
            }
            if let Some(Value::Mapping(bp)) = resolved.get("properties") {
                for (pk, pv) in bp {
                    let pname = pk.as_str().unwrap_or_default().to_string();
                    let p_at = ptr(&ptr(&here, "properties"), &pname);
                    if let Some(prev) = props.get(pk) {
                        if !same_type(prev, pv) {
                            let first = origin
                                .iter()
                                .find(|(n, _)| *n == pname)
                                .map(|(_, a)| a.clone())
                                .unwrap_or_default();
                            return Err(SpecError::new(
                                p_at,
                                format!("unsupported construct: `allOf` branches give property `{pname}` different types (also at {first}); make them agree"),
                            ));
                        }
                    } else {
                        origin.push((pname, p_at));
                    }
                    props.insert(pk.clone(), pv.clone());
                }
            }
            if let Some(Value::Sequence(r)) = resolved.get("required") {
                for v in r {
                    if !required.contains(v) {
                        required.push(v.clone());
                    }
                }
            }
        }
        if m.get("type").is_none() {
            m.insert(key("type"), key("object"));
        }
        if let Some(d) = description {
            m.insert(key("description"), d);
        }
        m.insert(key("properties"), Value::Mapping(props));
        if !required.is_empty() {
            m.insert(key("required"), Value::Sequence(required));
        }
    }
    if let Some(Value::Mapping(props)) = m.get_mut("properties") {
        for (name, sub) in props.iter_mut() {
            let name = name.as_str().unwrap_or_default().to_string();
            merge_all_of(sub, &ptr(&ptr(at, "properties"), &name), comps, stack)?;
        }
    }
    if let Some(items) = m.get_mut("items") {
        merge_all_of(items, &ptr(at, "items"), comps, stack)?;
    }
    if let Some(ap @ Value::Mapping(_)) = m.get_mut("additionalProperties") {
        merge_all_of(ap, &ptr(at, "additionalProperties"), comps, stack)?;
    }
    for comb in ["oneOf", "anyOf"] {
        if let Some(Value::Sequence(branches)) = m.get_mut(comb) {
            for (i, b) in branches.iter_mut().enumerate() {
                merge_all_of(b, &ptr(&ptr(at, comb), &i.to_string()), comps, stack)?;
            }
        }
    }
    Ok(())
}

/// A `$ref` to a component followed (one level), else the schema itself.
fn resolve(schema: &Value, comps: &Mapping) -> Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.rsplit('/').next().unwrap_or(r);
            comps.get(name).cloned().unwrap_or(Value::Null)
        }
        None => schema.clone(),
    }
}

/// Whether two property schemas agree on their type (descriptions and bounds may differ).
fn same_type(a: &Value, b: &Value) -> bool {
    let sig = |s: &Value| {
        (s.get("$ref").cloned(), {
            let mut t = match s.get("type") {
                Some(Value::String(t)) => vec![t.clone()],
                Some(Value::Sequence(ts)) => ts
                    .iter()
                    .filter_map(Value::as_str)
                    .filter(|t| *t != "null")
                    .map(str::to_string)
                    .collect(),
                _ => Vec::new(),
            };
            t.sort();
            t
        })
    };
    sig(a) == sig(b)
}

/// Gives names: hoists unions out of components and titles inline objects whose names would
/// clash (see the module docs).
struct Namer {
    /// Every type name in use: components, hoisted unions, inline objects.
    taken: BTreeSet<String>,
    /// Names of inline types (for later passes).
    inline: Vec<String>,
    /// Unions moved out of their component: (name, schema).
    hoisted: Vec<(String, Value)>,
}

impl Namer {
    fn claim(&mut self, candidates: &[String]) -> String {
        for c in candidates {
            if !self.taken.contains(c) {
                self.taken.insert(c.clone());
                return c.clone();
            }
        }
        let base = candidates.last().expect("one candidate");
        let mut n = 2;
        loop {
            let c = format!("{base}{n}");
            if !self.taken.contains(&c) {
                self.taken.insert(c.clone());
                return c;
            }
            n += 1;
        }
    }

    /// Visits the children of `schema`, a type named `name`. `in_union`: `schema` is inside a
    /// union branch, where every inline object gets an explicit name.
    fn visit(
        &mut self,
        schema: &mut Value,
        name: &str,
        at: &str,
        in_union: bool,
    ) -> Result<(), SpecError> {
        let Some(m) = schema.as_mapping_mut() else {
            return Ok(());
        };
        if m.get("$ref").is_some() {
            return Ok(());
        }
        if let Some(Value::Sequence(branches)) = m.get_mut("oneOf") {
            let pair =
                branches.len() == 2 && branches.iter().filter(|b| is_null_schema(b)).count() == 1;
            for (i, b) in branches.iter_mut().enumerate() {
                let b_at = ptr(&ptr(at, "oneOf"), &i.to_string());
                if is_null_schema(b) || b.get("$ref").is_some() {
                    continue;
                }
                if pair {
                    // `X or null` is X: its parts are named as X's would be.
                    self.visit(b, name, &b_at, in_union)?;
                } else {
                    let title = b
                        .get("title")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string();
                    self.visit(b, &format!("{name}{title}"), &b_at, true)?;
                }
            }
        }
        let has_props = matches!(m.get("properties"), Some(Value::Mapping(p)) if !p.is_empty());
        let mut required: Vec<String> = m
            .get("required")
            .and_then(Value::as_sequence)
            .map(|s| {
                s.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let before = required.len();
        if let Some(Value::Mapping(props)) = m.get_mut("properties") {
            for (prop, sub) in props.iter_mut() {
                let prop = prop.as_str().unwrap_or_default().to_string();
                let sub_at = ptr(&ptr(at, "properties"), &prop);
                let nullable_union = self.slot(sub, name, &prop, &sub_at, in_union)?;
                if nullable_union {
                    // A field that may be null decodes as optional.
                    required.retain(|r| *r != prop);
                }
            }
        }
        if required.len() != before {
            m.insert(
                key("required"),
                Value::Sequence(required.iter().map(|r| key(r)).collect()),
            );
        }
        if let Some(items) = m.get_mut("items") {
            self.slot(items, name, "Item", &ptr(at, "items"), in_union)?;
        }
        if !has_props {
            if let Some(ap @ Value::Mapping(_)) = m.get_mut("additionalProperties") {
                self.slot(
                    ap,
                    name,
                    "Value",
                    &ptr(at, "additionalProperties"),
                    in_union,
                )?;
            }
        }
        Ok(())
    }

    /// Names what sits in one slot of type `owner` (property `part`, or `Item`/`Value`).
    /// Returns whether a union hoisted from it admitted null.
    fn slot(
        &mut self,
        sub: &mut Value,
        owner: &str,
        part: &str,
        at: &str,
        in_union: bool,
    ) -> Result<bool, SpecError> {
        if sub.get("$ref").is_some() || !sub.is_mapping() {
            return Ok(false);
        }
        if is_union(sub) {
            let name = self.claim(&[join_name(owner, part)]);
            let mut union = std::mem::take(sub);
            let nullable = match union.as_mapping_mut() {
                Some(m) => shape_union(m),
                None => false,
            };
            self.visit(&mut union, &name, at, true)?;
            let reference = {
                let mut r = Mapping::new();
                r.insert(key("$ref"), key(&format!("#/components/schemas/{name}")));
                Value::Mapping(r)
            };
            *sub = if nullable {
                let mut null = Mapping::new();
                null.insert(key("type"), key("null"));
                let mut m = Mapping::new();
                m.insert(
                    key("oneOf"),
                    Value::Sequence(vec![reference, Value::Mapping(null)]),
                );
                Value::Mapping(m)
            } else {
                reference
            };
            self.hoisted.push((name, union));
            return Ok(nullable);
        }
        if let Some(Value::Sequence(bs)) = sub.get_mut("oneOf") {
            if bs.len() == 2 && bs.iter().filter(|b| is_null_schema(b)).count() == 1 {
                for (i, b) in bs.iter_mut().enumerate() {
                    if !is_null_schema(b) {
                        let b_at = ptr(&ptr(at, "oneOf"), &i.to_string());
                        self.slot(b, owner, part, &b_at, in_union)?;
                    }
                }
                return Ok(false);
            }
        }
        let derived = format!("{owner}{}", part.to_upper_camel_case());
        if is_object(sub) {
            let title = sub.get("title").and_then(Value::as_str).map(pascal);
            let wanted = if in_union {
                derived.clone()
            } else {
                title.clone().unwrap_or_else(|| derived.clone())
            };
            let name = if self.taken.contains(&wanted) || in_union {
                let name = self.claim(&[wanted]);
                if title.as_deref() != Some(name.as_str()) {
                    if let Some(m) = sub.as_mapping_mut() {
                        m.insert(key("title"), key(&name));
                    }
                }
                name
            } else {
                self.taken.insert(wanted.clone());
                wanted
            };
            self.inline.push(name.clone());
            self.visit(sub, &name, at, in_union)?;
        } else {
            // An array or a map: its items or values are named after it.
            self.visit(sub, &derived, at, in_union)?;
        }
        Ok(false)
    }
}

/// The Rust field name progenitor (typify) gives a property: snake case, `+1` → `plus1`,
/// other characters → `_`, a leading digit → `x`, a keyword → `type_`.
pub(crate) fn field_name(prop: &str) -> String {
    let out = match prop {
        "+1" => "plus1".to_string(),
        "-1" => "minus1".to_string(),
        _ => prop
            .replace('\'', "")
            .replace(|c: char| !(c.is_alphanumeric() || c == '_'), "-")
            .to_snake_case(),
    };
    let out = match out.chars().next() {
        None => "x".to_string(),
        Some(c) if c.is_alphabetic() => out,
        Some(_) => format!("x{out}"),
    };
    const RESERVED: &[&str] = &[
        "_", "abstract", "as", "async", "await", "become", "box", "break", "const", "continue",
        "crate", "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if",
        "impl", "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv",
        "pub", "ref", "return", "Self", "self", "static", "struct", "super", "trait", "true",
        "try", "type", "typeof", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
    ];
    if RESERVED.contains(&out.as_str()) {
        format!("{out}_")
    } else {
        out
    }
}

/// Properties of one object whose Rust field names would be the same (`a.b` and `a_b` are
/// both `a_b`): the first in spec order is kept, the others are left out of the model (the
/// record still decodes; they are ignored like unknown fields) and the type's docs say so.
pub(crate) fn drop_clashing_fields(m: &mut Mapping) {
    let Some(Value::Mapping(props)) = m.get("properties") else {
        return;
    };
    let mut seen: Vec<(String, String)> = Vec::new();
    let mut dropped: Vec<(String, String)> = Vec::new();
    for k in props.keys().filter_map(Value::as_str) {
        let f = field_name(k);
        match seen.iter().find(|(sf, _)| *sf == f) {
            Some((_, first)) => dropped.push((k.to_string(), first.clone())),
            None => seen.push((f, k.to_string())),
        }
    }
    if dropped.is_empty() {
        return;
    }
    if let Some(Value::Mapping(props)) = m.get_mut("properties") {
        for (d, _) in &dropped {
            props.remove(d.as_str());
        }
    }
    if let Some(Value::Sequence(req)) = m.get_mut("required") {
        req.retain(|r| !dropped.iter().any(|(d, _)| r.as_str() == Some(d.as_str())));
    }
    let note = dropped
        .iter()
        .map(|(d, first)| {
            format!(
                "`{d}` is not decoded: its Rust name would be `{}`, as `{first}`'s is.",
                field_name(d)
            )
        })
        .collect::<Vec<_>>()
        .join(" ");
    let description = match m.get("description").and_then(Value::as_str) {
        Some(d) if !d.trim().is_empty() => format!("{}\n\n{note}", d.trim_end()),
        _ => note,
    };
    m.insert(key("description"), key(&description));
}
