//! Our corrections to an upstream connector spec, kept apart from it as an
//! [OpenAPI Overlay 1.0](https://spec.openapis.org/overlay/v1.0.0.html) document.
//!
//! The upstream spec (the *base*) is replaced wholesale when Airbyte publishes a new one; the
//! corrections are re-applied on top, giving the *effective* spec the SDK is generated from.
//! Each action has a JSONPath `target` and an `update` (merged into every node the target
//! selects) or `remove`, and a `description` saying what the real API does and where that is
//! known from. Consecutive actions with the same description form one **correction**: the unit
//! that is reported as applied, redundant or stale.
//!
//! - **Stale**: an action of the correction selects nothing in the base (the upstream moved or
//!   dropped what it corrects). `cargo xtask regen` fails on these unless `--allow-stale`.
//! - **Redundant**: applying the correction changes nothing (the upstream now says it itself).
//!   Reported with a suggestion to drop it.
//!
//! Applying follows the Overlay 1.0 rules as implemented by the `roas-overlay` crate: an update
//! merges into a selected object key by key (nested objects merge, nested arrays are
//! concatenated, anything else is replaced) and is appended to a selected array as one more
//! element; a target must select objects or arrays. One addition to those rules: an element
//! an array already holds is not appended again, so re-applying a correction never duplicates
//! what the upstream has since added itself. [`derive()`] writes the actions that turn one spec into another, which is
//! how a maintainer adds a correction without writing JSONPath by hand.

use enumset::EnumSet;
use roas_overlay::apply::Apply;
use roas_overlay::v1_0::{Action, Overlay};

/// One overlay action (re-exported for tools that build corrections).
pub type ActionOf = Action;
use serde_json::{Map, Value};

use crate::error::{ptr, SpecError};

/// A parsed corrections file.
#[derive(Debug, Clone)]
pub struct Corrections {
    /// The file name, for messages.
    pub file: String,
    overlay: Overlay,
    /// The corrections: ranges of consecutive actions sharing a description.
    units: Vec<std::ops::Range<usize>>,
}

/// What happened to one correction when it was applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Its description (the fact and its source).
    pub description: String,
    /// The targets of its actions.
    pub targets: Vec<String>,
    /// JSON pointer of its first action in the corrections file (`/actions/3`).
    pub pointer: String,
    /// Some action selected nothing: what it corrects is gone from the base.
    pub stale: bool,
    /// Applying it changed nothing: the base already says the same.
    pub redundant: bool,
}

impl Corrections {
    /// Parses an overlay document (YAML or JSON). Every action needs a target, a
    /// description, and either an update or `remove: true`.
    pub fn parse(file: &str, text: &str) -> Result<Self, SpecError> {
        let yaml = crate::load::parse_yaml(text).map_err(|e| e.in_file(file))?;
        let json = serde_json::to_value(&yaml).map_err(|e| {
            SpecError::new("", format!("cannot read the overlay as JSON data: {e}")).in_file(file)
        })?;
        if json.get("overlay").and_then(Value::as_str).is_none() {
            return Err(SpecError::new(
                "/overlay",
                "missing: an OpenAPI Overlay starts with `overlay: 1.0.0`",
            )
            .in_file(file));
        }
        let overlay: Overlay = serde_json::from_value(json).map_err(|e| {
            SpecError::new(
                "",
                format!("not an OpenAPI Overlay 1.0 document ({e}); it needs `overlay: 1.0.0`, `info: {{title, version}}` and `actions`"),
            )
            .in_file(file)
        })?;
        let mut units: Vec<std::ops::Range<usize>> = Vec::new();
        for (i, action) in overlay.actions.iter().enumerate() {
            let at = format!("/actions/{i}");
            if let Err(msg) = serde_json_path::JsonPath::parse(&action.target) {
                return Err(SpecError::new(
                    ptr(&at, "target"),
                    format!("`{}` is not an RFC 9535 JSONPath: {msg}", action.target),
                )
                .in_file(file));
            }
            let description = action.description.as_deref().unwrap_or("").trim();
            if description.is_empty() || description.starts_with("TODO") {
                return Err(SpecError::new(
                    ptr(&at, "description"),
                    "every correction needs a description: what the real API does, and where that is known from",
                )
                .in_file(file));
            }
            match (action.is_remove(), &action.update) {
                (true, Some(_)) => {
                    return Err(SpecError::new(
                        &at,
                        "an action has either `update` or `remove: true`, not both",
                    )
                    .in_file(file))
                }
                (false, None) => {
                    return Err(SpecError::new(
                        &at,
                        "an action needs an `update` or `remove: true`",
                    )
                    .in_file(file))
                }
                _ => {}
            }
            let same = i > 0
                && overlay.actions[i - 1].description.as_deref().map(str::trim)
                    == Some(description);
            match units.last_mut() {
                Some(last) if same => last.end = i + 1,
                _ => units.push(i..i + 1),
            }
        }
        Ok(Corrections {
            file: file.to_string(),
            overlay,
            units,
        })
    }

    /// Reads and parses a corrections file.
    pub fn load(path: &std::path::Path) -> Result<Self, SpecError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| SpecError {
            file: file.clone(),
            pointer: String::new(),
            message: format!("cannot read the corrections file: {e}"),
        })?;
        Self::parse(&file, &text)
    }

    /// How many corrections (units of actions) there are.
    pub fn len(&self) -> usize {
        self.units.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.units.is_empty()
    }

    /// The actions, in order.
    pub fn actions(&self) -> &[Action] {
        &self.overlay.actions
    }

    /// Applies every correction to `base` (a parsed spec), returning the effective spec and
    /// what happened to each correction. Actions that select nothing change nothing (the
    /// Overlay rule); the outcome marks their correction stale.
    pub fn apply(
        &self,
        base: &serde_yaml_ng::Value,
    ) -> Result<(serde_yaml_ng::Value, Vec<Outcome>), SpecError> {
        let mut doc = serde_json::to_value(base).map_err(|e| {
            SpecError::new("", format!("the spec cannot be read as JSON data: {e}"))
        })?;
        let mut outcomes = Vec::with_capacity(self.units.len());
        for unit in &self.units {
            let before = doc.clone();
            let mut stale = false;
            for i in unit.clone() {
                if already_appended(&doc, &self.overlay.actions[i]) {
                    continue;
                }
                let one = Overlay {
                    overlay: self.overlay.overlay.clone(),
                    info: self.overlay.info.clone(),
                    extends: None,
                    actions: vec![self.overlay.actions[i].clone()],
                    extensions: None,
                };
                let report = one.apply(&mut doc, EnumSet::empty()).map_err(|e| {
                    SpecError::new(
                        format!("/actions/{i}/target"),
                        format!(
                            "cannot apply `{}`: {}",
                            self.overlay.actions[i].target, e.kind
                        ),
                    )
                    .in_file(&self.file)
                })?;
                if report.actions.iter().all(|a| a.matched == 0) {
                    stale = true;
                }
            }
            let first = &self.overlay.actions[unit.start];
            outcomes.push(Outcome {
                description: first.description.clone().unwrap_or_default(),
                targets: unit
                    .clone()
                    .map(|i| self.overlay.actions[i].target.clone())
                    .collect(),
                pointer: format!("/actions/{}", unit.start),
                stale,
                redundant: !stale && before == doc,
            });
        }
        let effective = serde_yaml_ng::to_value(&doc).map_err(|e| {
            SpecError::new(
                "",
                format!("the corrected spec cannot be written back: {e}"),
            )
        })?;
        Ok((effective, outcomes))
    }
}

/// Whether `action` appends an element that every array it selects already holds: then it is
/// skipped, so a correction that adds something upstream has since added itself becomes
/// redundant instead of duplicating it.
fn already_appended(doc: &Value, action: &Action) -> bool {
    let (Some(update), false) = (&action.update, action.is_remove()) else {
        return false;
    };
    let Ok(path) = serde_json_path::JsonPath::parse(&action.target) else {
        return false;
    };
    let nodes = path.query(doc).all();
    !nodes.is_empty()
        && nodes
            .iter()
            .all(|n| n.as_array().is_some_and(|items| items.contains(update)))
}

/// The overlay actions that turn `from` into `to` (both parsed specs), each with a `TODO`
/// description for the maintainer to replace with the fact and its source. Key order is not
/// carried over (an overlay cannot reorder keys); everything else is.
///
/// Objects are compared key by key; a removed key, or a primitive that cannot be targeted, is
/// handled by replacing its parent; arrays of parameters are matched by `name` and `in`; any
/// other changed array is replaced whole.
pub fn derive(from: &serde_yaml_ng::Value, to: &serde_yaml_ng::Value) -> Vec<Action> {
    let from = serde_json::to_value(from).unwrap_or(Value::Null);
    let to = serde_json::to_value(to).unwrap_or(Value::Null);
    let mut out = Vec::new();
    diff_node("$", None, &from, &to, &mut out);
    out
}

fn todo(what: &str) -> Option<String> {
    Some(format!(
        "TODO: {what}. Say what the real API does, and where that is known from."
    ))
}

fn update(target: &str, value: Value, what: &str) -> Action {
    Action {
        target: target.to_string(),
        description: todo(what),
        update: Some(value),
        ..Default::default()
    }
}

fn remove(target: &str, what: &str) -> Action {
    Action {
        target: target.to_string(),
        description: todo(what),
        remove: Some(true),
        ..Default::default()
    }
}

/// `$.a.b` for plain names, `$['/v2/x']` for the rest.
fn child(path: &str, key: &str) -> String {
    let plain = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        format!("{path}.{key}")
    } else {
        format!(
            "{path}['{}']",
            key.replace('\\', "\\\\").replace('\'', "\\'")
        )
    }
}

/// Compares the node at `path`; `parent` is the parent's path and this node's key, so a node
/// can be replaced through its parent.
fn diff_node(
    path: &str,
    parent: Option<(&str, &str)>,
    from: &Value,
    to: &Value,
    out: &mut Vec<Action>,
) {
    if from == to {
        return;
    }
    match (from, to) {
        (Value::Object(a), Value::Object(b)) if !is_replacement(a, b) => {
            let removed: Vec<&String> = a.keys().filter(|k| !b.contains_key(*k)).collect();
            let primitive_removed = removed
                .iter()
                .any(|k| !a[*k].is_object() && !a[*k].is_array());
            if primitive_removed {
                // A primitive cannot be a target: replace this whole node.
                replace(path, parent, from, to, out);
                return;
            }
            for k in removed {
                out.push(remove(&child(path, k), &format!("drop `{k}`")));
            }
            for (k, v) in b {
                match a.get(k) {
                    None => {
                        let mut m = Map::new();
                        m.insert(k.clone(), v.clone());
                        out.push(update(path, Value::Object(m), &format!("add `{k}`")));
                    }
                    Some(old) => diff_node(&child(path, k), Some((path, k)), old, v, out),
                }
            }
        }
        (Value::Array(a), Value::Array(b))
            if list_key(a).is_some() && list_key(a) == list_key(b) =>
        {
            let key = list_key(a).unwrap_or("name");
            for old in a {
                if !b.iter().any(|p| same_item(key, p, old)) {
                    out.push(remove(&item_target(path, key, old), "drop the item"));
                }
            }
            for new in b {
                match a.iter().find(|p| same_item(key, p, new)) {
                    Some(old) => diff_node(&item_target(path, key, new), None, old, new, out),
                    // An update on an array appends its value as one more element.
                    None => out.push(update(path, new.clone(), "add the item")),
                }
            }
        }
        _ => replace(path, parent, from, to, out),
    }
}

/// Replaces the node at `path` with `to` through its parent: a merge replaces a primitive or
/// a node of another kind; an object or array replaced by one of the same kind is removed
/// first (a merge would keep its old keys, or append to it).
fn replace(
    path: &str,
    parent: Option<(&str, &str)>,
    from: &Value,
    to: &Value,
    out: &mut Vec<Action>,
) {
    let Some((parent_path, key)) = parent else {
        // Only the root and parameters are reached without a parent key, and both are
        // objects: merge in place.
        out.push(update(path, to.clone(), "replace"));
        return;
    };
    let same_container = matches!(
        (from, to),
        (Value::Object(_), Value::Object(_)) | (Value::Array(_), Value::Array(_))
    );
    let what = format!("set `{key}`");
    if same_container {
        out.push(remove(path, &what));
    }
    let mut m = Map::new();
    m.insert(key.to_string(), to.clone());
    out.push(update(parent_path, Value::Object(m), &what));
}

/// Whether `b` replaces `a` rather than editing it: a `$ref` appears or goes (an inline
/// schema becomes a reference, or the other way round).
fn is_replacement(a: &Map<String, Value>, b: &Map<String, Value>) -> bool {
    a.contains_key("$ref") != b.contains_key("$ref")
}

/// The field that names the items of a list of objects (parameters and context-store fields
/// by `name`, context-store entities by `entity`), so items are matched by it rather than by
/// position.
fn list_key(items: &[Value]) -> Option<&'static str> {
    ["name", "entity"].into_iter().find(|k| {
        !items.is_empty()
            && items
                .iter()
                .all(|p| p.get(*k).is_some_and(Value::is_string))
    })
}

fn same_item(key: &str, a: &Value, b: &Value) -> bool {
    a.get(key) == b.get(key) && a.get("in") == b.get("in")
}

fn item_target(path: &str, key: &str, item: &Value) -> String {
    let name = item.get(key).and_then(Value::as_str).unwrap_or_default();
    format!(
        "{path}[?(@.{key} == '{}')]",
        name.replace('\\', "\\\\").replace('\'', "\\'")
    )
}

/// An action that removes the operation a spec error points into (`/paths/<key>/<method>/…`),
/// or the auth scheme (`/components/securitySchemes/<key>/…`), described with `reason`;
/// `None` when the pointer is inside neither. This is how
/// `new-connector --skip-unsupported` leaves an operation out: as a correction, so the
/// crate's spec file stays the upstream one and every regen leaves it out again.
pub fn remove_operation(pointer: &str, reason: &str) -> Option<Action> {
    // An auth scheme the generator cannot apply goes as a whole (the others stay).
    if let Some(rest) = pointer.strip_prefix("/components/securitySchemes/") {
        let key = rest
            .split('/')
            .next()?
            .replace("~1", "/")
            .replace("~0", "~");
        return Some(Action {
            target: child(&child(&child("$", "components"), "securitySchemes"), &key),
            description: Some(format!(
                "Left out by `new-connector --skip-unsupported` (the auth scheme): {reason}"
            )),
            remove: Some(true),
            ..Default::default()
        });
    }
    let mut parts = pointer.strip_prefix("/paths/")?.splitn(3, '/');
    let key = parts.next()?.replace("~1", "/").replace("~0", "~");
    let method = parts.next()?;
    if ![
        "get", "put", "post", "delete", "patch", "head", "options", "trace",
    ]
    .contains(&method)
    {
        return None;
    }
    Some(Action {
        target: child(&child("$", "paths"), &key) + "." + method,
        description: Some(format!(
            "Left out by `new-connector --skip-unsupported`: {reason}"
        )),
        remove: Some(true),
        ..Default::default()
    })
}

/// `corrections` (an overlay's text, or none) with `actions` appended, as overlay YAML.
pub fn with_actions(corrections: Option<&str>, actions: &[Action]) -> Result<String, String> {
    let base = corrections.unwrap_or(
        "overlay: 1.0.0\ninfo:\n  title: Corrections to the connector spec\n  version: 1.0.0\nactions: []\n",
    );
    let mut doc: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(base).map_err(|e| format!("the corrections are not YAML: {e}"))?;
    let list = doc
        .get_mut("actions")
        .and_then(serde_yaml_ng::Value::as_sequence_mut)
        .ok_or("the corrections have no `actions` list")?;
    for a in actions {
        let json = serde_json::to_value(a).map_err(|e| e.to_string())?;
        list.push(serde_yaml_ng::to_value(json).map_err(|e| e.to_string())?);
    }
    serde_yaml_ng::to_string(&doc).map_err(|e| e.to_string())
}

/// The actions as overlay YAML (for `cargo xtask corrections derive`).
pub fn actions_yaml(actions: &[Action]) -> String {
    let value = serde_json::to_value(actions).unwrap_or(Value::Null);
    serde_yaml_ng::to_string(&value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> serde_yaml_ng::Value {
        crate::load::parse_yaml(text).unwrap()
    }

    const BASE: &str = r#"
openapi: 3.1.0
info: {title: T, version: "1"}
paths:
  /v1/things:
    get:
      parameters:
        - {name: page_size, in: query, schema: {type: integer, maximum: 100}}
        - {name: after, in: query, schema: {type: string}}
components:
  schemas:
    Thing:
      type: object
      properties:
        rank: {type: ["null", "number"], description: Rank.}
        owner:
          type: ["null", "object"]
          properties: {user: {type: object}}
        legacy: {type: string}
"#;

    const FIXED: &str = r##"
openapi: 3.1.0
info: {title: T, version: "1"}
paths:
  /v1/things:
    get:
      parameters:
        - {name: page_size, in: query, schema: {type: integer, maximum: 10000}}
        - {name: after, in: query, schema: {type: string}}
        - {name: team, in: query, schema: {type: string}}
components:
  schemas:
    Thing:
      type: object
      properties:
        rank: {type: integer, format: int64, description: Rank.}
        owner: {$ref: "#/components/schemas/Actor"}
    Actor:
      type: object
      properties: {user: {type: object}, workflow: {type: object}}
"##;

    fn overlay_of(actions: &[Action]) -> String {
        let mut described: Vec<Action> = actions.to_vec();
        for (i, a) in described.iter_mut().enumerate() {
            a.description = Some(format!("fact {i}"));
        }
        format!(
            "overlay: 1.0.0\ninfo: {{title: t, version: '1'}}\nactions:\n{}",
            actions_yaml(&described)
        )
    }

    #[test]
    fn derived_actions_turn_one_spec_into_the_other() {
        let (base, fixed) = (yaml(BASE), yaml(FIXED));
        let actions = derive(&base, &fixed);
        assert!(actions.iter().all(|a| a
            .description
            .as_deref()
            .is_some_and(|d| d.starts_with("TODO"))));
        let c = Corrections::parse("c.yaml", &overlay_of(&actions)).unwrap();
        let (effective, outcomes) = c.apply(&base).unwrap();
        assert_eq!(
            serde_json::to_value(&effective).unwrap(),
            serde_json::to_value(&fixed).unwrap()
        );
        assert!(
            outcomes.iter().all(|o| !o.stale && !o.redundant),
            "{outcomes:?}"
        );
        // Applied to the fixed spec, nothing is stale, and what is already true is redundant.
        let (again, outcomes) = c.apply(&fixed).unwrap();
        assert_eq!(
            serde_json::to_value(&again).unwrap(),
            serde_json::to_value(&fixed).unwrap()
        );
        assert!(outcomes.iter().any(|o| o.redundant), "{outcomes:?}");
    }

    #[test]
    fn stale_and_redundant_corrections_are_reported() {
        let text = r#"
overlay: 1.0.0
info: {title: corrections, version: "1"}
actions:
  - target: $.components.schemas.Thing.properties.rank
    description: Ranks are integers (API facts 5).
    update: {type: integer}
  - target: $.components.schemas.Gone.properties
    description: Gone has a name (API facts 3).
    update: {name: {type: string}}
  - target: $.components.schemas.Thing.properties.legacy
    description: Already right upstream.
    update: {type: string}
"#;
        let c = Corrections::parse("c.yaml", text).unwrap();
        assert_eq!(c.len(), 3);
        let (_, outcomes) = c.apply(&yaml(BASE)).unwrap();
        let flags: Vec<(bool, bool)> = outcomes.iter().map(|o| (o.stale, o.redundant)).collect();
        assert_eq!(flags, [(false, false), (true, false), (false, true)]);
        assert_eq!(outcomes[1].pointer, "/actions/1");
    }

    #[test]
    fn bad_overlays_name_the_place_and_the_fix() {
        for (text, pointer, needle) in [
            ("info: {title: t, version: '1'}\nactions: []", "/overlay", "overlay: 1.0.0"),
            (
                "overlay: 1.0.0\ninfo: {title: t, version: '1'}\nactions:\n  - {target: '$.a', update: {}}",
                "/actions/0/description",
                "description",
            ),
            (
                "overlay: 1.0.0\ninfo: {title: t, version: '1'}\nactions:\n  - {target: '$[', description: d, update: {}}",
                "/actions/0/target",
                "JSONPath",
            ),
            (
                "overlay: 1.0.0\ninfo: {title: t, version: '1'}\nactions:\n  - {target: '$.a', description: d}",
                "/actions/0",
                "update",
            ),
        ] {
            let e = Corrections::parse("spec/c.yaml", text).unwrap_err();
            assert_eq!(e.pointer, pointer, "{e}");
            assert!(e.to_string().contains(needle), "{e}");
            assert!(e.to_string().starts_with("spec/c.yaml"), "{e}");
        }
        // A primitive target fails at apply time with the action's pointer.
        let c = Corrections::parse(
            "c.yaml",
            "overlay: 1.0.0\ninfo: {title: t, version: '1'}\nactions:\n  - {target: '$.openapi', description: d, update: {a: 1}}",
        )
        .unwrap();
        let e = c.apply(&yaml(BASE)).unwrap_err();
        assert_eq!(e.pointer, "/actions/0/target");
    }
}
