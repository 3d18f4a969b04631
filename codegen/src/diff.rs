//! What changed in the generated API between two specs, and the semver advice that follows.
//!
//! Every item users can name is compared: entities, actions, parameters (type, required,
//! bounds), search fields, and every field of every component (type, optionality). Models and
//! params types are `#[non_exhaustive]`, so additions are compatible; removals and type or
//! optionality changes are breaking.

use std::collections::BTreeMap;
use std::fmt;

use crate::markdown::type_name;
use crate::model::{ParamKind, Spec};

/// The API difference between two specs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiChange {
    /// Items that are new.
    pub added: Vec<String>,
    /// Items that are gone (breaking).
    pub removed: Vec<String>,
    /// Items whose shape changed, with whether that breaks users.
    pub changed: Vec<(String, bool)>,
}

impl ApiChange {
    /// Whether users of the crate may fail to compile (or get different types) after this change.
    pub fn is_breaking(&self) -> bool {
        !self.removed.is_empty() || self.changed.iter().any(|(_, b)| *b)
    }

    /// Whether anything changed at all.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

impl fmt::Display for ApiChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return writeln!(f, "API change: none (the generated API is the same).");
        }
        writeln!(
            f,
            "API change: {} added, {} removed, {} changed",
            self.added.len(),
            self.removed.len(),
            self.changed.len()
        )?;
        for a in &self.added {
            writeln!(f, "  + {a}")?;
        }
        for r in &self.removed {
            writeln!(f, "  - {r}  [breaking]")?;
        }
        for (c, breaking) in &self.changed {
            writeln!(f, "  ~ {c}{}", if *breaking { "  [breaking]" } else { "" })?;
        }
        if self.is_breaking() {
            writeln!(
                f,
                "Semver: BREAKING for users of the crate; release a new minor version while 0.x (0.1.z -> 0.2.0), a new major version after 1.0."
            )
        } else {
            writeln!(
                f,
                "Semver: additive only (models and params are #[non_exhaustive]); a patch release while 0.x (0.1.z -> 0.1.z+1), a minor release after 1.0."
            )
        }
    }
}

#[derive(PartialEq, Eq, Clone)]
struct ParamShape {
    ty: String,
    required: bool,
    min: Option<i64>,
    max: Option<i64>,
}

fn params(spec: &Spec) -> BTreeMap<String, ParamShape> {
    let mut out = BTreeMap::new();
    for op in spec.operations() {
        for p in &op.params {
            let ty = match &p.kind {
                ParamKind::String { allowed } if !allowed.is_empty() => {
                    format!("string({})", allowed.join("|"))
                }
                ParamKind::String { .. } => "string".into(),
                ParamKind::Integer => "integer".into(),
                ParamKind::Boolean => "boolean".into(),
                ParamKind::Number => "number".into(),
                other => other.describe(),
            };
            out.insert(
                format!("param {}.{}({})", op.entity, op.action.as_str(), p.name),
                ParamShape {
                    ty,
                    required: p.required && p.default.is_none(),
                    min: p.minimum,
                    max: p.maximum,
                },
            );
        }
    }
    out
}

fn fields(spec: &Spec) -> BTreeMap<String, (String, bool)> {
    let mut out = BTreeMap::new();
    if let Some(serde_yaml_ng::Value::Mapping(schemas)) =
        spec.doc.get("components").and_then(|c| c.get("schemas"))
    {
        for (name, _) in schemas {
            let Some(name) = name.as_str() else { continue };
            for (field, ty, required, _) in crate::markdown::component_fields(spec, name) {
                out.insert(format!("field {name}.{field}"), (ty, required));
            }
            if let Some(schema) = schemas.get(name) {
                out.insert(format!("type {name}"), (type_name(schema), true));
            }
        }
    }
    out
}

fn keyed<T: Clone>(items: impl Iterator<Item = (String, T)>) -> BTreeMap<String, T> {
    items.collect()
}

/// Compares the API generated from `old` with the one from `new`.
pub fn compare(old: &Spec, new: &Spec) -> ApiChange {
    let mut change = ApiChange::default();
    let set = |s: &Spec| {
        let mut v: Vec<String> = Vec::new();
        for e in &s.entities {
            v.push(format!("entity {}", e.name));
            for op in &e.operations {
                v.push(format!("action {}.{}", e.name, op.action.as_str()));
            }
            for f in &e.search_fields {
                v.push(format!("search field {}.{}", e.name, f.name));
            }
        }
        keyed(v.into_iter().map(|k| (k, ())))
    };
    let (a, b) = (set(old), set(new));
    change
        .added
        .extend(b.keys().filter(|k| !a.contains_key(*k)).cloned());
    change
        .removed
        .extend(a.keys().filter(|k| !b.contains_key(*k)).cloned());

    let (pa, pb) = (params(old), params(new));
    for (k, new_p) in &pb {
        match pa.get(k) {
            None => {
                // A required parameter breaks callers of an existing action, not of a new one.
                let action = k
                    .trim_start_matches("param ")
                    .split('(')
                    .next()
                    .unwrap_or_default();
                let breaking = new_p.required && a.contains_key(&format!("action {action}"));
                if breaking {
                    change
                        .changed
                        .push((format!("{k} added as required"), true));
                } else {
                    change.added.push(k.clone());
                }
            }
            Some(old_p) if old_p != new_p => {
                let breaking = old_p.ty != new_p.ty
                    || (!old_p.required && new_p.required)
                    || new_p.min.unwrap_or(i64::MIN) > old_p.min.unwrap_or(i64::MIN)
                    || new_p.max.unwrap_or(i64::MAX) < old_p.max.unwrap_or(i64::MAX);
                change.changed.push((
                    format!(
                        "{k}: {} {}{}..{} -> {} {}{}..{}",
                        old_p.ty,
                        if old_p.required { "required " } else { "" },
                        old_p.min.map(|v| v.to_string()).unwrap_or_default(),
                        old_p.max.map(|v| v.to_string()).unwrap_or_default(),
                        new_p.ty,
                        if new_p.required { "required " } else { "" },
                        new_p.min.map(|v| v.to_string()).unwrap_or_default(),
                        new_p.max.map(|v| v.to_string()).unwrap_or_default(),
                    ),
                    breaking,
                ));
            }
            _ => {}
        }
    }
    change
        .removed
        .extend(pa.keys().filter(|k| !pb.contains_key(*k)).cloned());

    let (fa, fb) = (fields(old), fields(new));
    for (k, (ty, req)) in &fb {
        match fa.get(k) {
            None => change.added.push(k.clone()),
            Some((old_ty, old_req)) if old_ty != ty || old_req != req => {
                change.changed.push((
                    format!(
                        "{k}: {old_ty}{} -> {ty}{}",
                        if *old_req { "" } else { " (optional)" },
                        if *req { "" } else { " (optional)" }
                    ),
                    true,
                ));
            }
            _ => {}
        }
    }
    change
        .removed
        .extend(fa.keys().filter(|k| !fb.contains_key(*k)).cloned());
    change.added.sort();
    change.removed.sort();
    change
}
