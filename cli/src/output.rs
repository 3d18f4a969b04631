//! Output formats. stdout carries only the data, so it stays machine-readable:
//!
//! - `json`: a single result exactly as `execute` returns it (pretty-printed); with `--all`, a
//!   JSON array of every record, streamed page by page.
//! - `jsonl`: one record per line (compact JSON), streamed page by page; a `get` is one line.
//! - `table`: aligned columns for people (buffered; cells cut at 40 characters).

use std::io::{self, Write};

use incident_io_connector::{meta, RawOutput};
use serde_json::Value;

/// How records are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Json,
    Jsonl,
    Table,
}

impl Format {
    pub(crate) fn parse(s: &str) -> Format {
        match s {
            "jsonl" => Format::Jsonl,
            "table" => Format::Table,
            _ => Format::Json,
        }
    }
}

/// Where results go, in one format.
pub(crate) struct Sink<W: Write> {
    out: W,
    format: Format,
    entity: &'static str,
    columns: Option<Vec<String>>,
    /// `--all` with `json`: inside the streamed array.
    streaming: bool,
    /// Records written to the streamed array so far.
    streamed: usize,
    /// Records buffered for a table.
    rows: Vec<Value>,
    /// A single object to print as a field/value table.
    object: Option<Value>,
}

const CELL: usize = 40;
const VALUE_CELL: usize = 100;
const DEFAULT_COLUMNS: usize = 6;

impl<W: Write> Sink<W> {
    pub(crate) fn new(
        out: W,
        format: Format,
        entity: &'static str,
        columns: Option<Vec<String>>,
    ) -> Self {
        Sink {
            out,
            format,
            entity,
            columns,
            streaming: false,
            streamed: 0,
            rows: Vec::new(),
            object: None,
        }
    }

    pub(crate) fn format(&self) -> Format {
        self.format
    }

    /// One result as `execute_raw` returns it. `jsonl` writes the records as the server
    /// sent them, a record per line (nothing is decoded); only `json` (pretty-printed, for
    /// people) and `table` decode them.
    pub(crate) fn result(&mut self, out: &RawOutput) -> io::Result<()> {
        match (self.format, out.records()) {
            (Format::Json, _) => {
                let value: Value = serde_json::from_str(out.as_str())?;
                serde_json::to_writer_pretty(&mut self.out, &value)?;
                writeln!(self.out)?;
            }
            (Format::Jsonl, _) => {
                out.write_jsonl(&mut self.out)?;
            }
            (Format::Table, Some(records)) => self.records(records)?,
            (Format::Table, None) => self.object = Some(serde_json::from_str(out.as_str())?),
        }
        Ok(())
    }

    /// Starts a stream of records (`--all`).
    pub(crate) fn begin_stream(&mut self) -> io::Result<()> {
        if self.format == Format::Json {
            self.streaming = true;
            self.out.write_all(b"[")?;
        }
        Ok(())
    }

    /// The records of one page of a stream: written as the server sent them (json stream,
    /// jsonl) and flushed, or decoded and buffered (table).
    pub(crate) fn page(&mut self, out: &RawOutput) -> io::Result<()> {
        match (self.format, out.records()) {
            (Format::Jsonl, _) => {
                out.write_jsonl(&mut self.out)?;
            }
            (_, Some(records)) => self.records(records)?,
            (_, None) => {}
        }
        // Whatever a page gave goes out before the next request (one write per page).
        self.out.flush()
    }

    /// Some records, each one JSON value as text: written at once (json stream, jsonl) or
    /// decoded and buffered (table).
    pub(crate) fn records<'a>(&mut self, records: impl Iterator<Item = &'a str>) -> io::Result<()> {
        match self.format {
            Format::Json => {
                for r in records {
                    let sep: &[u8] = if self.streamed == 0 { b"\n" } else { b",\n" };
                    self.out.write_all(sep)?;
                    self.out.write_all(RawOutput::single_line(r).as_bytes())?;
                    self.streamed += 1;
                }
            }
            Format::Jsonl => {
                for r in records {
                    self.out.write_all(RawOutput::single_line(r).as_bytes())?;
                    self.out.write_all(b"\n")?;
                }
            }
            Format::Table => {
                for r in records {
                    self.rows.push(serde_json::from_str(r)?);
                }
            }
        }
        Ok(())
    }

    /// Ends the output: closes a streamed array, prints a table, flushes.
    pub(crate) fn finish(&mut self) -> io::Result<()> {
        if self.streaming {
            self.out.write_all(b"\n]\n")?;
            self.streaming = false;
        }
        if self.format == Format::Table {
            if let Some(object) = self.object.take() {
                self.field_table(&object)?;
            } else {
                self.record_table()?;
            }
        }
        self.out.flush()
    }

    fn record_table(&mut self) -> io::Result<()> {
        let columns = match &self.columns {
            Some(c) => c.clone(),
            None => default_columns(self.entity, &self.rows),
        };
        let cells: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| columns.iter().map(|c| cell(lookup(r, c), CELL)).collect())
            .collect();
        let header: Vec<String> = columns.iter().map(|c| c.to_uppercase()).collect();
        write_table(&mut self.out, &header, &cells)
    }

    fn field_table(&mut self, object: &Value) -> io::Result<()> {
        let Some(map) = object.as_object() else {
            return writeln!(self.out, "{}", cell(Some(object), VALUE_CELL));
        };
        let mut keys: Vec<&String> = match &self.columns {
            Some(c) => c.iter().collect(),
            None => map.keys().collect(),
        };
        keys.sort_by_key(|k| (k.as_str() != "id", k.as_str() != "name"));
        let rows: Vec<Vec<String>> = keys
            .iter()
            .map(|k| vec![k.to_string(), cell(lookup(object, k), VALUE_CELL)])
            .collect();
        write_table(
            &mut self.out,
            &["FIELD".to_string(), "VALUE".to_string()],
            &rows,
        )
    }
}

/// The value at a dotted path (`severity.name`).
fn lookup<'a>(record: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(record, |v, key| v.get(key))
}

fn is_scalar(v: &Value) -> bool {
    matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_))
}

/// `id` first, then the entity's top-level searchable fields (spec order) that hold a scalar
/// in some record, up to six; for other results, the scalar keys of the records.
fn default_columns(entity: &str, rows: &[Value]) -> Vec<String> {
    let scalar_somewhere = |key: &str| rows.iter().any(|r| r.get(key).is_some_and(is_scalar));
    let mut candidates: Vec<String> = meta::entity(entity)
        .map(|e| {
            e.search_fields
                .iter()
                .map(|f| f.name)
                .filter(|n| !n.contains('.'))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    if candidates.is_empty() {
        let mut keys: Vec<String> = rows
            .iter()
            .filter_map(Value::as_object)
            .flat_map(|o| o.keys().cloned())
            .collect();
        keys.sort();
        keys.dedup();
        candidates = keys;
    }
    let mut columns: Vec<String> = Vec::new();
    if scalar_somewhere("id") {
        columns.push("id".to_string());
    }
    for c in candidates {
        if columns.len() >= DEFAULT_COLUMNS {
            break;
        }
        if !columns.contains(&c) && scalar_somewhere(&c) {
            columns.push(c);
        }
    }
    if columns.is_empty() {
        columns.push("id".to_string());
    }
    columns
}

/// A value as one table cell: strings as they are, other values as compact JSON, on one line,
/// cut at `max` characters.
fn cell(v: Option<&Value>, max: usize) -> String {
    let text = match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() <= max {
        text
    } else {
        let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

fn write_table<W: Write>(out: &mut W, header: &[String], rows: &[Vec<String>]) -> io::Result<()> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, c) in row.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let line = |cells: &[String]| -> String {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                s.push_str(c);
                s.extend(std::iter::repeat_n(' ', widths[i] - c.chars().count() + 2));
            }
        }
        s.trim_end().to_string()
    };
    writeln!(out, "{}", line(header))?;
    for row in rows {
        writeln!(out, "{}", line(row))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render(format: Format, f: impl FnOnce(&mut Sink<Vec<u8>>)) -> String {
        let mut sink = Sink::new(Vec::new(), format, "incidents", None);
        f(&mut sink);
        sink.finish().unwrap();
        String::from_utf8(sink.out).unwrap()
    }

    #[test]
    fn streamed_json_is_one_array() {
        let text = render(Format::Json, |s| {
            s.begin_stream().unwrap();
            s.records([r#"{"id":1}"#, r#"{"id":2}"#].into_iter())
                .unwrap();
            s.records([r#"{"id":3}"#].into_iter()).unwrap();
        });
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v, json!([{"id": 1}, {"id": 2}, {"id": 3}]));
        let empty = render(Format::Json, |s| s.begin_stream().unwrap());
        assert_eq!(serde_json::from_str::<Value>(&empty).unwrap(), json!([]));
    }

    #[test]
    fn table_aligns_and_cuts() {
        let long = "x".repeat(100);
        let text = render(Format::Table, |s| {
            let a = json!({"id": "A", "name": "short", "reference": "INC-1"}).to_string();
            let b = json!({"id": "BB", "name": long, "reference": null}).to_string();
            s.records([a.as_str(), b.as_str()].into_iter()).unwrap();
        });
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "ID  NAME                                      REFERENCE"
        );
        assert!(lines[2].contains('…'));
        assert_eq!(lines.len(), 3);
    }

    #[test]
    fn jsonl_and_json_streams_keep_each_record_on_one_line() {
        let recs = [
            r#"{"b":1, "a":"x\u00e9","n":null}"#,
            "{\n  \"id\": \"2\"\n}",
        ];
        let out = render(Format::Jsonl, |s| s.records(recs.into_iter()).unwrap());
        assert_eq!(out, format!("{}\n{}\n", recs[0], r#"{"id":"2"}"#));
        let out = render(Format::Json, |s| {
            s.begin_stream().unwrap();
            s.records(recs.into_iter()).unwrap();
        });
        assert_eq!(out, format!("[\n{},\n{}\n]\n", recs[0], r#"{"id":"2"}"#));
    }

    #[test]
    fn lookup_dotted() {
        let v = json!({"severity": {"name": "Major"}});
        assert_eq!(lookup(&v, "severity.name"), Some(&json!("Major")));
        assert_eq!(lookup(&v, "severity.rank"), None);
    }
}
