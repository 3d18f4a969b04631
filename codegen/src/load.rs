//! Reading a spec: YAML text → an ordered tree with string keys, every `$ref` checked.

use serde_yaml_ng::{Mapping, Value};

use crate::error::{ptr, SpecError};

/// Parses YAML text into a tree whose mapping keys are all strings (YAML allows `200:` as an
/// integer key; OpenAPI means the string `"200"`).
pub fn parse_yaml(text: &str) -> Result<Value, SpecError> {
    let value: Value = serde_yaml_ng::from_str(text).map_err(|e| {
        let place = match e.location() {
            Some(l) => format!("line {} column {}", l.line(), l.column()),
            None => "an unknown place".to_string(),
        };
        SpecError::new(
            "",
            format!("the file is not valid YAML ({place}): {e}. Fix the YAML syntax there."),
        )
    })?;
    let value = stringify_keys(value, "")?;
    if !value.is_mapping() {
        return Err(SpecError::new(
            "",
            "the document is not a mapping; a connector spec starts with `openapi:`, `info:` and `paths:`",
        ));
    }
    Ok(value)
}

fn stringify_keys(value: Value, at: &str) -> Result<Value, SpecError> {
    Ok(match value {
        Value::Mapping(m) => {
            let mut out = Mapping::with_capacity(m.len());
            for (k, v) in m {
                let key = match k {
                    Value::String(s) => s,
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    other => {
                        return Err(SpecError::new(
                            at,
                            format!("mapping key {other:?} is not a string; quote it"),
                        ))
                    }
                };
                let child = stringify_keys(v, &ptr(at, &key))?;
                out.insert(Value::String(key), child);
            }
            Value::Mapping(out)
        }
        Value::Sequence(s) => Value::Sequence(
            s.into_iter()
                .enumerate()
                .map(|(i, v)| stringify_keys(v, &ptr(at, &i.to_string())))
                .collect::<Result<_, _>>()?,
        ),
        Value::Tagged(t) => stringify_keys(t.value, at)?,
        other => other,
    })
}

/// Resolves an RFC 6901 pointer (without the leading `#`) in `root`.
pub fn resolve_pointer<'a>(root: &'a Value, pointer: &str) -> Option<&'a Value> {
    if pointer.is_empty() {
        return Some(root);
    }
    let mut cur = root;
    for raw in pointer.strip_prefix('/')?.split('/') {
        let token = raw.replace("~1", "/").replace("~0", "~");
        cur = match cur {
            Value::Mapping(m) => m.get(token.as_str())?,
            Value::Sequence(s) => s.get(token.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Checks every `$ref` in the document: it must be local (`#/...`) and point at a node that exists.
pub fn check_refs(root: &Value) -> Result<(), SpecError> {
    fn walk(root: &Value, node: &Value, at: &str) -> Result<(), SpecError> {
        match node {
            Value::Mapping(m) => {
                for (k, v) in m {
                    let key = k.as_str().unwrap_or_default();
                    let here = ptr(at, key);
                    if key == "$ref" {
                        let target = v.as_str().ok_or_else(|| {
                            SpecError::new(
                                &here,
                                "`$ref` must be a string like `#/components/schemas/Incident`",
                            )
                        })?;
                        let Some(local) = target.strip_prefix('#') else {
                            return Err(SpecError::new(
                                &here,
                                format!("`$ref: {target}` points outside this file; only local references (`#/...`) are supported: inline the schema into components"),
                            ));
                        };
                        if resolve_pointer(root, local).is_none() {
                            let hint = known_schema_names(root);
                            return Err(SpecError::new(
                                &here,
                                format!("`$ref: {target}` points to nothing (dangling reference); define it or fix the name{hint}"),
                            ));
                        }
                    } else {
                        walk(root, v, &here)?;
                    }
                }
            }
            Value::Sequence(s) => {
                for (i, v) in s.iter().enumerate() {
                    walk(root, v, &ptr(at, &i.to_string()))?;
                }
            }
            _ => {}
        }
        Ok(())
    }
    walk(root, root, "")
}

fn known_schema_names(root: &Value) -> String {
    let Some(Value::Mapping(m)) = resolve_pointer(root, "/components/schemas") else {
        return String::new();
    };
    let names: Vec<&str> = m.keys().filter_map(Value::as_str).collect();
    if names.is_empty() {
        String::new()
    } else {
        format!(" (schemas defined: {})", names.join(", "))
    }
}

/// Follows `$ref`s from `node` (located at `at`) until a non-reference node; returns it and its pointer.
pub fn deref<'a>(root: &'a Value, node: &'a Value, at: &str) -> (&'a Value, String) {
    let mut cur = node;
    let mut here = at.to_string();
    for _ in 0..32 {
        match cur.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let local = r.trim_start_matches('#');
                match resolve_pointer(root, local) {
                    Some(next) => {
                        cur = next;
                        here = local.to_string();
                    }
                    None => break,
                }
            }
            None => break,
        }
    }
    (cur, here)
}
