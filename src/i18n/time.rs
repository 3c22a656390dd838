//! Times people read: in the local time of one zone (Swedish time, Europe/Stockholm with summer
//! time, unless `timezone =` or `--tz` says otherwise), written the Swedish way:
//! `2024-05-02 10:00`. JSON output and the store keep UTC (RFC 3339); only text for people
//! passes through here. Swedish time needs no label; any other zone is named after the time
//! (`2024-05-02 08:00 UTC`), so that nobody reads it as Swedish.
//!
//! The zone is one setting of the process, set once from the configuration or the command
//! line before anything is shown ([`set_zone`]); the time-zone database is compiled in.

use std::sync::OnceLock;

use jiff::Timestamp;
use jiff::tz::TimeZone;

/// The zone of Swedish time.
pub const SWEDISH: &str = "Europe/Stockholm";

static ZONE: OnceLock<(TimeZone, bool)> = OnceLock::new();

/// The zone `name` (an IANA name such as `Europe/Stockholm` or `UTC`), from the bundled
/// database; `None` when it knows no such zone.
pub fn zone_named(name: &str) -> Option<TimeZone> {
    TimeZone::get(name).ok()
}

/// Sets the zone times are shown in, for the rest of the process. The first call wins: the
/// command line's `--tz` is set before the configuration's `timezone`.
pub fn set_zone(tz: TimeZone) {
    let swedish = tz.iana_name() == Some(SWEDISH);
    let _ = ZONE.set((tz, swedish));
}

fn write(t: Timestamp, format: &str) -> String {
    let (tz, swedish) = match ZONE.get() {
        Some((tz, swedish)) => (tz.clone(), *swedish),
        None => (crate::config::profile::swedish_tz(), true),
    };
    let z = t.to_zoned(tz);
    if swedish {
        z.strftime(format).to_string()
    } else {
        format!("{} {}", z.strftime(format), z.strftime("%Z"))
    }
}

/// Date and time to the minute: `2024-05-02 10:00`.
pub fn date_time(t: Timestamp) -> String {
    write(t, "%Y-%m-%d %H:%M")
}

/// Date and time to the second, where events a few seconds apart must be told apart (the
/// incident lists of `scan` and `incidents`, the service's status): `2024-05-02 10:00:05`.
pub fn date_time_seconds(t: Timestamp) -> String {
    write(t, "%Y-%m-%d %H:%M:%S")
}

/// The time of day, for a time beside a date already shown: `10:20`.
pub fn clock(t: Timestamp) -> String {
    write(t, "%H:%M")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swedish_time_with_summer_time_and_no_label() {
        // The process's zone is never set in unit tests: Swedish time.
        let t = |s: &str| s.parse::<Timestamp>().unwrap();
        assert_eq!(date_time(t("2024-05-02T08:00:00Z")), "2024-05-02 10:00");
        assert_eq!(date_time(t("2024-01-15T08:00:00Z")), "2024-01-15 09:00");
        assert_eq!(
            date_time_seconds(t("2024-10-27T00:59:59Z")),
            "2024-10-27 02:59:59"
        );
        assert_eq!(clock(t("2024-03-31T01:00:00Z")), "03:00");
        assert!(zone_named("Europe/Stockholm").is_some());
        assert!(zone_named("UTC").is_some());
        assert!(zone_named("Mars/Olympus").is_none());
    }
}
