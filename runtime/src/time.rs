//! Fast decoding of RFC 3339 timestamps into `chrono::DateTime<Utc>`, for the generated
//! models' timestamp fields (`#[serde(deserialize_with = ...)]`).
//!
//! chrono's own `Deserialize` goes through its general format parser, which showed up as a
//! tenth of a typed page decode in profiles. APIs send one canonical form,
//! `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; [`parse`] reads that form directly with
//! fixed-position digit checks. Anything else (leap seconds, lowercase separators, odd
//! offsets, invalid dates) falls back to exactly what chrono's `Deserialize` does, so the
//! set of accepted values and the resulting instants are unchanged; only the common case is
//! faster.

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};
use serde::de::{self, Deserializer, Visitor};

/// Parses an RFC 3339 timestamp: the canonical form directly, anything else as chrono's
/// `Deserialize` for `DateTime<Utc>` would (`DateTime<FixedOffset>`'s `FromStr`, then UTC).
pub fn parse(s: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
    match fast(s.as_bytes()) {
        Some(t) => Ok(t),
        None => s
            .parse::<DateTime<FixedOffset>>()
            .map(|t| t.with_timezone(&Utc)),
    }
}

/// Two ASCII digits at `at`.
#[inline]
fn d2(b: &[u8], at: usize) -> Option<u32> {
    let (x, y) = (
        b.get(at)?.wrapping_sub(b'0'),
        b.get(at + 1)?.wrapping_sub(b'0'),
    );
    (x < 10 && y < 10).then(|| u32::from(x) * 10 + u32::from(y))
}

/// The canonical form only; `None` for anything else (the caller falls back to chrono).
fn fast(b: &[u8]) -> Option<DateTime<Utc>> {
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let year = d2(b, 0)? * 100 + d2(b, 2)?;
    let (month, day) = (d2(b, 5)?, d2(b, 8)?);
    let (hour, minute, second) = (d2(b, 11)?, d2(b, 14)?, d2(b, 17)?);
    // Leap seconds and out-of-range fields: chrono decides.
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut i = 19;
    let mut nanos = 0u32;
    if b[i] == b'.' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 9 {
                nanos = nanos * 10 + u32::from(b[i] - b'0');
            }
            i += 1;
        }
        let digits = i - start;
        if digits == 0 || digits > 9 {
            return None;
        }
        nanos *= 10u32.pow(9 - digits as u32);
    }
    let offset_secs: i32 = match b.get(i..)? {
        b"Z" => 0,
        [sign @ (b'+' | b'-'), rest @ ..] if rest.len() == 5 && rest[2] == b':' => {
            let (h, m) = (d2(rest, 0)?, d2(rest, 3)?);
            if h > 23 || m > 59 {
                return None;
            }
            let secs = (h * 3600 + m * 60) as i32;
            if *sign == b'-' {
                -secs
            } else {
                secs
            }
        }
        _ => return None,
    };
    let date = NaiveDate::from_ymd_opt(year as i32, month, day)?;
    let naive = date.and_hms_nano_opt(hour, minute, second, nanos)?;
    let offset = FixedOffset::east_opt(offset_secs)?;
    offset
        .from_local_datetime(&naive)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

struct TimestampVisitor;

impl<'de> Visitor<'de> for TimestampVisitor {
    type Value = DateTime<Utc>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an RFC 3339 timestamp")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        parse(v).map_err(E::custom)
    }
}

struct OptionVisitor;

impl<'de> Visitor<'de> for OptionVisitor {
    type Value = Option<DateTime<Utc>>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an RFC 3339 timestamp or null")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(TimestampVisitor).map(Some)
    }
}

/// `deserialize_with` for a `DateTime<Utc>` field.
#[doc(hidden)]
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    d.deserialize_str(TimestampVisitor)
}

/// `deserialize_with` for an `Option<DateTime<Utc>>` field (with `#[serde(default)]`, so an
/// absent field is `None` too).
#[doc(hidden)]
pub fn deserialize_option<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<DateTime<Utc>>, D::Error> {
    d.deserialize_option(OptionVisitor)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What chrono's own `Deserialize` gives.
    fn chrono_says(s: &str) -> Option<DateTime<Utc>> {
        serde_json::from_value::<DateTime<Utc>>(serde_json::Value::String(s.into())).ok()
    }

    #[test]
    fn same_instants_and_same_refusals_as_chrono() {
        for s in [
            "2021-08-17T13:28:57.801578Z",
            "2021-08-17T13:28:57Z",
            "2021-08-17T13:28:57.8Z",
            "2021-08-17T13:28:57.123456789Z",
            "2021-08-17T13:28:57.1234567891Z",
            "2021-08-17T13:28:57+02:00",
            "2021-08-17T13:28:57.5-07:30",
            "2024-02-29T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2021-12-31T23:59:60Z",
            "2021-12-31T23:59:60.5+01:00",
            "2021-08-17t13:28:57z",
            "2021-08-17 13:28:57Z",
            "2021-08-17T13:28:57",
            "2021-08-17T13:28Z",
            "2021-08-17T24:00:00Z",
            "2021-13-01T00:00:00Z",
            "2021-08-17T13:28:57.Z",
            "2021-08-17T13:28:57+0200",
            "2021-08-17T13:28:57+24:00",
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999999999Z",
            "+2021-08-17T13:28:57Z",
            "2021-08-17T13:28:57Z ",
            "2021-08-17T13:28:57ZZ",
            "٢٠٢١-08-17T13:28:57Z",
            "",
            "not a time",
        ] {
            let ours = parse(s).ok();
            assert_eq!(ours, chrono_says(s), "{s:?}");
        }
    }

    #[test]
    fn the_fast_path_takes_the_canonical_forms() {
        for s in [
            "2021-08-17T13:28:57.801578Z",
            "2021-08-17T13:28:57Z",
            "2021-08-17T13:28:57.5-07:30",
        ] {
            assert!(fast(s.as_bytes()).is_some(), "{s}");
        }
        assert!(
            fast(b"2021-12-31T23:59:60Z").is_none(),
            "leap seconds go to chrono"
        );
    }

    #[test]
    fn option_fields_take_null_and_absent() {
        #[derive(serde::Deserialize, Debug)]
        struct R {
            #[serde(default, deserialize_with = "deserialize_option")]
            at: Option<DateTime<Utc>>,
            #[serde(deserialize_with = "deserialize")]
            created: DateTime<Utc>,
        }
        let r: R = serde_json::from_str(r#"{"created": "2021-08-17T13:28:57Z"}"#).unwrap();
        assert!(r.at.is_none());
        assert_eq!(r.created.timestamp(), 1_629_206_937);
        let r: R =
            serde_json::from_str(r#"{"at": null, "created": "2021-08-17T13:28:57Z"}"#).unwrap();
        assert!(r.at.is_none());
        let r: R = serde_json::from_str(
            r#"{"at": "2021-08-17T13:28:57.5+01:00", "created": "2021-08-17T13:28:57Z"}"#,
        )
        .unwrap();
        assert_eq!(r.at.unwrap().to_rfc3339(), "2021-08-17T12:28:57.500+00:00");
        let e = serde_json::from_str::<R>(r#"{"created": "yesterday"}"#).unwrap_err();
        assert!(
            e.to_string().contains("input contains invalid characters"),
            "{e}"
        );
        let e = serde_json::from_str::<R>(r#"{"created": 5}"#).unwrap_err();
        assert!(e.to_string().contains("RFC 3339 timestamp"), "{e}");
    }
}
