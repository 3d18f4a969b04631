//! Response bodies around the records: where a record extractor puts them, plus the meta
//! values at their paths, rendered as compact JSON with the records written in place (they
//! are never parsed or copied).
//!
//! Placement by extractor (what a client evaluating the extractor gets back):
//!
//! - `$` or absent: the body is the record (`get`) or the array of records (`list`);
//! - `$.a.b.c`: nested objects, the records array (or the record) at `c`;
//! - `$.data[N]`: an array at `data` whose element `N` is the record (earlier elements `{}`);
//! - `$.list[*].field`: one element of `list` per record, the record at `field`;
//! - `$.groups[*].page.items` where the schema says `items` is an array: one element of
//!   `groups` holding all the records at `page.items` (a list of lists with one list);
//! - `$[*][*]` (a wildcard over an object): the records split in contiguous runs over the
//!   object's array-valued properties (in schema order).

use serde_json::Value;

use super::ops::Seg;
use super::spec::push_json_string;

/// Where the records go, compiled from an extractor and the 200 schema.
#[derive(Debug, Clone)]
pub(crate) enum Tpl {
    /// The records (array) or the record.
    Slot,
    /// An object with one member leading to the slot.
    Obj(String, Box<Tpl>),
    /// `[N]`: `N` empty objects, then the element leading to the slot.
    Index(usize, Box<Tpl>),
    /// `[*]` with one record per element.
    Spread(Box<Tpl>),
    /// `[*]` with one element holding every record.
    Group(Box<Tpl>),
    /// `[*]` over an object: these members share the records.
    Split(Vec<(String, Tpl)>),
}

/// What fills the slot.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Fill<'a> {
    /// These records (positions handed to the renderer), as an array.
    List(&'a [usize]),
    /// This record.
    One(usize),
    /// No record (a `get` that found nothing answers with an empty array where one sits).
    Nothing,
}

/// A response body under construction.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    /// An object, members in order.
    Obj(Vec<(String, Node)>),
    /// An array.
    Arr(Vec<Node>),
    /// A JSON value.
    Val(Value),
    /// An array of these records.
    Records(Vec<usize>),
    /// One record.
    Record(usize),
}

impl Tpl {
    /// Instantiates the template.
    pub(crate) fn build(&self, fill: Fill<'_>) -> Node {
        match self {
            Tpl::Slot => match fill {
                Fill::List(rs) => Node::Records(rs.to_vec()),
                Fill::One(i) => Node::Record(i),
                Fill::Nothing => Node::Val(Value::Null),
            },
            Tpl::Obj(k, inner) => Node::Obj(vec![(k.clone(), inner.build(fill))]),
            Tpl::Index(n, inner) => {
                if matches!(fill, Fill::Nothing) {
                    return Node::Arr(Vec::new());
                }
                let mut items: Vec<Node> = (0..*n).map(|_| Node::Obj(Vec::new())).collect();
                items.push(inner.build(fill));
                Node::Arr(items)
            }
            Tpl::Spread(inner) => match fill {
                Fill::List(rs) => {
                    Node::Arr(rs.iter().map(|&i| inner.build(Fill::One(i))).collect())
                }
                Fill::One(i) => Node::Arr(vec![inner.build(Fill::One(i))]),
                Fill::Nothing => Node::Arr(Vec::new()),
            },
            Tpl::Group(inner) => match fill {
                Fill::Nothing => Node::Arr(Vec::new()),
                _ => Node::Arr(vec![inner.build(fill)]),
            },
            Tpl::Split(members) => {
                let n = members.len().max(1);
                Node::Obj(
                    members
                        .iter()
                        .enumerate()
                        .map(|(k, (name, t))| {
                            let part = match fill {
                                Fill::List(rs) => {
                                    let (q, r) = (rs.len() / n, rs.len() % n);
                                    let start = k * q + k.min(r);
                                    let len = q + usize::from(k < r);
                                    Fill::List(&rs[start..start + len])
                                }
                                Fill::One(i) if k == 0 => Fill::One(i),
                                _ => Fill::List(&[]),
                            };
                            (name.clone(), t.build(part))
                        })
                        .collect(),
                )
            }
        }
    }
}

impl Node {
    /// Sets `value` at a meta path, creating objects (and array elements for `[N]`) on the
    /// way. Paths through a record, a wildcard or a non-object are skipped (`false`).
    pub(crate) fn insert(&mut self, segs: &[Seg], value: Value) -> bool {
        let Some((first, rest)) = segs.split_first() else {
            return false;
        };
        match (self, first) {
            (Node::Obj(members), Seg::Field(k)) => {
                let pos = match members.iter().position(|(m, _)| m == k) {
                    Some(p) => p,
                    None => {
                        let fresh = match rest.first() {
                            None => Node::Val(Value::Null),
                            Some(Seg::Index(_)) => Node::Arr(Vec::new()),
                            Some(_) => Node::Obj(Vec::new()),
                        };
                        members.push((k.clone(), fresh));
                        members.len() - 1
                    }
                };
                let child = &mut members[pos].1;
                if rest.is_empty() {
                    if matches!(child, Node::Records(_) | Node::Record(_)) {
                        return false;
                    }
                    *child = Node::Val(value);
                    return true;
                }
                child.insert(rest, value)
            }
            (Node::Arr(items), Seg::Index(n)) => {
                while items.len() <= *n {
                    items.push(Node::Obj(Vec::new()));
                }
                if rest.is_empty() {
                    if matches!(items[*n], Node::Records(_) | Node::Record(_)) {
                        return false;
                    }
                    items[*n] = Node::Val(value);
                    return true;
                }
                items[*n].insert(rest, value)
            }
            _ => false,
        }
    }

    /// Appends a top-level member (objects only).
    pub(crate) fn push_member(&mut self, key: &str, value: Value) {
        if let Node::Obj(members) = self {
            if !members.iter().any(|(k, _)| k == key) {
                members.push((key.to_string(), Node::Val(value)));
            }
        }
    }

    /// Number of records in the node (for sizing the output buffer).
    pub(crate) fn record_count(&self) -> usize {
        match self {
            Node::Obj(ms) => ms.iter().map(|(_, n)| n.record_count()).sum(),
            Node::Arr(items) => items.iter().map(Node::record_count).sum(),
            Node::Val(_) => 0,
            Node::Records(rs) => rs.len(),
            Node::Record(_) => 1,
        }
    }

    /// Writes compact JSON; `record` writes record `i` (a position given to [`Fill`]).
    pub(crate) fn render(&self, out: &mut String, record: &mut dyn FnMut(usize, &mut String)) {
        match self {
            Node::Obj(members) => {
                out.push('{');
                for (k, (name, node)) in members.iter().enumerate() {
                    if k > 0 {
                        out.push(',');
                    }
                    push_json_string(out, name);
                    out.push(':');
                    node.render(out, record);
                }
                out.push('}');
            }
            Node::Arr(items) => {
                out.push('[');
                for (k, node) in items.iter().enumerate() {
                    if k > 0 {
                        out.push(',');
                    }
                    node.render(out, record);
                }
                out.push(']');
            }
            Node::Val(Value::String(s)) => push_json_string(out, s),
            Node::Val(v) => out.push_str(&v.to_string()),
            Node::Records(rs) => {
                out.push('[');
                for (k, &i) in rs.iter().enumerate() {
                    if k > 0 {
                        out.push(',');
                    }
                    record(i, out);
                }
                out.push(']');
            }
            Node::Record(i) => record(*i, out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render(n: &Node) -> String {
        let mut out = String::new();
        n.render(&mut out, &mut |i, o: &mut String| {
            o.push_str(&format!("{{\"r\":{i}}}"))
        });
        out
    }

    #[test]
    fn placements_and_meta() {
        let slot = || Box::new(Tpl::Slot);
        let t = Tpl::Obj("a".into(), Box::new(Tpl::Obj("b".into(), slot())));
        let mut n = t.build(Fill::List(&[0, 1]));
        assert!(n.insert(
            &[Seg::Field("a".into()), Seg::Field("next".into())],
            json!("x")
        ));
        assert!(!n.insert(&[Seg::Field("a".into()), Seg::Field("b".into())], json!(1)));
        assert_eq!(render(&n), r#"{"a":{"b":[{"r":0},{"r":1}],"next":"x"}}"#);

        let t = Tpl::Obj("data".into(), Box::new(Tpl::Index(0, slot())));
        assert_eq!(render(&t.build(Fill::One(3))), r#"{"data":[{"r":3}]}"#);
        assert_eq!(render(&t.build(Fill::Nothing)), r#"{"data":[]}"#);

        let t = Tpl::Obj(
            "m".into(),
            Box::new(Tpl::Spread(Box::new(Tpl::Obj("member".into(), slot())))),
        );
        assert_eq!(
            render(&t.build(Fill::List(&[1, 2]))),
            r#"{"m":[{"member":{"r":1}},{"member":{"r":2}}]}"#
        );

        let t = Tpl::Split(vec![
            ("a".into(), Tpl::Spread(slot())),
            ("b".into(), Tpl::Spread(slot())),
        ]);
        assert_eq!(
            render(&t.build(Fill::List(&[0, 1, 2]))),
            r#"{"a":[{"r":0},{"r":1}],"b":[{"r":2}]}"#
        );

        let t = Tpl::Obj(
            "groups".into(),
            Box::new(Tpl::Group(Box::new(Tpl::Obj("items".into(), slot())))),
        );
        let mut n = t.build(Fill::List(&[0]));
        assert!(n.insert(
            &[
                Seg::Field("groups".into()),
                Seg::Index(0),
                Seg::Field("cursor".into())
            ],
            json!(null)
        ));
        assert_eq!(
            render(&n),
            r#"{"groups":[{"items":[{"r":0}],"cursor":null}]}"#
        );
    }
}
