//! The service's settings: `[service]` (timings, limits, retention) and the `[[watch]]` blocks
//! (the folders whose exports it reads).

use std::path::{Path, PathBuf};
use std::time::Duration;

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;

use crate::sources::Format;

/// The file names a `[[watch]]` block reads when it names none.
pub const DEFAULT_INCLUDE: &[&str] = &[
    "*.ndjson",
    "*.jsonl",
    "*.json",
    "*.csv",
    "*.log",
    "*.ndjson.gz",
    "*.jsonl.gz",
    "*.json.gz",
    "*.csv.gz",
    "*.log.gz",
];

/// Names that are never read: files being written under a temporary name (`.*`, `*.tmp`,
/// `*.part`, `~*`). Exporters should write under such a name and rename when done.
pub fn is_temporary_name(name: &[u8]) -> bool {
    name.starts_with(b".")
        || name.starts_with(b"~")
        || name.ends_with(b".tmp")
        || name.ends_with(b".part")
}

/// `[service]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawServiceSettings {
    pub rescan: Option<String>,
    pub quiescence: Option<String>,
    pub max_line_bytes: Option<u64>,
    pub keep_meetings: Option<String>,
    pub keep_incidents: Option<String>,
}

/// `[[watch]]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWatch {
    pub path: PathBuf,
    pub include: Option<Vec<String>>,
    #[serde(default)]
    pub exclude: Vec<String>,
    pub format: Option<String>,
    #[serde(default)]
    pub mode: WatchMode,
}

/// How the service learns that a watched folder changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WatchMode {
    /// inotify, except on network and FUSE file systems (NFS, CIFS/SMB, FUSE), which are
    /// polled because inotify hears nothing of changes made on other machines.
    #[default]
    Auto,
    /// inotify (with the periodic full look still made).
    Inotify,
    /// The periodic full look only.
    Poll,
}

/// The service's timings, limits and retention, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceSettings {
    /// How often every watched folder is looked at in full (the truth; inotify only makes
    /// the next look come sooner).
    pub rescan: Duration,
    /// How long a file must stay unchanged before a whole-document export (JSON, CSV, `.gz`)
    /// is read, or the unended last line of an appended file is taken as a record.
    pub quiescence: Duration,
    /// A line longer than this is reported with its file and line number and skipped.
    pub max_line_bytes: u64,
    /// How long a meeting's state is kept after its last event, for evidence that arrives
    /// late; then it is pruned, and a record for it that is older than this is refused.
    pub keep_meetings: Duration,
    /// How long incidents and their history are kept after their last change.
    pub keep_incidents: Duration,
}

impl Default for ServiceSettings {
    fn default() -> Self {
        ServiceSettings {
            rescan: Duration::from_secs(10),
            quiescence: Duration::from_secs(30),
            max_line_bytes: 1024 * 1024,
            keep_meetings: Duration::from_secs(14 * 86_400),
            keep_incidents: Duration::from_secs(730 * 86_400),
        }
    }
}

/// One watched folder (or file), checked.
#[derive(Debug, Clone)]
pub struct Watch {
    pub path: PathBuf,
    /// The patterns as written, for messages.
    pub include_patterns: Vec<String>,
    pub exclude_patterns: Vec<String>,
    include: GlobSet,
    exclude: GlobSet,
    /// Read every file as this format instead of detecting it.
    pub format: Option<Format>,
    pub mode: WatchMode,
}

impl PartialEq for Watch {
    fn eq(&self, other: &Watch) -> bool {
        self.path == other.path
            && self.include_patterns == other.include_patterns
            && self.exclude_patterns == other.exclude_patterns
            && self.format == other.format
            && self.mode == other.mode
    }
}

impl Watch {
    /// Whether the file at `path` (under this watch's folder) is to be read: not a temporary
    /// name, matched by an include pattern and by no exclude pattern. A pattern without `/`
    /// is matched against the file name, one with `/` against the path below the folder.
    pub fn wants(&self, path: &Path) -> bool {
        let Some(name) = path.file_name() else {
            return false;
        };
        if is_temporary_name(name.as_encoded_bytes()) {
            return false;
        }
        if path == self.path {
            // A watched file named directly.
            return true;
        }
        let relative = path.strip_prefix(&self.path).unwrap_or(path);
        let hit = |set: &GlobSet| set.is_match(name) || set.is_match(relative);
        hit(&self.include) && !hit(&self.exclude)
    }
}

/// Parses a duration as written in the config: a number and a unit, or several (`"10s"`,
/// `"30s"`, `"1h 30m"`, `"14d"`, `"2y"`). Units: `ms`, `s`, `m`/`min`, `h`, `d`, `w`, `y`
/// (a day is 24 hours, a year 365 days).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let mut total: u128 = 0;
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err("empty duration (write it like \"30s\", \"14d\")".into());
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err("not a duration (write it like \"30s\", \"10m\", \"14d\")".into());
        }
        let n: u128 = rest[..digits]
            .parse()
            .map_err(|_| "a number in the duration is too large".to_string())?;
        rest = rest[digits..].trim_start();
        let unit_len = rest.bytes().take_while(|b| b.is_ascii_alphabetic()).count();
        let millis: u128 = match &rest[..unit_len] {
            "ms" => 1,
            "s" | "sec" | "secs" => 1_000,
            "m" | "min" | "mins" => 60_000,
            "h" | "hour" | "hours" => 3_600_000,
            "d" | "day" | "days" => 86_400_000,
            "w" | "week" | "weeks" => 7 * 86_400_000,
            "y" | "year" | "years" => 365 * 86_400_000,
            "" => {
                return Err("a number in the duration needs a unit (s, m, h, d, w, y)".into());
            }
            _ => {
                return Err("unknown unit in the duration (use ms, s, m, h, d, w or y)".into());
            }
        };
        total = total.saturating_add(n.saturating_mul(millis));
        rest = rest[unit_len..].trim_start();
    }
    let millis = u64::try_from(total).map_err(|_| "the duration is too long".to_string())?;
    Ok(Duration::from_millis(millis))
}

impl ServiceSettings {
    /// Checks `[service]`; `invalid(key, message)` makes the error.
    pub fn from_raw<E>(
        raw: Option<RawServiceSettings>,
        invalid: &dyn Fn(&str, String) -> E,
    ) -> Result<ServiceSettings, E> {
        let mut s = ServiceSettings::default();
        let Some(raw) = raw else {
            return Ok(s);
        };
        let duration = |key: &str, v: &Option<String>, into: &mut Duration| -> Result<(), E> {
            if let Some(text) = v {
                let d = parse_duration(text).map_err(|m| invalid(&format!("service.{key}"), m))?;
                if d.is_zero() {
                    return Err(invalid(
                        &format!("service.{key}"),
                        "must be longer than zero".into(),
                    ));
                }
                *into = d;
            }
            Ok(())
        };
        duration("rescan", &raw.rescan, &mut s.rescan)?;
        duration("quiescence", &raw.quiescence, &mut s.quiescence)?;
        duration("keep_meetings", &raw.keep_meetings, &mut s.keep_meetings)?;
        duration("keep_incidents", &raw.keep_incidents, &mut s.keep_incidents)?;
        if let Some(n) = raw.max_line_bytes {
            if !(1024..=64 * 1024 * 1024).contains(&n) {
                return Err(invalid(
                    "service.max_line_bytes",
                    format!("{n} is out of range (1024 to 67108864 bytes)"),
                ));
            }
            s.max_line_bytes = n;
        }
        if s.keep_incidents < s.keep_meetings {
            return Err(invalid(
                "service.keep_incidents",
                "must be at least as long as keep_meetings".into(),
            ));
        }
        Ok(s)
    }
}

impl Watch {
    /// Checks one `[[watch]]` block (`key` is `watch[i]`, for messages).
    pub fn from_raw<E>(
        raw: RawWatch,
        key: &str,
        invalid: &dyn Fn(&str, String) -> E,
    ) -> Result<Watch, E> {
        if raw.path.as_os_str().is_empty() {
            return Err(invalid(&format!("{key}.path"), "is empty".into()));
        }
        let include_patterns = raw
            .include
            .unwrap_or_else(|| DEFAULT_INCLUDE.iter().map(|s| s.to_string()).collect());
        if include_patterns.is_empty() {
            return Err(invalid(
                &format!("{key}.include"),
                "names no pattern, so nothing would be read (leave it out for the default)".into(),
            ));
        }
        let set = |field: &str, patterns: &[String]| -> Result<GlobSet, E> {
            let mut b = GlobSetBuilder::new();
            for (i, p) in patterns.iter().enumerate() {
                // The pattern is named by its place, not quoted.
                let glob = Glob::new(p)
                    .map_err(|e| invalid(&format!("{key}.{field}[{i}]"), e.kind().to_string()))?;
                b.add(glob);
            }
            b.build()
                .map_err(|e| invalid(&format!("{key}.{field}"), e.to_string()))
        };
        let include = set("include", &include_patterns)?;
        let exclude = set("exclude", &raw.exclude)?;
        let format = match raw.format {
            None => None,
            Some(name) => Some(Format::from_name(&name).ok_or_else(|| {
                let known: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
                invalid(
                    &format!("{key}.format"),
                    format!("unknown format `{name}` (known: {})", known.join(", ")),
                )
            })?),
        };
        Ok(Watch {
            path: raw.path,
            include_patterns,
            exclude_patterns: raw.exclude,
            include,
            exclude,
            format,
            mode: raw.mode,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_the_units_people_write() {
        let d = |s: &str| parse_duration(s).unwrap();
        assert_eq!(d("10s"), Duration::from_secs(10));
        assert_eq!(d("1h 30m"), Duration::from_secs(5400));
        assert_eq!(d("14d"), Duration::from_secs(14 * 86_400));
        assert_eq!(d("2y"), Duration::from_secs(730 * 86_400));
        assert_eq!(d("250ms"), Duration::from_millis(250));
        assert_eq!(d("2 days"), Duration::from_secs(2 * 86_400));
        for bad in ["", "10", "s", "10 parsecs", "-5s", "1.5h"] {
            let e = parse_duration(bad).unwrap_err();
            assert!(!e.is_empty(), "{bad}");
        }
    }

    fn watch(include: Option<Vec<&str>>, exclude: Vec<&str>) -> Watch {
        let raw = RawWatch {
            path: "/srv/x".into(),
            include: include.map(|v| v.into_iter().map(String::from).collect()),
            exclude: exclude.into_iter().map(String::from).collect(),
            format: None,
            mode: WatchMode::Auto,
        };
        Watch::from_raw(raw, "watch[0]", &|k, m| format!("{k}: {m}")).unwrap()
    }

    #[test]
    fn default_patterns_and_temporary_names() {
        let w = watch(None, vec![]);
        for yes in ["a.ndjson", "b.csv", "c.json.gz", "d/e.log", "f.jsonl"] {
            assert!(w.wants(&Path::new("/srv/x").join(yes)), "{yes}");
        }
        for no in [
            ".a.ndjson",
            "a.ndjson.tmp",
            "a.csv.part",
            "~a.csv",
            "a.txt",
            "a.log.1",
        ] {
            assert!(!w.wants(&Path::new("/srv/x").join(no)), "{no}");
        }
    }

    #[test]
    fn patterns_with_a_slash_match_the_path_below_the_folder() {
        let w = watch(Some(vec!["teams/*.csv", "*.log.1"]), vec!["old-*"]);
        assert!(w.wants(Path::new("/srv/x/teams/a.csv")));
        assert!(!w.wants(Path::new("/srv/x/zoom/a.csv")));
        assert!(w.wants(Path::new("/srv/x/app.log.1")));
        assert!(!w.wants(Path::new("/srv/x/old-app.log.1")));
    }

    #[test]
    fn bad_settings_name_the_key() {
        let e = |raw: RawServiceSettings| {
            ServiceSettings::from_raw(Some(raw), &|k, m| format!("{k}: {m}")).unwrap_err()
        };
        let base = RawServiceSettings {
            rescan: None,
            quiescence: None,
            max_line_bytes: None,
            keep_meetings: None,
            keep_incidents: None,
        };
        assert!(
            e(RawServiceSettings {
                rescan: Some("0s".into()),
                ..base.clone()
            })
            .starts_with("service.rescan")
        );
        assert!(
            e(RawServiceSettings {
                max_line_bytes: Some(10),
                ..base.clone()
            })
            .starts_with("service.max_line_bytes")
        );
        assert!(
            e(RawServiceSettings {
                keep_incidents: Some("1d".into()),
                ..base
            })
            .starts_with("service.keep_incidents")
        );
    }
}
