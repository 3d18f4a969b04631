//! The write store: what `create`, `update` and `delete` operations changed, per entity, on
//! top of the synthesized records (which are never touched).
//!
//! Records live at positions: `0..count` are the synthesized ones, and each created record
//! takes the next position (`count`, `count + 1`, ...), so it is generated exactly like a
//! synthesized record at that index (a fresh, distinct id that decodes back to its position,
//! or the next integer id) and listed after the synthesized ones. A position can carry an
//! overlay of top-level fields (set, or removed by a `PUT`), applied to the record whenever
//! it is rendered, and can be deleted (then every read skips it and a `get` answers 404).
//! Positions are never reused, so a deleted record's id stays unknown.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value};

/// The changes to one entity.
#[derive(Debug, Default, Clone)]
pub(crate) struct EntityWrites {
    /// Top-level fields set (`Some`) or removed (`None`) per position, in the order first
    /// written.
    overlays: HashMap<usize, Vec<(String, Option<Value>)>>,
    /// Deleted positions.
    deleted: BTreeSet<usize>,
    /// Number of records created (positions `count..count + created`).
    created: usize,
}

impl EntityWrites {
    /// True when nothing was written: the entity is its synthesized records.
    pub(crate) fn is_pristine(&self) -> bool {
        self.created == 0 && self.deleted.is_empty() && self.overlays.is_empty()
    }

    /// Number of positions in use: `count` synthesized records plus the created ones.
    pub(crate) fn limit(&self, count: usize) -> usize {
        count.saturating_add(self.created)
    }

    /// True when position `i` holds a record that exists (not deleted).
    pub(crate) fn alive(&self, count: usize, i: usize) -> bool {
        i < self.limit(count) && !self.deleted.contains(&i)
    }

    /// The positions of the records that exist, in server order.
    pub(crate) fn live(&self, count: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.limit(count)).filter(move |i| !self.deleted.contains(i))
    }

    /// Takes the next position for a created record.
    pub(crate) fn create(&mut self, count: usize) -> usize {
        let i = self.limit(count);
        self.created += 1;
        self.overlays.entry(i).or_default();
        i
    }

    /// Sets (`Some`) or removes (`None`) a top-level field of the record at `i`.
    pub(crate) fn set(&mut self, i: usize, field: &str, value: Option<Value>) {
        let ov = self.overlays.entry(i).or_default();
        match ov.iter_mut().find(|(k, _)| k == field) {
            Some((_, v)) => *v = value,
            None => ov.push((field.to_string(), value)),
        }
    }

    /// Deletes the record at `i`.
    pub(crate) fn delete(&mut self, i: usize) {
        self.deleted.insert(i);
        self.overlays.remove(&i);
    }

    /// The overlay of position `i`, if it has one.
    pub(crate) fn overlay(&self, i: usize) -> Option<&[(String, Option<Value>)]> {
        self.overlays.get(&i).map(Vec::as_slice)
    }

    /// A top-level field as the overlay of `i` has it: `Some(Some(v))` set, `Some(None)`
    /// removed, `None` untouched (the synthesized value stands).
    pub(crate) fn field(&self, i: usize, field: &str) -> Option<Option<&Value>> {
        self.overlays
            .get(&i)?
            .iter()
            .find(|(k, _)| k == field)
            .map(|(_, v)| v.as_ref())
    }
}

/// Applies an overlay to a rendered record: set fields keep their place (new ones go
/// last), removed ones are taken out.
pub(crate) fn apply(overlay: &[(String, Option<Value>)], record: &mut Map<String, Value>) {
    for (k, v) in overlay {
        match v {
            Some(v) => {
                record.insert(k.clone(), v.clone());
            }
            None => {
                record.shift_remove(k);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn positions_overlays_and_deletes() {
        let mut w = EntityWrites::default();
        assert!(w.is_pristine());
        let a = w.create(3);
        let b = w.create(3);
        assert_eq!((a, b, w.limit(3)), (3, 4, 5));
        w.set(1, "name", Some(json!("x")));
        w.set(1, "tags", None);
        w.set(1, "name", Some(json!("y")));
        assert_eq!(w.field(1, "name"), Some(Some(&json!("y"))));
        assert_eq!(w.field(1, "tags"), Some(None));
        assert_eq!(w.field(1, "other"), None);
        w.delete(0);
        w.delete(a);
        assert_eq!(w.live(3).collect::<Vec<_>>(), vec![1, 2, 4]);
        assert!(!w.alive(3, 0) && w.alive(3, 4) && !w.alive(3, 5));

        let mut rec = json!({"id": "1", "name": "n", "tags": ["t"], "z": 1})
            .as_object()
            .cloned()
            .unwrap();
        apply(w.overlay(1).unwrap(), &mut rec);
        assert_eq!(Value::Object(rec), json!({"id": "1", "name": "y", "z": 1}));
    }
}
