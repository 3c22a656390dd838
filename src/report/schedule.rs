//! Scheduled reports (`[[reports]]`): which report is written when, for whom, in which format
//! and where. The service runs the due ones on a thread of its own
//! (`crate::service::reports`); `motesvakt reports run` runs them by hand or from cron.
//!
//! Each run writes the report of the period that ended at the latest scheduled time (Swedish
//! local time), once: the time of the last run is kept in the store's `meta` table
//! (`report_last_us:<name>`), so a service that was down catches up once, with the latest
//! period, not once per period it missed. Files are named by report name, scope and period,
//! written to a temporary file first and renamed (a reader never sees half a report), mode
//! 0640.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::civil::{Date, Time, Weekday};
use jiff::{Timestamp, ToSpan};
use serde::Deserialize;

use super::{Filter, Format, Options, ReportError, Scope, Sources, shown_path};
use crate::alert::{Directory, Role};
use crate::config::{Config, Language, Profile};
use crate::store::{Store, StoreError};

/// A report as written in the configuration (`[[reports]]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReport {
    pub name: String,
    pub unit: Option<String>,
    pub manager: Option<String>,
    #[serde(default)]
    pub per_manager: bool,
    pub every: String,
    pub at: Option<String>,
    pub period: Option<String>,
    pub format: Option<String>,
    pub lang: Option<Language>,
    pub folder: PathBuf,
    #[serde(default)]
    pub attach_to_digest: bool,
    /// The CSV separator: `,` (default), `;` (Swedish Excel) or `tab`.
    pub csv_sep: Option<String>,
}

/// How often a report is written, and on which day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Every {
    Daily,
    Weekly(Weekday),
    /// On this day of the month (1 to 28).
    Monthly(i8),
}

/// Whose incidents a scheduled report covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    All,
    Unit(String),
    Manager(String),
    /// One report per manager in the directory, each with only that manager's people.
    PerManager,
}

/// A checked `[[reports]]` entry.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub name: String,
    pub who: Who,
    pub every: Every,
    /// The time of day, Swedish local time.
    pub at: Time,
    /// The period covered; `None`: from the previous scheduled time.
    pub period: Option<Duration>,
    pub format: Format,
    pub lang: Option<Language>,
    pub folder: PathBuf,
    pub attach_to_digest: bool,
    pub csv_sep: u8,
}

/// The time of day when `at` gives none.
const DEFAULT_AT: Time = jiff::civil::time(7, 0, 0, 0);

impl Schedule {
    /// Checks `raw` (entry `reports[i]`); `directory`: whether the configuration has a
    /// [directory], which a unit or manager scope needs.
    pub fn from_raw<E>(
        raw: RawReport,
        i: usize,
        directory: bool,
        invalid: &dyn Fn(&str, String) -> E,
    ) -> Result<Schedule, E> {
        let key = |k: &str| format!("reports[{i}].{k}");
        let name = raw.name.trim().to_string();
        if name.is_empty()
            || name.len() > 64
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(invalid(
                &key("name"),
                "a report name is 1 to 64 letters a-z, digits, `-` or `_` (it starts the file names)"
                    .into(),
            ));
        }
        let named = |k: &str, m: &str| invalid(&key(k), format!("report `{name}`: {m}"));
        let who = match (&raw.unit, &raw.manager, raw.per_manager) {
            (None, None, false) => Who::All,
            (Some(u), None, false) if !u.trim().is_empty() => Who::Unit(u.trim().to_string()),
            (None, Some(m), false) if crate::alert::directory::looks_like_address(m.trim()) => {
                Who::Manager(m.trim().to_lowercase())
            }
            (None, None, true) => Who::PerManager,
            (Some(_), None, false) => return Err(named("unit", "is empty")),
            (None, Some(_), false) => return Err(named("manager", "not an e-mail address")),
            _ => {
                return Err(named(
                    "per_manager",
                    "give one scope: `unit`, `manager` or `per_manager = true` (none: the whole organisation)",
                ));
            }
        };
        if who != Who::All && !directory {
            return Err(named(
                "unit",
                "a report per unit or manager needs the [directory] that names them",
            ));
        }
        let every = raw.every.trim().to_lowercase();
        let at_text = raw.at.as_deref().map(str::trim).unwrap_or("");
        let (day, time) = match at_text.rsplit_once(' ') {
            Some((d, t)) => (Some(d.trim()), t),
            None => (None, at_text),
        };
        let at = if time.is_empty() {
            DEFAULT_AT
        } else {
            time.parse::<Time>().map_err(|_| {
                named(
                    "at",
                    "expected a time of day like \"07:00\" (Swedish time), after the day for weekly (\"mon 07:00\") and monthly (\"1 07:00\")",
                )
            })?
        };
        let every = match (every.as_str(), day) {
            ("daily", None) => Every::Daily,
            ("daily", Some(_)) => {
                return Err(named("at", "a daily report takes a time only (\"07:00\")"));
            }
            ("weekly", d) => Every::Weekly(match d.map(str::to_lowercase).as_deref() {
                None => Weekday::Monday,
                Some(d) => weekday(d).ok_or_else(|| {
                    named(
                        "at",
                        "the day of a weekly report is mon, tue, wed, thu, fri, sat or sun (or mån, tis, ons, tor, fre, lör, sön)",
                    )
                })?,
            }),
            ("monthly", d) => Every::Monthly(match d {
                None => 1,
                Some(d) => d
                    .parse::<i8>()
                    .ok()
                    .filter(|n| (1..=28).contains(n))
                    .ok_or_else(|| {
                        named(
                            "at",
                            "the day of a monthly report is a day of the month from 1 to 28",
                        )
                    })?,
            }),
            _ => return Err(named("every", "expected daily, weekly or monthly")),
        };
        let period = match &raw.period {
            None => None,
            Some(p) => Some(
                crate::alert::parse_duration(p)
                    .filter(|d| !d.is_zero())
                    .ok_or_else(|| named("period", "expected a duration like 7d, 24h or 30d"))?,
            ),
        };
        let format = match &raw.format {
            None => Format::Html,
            Some(f) => Format::from_name(f.trim())
                .ok_or_else(|| named("format", "expected html, md, json or csv"))?,
        };
        let csv_sep = match raw.csv_sep.as_deref() {
            None | Some(",") => b',',
            Some(";") => b';',
            Some("tab" | "\t") => b'\t',
            Some(_) => return Err(named("csv_sep", "expected \",\", \";\" or \"tab\"")),
        };
        if raw.folder.as_os_str().is_empty() {
            return Err(named(
                "folder",
                "is empty: name the folder the reports go to",
            ));
        }
        Ok(Schedule {
            name,
            who,
            every,
            at,
            period,
            format,
            lang: raw.lang,
            folder: raw.folder,
            attach_to_digest: raw.attach_to_digest,
            csv_sep,
        })
    }

    /// The period of the latest run due at or before `now`: (since, until), `until` being the
    /// scheduled time.
    pub fn window(&self, now: Timestamp) -> (Timestamp, Timestamp) {
        let tz = crate::config::profile::swedish_tz();
        let slot = |d: Date| {
            d.to_datetime(self.at)
                .to_zoned(tz.clone())
                .map(|z| z.timestamp())
                .unwrap_or(now)
        };
        let today = now.to_zoned(tz.clone()).date();
        let matches = |d: Date| match self.every {
            Every::Daily => true,
            Every::Weekly(w) => d.weekday() == w,
            Every::Monthly(n) => d.day() == n,
        };
        // The latest matching day whose time has come: within 32 days for any schedule.
        let mut day = today;
        for _ in 0..64 {
            if matches(day) && slot(day) <= now {
                break;
            }
            day = day.yesterday().unwrap_or(day);
        }
        let until = slot(day);
        let since = match self.period {
            Some(p) => until
                .checked_sub(jiff::SignedDuration::try_from(p).unwrap_or_default())
                .unwrap_or(until),
            None => {
                let before = match self.every {
                    Every::Daily => day.checked_sub(1.day()),
                    Every::Weekly(_) => day.checked_sub(7.days()),
                    Every::Monthly(_) => day.checked_sub(1.month()),
                };
                before.map(slot).unwrap_or(until)
            }
        };
        (since, until)
    }

    /// How often and for whom, in words (`weekly (monday) per manager`).
    pub fn describe(&self) -> String {
        let when = match self.every {
            Every::Daily => "daily".to_string(),
            Every::Weekly(w) => format!("weekly ({w:?})").to_lowercase(),
            Every::Monthly(d) => format!("monthly (day {d})"),
        };
        let who = match &self.who {
            Who::All => "the whole organisation".to_string(),
            Who::Unit(u) => format!("unit {u}"),
            Who::Manager(m) => format!("manager {m}"),
            Who::PerManager => "per manager".to_string(),
        };
        format!("{when}, {who}")
    }

    /// The meta key of the last run.
    fn meta_key(&self) -> String {
        format!("report_last_us:{}", self.name)
    }

    /// The scopes of one run: one per manager of the directory for `per_manager`.
    fn scopes(&self, directory: Option<&Directory>) -> Vec<Scope> {
        match &self.who {
            Who::All => vec![Scope::All],
            Who::Unit(u) => vec![Scope::Unit(u.clone())],
            Who::Manager(m) => vec![Scope::Manager(m.clone())],
            Who::PerManager => directory
                .map(|d| d.managers().into_iter().map(Scope::Manager).collect())
                .unwrap_or_default(),
        }
    }

    /// The file a run of `scope` for the period (since, until) is written to.
    pub fn path(&self, scope: &Scope, since: Timestamp, until: Timestamp) -> PathBuf {
        let tz = crate::config::profile::swedish_tz();
        let date = |t: Timestamp| t.to_zoned(tz.clone()).date().to_string();
        let who = match scope {
            Scope::All => "organisation".to_string(),
            Scope::Unit(u) => format!("unit-{}", slug(u)),
            Scope::Manager(m) | Scope::Person(m) => slug(m),
        };
        let ext = match self.format {
            Format::Html => "html",
            Format::Markdown => "md",
            Format::Json => "json",
            Format::Csv => "csv",
        };
        self.folder.join(format!(
            "{}-{who}-{}--{}.{ext}",
            self.name,
            date(since),
            date(until)
        ))
    }
}

fn weekday(d: &str) -> Option<Weekday> {
    Some(match d {
        "mon" | "monday" | "mån" | "måndag" => Weekday::Monday,
        "tue" | "tuesday" | "tis" | "tisdag" => Weekday::Tuesday,
        "wed" | "wednesday" | "ons" | "onsdag" => Weekday::Wednesday,
        "thu" | "thursday" | "tor" | "torsdag" => Weekday::Thursday,
        "fri" | "friday" | "fre" | "fredag" => Weekday::Friday,
        "sat" | "saturday" | "lör" | "lördag" => Weekday::Saturday,
        "sun" | "sunday" | "sön" | "söndag" => Weekday::Sunday,
        _ => return None,
    })
}

/// A file-name part from a unit or an address: lower-case a-z, digits and `-`, at most 60.
pub fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.trim().to_lowercase().chars() {
        let c = match c {
            'å' | 'ä' | 'à' | 'á' => 'a',
            'ö' | 'ø' | 'ó' => 'o',
            'é' | 'è' => 'e',
            'ü' => 'u',
            c if c.is_ascii_alphanumeric() => c,
            _ => '-',
        };
        if !(c == '-' && (out.is_empty() || out.ends_with('-'))) {
            out.push(c);
        }
        if out.len() >= 60 {
            break;
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() { "x".into() } else { out }
}

/// Why scheduled reports could not be written. Messages name the report, never a value
/// from the data.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    #[error("no report named `{0}` in [[reports]]")]
    NoSuchReport(String),
    #[error("report `{name}`: {message}")]
    Directory { name: String, message: String },
    #[error("report `{name}`: {source}")]
    Report { name: String, source: ReportError },
    #[error("report `{name}`: cannot write {path}: {source}")]
    Write {
        name: String,
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One file a run wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub report: String,
    pub path: PathBuf,
    pub incidents: usize,
}

/// The profiles incidents may cite: the configuration's, then every built-in one.
pub fn profiles(config: Option<&Config>) -> Vec<Profile> {
    let mut out: Vec<Profile> = config.map(|c| c.catalog.clone()).unwrap_or_default();
    for id in Profile::BUILTIN_IDS {
        if !out.iter().any(|p| p.id == *id)
            && let Some(p) = Profile::builtin(id)
        {
            out.push(p);
        }
    }
    out
}

/// What [`run_due`] did: the files written, and the reports that failed (tried again at the
/// next run; the others are done).
#[derive(Debug, Default)]
pub struct Outcome {
    pub written: Vec<Written>,
    pub failed: Vec<ScheduleError>,
}

/// Runs the reports of `config` due at `now` (only `only`, when given), each once per
/// scheduled time; with `force`, also those already written for it. A report that fails
/// does not stop the others, and is not marked done.
pub fn run_due(
    store: &Store,
    config: &Config,
    now: Timestamp,
    only: Option<&str>,
    force: bool,
) -> Result<Outcome, ScheduleError> {
    if let Some(n) = only
        && !config.reports.iter().any(|s| s.name == n)
    {
        return Err(ScheduleError::NoSuchReport(super::shown(n)));
    }
    let due: Vec<&Schedule> = {
        let tx = store.read_transaction()?;
        let mut due = Vec::new();
        for s in config
            .reports
            .iter()
            .filter(|s| only.is_none_or(|n| s.name == n))
        {
            let (_, until) = s.window(now);
            let last = tx.meta_value(&s.meta_key())?;
            if force || last.is_none_or(|l| l < until.as_microsecond()) {
                due.push(s);
            }
        }
        due
    };
    let mut outcome = Outcome::default();
    if due.is_empty() {
        return Ok(outcome);
    }
    let profiles = profiles(Some(config));
    for s in due {
        match run_one(store, config, s, now, &profiles) {
            Ok(mut w) => {
                let tx = store.transaction()?;
                tx.set_meta_value(&s.meta_key(), s.window(now).1.as_microsecond())?;
                tx.commit()?;
                outcome.written.append(&mut w);
            }
            Err(e) => outcome.failed.push(e),
        }
    }
    Ok(outcome)
}

/// Writes every file of one run of `s`.
fn run_one(
    store: &Store,
    config: &Config,
    s: &Schedule,
    now: Timestamp,
    profiles: &[Profile],
) -> Result<Vec<Written>, ScheduleError> {
    let directory = match &config.alerts.directory {
        Some(p) => Some(Directory::load(p).map_err(|e| ScheduleError::Directory {
            name: s.name.clone(),
            message: super::shown(&e.to_string()),
        })?),
        None => None,
    };
    let (since, until) = s.window(now);
    let lang = s.lang.unwrap_or(config.language);
    let mut out = Vec::new();
    for scope in s.scopes(directory.as_ref()) {
        let report = super::build(
            store,
            &Filter {
                since: Some(since),
                until: Some(until),
                scope: scope.clone(),
                incident: None,
            },
            Sources {
                directory: directory.as_ref(),
                profiles,
                now,
                classifier: Some(&config.classifier),
            },
        )
        .map_err(|source| ScheduleError::Report {
            name: s.name.clone(),
            source,
        })?;
        let bytes = super::render(
            &report,
            s.format,
            &Options {
                lang,
                csv_sep: s.csv_sep,
            },
        )
        .map_err(|source| ScheduleError::Report {
            name: s.name.clone(),
            source,
        })?;
        let path = s.path(&scope, since, until);
        write_atomically(&path, &bytes).map_err(|source| ScheduleError::Write {
            name: s.name.clone(),
            path: shown_path(&path),
            source,
        })?;
        tracing::info!(
            "report {} written: {} ({} incident(s))",
            s.name,
            shown_path(&path),
            report.incidents.len()
        );
        out.push(Written {
            report: s.name.clone(),
            path,
            incidents: report.incidents.len(),
        });
    }
    if out.is_empty() {
        tracing::warn!(
            "report {}: nobody in the directory has a manager; no file written",
            s.name
        );
    }
    Ok(out)
}

/// Writes `bytes` to `path` by way of a temporary file in the same folder, renamed over it;
/// mode 0640.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
    let folder = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(folder)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = folder.join(format!(".{name}.tmp{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o640)
            .open(&tmp)?;
        f.set_permissions(std::fs::Permissions::from_mode(0o640))?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// A report a digest mail names or attaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestReport {
    pub path: PathBuf,
    pub attach: bool,
    pub format: Format,
}

/// The reports written in the last day that the digest to `recipient` (in `role`) names: a
/// manager's own (`manager =` or `per_manager`); IT security's, the unit and organisation
/// ones.
pub fn for_digest(
    schedules: &[Schedule],
    store: &Store,
    recipient: &str,
    role: Role,
    now: Timestamp,
) -> Result<Vec<DigestReport>, StoreError> {
    let recipient = recipient.trim().to_lowercase();
    let mut out = Vec::new();
    let tx = store.read_transaction()?;
    for s in schedules {
        let scope = match (&s.who, role) {
            (Who::Manager(m), Role::Manager) if *m == recipient => Scope::Manager(m.clone()),
            (Who::PerManager, Role::Manager) => Scope::Manager(recipient.clone()),
            (Who::All, Role::ItSecurity | Role::NoManager) => Scope::All,
            (Who::Unit(u), Role::ItSecurity | Role::NoManager) => Scope::Unit(u.clone()),
            _ => continue,
        };
        let Some(last) = tx
            .meta_value(&s.meta_key())?
            .and_then(|us| Timestamp::from_microsecond(us).ok())
        else {
            continue;
        };
        let (since, until) = s.window(last);
        let path = s.path(&scope, since, until);
        let recent = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|m| Timestamp::try_from(m).ok())
            .is_some_and(|m| now.duration_since(m) < jiff::SignedDuration::from_hours(24));
        if recent {
            out.push(DigestReport {
                path,
                attach: s.attach_to_digest,
                format: s.format,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(every: &str, at: &str, period: Option<&str>) -> Schedule {
        let raw = RawReport {
            name: "veckan".into(),
            unit: None,
            manager: None,
            per_manager: false,
            every: every.into(),
            at: Some(at.into()),
            period: period.map(Into::into),
            format: None,
            lang: None,
            folder: "/tmp/r".into(),
            attach_to_digest: false,
            csv_sep: None,
        };
        Schedule::from_raw(raw, 0, false, &|k: &str, m: String| format!("{k}: {m}")).unwrap()
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn weekly_window_is_the_week_before_the_latest_monday_morning() {
        let s = schedule("weekly", "mon 07:00", None);
        // Wednesday 2024-05-08: the latest Monday 07:00 (CEST) is 2024-05-06 05:00 UTC.
        let (since, until) = s.window(ts("2024-05-08T12:00:00Z"));
        assert_eq!(until, ts("2024-05-06T05:00:00Z"));
        assert_eq!(since, ts("2024-04-29T05:00:00Z"));
        // Monday 06:59 Swedish time: still the week before.
        let (_, until) = s.window(ts("2024-05-06T04:59:00Z"));
        assert_eq!(until, ts("2024-04-29T05:00:00Z"));
        // Over the change to summer time (2024-03-31), the week is an hour short.
        let (since, until) = s.window(ts("2024-04-01T06:00:00Z"));
        assert_eq!(until, ts("2024-04-01T05:00:00Z"));
        assert_eq!(since, ts("2024-03-25T06:00:00Z"));
    }

    #[test]
    fn daily_monthly_and_a_period_of_its_own() {
        let s = schedule("daily", "06:30", None);
        let (since, until) = s.window(ts("2024-05-08T03:00:00Z"));
        assert_eq!(until, ts("2024-05-07T04:30:00Z"));
        assert_eq!(since, ts("2024-05-06T04:30:00Z"));
        let s = schedule("monthly", "1 07:00", None);
        let (since, until) = s.window(ts("2024-05-08T12:00:00Z"));
        assert_eq!(until, ts("2024-05-01T05:00:00Z"));
        assert_eq!(since, ts("2024-04-01T05:00:00Z"));
        let s = schedule("weekly", "fre 16:00", Some("30d"));
        let (since, until) = s.window(ts("2024-05-08T12:00:00Z"));
        assert_eq!(until, ts("2024-05-03T14:00:00Z"));
        assert_eq!(until.duration_since(since).as_hours(), 30 * 24);
    }

    #[test]
    fn slugs_are_safe_file_name_parts() {
        assert_eq!(slug("chef.anna@region.se"), "chef-anna-region-se");
        assert_eq!(slug(" Akutmottagning Östra "), "akutmottagning-ostra");
        assert_eq!(slug("../../etc"), "etc");
        assert_eq!(slug("\u{1b}[31m"), "31m");
        assert_eq!(slug("///"), "x");
    }
}
