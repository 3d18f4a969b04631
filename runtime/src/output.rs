//! The options of `execute` ([`ExecuteOptions`]: the size limit, field shaping, truncation,
//! intent) and the error that says how to ask for less when a result is over the limit.

use crate::decode::RawOutput;
use crate::meta::{self, ConnectorMeta};
use crate::Error;

/// The default of [`ExecuteOptions::max_output_chars`]: larger results are refused.
pub const DEFAULT_MAX_OUTPUT_CHARS: usize = 100_000;

/// Options of [`Client::execute_with`](crate::Client::execute_with): the output limit, field
/// shaping, truncation and an intent note.
///
/// ```
/// use connector_sdk_runtime::ExecuteOptions;
/// let options = ExecuteOptions::new()
///     .select_fields(["id", "name", "status.name"])
///     .skip_truncation(false)
///     .intent("Summarise this week's changes for the handover");
/// assert_eq!(options.select_fields.as_deref().map(<[String]>::len), Some(3));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExecuteOptions {
    /// The largest result, in characters of compact JSON, that is returned (checked after
    /// shaping); a larger one is an [`Error::InvalidInput`] telling the caller to ask for less
    /// (a smaller `page_size` for lists, a smaller `limit` for search, or fewer fields with
    /// `select_fields`). It is never truncated. `None` or `Some(0)`: no limit. Default:
    /// `Some(`[`DEFAULT_MAX_OUTPUT_CHARS`]`)`.
    pub max_output_chars: Option<usize>,
    /// Keep only these fields of each record: top-level names, or dot paths into nested
    /// objects (`status.name`). Wins over `exclude_fields`. Default: every field.
    pub select_fields: Option<Vec<String>>,
    /// Drop these fields (names or dot paths) from each record. Default: none.
    pub exclude_fields: Option<Vec<String>>,
    /// `false` cuts every string longer than 200 characters in the records of collection
    /// actions (`list`, the context-store actions) and appends a note saying to `get` the
    /// record for the full value, as agents' tools do to save context. Default `true`: records
    /// as sent.
    pub skip_truncation: bool,
    /// Why the call is made, at most 512 characters: sent with hosted calls (Airbyte keeps it
    /// with the call), recorded on the call's tracing span in direct mode.
    pub intent: Option<String>,
    /// `true` drops `null`, `""`, `[]` and `{}` values from the records, recursively, to save
    /// an agent's context (as Airbyte's MCP server does). Applied by the client in both modes.
    /// Default `false`: records as sent.
    pub compact: bool,
    /// Whether write actions (`create`, `update`, `delete`) may run. `execute` is the tool an
    /// agent calls, so it is read-only unless the operator allows writes: with `false` (the
    /// default) a write fails with [`Error::InvalidInput`] before any request. The typed
    /// methods (`connector.tasks().create(body)`) are not affected.
    pub allow_writes: bool,
}

impl Default for ExecuteOptions {
    fn default() -> Self {
        ExecuteOptions {
            max_output_chars: Some(DEFAULT_MAX_OUTPUT_CHARS),
            select_fields: None,
            exclude_fields: None,
            skip_truncation: true,
            intent: None,
            compact: false,
            allow_writes: false,
        }
    }
}

impl ExecuteOptions {
    /// The defaults (a 100,000-character limit, every field, no truncation, no intent).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the output limit (`None` or `Some(0)`: no limit).
    pub fn max_output_chars(mut self, limit: Option<usize>) -> Self {
        self.max_output_chars = limit;
        self
    }

    /// Keeps only these fields of each record (see [`ExecuteOptions::select_fields`]).
    pub fn select_fields<I, S>(mut self, fields: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.select_fields = Some(fields.into_iter().map(Into::into).collect());
        self
    }

    /// Drops these fields from each record (see [`ExecuteOptions::exclude_fields`]).
    pub fn exclude_fields<I, S>(mut self, fields: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.exclude_fields = Some(fields.into_iter().map(Into::into).collect());
        self
    }

    /// `false` truncates long strings of collection results (see
    /// [`ExecuteOptions::skip_truncation`]).
    pub fn skip_truncation(mut self, skip: bool) -> Self {
        self.skip_truncation = skip;
        self
    }

    /// Drops empty values from the records (see [`ExecuteOptions::compact`]).
    pub fn compact(mut self, compact: bool) -> Self {
        self.compact = compact;
        self
    }

    /// Lets write actions run (see [`ExecuteOptions::allow_writes`]).
    pub fn allow_writes(mut self, allow: bool) -> Self {
        self.allow_writes = allow;
        self
    }

    /// Says why the call is made (see [`ExecuteOptions::intent`]).
    pub fn intent(mut self, intent: impl Into<String>) -> Self {
        self.intent = Some(intent.into());
        self
    }

    /// Checks the options (before any request).
    pub(crate) fn check(&self) -> Result<(), Error> {
        if let Some(f) = &self.select_fields {
            crate::shape::check_fields("select_fields", f)?;
        }
        if let Some(f) = &self.exclude_fields {
            crate::shape::check_fields("exclude_fields", f)?;
        }
        if let Some(i) = &self.intent {
            crate::shape::check_intent(i)?;
        }
        Ok(())
    }

    /// The shaping these options ask for on `action`'s records.
    pub(crate) fn shaping(&self, action: &str) -> crate::shape::Shaping<'_> {
        crate::shape::Shaping {
            select: self.select_fields.as_deref().unwrap_or_default(),
            exclude: self.exclude_fields.as_deref().unwrap_or_default(),
            truncate: !self.skip_truncation && crate::shape::is_collection_action(action),
            compact: self.compact,
        }
    }

    /// What a hosted call sends beside `params`.
    pub(crate) fn extras(&self) -> crate::transport::CallExtras<'_> {
        crate::transport::CallExtras {
            select_fields: self.select_fields.as_deref(),
            exclude_fields: self.exclude_fields.as_deref(),
            skip_truncation: self.skip_truncation,
            intent: self.intent.as_deref(),
            next_url: None,
            // The transport sets it from the operation.
            idempotent: true,
        }
    }
}

/// Checks that `result` has at most `limit` characters; otherwise an error that says how to
/// ask for less.
pub(crate) fn check_output_size(
    meta: &ConnectorMeta,
    entity: &str,
    action: &str,
    result: &RawOutput,
    limit: usize,
) -> Result<(), Error> {
    // Characters, not bytes: count every byte that does not continue a UTF-8 sequence.
    let chars = result
        .as_str()
        .bytes()
        .filter(|b| (*b & 0xC0) != 0x80)
        .count();
    if chars <= limit {
        return Ok(());
    }
    let records = result.record_count();
    let size = format!(
        "{entity}.{action} returned {} characters of JSON{}, over the limit of {}, so nothing was returned",
        group_thousands(chars),
        records
            .map(|n| format!(" ({n} records)"))
            .unwrap_or_default(),
        group_thousands(limit)
    );
    // How many records would fit, with some headroom.
    let fitting = records.map(|n| ((n as f64) * (limit as f64) / (chars as f64) * 0.9) as usize);
    let op = meta.entity(entity).and_then(|e| e.operation(action));
    let is_search = action == crate::search::SEARCH || action == crate::search::SEARCH_ACTION;
    let (field, advice) = match (op, fitting) {
        (Some(op), Some(n)) if op.page_size_param.is_some() && n >= 1 => (
            match op.page_size_param {
                Some("page_size") => "params.page_size",
                _ => "params.page_size_param",
            },
            format!(
                "ask for fewer records: pass {} {} or less, and follow meta.next_cursor with `{}` for the rest",
                op.page_size_param.unwrap_or("page_size"),
                n,
                op.cursor_param.unwrap_or(if op.follows_urls() {
                    meta::NEXT_PAGE_PARAM
                } else {
                    "after"
                })
            ),
        ),
        _ if is_search && fitting.is_some_and(|n| n >= 1) => (
            "params.limit",
            format!(
                "ask for less: pass limit {} or less and follow meta.cursor, or name only the fields you need in `fields`",
                fitting.unwrap_or(1)
            ),
        ),
        _ if is_search => (
            "params.fields",
            "ask for less: name only the fields you need in `fields` and pass limit 1".to_string(),
        ),
        (Some(op), _) if op.action.is_collection() && !op.is_paginated() => (
            "max_output_chars",
            "this list is not paginated, so it cannot be asked for in smaller pages; raise max_output_chars, or use search with `fields` in hosted mode".to_string(),
        ),
        _ => (
            "max_output_chars",
            "the result cannot be made smaller with params; raise max_output_chars".to_string(),
        ),
    };
    // Shaping helps every kind of result.
    let shaping = if action == "get" || op.is_some_and(|o| o.action == meta::Action::Get) {
        "; or keep only the fields you need with select_fields (or drop some with exclude_fields)"
    } else {
        "; or keep only the fields you need with select_fields (or drop some with exclude_fields), and let long strings be cut with skip_truncation false"
    };
    Err(Error::invalid(field, format!("{size}; {advice}{shaping}")))
}

/// `100000` → `100,000`.
pub(crate) fn group_thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands() {
        assert_eq!(group_thousands(100_000), "100,000");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(1_234_567), "1,234,567");
    }
}
