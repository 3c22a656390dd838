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
    if let Some(t) = parse_plain(text.as_bytes(), false) {
        return Ok(t);
    }
    parse_with_jiff(text)
}

/// The plain form of [`parse_event_time`] also without a zone, taken as UTC (Teams audit and
/// Pexip history times): `None` for anything else, which the caller reads its own slower
/// way. What it gives is what jiff gives for the same time with `Z` (a test compares them).
pub fn parse_plain_or_bare_utc(text: &str) -> Option<Timestamp> {
    parse_plain(text.as_bytes(), true)
}

/// [`parse_event_time`] by jiff's parser: every form, and the error for each.
fn parse_with_jiff(text: &str) -> Result<Timestamp, TimeError> {
    let t: Timestamp = text.parse().map_err(|_| TimeError::Form)?;
    if offset_hours(text).is_some_and(|h| h > 23) {
        return Err(TimeError::Offset);
    }
    check_range(t)
}

/// The form nearly every time is written in, `YYYY-MM-DDTHH:MM:SS`, an optional fraction of 1
/// to 9 digits, then `Z` or `±HH:MM`, read without jiff's general parser (which cost 800
/// instructions a time, a time for every event): `None` for anything else, or anything out of
/// range, which [`parse_with_jiff`] then reads and judges as before. Gives what jiff gives
/// (a test compares the two).
fn parse_plain(b: &[u8], bare_utc: bool) -> Option<Timestamp> {
    fn num(b: &[u8]) -> Option<i64> {
        b.iter().try_fold(0i64, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0'))
        })
    }
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (year, month, day) = (num(&b[..4])?, num(&b[5..7])?, num(&b[8..10])?);
    let (hour, minute, second) = (num(&b[11..13])?, num(&b[14..16])?, num(&b[17..19])?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if day < 1 || day > month_days || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut rest = &b[19..];
    let mut nanos = 0i32;
    if let Some(fraction) = rest.strip_prefix(b".") {
        let digits = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
        if !(1..=9).contains(&digits) {
            return None;
        }
        let n = num(&fraction[..digits])?;
        nanos = i32::try_from(n * 10i64.pow(9 - digits as u32)).ok()?;
        rest = &fraction[digits..];
    }
    let offset = match rest {
        b"Z" => 0,
        b"" if bare_utc => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let (h, m) = (num(&[*h1, *h2])?, num(&[*m1, *m2])?);
            if h > 23 || m > 59 || (h == 0 && m == 0 && *sign == b'-') {
                return None;
            }
            let minutes = h * 60 + m;
            if *sign == b'-' { -minutes } else { minutes }
        }
        _ => return None,
    };
    // Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second - offset * 60;
    if seconds < 0 {
        return None;
    }
    Timestamp::new(seconds, nanos).ok()
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
    use proptest::prelude::*;

    proptest! {
        /// The plain form's own reader gives what jiff gives, and declines what it cannot read.
        #[test]
        fn the_plain_reader_agrees_with_jiff(
            y in 1960u32..10000, mo in 0u32..14, d in 0u32..33, h in 0u32..26, mi in 0u32..62,
            s in 0u32..62, frac in proptest::option::of("[0-9]{1,11}"),
            off in prop_oneof![
                Just("Z".to_string()), Just("z".to_string()), Just("-00:00".to_string()),
                Just(String::new()),
                (0u32..26, 0u32..62, any::<bool>()).prop_map(|(h, m, neg)| {
                    format!("{}{h:02}:{m:02}", if neg { '-' } else { '+' })
                }),
            ],
        ) {
            let frac = frac.map(|f| format!(".{f}")).unwrap_or_default();
            let text = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{frac}{off}");
            let jiff = parse_with_jiff(&text);
            match parse_plain(text.as_bytes(), false) {
                Some(t) => prop_assert_eq!(Ok(t), jiff, "{}", text),
                None => prop_assert!(
                    jiff.is_err() || text.contains('z') || text.ends_with("-00:00")
                        || frac.len() > 10 || s > 59,
                    "{} declined, jiff read it", text
                ),
            }
            prop_assert_eq!(parse_event_time(&text), jiff, "{}", text);
            // Without a zone: what jiff reads as a civil time in UTC, or declined.
            if let Some(t) = parse_plain_or_bare_utc(&text) {
                let civil = text
                    .parse::<jiff::civil::DateTime>()
                    .ok()
                    .and_then(|dt| dt.to_zoned(jiff::tz::TimeZone::UTC).ok())
                    .and_then(|z| check_range(z.timestamp()).ok());
                let expected = if off.is_empty() { civil } else { jiff.ok() };
                prop_assert_eq!(Some(t), expected, "{}", text);
            }
        }
    }

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
