//! Event times as motesvakt accepts them: RFC 3339 with an offset, in the years 1970-9999 and
//! with an offset within ±23:59. jiff alone accepts more (years before 1970, offsets up to
//! ±25:59:59), which no platform writes and which would only be a broken or hostile record.

use jiff::Timestamp;

/// Why a time is refused (the message names no value: it may come from a hostile record).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    #[error("is not an RFC 3339 time with an offset (like 2024-05-02T10:20:00+02:00)")]
    Form,
    #[error("is before 1970 or after 9999")]
    Year,
    #[error("has an offset beyond ±23:59")]
    Offset,
}

/// Parses an RFC 3339 time with an offset (`Z` or `±HH:MM`) and checks its range.
pub fn parse_event_time(text: &str) -> Result<Timestamp, TimeError> {
    let t: Timestamp = text.parse().map_err(|_| TimeError::Form)?;
    if offset_hours(text).is_some_and(|h| h > 23) {
        return Err(TimeError::Offset);
    }
    check_range(t)
}

/// The hours of a numeric offset at the end of a time jiff has parsed (`+HH:MM`, `+HHMM`,
/// `+HH`, with seconds or not); `None` for `Z`. jiff checks the minutes (below 60) itself.
fn offset_hours(text: &str) -> Option<u32> {
    let b = text.as_bytes();
    // The offset's sign is the last `+` or `-` after the date (`YYYY-MM-DD` holds two).
    let sign = b.iter().rposition(|&c| c == b'+' || c == b'-')?;
    if sign < 10 {
        return None;
    }
    let digits = b.get(sign + 1..sign + 3)?;
    digits
        .iter()
        .all(u8::is_ascii_digit)
        .then(|| u32::from(digits[0] - b'0') * 10 + u32::from(digits[1] - b'0'))
}

/// Checks that a time (from any form a platform writes) lies in the years 1970-9999, UTC.
pub fn check_range(t: Timestamp) -> Result<Timestamp, TimeError> {
    if t < Timestamp::UNIX_EPOCH {
        return Err(TimeError::Year);
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_range_people_and_platforms_write() {
        for ok in [
            "2024-05-02T10:20:00+02:00",
            "2024-05-02T08:20:00Z",
            "2024-05-02T08:20:00.1234567Z",
            "1970-01-01T00:00:00Z",
            "9999-12-30T00:00:00Z",
            "2024-05-02T10:20:00+23:59",
            "2024-05-02T10:20:00-23:59",
        ] {
            assert!(parse_event_time(ok).is_ok(), "{ok}");
        }
        for (bad, why) in [
            ("1969-12-31T23:59:59Z", TimeError::Year),
            ("1970-01-01T00:30:00+01:00", TimeError::Year),
            ("0001-01-01T00:00:00Z", TimeError::Year),
            ("+10000-01-01T00:00:00Z", TimeError::Form),
            ("10000-01-01T00:00:00Z", TimeError::Form),
            ("2024-257T10:00:00Z", TimeError::Form),
            ("2024-05-257T10:00:00Z", TimeError::Form),
            ("2024-05-02T10:20:00+24:00", TimeError::Offset),
            ("2024-05-02T10:20:00-25:59", TimeError::Offset),
            ("2024-05-02T10:20:00+99:99", TimeError::Form),
            ("2024-05-02T10:20:00", TimeError::Form),
            ("2024-05-02 08:20", TimeError::Form),
            ("", TimeError::Form),
        ] {
            assert_eq!(parse_event_time(bad), Err(why), "{bad}");
        }
    }
}
