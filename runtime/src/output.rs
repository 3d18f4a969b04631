//! The size limit on `execute`'s result: [`ExecuteOptions`], and the error that says how to
//! ask for less when a result is over it.

use crate::decode::RawOutput;
use crate::meta::{self, ConnectorMeta};
use crate::Error;

/// The default of [`ExecuteOptions::max_output_chars`]: larger results are refused.
pub const DEFAULT_MAX_OUTPUT_CHARS: usize = 100_000;

/// Options of [`Client::execute_with`](crate::Client::execute_with).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExecuteOptions {
    /// The largest result, in characters of compact JSON, that is returned; a larger one is
    /// an [`Error::InvalidInput`] telling the caller to ask for less (a smaller `page_size`
    /// for lists, a smaller `limit` or fewer `fields` for search). It is never truncated.
    /// `None` or `Some(0)`: no limit. Default: `Some(`[`DEFAULT_MAX_OUTPUT_CHARS`]`)`.
    pub max_output_chars: Option<usize>,
}

impl Default for ExecuteOptions {
    fn default() -> Self {
        ExecuteOptions {
            max_output_chars: Some(DEFAULT_MAX_OUTPUT_CHARS),
        }
    }
}

impl ExecuteOptions {
    /// The defaults (a 100,000-character limit).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the output limit (`None` or `Some(0)`: no limit).
    pub fn max_output_chars(mut self, limit: Option<usize>) -> Self {
        self.max_output_chars = limit;
        self
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
                op.cursor_param.unwrap_or("after")
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
        (Some(op), _) if op.action == meta::Action::List && !op.is_paginated() => (
            "max_output_chars",
            "this list is not paginated, so it cannot be asked for in smaller pages; raise max_output_chars, or use search with `fields` in hosted mode".to_string(),
        ),
        _ => (
            "max_output_chars",
            "the result cannot be made smaller with params; raise max_output_chars".to_string(),
        ),
    };
    Err(Error::invalid(field, format!("{size}; {advice}")))
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
