//! Airbyte's connector metadata routes: `GET /api/v1/integrations/connectors/{id}/inspect`
//! (the connector, its readiness, its entities and actions, and a `docs_skill_id`) and
//! `GET /api/v1/skills/docs?id=..&section=..` (an outline of the connector's entities, or one
//! entity's operations), both built from the served spec.

use serde_json::{json, Value};

/// What the inspect and docs routes say, read once from the spec.
#[derive(Debug, Default)]
pub(crate) struct SkillDocs {
    /// `info.version`.
    version: Value,
    /// `info.title`.
    title: String,
    /// Per entity: name, summary, and one line per operation.
    entities: Vec<(String, String, Vec<String>)>,
}

/// The skill id under which a connector's docs are served.
pub(crate) fn skill_id(definition_id: &str) -> String {
    format!("connector:{definition_id}")
}

impl SkillDocs {
    pub(crate) fn read(spec: &Value) -> SkillDocs {
        let mut entities: Vec<(String, String, Vec<String>)> = Vec::new();
        for (path, item) in spec
            .get("paths")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            for (method, op) in item.as_object().into_iter().flatten() {
                let (Some(entity), Some(action)) = (
                    op.get("x-airbyte-entity").and_then(Value::as_str),
                    op.get("x-airbyte-action").and_then(Value::as_str),
                ) else {
                    continue;
                };
                let summary = op.get("summary").and_then(Value::as_str).unwrap_or(action);
                let line = format!("{action}: {summary} ({} {path})", method.to_uppercase());
                match entities.iter_mut().find(|(e, _, _)| e == entity) {
                    Some((_, _, lines)) => lines.push(line),
                    None => entities.push((entity.to_string(), summary.to_string(), vec![line])),
                }
            }
        }
        SkillDocs {
            version: spec
                .pointer("/info/version")
                .cloned()
                .unwrap_or(Value::Null),
            title: spec
                .pointer("/info/title")
                .and_then(Value::as_str)
                .unwrap_or("Connector")
                .to_string(),
            entities,
        }
    }

    /// The inspect answer for one connector.
    pub(crate) fn inspect(&self, connector: Value, definition_id: &str) -> Value {
        let mut out = connector;
        out["status"] = json!("ready");
        out["connector_version"] = self.version.clone();
        out["docs_skill_id"] = json!(skill_id(definition_id));
        out["entities"] = self
            .entities
            .iter()
            .map(|(e, _, lines)| {
                let actions: Vec<&str> = lines.iter().filter_map(|l| l.split(':').next()).collect();
                json!({"name": e, "actions": actions})
            })
            .collect();
        out
    }

    /// The docs: the outline, or one entity's section (`None` when there is no such section).
    pub(crate) fn docs(&self, id: &str, section: Option<&str>) -> Option<Value> {
        let outline: Vec<Value> = self
            .entities
            .iter()
            .map(|(e, s, _)| json!({"id": e, "title": e, "summary": s}))
            .collect();
        let metadata = json!({"id": id, "title": self.title, "kind": "connector", "summary": format!("{} entities", self.entities.len())});
        match section {
            None => {
                Some(json!({"id": id, "metadata": metadata, "outline": outline, "content": []}))
            }
            Some(s) => {
                let (_, summary, lines) = self.entities.iter().find(|(e, _, _)| e == s)?;
                Some(json!({
                    "id": id,
                    "metadata": metadata,
                    "outline": outline,
                    "section_id": s,
                    "content": [
                        {"type": "heading", "level": 2, "text": s},
                        {"type": "paragraph", "text": summary},
                        {"type": "list", "items": lines},
                    ],
                }))
            }
        }
    }
}
