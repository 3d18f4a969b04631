//! Taking the records and the next cursor out of a response body in one pass, without a typed
//! envelope. The operation's metadata names where they sit (`record_path`, `cursor_path`: field
//! names from the root); [`extract`] walks the body's objects along those paths, decodes the
//! records with the caller's seed (typed models, or borrowed [`RawValue`]s for the untyped
//! path) and reads the cursor, skipping everything else without allocating.
//!
//! The same walk serves both transports: incident.io's own bodies (`incidents`,
//! `pagination_meta.after`) and Airbyte's `/execute` envelope (`result`,
//! `connector_metadata.next_cursor`).

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::meta::RecordElement;

/// Where the records and the cursor sit in a body.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Paths<'p> {
    /// Field names from the root to the records; empty: the whole body.
    pub(crate) records: &'p [&'p str],
    /// Field names from the root to the cursor; empty: no cursor.
    pub(crate) cursor: &'p [&'p str],
    /// How records are taken from the value at `records`.
    pub(crate) element: RecordElement,
    /// The value at `cursor` is a flag (`has_more`): `true` reads as the cursor `"true"`,
    /// anything else as none.
    pub(crate) flag: bool,
}

/// What [`extract`] found.
#[derive(Debug)]
pub(crate) struct Extracted<R> {
    /// The decoded records, or `None` when the body has no value at the record path.
    pub(crate) records: Option<R>,
    /// The next cursor: a string (or a number, as its text); `None` when absent, `null` or empty.
    pub(crate) cursor: Option<String>,
}

/// Decodes `text` (one JSON document, nothing after it), taking the records at
/// `paths.records` with `leaf` and the cursor at `paths.cursor`.
pub(crate) fn extract<'de, S>(
    text: &'de str,
    paths: Paths<'_>,
    leaf: S,
) -> Result<Extracted<S::Value>, serde_json::Error>
where
    S: DeserializeSeed<'de>,
{
    let full_cursor = paths.cursor;
    let flag = paths.flag;
    // A cursor path through an array (`["data", "groups", "[0]", "cursor"]`) is read in a
    // second pass; the one-pass walk follows object fields only.
    let indexed = paths.cursor.iter().any(|s| s.starts_with('['));
    let walk_paths = Paths {
        cursor: if indexed { &[] } else { paths.cursor },
        ..paths
    };
    let paths = walk_paths;
    let mut de = serde_json::Deserializer::from_str(text);
    let out = if paths.records.is_empty() {
        Extracted {
            records: Some(leaf.deserialize(&mut de)?),
            cursor: None,
        }
    } else {
        Walk {
            records: Some(paths.records),
            cursor: (!paths.cursor.is_empty()).then_some(paths.cursor),
            leaf: Some(leaf),
            flag: paths.flag,
        }
        .deserialize(&mut de)?
    };
    de.end()?;
    let mut out = out;
    if indexed {
        out.cursor = cursor_at(text, full_cursor, flag);
    }
    Ok(out)
}

/// The cursor at a path whose steps are field names or `[n]` indexes (a second pass over
/// borrowed raw values, no copies).
fn cursor_at(text: &str, path: &[&str], flag: bool) -> Option<String> {
    use std::borrow::Cow;
    use std::collections::HashMap;
    let mut cur: &RawValue = serde_json::from_str(text).ok()?;
    for step in path {
        cur = match step.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            Some(i) => {
                let items: Vec<&RawValue> = serde_json::from_str(cur.get()).ok()?;
                *items.get(i.parse::<usize>().ok()?)?
            }
            None => {
                let fields: HashMap<Cow<'_, str>, &RawValue> =
                    serde_json::from_str(cur.get()).ok()?;
                *fields.get(*step)?
            }
        };
    }
    Cursor(flag)
        .deserialize(&mut serde_json::Deserializer::from_str(cur.get()))
        .ok()
        .flatten()
}

/// One object level of the walk: the remaining paths below it, and the leaf seed (until used).
struct Walk<'p, S> {
    records: Option<&'p [&'p str]>,
    cursor: Option<&'p [&'p str]>,
    leaf: Option<S>,
    flag: bool,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Walk<'_, S> {
    type Value = Extracted<S::Value>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, S: DeserializeSeed<'de>> Visitor<'de> for Walk<'_, S> {
    type Value = Extracted<S::Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.records {
            Some(path) => write!(f, "a JSON object with the field `{}`", path.join(".")),
            None => f.write_str("a JSON object"),
        }
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Extracted {
            records: None,
            cursor: None,
        };
        let names = [
            self.records.and_then(|p| p.first().copied()),
            self.cursor.and_then(|p| p.first().copied()),
        ];
        while let Some(key) = map.next_key_seed(KeyMatch(names))? {
            let rec = key.0 && self.leaf.is_some();
            let cur = key.1;
            let rec_rest = self.records.map(|p| &p[1..]).unwrap_or_default();
            let cur_rest = self.cursor.map(|p| &p[1..]).unwrap_or_default();
            match (rec, cur) {
                (true, _) if rec_rest.is_empty() => {
                    let leaf = self.leaf.take().expect("checked above");
                    out.records = Some(map.next_value_seed(leaf)?);
                }
                (false, true) if cur_rest.is_empty() => {
                    out.cursor = map.next_value_seed(Cursor(self.flag))?;
                }
                (true, _) | (false, true) => {
                    let sub = Walk {
                        records: rec.then_some(rec_rest),
                        cursor: (cur && !cur_rest.is_empty()).then_some(cur_rest),
                        leaf: if rec { self.leaf.take() } else { None },
                        flag: self.flag,
                    };
                    let found = map.next_value_seed(Nested(sub))?;
                    if found.records.is_some() {
                        out.records = found.records;
                    }
                    if found.cursor.is_some() {
                        out.cursor = found.cursor;
                    }
                }
                (false, false) => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(out)
    }
}

/// A nested level: an object continues the walk; any other value (`null`, a string) means
/// neither path exists below it.
struct Nested<W>(W);

impl<'de, 'p, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Nested<Walk<'p, S>> {
    type Value = Extracted<S::Value>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, 'p, S: DeserializeSeed<'de>> Visitor<'de> for Nested<Walk<'p, S>> {
    type Value = Extracted<S::Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.0.visit_map(map)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Extracted {
            records: None,
            cursor: None,
        })
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.visit_unit()
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        self.visit_unit()
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        self.visit_unit()
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        self.visit_unit()
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        self.visit_unit()
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        self.visit_unit()
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        self.visit_unit()
    }
}

/// Matches an object key against the next step of the record and cursor paths, without
/// allocating.
struct KeyMatch<'p>([Option<&'p str>; 2]);

impl<'de> DeserializeSeed<'de> for KeyMatch<'_> {
    type Value = (bool, bool);

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeyMatch<'_> {
    type Value = (bool, bool);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Self::Value, E> {
        Ok((self.0[0] == Some(key), self.0[1] == Some(key)))
    }
}

/// The cursor value: a non-empty string, or a number as its text; anything else is no cursor.
struct Cursor(bool);

impl<'de> DeserializeSeed<'de> for Cursor {
    type Value = Option<String>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Cursor {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a cursor (string or number)")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok((!v.is_empty()).then(|| v.to_string()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok((!v.is_empty()).then_some(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(v.is_finite().then(|| v.to_string()))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok((self.0 && v).then(|| "true".to_string()))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

/// A list of records: an array of `T`; `null` reads as no records.
pub(crate) struct List<T>(PhantomData<T>);

impl<T> List<T> {
    pub(crate) fn new() -> Self {
        List(PhantomData)
    }
}

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for List<T> {
    type Value = Vec<T>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
    }
}

/// One record of type `T`.
pub(crate) struct One<T>(PhantomData<T>);

impl<T> One<T> {
    pub(crate) fn new() -> Self {
        One(PhantomData)
    }
}

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for One<T> {
    type Value = T;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        T::deserialize(d)
    }
}

/// Borrowed raw records, exactly as the server sent them.
pub(crate) type RawList<'de> = List<&'de RawValue>;

/// The records of a value, taken as `element` says: the array itself (`Whole`), one object
/// (`Single`), the value at a field path of every element (`Each`, elements without it are
/// skipped), or of the first element only (`First`).
pub(crate) struct Records<T> {
    element: RecordElement,
    _t: PhantomData<T>,
}

impl<T> Records<T> {
    pub(crate) fn new(element: RecordElement) -> Self {
        Records {
            element,
            _t: PhantomData,
        }
    }
}

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for Records<T> {
    type Value = Vec<T>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        match self.element {
            RecordElement::Whole => List::<T>::new().deserialize(d),
            // One object is the only record; the reference runtime passes a list through
            // as it is, so an array here is taken as the records (APIs drift both ways).
            RecordElement::Single => {
                let raw = <&'de RawValue>::deserialize(d)?;
                let text: &'de str = raw.get();
                match text.as_bytes().first() {
                    Some(b'[') => serde_json::from_str::<Vec<T>>(text).map_err(de::Error::custom),
                    Some(b'n') => Ok(Vec::new()),
                    _ => serde_json::from_str::<T>(text)
                        .map(|t| vec![t])
                        .map_err(de::Error::custom),
                }
            }
            RecordElement::Each(sub) => d.deserialize_any(Elements::<T> {
                sub,
                first_only: false,
                flatten: false,
                _t: PhantomData,
            }),
            RecordElement::EachFlat(sub) => d.deserialize_any(Elements::<T> {
                sub,
                first_only: false,
                flatten: true,
                _t: PhantomData,
            }),
            RecordElement::First(sub) => d.deserialize_any(Elements::<T> {
                sub,
                first_only: true,
                flatten: false,
                _t: PhantomData,
            }),
            RecordElement::Members => d.deserialize_any(Members::<T>(PhantomData)),
        }
    }
}

/// The elements of an array, each walked along `sub`.
struct Elements<T> {
    sub: &'static [&'static str],
    first_only: bool,
    /// The value at `sub` is an array of records (joined), not one record.
    flatten: bool,
    _t: PhantomData<T>,
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for Elements<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of records")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        if self.flatten {
            while let Some(found) = seq.next_element_seed(At::<Vec<T>> {
                path: self.sub,
                _t: PhantomData,
            })? {
                out.extend(found.unwrap_or_default());
            }
            return Ok(out);
        }
        while let Some(found) = seq.next_element_seed(At::<T> {
            path: self.sub,
            _t: PhantomData,
        })? {
            if let Some(v) = found {
                out.push(v);
            }
            if self.first_only {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                break;
            }
        }
        Ok(out)
    }
}

/// The elements of every array-valued member of an object, joined in order.
struct Members<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for Members<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of record arrays")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while map.next_key::<IgnoredAny>()?.is_some() {
            out.extend(map.next_value_seed(IfArray::<T>(PhantomData))?);
        }
        Ok(out)
    }
}

/// An array's elements; any other value reads as none.
struct IfArray<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for IfArray<T> {
    type Value = Vec<T>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for IfArray<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any value")
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element::<T>()? {
            out.push(v);
        }
        Ok(out)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Vec::new())
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }
}

/// The value at a field path (`None` when a step is missing, `null` or not an object).
struct At<T> {
    path: &'static [&'static str],
    _t: PhantomData<T>,
}

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for At<T> {
    type Value = Option<T>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        if self.path.is_empty() {
            return Option::<T>::deserialize(d);
        }
        d.deserialize_any(self)
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for At<T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an object with the field `{}`", self.path.join("."))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = None;
        while let Some(key) = map.next_key_seed(KeyMatch([Some(self.path[0]), None]))? {
            if key.0 && out.is_none() {
                out = map.next_value_seed(At::<T> {
                    path: &self.path[1..],
                    _t: PhantomData,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(out)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENV: Paths<'static> = Paths {
        records: &["things"],
        cursor: &["pagination_meta", "after"],
        element: RecordElement::Whole,
        flag: false,
    };

    #[test]
    fn records_and_cursor_in_one_pass() {
        let body = r#"{"pagination_meta": {"page_size": 2, "after": "02"}, "things": [{"id": "01", "x": null}, {"id":"02"}], "other": {"things": []}}"#;
        let got = extract(body, ENV, RawList::new()).unwrap();
        let raw: Vec<&str> = got.records.unwrap().iter().map(|r| r.get()).collect();
        assert_eq!(raw, [r#"{"id": "01", "x": null}"#, r#"{"id":"02"}"#]);
        assert_eq!(got.cursor.as_deref(), Some("02"));

        let typed = extract(body, ENV, List::<serde_json::Value>::new()).unwrap();
        assert_eq!(typed.records.unwrap().len(), 2);
    }

    #[test]
    fn absent_null_and_odd_cursors() {
        for (body, cursor) in [
            (r#"{"things": []}"#, None),
            (r#"{"things": [], "pagination_meta": null}"#, None),
            (
                r#"{"things": [], "pagination_meta": {"after": null}}"#,
                None,
            ),
            (r#"{"things": [], "pagination_meta": {"after": ""}}"#, None),
            (
                r#"{"things": [], "pagination_meta": {"after": 40}}"#,
                Some("40"),
            ),
            (
                r#"{"things": [], "pagination_meta": {"after": {"a": 1}}}"#,
                None,
            ),
            (r#"{"things": [], "pagination_meta": "x"}"#, None),
        ] {
            let got = extract(body, ENV, RawList::new()).unwrap();
            assert_eq!(got.cursor.as_deref(), cursor, "{body}");
        }
    }

    #[test]
    fn missing_and_null_records() {
        let got = extract(r#"{"other": 1}"#, ENV, RawList::new()).unwrap();
        assert!(got.records.is_none());
        let got = extract(r#"{"things": null}"#, ENV, RawList::new()).unwrap();
        assert_eq!(got.records.unwrap().len(), 0);
        assert!(extract(r#"[1, 2]"#, ENV, RawList::new()).is_err());
        assert!(extract(r#"{"things": []} x"#, ENV, RawList::new()).is_err());
    }

    #[test]
    fn element_forms() {
        let paths = |element| Paths {
            records: &["r"],
            cursor: &[],
            element,
            flag: false,
        };
        let each = paths(RecordElement::Each(&["m", "x"]));
        let got = extract(
            r#"{"r": [{"m": {"x": 1}}, {"m": null}, {"other": 2}, {"m": {"x": 3, "y": 0}}, 7]}"#,
            each,
            Records::<u8>::new(each.element),
        )
        .unwrap();
        assert_eq!(got.records.unwrap(), [1, 3]);
        let first = paths(RecordElement::First(&[]));
        let got = extract(r#"{"r": [5, 6]}"#, first, Records::<u8>::new(first.element)).unwrap();
        assert_eq!(got.records.unwrap(), [5]);
        let got = extract(r#"{"r": []}"#, first, Records::<u8>::new(first.element)).unwrap();
        assert!(got.records.unwrap().is_empty());
        let single = paths(RecordElement::Single);
        for (body, n) in [
            (r#"{"r": {"a": 1}}"#, 1),
            (r#"{"r": [{"a": 1}, {"a": 2}]}"#, 2),
            (r#"{"r": null}"#, 0),
        ] {
            let got = extract(body, single, Records::<&RawValue>::new(single.element)).unwrap();
            assert_eq!(got.records.unwrap().len(), n, "{body}");
        }
        let got = extract(
            r#"{"r": {"a": 1}}"#,
            single,
            Records::<serde_json::Value>::new(single.element),
        )
        .unwrap();
        assert_eq!(got.records.unwrap()[0]["a"], 1);
    }

    #[test]
    fn joined_forms_and_indexed_cursors() {
        let members = Paths {
            records: &[],
            cursor: &[],
            element: RecordElement::Members,
            flag: false,
        };
        let got = extract(
            r#"{"a": [1, 2], "note": "x", "b": [3], "c": null, "d": {"e": [9]}}"#,
            members,
            Records::<u8>::new(members.element),
        )
        .unwrap();
        assert_eq!(got.records.unwrap(), [1, 2, 3]);
        let flat = Paths {
            records: &["g"],
            cursor: &["g", "[1]", "p", "next"],
            element: RecordElement::EachFlat(&["p", "items"]),
            flag: false,
        };
        let got = extract(
            r#"{"g": [{"p": {"items": [1, 2]}}, {"p": {"items": [3], "next": "n2"}}, {"p": null}, 5]}"#,
            flat,
            Records::<u8>::new(flat.element),
        )
        .unwrap();
        assert_eq!(got.records.unwrap(), [1, 2, 3]);
        assert_eq!(got.cursor.as_deref(), Some("n2"));
        // Out of range, or through a non-array: no cursor, never a panic.
        for body in [
            r#"{"g": []}"#,
            r#"{"g": [{"p": {"items": []}}]}"#,
            r#"{"g": [{}, {"p": "s"}]}"#,
        ] {
            let got = extract(body, flat, Records::<u8>::new(flat.element)).unwrap();
            assert_eq!(got.cursor, None, "{body}");
        }
        // A map where the array of groups should be is a decode error, as for `list`.
        assert!(extract(
            r#"{"g": {"1": {}}}"#,
            flat,
            Records::<u8>::new(flat.element)
        )
        .is_err());
    }

    #[test]
    fn shared_prefix_and_whole_body() {
        let paths = Paths {
            records: &["data", "items"],
            cursor: &["data", "next"],
            element: RecordElement::Whole,
            flag: false,
        };
        let got = extract(
            r#"{"data": {"next": "n", "items": [1, 2, 3]}}"#,
            paths,
            List::<u8>::new(),
        )
        .unwrap();
        assert_eq!(got.records.unwrap(), vec![1, 2, 3]);
        assert_eq!(got.cursor.as_deref(), Some("n"));
        let whole = Paths {
            records: &[],
            cursor: &[],
            element: RecordElement::Whole,
            flag: false,
        };
        let got = extract(r#"{"id": "me"}"#, whole, One::<serde_json::Value>::new()).unwrap();
        assert_eq!(got.records.unwrap()["id"], "me");
    }
}
