//! Configuration: TOML, with a built-in default so nothing must exist on disk.
//!
//! `config/motesvakt.toml` is both the documented example and the built-in default (it is
//! compiled in). Loading goes in two steps, as in ripgrep: the raw TOML is deserialised with
//! unknown keys refused ([`RawConfig`]), then checked and resolved into a [`Config`] that owns
//! the routine profiles, the compiled phrase sets and the participant [`Classifier`].

pub mod listen;
pub mod profile;
pub mod service;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use jiff::SignedDuration;
use serde::Deserialize;

use crate::detect::DetectSettings;
use crate::event::Platform;
pub use crate::i18n::Language;
use crate::incident::{RULE_IDS, Severity};
use crate::org::{Classifier, domain_in};
use crate::phrases::{PhraseSet, Signals};
use crate::sources::{Cidr, SourceSettings, TeamsMapping};
pub use profile::{Profile, ProfileRule};
pub use service::{ServiceSettings, Watch, WatchMode};

/// The built-in default configuration (the text of `config/motesvakt.toml`).
pub const DEFAULT_CONFIG: &str = include_str!("../../config/motesvakt.toml");

/// Where a configuration came from, for error messages.
#[derive(Debug, Clone)]
pub enum Origin {
    BuiltIn,
    File(PathBuf),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::BuiltIn => f.write_str("the built-in default configuration"),
            Origin::File(p) => write!(f, "{}", p.display()),
        }
    }
}

/// A configuration that could not be used. Shown to the operator as is.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "cannot read config file {}: {source}",
        crate::report::shown_path(path)
    )]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The TOML is malformed, or has an unknown key or a bad value: the message names the
    /// line, the column and the key, and what was expected ([`toml_error`]), never the value.
    #[error("config {}: {message}", crate::report::shown(&origin.to_string()))]
    Toml { origin: Origin, message: String },
    /// A value the TOML parser took but the checks refuse. `key` and `message` are shown
    /// redacted ([`crate::report::shown`]): they may quote a name from the file.
    #[error("config {}: {key}: {message}", crate::report::shown(&origin.to_string()))]
    Invalid {
        origin: Origin,
        key: String,
        message: String,
    },
}

/// A TOML error as shown to the operator: where (line, column, and the key as written there)
/// and why, without the snippet of the file the TOML parser shows, and without the value when
/// the reason quotes one (`invalid type: string "...", expected a sequence` becomes `wrong
/// type, expected a sequence`): a config may hold a custom pattern or keyword that is itself a
/// number to hide. What is left passes [`crate::report::shown`].
pub(crate) fn toml_error(text: &str, e: &toml::de::Error) -> String {
    let reason = toml_reason(e.message());
    let Some(span) = e.span() else {
        return crate::report::shown(&reason);
    };
    let at = span.start.min(text.len());
    let before = text.get(..at).unwrap_or_default();
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    let here = match toml_key_at(text, line_start) {
        Some(key) => format!("line {line}, column {column}, key `{key}`"),
        None => format!("line {line}, column {column}"),
    };
    crate::report::shown(&format!("{here}: {reason}"))
}

/// The reason of a TOML error without any value it quotes. serde's messages put the value
/// between their first words and `, expected`: only what follows is kept.
fn toml_reason(message: &str) -> String {
    let message = message.trim();
    let expected = message.rfind(", expected ").map(|i| &message[i + 2..]);
    for (start, said) in [
        ("invalid type: ", "wrong type"),
        ("invalid value: ", "invalid value"),
        ("unknown variant ", "unknown value"),
        ("unknown field ", "unknown key"),
    ] {
        if message.starts_with(start) {
            return match expected {
                Some(exp) => format!("{said}, {exp}"),
                None => said.to_string(),
            };
        }
    }
    // Syntax errors and the messages of this program's own types (which quote no value) are
    // kept, on one line.
    message
        .split('\n')
        .map(str::trim)
        .collect::<Vec<_>>()
        .join("; ")
}

/// The key written on the line that starts at `line_start`, with the table it is in
/// (`rules.chat-threat.phrases`, `watch[1].path`), or the table of a header line; `None` when
/// the line has neither (a value continued from an earlier line).
fn toml_key_at(text: &str, line_start: usize) -> Option<String> {
    let mut table = String::new();
    let mut arrays: BTreeMap<String, usize> = BTreeMap::new();
    for l in text[..line_start].lines() {
        if let Some(name) = toml_header(l) {
            table = name;
        }
    }
    // Counts of `[[name]]` up to here, for `name[i]`.
    for l in text[..line_start].lines() {
        let t = l.trim();
        if t.starts_with("[[")
            && let Some(name) = toml_header(l)
        {
            *arrays.entry(name).or_default() += 1;
        }
    }
    let line = text[line_start..].lines().next().unwrap_or_default();
    if let Some(name) = toml_header(line) {
        let count = if line.trim().starts_with("[[") {
            arrays.get(&name).copied().unwrap_or(0)
        } else {
            0
        };
        return Some(if line.trim().starts_with("[[") {
            format!("{name}[{count}]")
        } else {
            name
        });
    }
    let (key, _) = line.split_once('=')?;
    let key: String = key
        .trim()
        .chars()
        .filter(|c| !matches!(c, '"' | '\''))
        .collect();
    if key.is_empty() || key.contains(['[', ']', '{', '}', ',', '#']) {
        return None;
    }
    let table = match arrays.get(&table) {
        Some(n) if n > &0 => format!("{table}[{}]", n - 1),
        _ => table,
    };
    Some(if table.is_empty() {
        key
    } else {
        format!("{table}.{key}")
    })
}

/// The name of a `[table]` or `[[array]]` header line.
fn toml_header(line: &str) -> Option<String> {
    let t = line.split('#').next().unwrap_or_default().trim();
    let inner = t
        .strip_prefix("[[")
        .and_then(|r| r.strip_suffix("]]"))
        .or_else(|| t.strip_prefix('[').and_then(|r| r.strip_suffix(']')))?;
    let name: String = inner
        .split('.')
        .map(|p| p.trim().trim_matches(['"', '\'']))
        .collect::<Vec<_>>()
        .join(".");
    (!name.is_empty()).then_some(name)
}

/// `[rules.<rule-id>]`: on/off, severity, and the parameters of the rules that have some.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSettings {
    pub enabled: Option<bool>,
    /// Replaces every severity above info that the profiles give this rule.
    pub severity: Option<Severity>,
    /// `chat-threat`: the threat phrases.
    pub phrases: Option<Vec<String>>,
    /// `classified-information`: the markings of classified information.
    pub markers: Option<Vec<String>>,
    /// `meeting-not-ended`: how long after its last event a meeting that never ended counts
    /// as left open ("8h", "90m").
    pub timeout: Option<SignedDuration>,
    /// `large-sensitive-meeting`: more participants than this is large.
    pub max_participants: Option<u32>,
    /// `platform-not-approved`: the platforms approved for sensitive meetings, replacing the
    /// profiles' lists.
    pub approved_platforms: Option<Vec<Platform>>,
}

/// Which rule each parameter belongs to, for error messages.
const RULE_PARAMS: &[(&str, &str)] = &[
    ("phrases", "chat-threat"),
    ("markers", "classified-information"),
    ("timeout", "meeting-not-ended"),
    ("max_participants", "large-sensitive-meeting"),
    ("approved_platforms", "platform-not-approved"),
];

/// Default threat phrases (`chat-threat`): the kind of message Region Halland's routine
/// ("Hot") tells staff to report to their manager.
pub const DEFAULT_THREAT_PHRASES: &[&str] = &[
    "jag ska döda dig",
    "jag ska döda er",
    "jag dödar dig",
    "jag ska slå ihjäl",
    "jag ska skada dig",
    "jag vet var du bor",
    "jag vet var ni bor",
    "du ska få se",
    "du kommer att ångra dig",
];

/// Default markings of security-classified information (`classified-information`; Region
/// Halland's routine, footnote 1). Upper-case markings match upper case only.
pub const DEFAULT_CLASSIFIED_MARKERS: &[&str] = &[
    "försvarssekretess",
    "säkerhetsskyddsklassificerad",
    "säkerhetsskyddsklass",
    "HEMLIG",
    "KVALIFICERAT HEMLIG",
    "KONFIDENTIELL",
    "BEGRÄNSAT HEMLIG",
];

/// Default care keywords: a subject or invitation holding one makes the meeting sensitive.
pub const DEFAULT_CARE_KEYWORDS: &[&str] = &[
    "vårdplanering",
    "SIP",
    "samordnad individuell plan",
    "MDK",
    "multidisciplinär konferens",
    "vårdmöte",
];

/// Default `meeting-not-ended` timeout.
pub const DEFAULT_MEETING_TIMEOUT: SignedDuration = SignedDuration::from_hours(8);

/// Default `large-sensitive-meeting` limit (SÄS: "cirka 30 personer").
pub const DEFAULT_MAX_PARTICIPANTS: u32 = 30;

/// `[sensitivity]`: what besides patient data makes a meeting sensitive.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SensitivitySettings {
    /// A meeting whose subject or invitation holds one of these is sensitive.
    pub care_keywords: Vec<String>,
    /// Meeting ids or rooms (e.g. Pexip conference names) used for care work.
    pub care_meetings: Vec<String>,
    /// Organisers (e-mail addresses, or `@domain` for a unit's own domain) whose meetings are
    /// care work.
    pub care_organizers: Vec<String>,
}

impl Default for SensitivitySettings {
    fn default() -> Self {
        SensitivitySettings {
            care_keywords: DEFAULT_CARE_KEYWORDS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            care_meetings: Vec::new(),
            care_organizers: Vec::new(),
        }
    }
}

impl SensitivitySettings {
    /// Whether meetings organised by `organizer` are care work.
    pub fn is_care_organizer(&self, organizer: &str) -> bool {
        let organizer = organizer.to_ascii_lowercase();
        let domain = organizer.rsplit_once('@').map(|(_, d)| d);
        self.care_organizers.iter().any(|c| {
            let c = c.to_ascii_lowercase();
            match c.strip_prefix('@') {
                Some(d) => domain.is_some_and(|dom| domain_in(dom, d)),
                None => c == organizer,
            }
        })
    }
}

/// `[[profile_for]]`: profiles for the meetings of some platforms or organiser domains.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileSelector {
    /// The profiles to apply, instead of the top-level `profiles`.
    pub profiles: Vec<String>,
    /// Meetings on these platforms (any platform when empty).
    #[serde(default)]
    pub platforms: Vec<Platform>,
    /// Meetings whose organiser is in one of these domains or their subdomains (any organiser
    /// when empty).
    #[serde(default)]
    pub domains: Vec<String>,
}

/// `[[exceptions]]`: a rule does not fire for these meetings or actors, for a written reason.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exception {
    pub rule: String,
    /// Meeting ids or rooms.
    #[serde(default)]
    pub meetings: Vec<String>,
    /// Actors (e-mail addresses or ids) whose actions are exempt.
    #[serde(default)]
    pub actors: Vec<String>,
    /// Why: a decision, a date, who decided. Required.
    pub reason: String,
}

impl Exception {
    /// Whether this exception covers `rule` in `meeting` for `actor`.
    pub fn covers(&self, rule: &str, meeting: &str, actor: &str) -> bool {
        self.rule == rule
            && (self.meetings.iter().any(|m| m == meeting)
                || self.actors.iter().any(|a| a.eq_ignore_ascii_case(actor)))
    }
}

/// The configuration file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub internal_domains: Vec<String>,
    pub profiles: Option<Vec<String>>,
    #[serde(default)]
    pub language: Language,
    /// The zone times people read are shown in (an IANA name); Swedish time by default.
    pub timezone: Option<String>,
    #[serde(default)]
    pub detect: DetectSettings,
    #[serde(default)]
    pub rules: BTreeMap<String, RuleSettings>,
    #[serde(default)]
    pub sensitivity: SensitivitySettings,
    /// More profile files (TOML, like those in config/profiles/), for routines of your own.
    #[serde(default)]
    pub profile_files: Vec<PathBuf>,
    #[serde(default)]
    pub profile_for: Vec<ProfileSelector>,
    #[serde(default)]
    pub exceptions: Vec<Exception>,
    /// Microsoft 365 tenant ids of the organisation (Teams `OrganizationId`).
    #[serde(default)]
    pub tenant_ids: Vec<String>,
    /// Whether, with `tenant_ids` not set, the organisation's tenant is learned from the Teams
    /// audit records' own `OrganizationId` (default true).
    pub learn_tenant: Option<bool>,
    /// Webex org ids of the organisation.
    #[serde(default)]
    pub webex_org_ids: Vec<String>,
    /// The organisation's networks, as CIDRs (Pexip `remote_address`).
    #[serde(default)]
    pub internal_networks: Vec<String>,
    /// Additions to the Teams audit operation and field mapping (`[[teams.operations]]`,
    /// `[[teams.fields]]`; see docs/platforms.md).
    pub teams: Option<TeamsMapping>,
    /// The folder of the service's state: the database and the hash key.
    pub state_dir: Option<PathBuf>,
    /// `[service]`: the service's timings, limits and retention.
    pub service: Option<service::RawServiceSettings>,
    /// `[[watch]]`: the folders the service reads.
    #[serde(default)]
    pub watch: Vec<service::RawWatch>,
    /// `[alerts]`: who is told of incidents, and when.
    pub alerts: Option<crate::alert::RawAlerts>,
    /// `[smtp]`: the mail server alerts go through.
    pub smtp: Option<crate::alert::RawSmtp>,
    /// `[directory]`: the CSV that names each user's manager.
    pub directory: Option<crate::alert::RawDirectory>,
    /// `[webhook]`: a signed JSON POST per incident that is news.
    pub webhook: Option<crate::alert::RawWebhook>,
    /// `[siem]`: every incident change as JSON lines and/or syslog.
    pub siem: Option<crate::alert::RawSiem>,
    /// `[listen]`: the receiver of live feeds (Zoom, Webex, Pexip pushes).
    pub listen: Option<listen::RawListen>,
    /// `[[reports]]`: reports the service writes on a schedule.
    #[serde(default)]
    pub reports: Vec<crate::report::schedule::RawReport>,
}

/// A checked configuration, ready to use.
#[derive(Debug, Clone)]
pub struct Config {
    pub origin: Origin,
    pub classifier: Classifier,
    /// `learn_tenant`: with `tenant_ids` not set, the tenants the Teams audit records name as
    /// their own classify Teams users known by tenant (see [`crate::org::Classifier`]).
    pub learn_tenant: bool,
    pub language: Language,
    /// `timezone`, when set: the zone times people read are shown in.
    pub timezone: Option<jiff::tz::TimeZone>,
    pub detect: DetectSettings,
    pub rules: BTreeMap<String, RuleSettings>,
    pub sources: SourceSettings,
    pub sensitivity: SensitivitySettings,
    /// Every profile the configuration uses (default or selected).
    pub catalog: Vec<Profile>,
    /// Indices into `catalog` of the default profiles, in configured order.
    pub active: Vec<usize>,
    /// `[[profile_for]]` selectors with indices into `catalog`.
    pub selectors: Vec<(ProfileSelector, Vec<usize>)>,
    pub exceptions: Vec<Exception>,
    /// Compiled threat phrases, classification markers and care keywords.
    pub signals: Signals,
    /// `state_dir`: where the database ([`STATE_DB`]) and the hash key live.
    pub state_dir: Option<PathBuf>,
    pub service: ServiceSettings,
    /// The folders the service reads, in configured order.
    pub watches: Vec<Watch>,
    /// `[alerts]`, `[smtp]`, `[directory]`, `[webhook]` and `[siem]`.
    pub alerts: crate::alert::AlertSettings,
    /// `[listen]`: live feeds, when configured.
    pub listen: Option<listen::ListenSettings>,
    /// `[[reports]]`, in configured order.
    pub reports: Vec<crate::report::schedule::Schedule>,
}

/// The database's file name in `state_dir`.
pub const STATE_DB: &str = "motesvakt.sqlite";

/// The hash key's file name in `state_dir` (and in `$CREDENTIALS_DIRECTORY`).
pub const KEY_FILE: &str = "motesvakt.key";

/// The service's state folder when the config sets none and systemd gives no
/// `$STATE_DIRECTORY`.
pub const DEFAULT_STATE_DIR: &str = "motesvakt-state";

impl Config {
    /// The database in `state_dir`, when one is configured.
    pub fn state_db(&self) -> Option<PathBuf> {
        self.state_dir.as_ref().map(|d| d.join(STATE_DB))
    }

    /// The state folder the service and `status` use: `state_dir`, else the first folder of
    /// `$STATE_DIRECTORY` (set by systemd's `StateDirectory=`), else `./motesvakt-state`.
    pub fn service_state_dir(&self) -> PathBuf {
        if let Some(d) = &self.state_dir {
            return d.clone();
        }
        if let Some(dirs) = std::env::var_os("STATE_DIRECTORY") {
            let dirs = dirs.to_string_lossy().into_owned();
            if let Some(first) = dirs.split(':').find(|d| !d.is_empty()) {
                return PathBuf::from(first);
            }
        }
        PathBuf::from(DEFAULT_STATE_DIR)
    }
}

impl Config {
    /// The built-in default configuration.
    pub fn builtin() -> Config {
        Config::parse(DEFAULT_CONFIG, Origin::BuiltIn)
            .expect("the built-in configuration is valid (tested)")
    }

    /// Reads and checks a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Config::parse(&text, Origin::File(path.to_path_buf()))
    }

    /// Parses and checks configuration text.
    pub fn parse(text: &str, origin: Origin) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Toml {
            origin: origin.clone(),
            message: toml_error(text, &e),
        })?;
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            origin: origin.clone(),
            key: crate::report::shown(key),
            message: crate::report::shown(&message),
        };

        let timezone = match raw.timezone.as_deref() {
            None => None,
            Some(name) => Some(crate::i18n::time::zone_named(name).ok_or_else(|| {
                invalid(
                    "timezone",
                    "not a time zone motesvakt knows (write an IANA name such as \"Europe/Stockholm\" or \"UTC\")"
                        .to_string(),
                )
            })?),
        };
        let mut domains = Vec::new();
        for d in &raw.internal_domains {
            let d = d.trim().trim_start_matches('@').trim_end_matches('.');
            if d.is_empty() || d.contains(['@', ' ', '/']) || !d.contains('.') {
                return Err(invalid(
                    "internal_domains",
                    format!("`{d}` is not an e-mail domain (write it like \"region.se\")"),
                ));
            }
            domains.push(d.to_ascii_lowercase());
        }

        // Profiles: the built-in ones, plus configured files (which add or replace by id).
        let mut available: Vec<Profile> = Profile::BUILTIN_IDS
            .iter()
            .filter_map(|id| Profile::builtin(id))
            .collect();
        for (i, path) in raw.profile_files.iter().enumerate() {
            let p = Profile::load(path).map_err(|e| invalid(&format!("profile_files[{i}]"), e))?;
            available.retain(|q| q.id != p.id);
            available.push(p);
        }
        let mut catalog: Vec<Profile> = Vec::new();
        let mut resolve = |key: &str, ids: &[String]| -> Result<Vec<usize>, ConfigError> {
            if ids.is_empty() {
                return Err(invalid(
                    key,
                    "no profile is named; name at least one".into(),
                ));
            }
            let mut out = Vec::new();
            for id in ids {
                let Some(p) = available.iter().find(|p| &p.id == id) else {
                    let known: Vec<&str> = available.iter().map(|p| p.id.as_str()).collect();
                    return Err(invalid(
                        key,
                        format!("unknown profile `{id}` (known: {})", known.join(", ")),
                    ));
                };
                let index = match catalog.iter().position(|q| q.id == p.id) {
                    Some(i) => i,
                    None => {
                        catalog.push(p.clone());
                        catalog.len() - 1
                    }
                };
                if out.contains(&index) {
                    return Err(invalid(key, format!("`{id}` is listed twice")));
                }
                out.push(index);
            }
            Ok(out)
        };
        let ids = raw
            .profiles
            .clone()
            .unwrap_or_else(|| vec!["vgr-samsa".to_string()]);
        let active = resolve("profiles", &ids)?;
        let mut selectors = Vec::new();
        for (i, mut sel) in raw.profile_for.into_iter().enumerate() {
            let indices = resolve(&format!("profile_for[{i}].profiles"), &sel.profiles)?;
            sel.domains = sel
                .domains
                .iter()
                .map(|d| d.trim().trim_start_matches('@').to_ascii_lowercase())
                .collect();
            selectors.push((sel, indices));
        }

        for (id, settings) in &raw.rules {
            if !RULE_IDS.contains(&id.as_str()) {
                return Err(invalid(
                    &format!("rules.{id}"),
                    format!("unknown rule `{id}` (known: {})", RULE_IDS.join(", ")),
                ));
            }
            let given = [
                ("phrases", settings.phrases.is_some()),
                ("markers", settings.markers.is_some()),
                ("timeout", settings.timeout.is_some()),
                ("max_participants", settings.max_participants.is_some()),
                ("approved_platforms", settings.approved_platforms.is_some()),
            ];
            for (param, set) in given {
                let owner = RULE_PARAMS
                    .iter()
                    .find(|(p, _)| *p == param)
                    .map_or("", |(_, r)| *r);
                if set && owner != id {
                    return Err(invalid(
                        &format!("rules.{id}.{param}"),
                        format!("`{param}` is a setting of rule `{owner}`, not of `{id}`"),
                    ));
                }
            }
            if settings.timeout.is_some_and(|t| t <= SignedDuration::ZERO) {
                return Err(invalid(
                    &format!("rules.{id}.timeout"),
                    "must be longer than zero".into(),
                ));
            }
        }
        for (i, e) in raw.exceptions.iter().enumerate() {
            let key = format!("exceptions[{i}]");
            if !RULE_IDS.contains(&e.rule.as_str()) {
                return Err(invalid(
                    &format!("{key}.rule"),
                    format!("unknown rule `{}` (known: {})", e.rule, RULE_IDS.join(", ")),
                ));
            }
            if e.reason.trim().is_empty() {
                return Err(invalid(
                    &format!("{key}.reason"),
                    "an exception needs a written reason".into(),
                ));
            }
            if e.meetings.is_empty() && e.actors.is_empty() {
                return Err(invalid(
                    &key,
                    "name the `meetings` or `actors` the exception is for".into(),
                ));
            }
        }

        let phrases =
            |rule: &str, get: fn(&RuleSettings) -> &Option<Vec<String>>, default: &[&str]| {
                raw.rules
                    .get(rule)
                    .and_then(|r| get(r).clone())
                    .unwrap_or_else(|| default.iter().map(|s| s.to_string()).collect())
            };
        let threats = phrases("chat-threat", |r| &r.phrases, DEFAULT_THREAT_PHRASES);
        let markers = phrases(
            "classified-information",
            |r| &r.markers,
            DEFAULT_CLASSIFIED_MARKERS,
        );
        let signals = Signals::new(
            PhraseSet::new(&threats, false)
                .map_err(|e| invalid("rules.chat-threat.phrases", e.to_string()))?,
            PhraseSet::new(&markers, true)
                .map_err(|e| invalid("rules.classified-information.markers", e.to_string()))?,
            PhraseSet::new(&raw.sensitivity.care_keywords, false)
                .map_err(|e| invalid("sensitivity.care_keywords", e.to_string()))?,
        );

        let mut internal_networks = Vec::new();
        for (i, net) in raw.internal_networks.iter().enumerate() {
            let cidr: Cidr = net
                .parse()
                .map_err(|e| invalid(&format!("internal_networks[{i}]"), format!("{e}")))?;
            internal_networks.push(cidr);
        }
        let mut teams_mapping = TeamsMapping::default();
        if let Some(extra) = raw.teams {
            extra.validate().map_err(|e| invalid("teams", e))?;
            teams_mapping.merge(extra);
        }

        let service = ServiceSettings::from_raw(raw.service, &invalid)?;
        let mut alerts =
            crate::alert::AlertSettings::from_raw(raw.alerts, raw.smtp, raw.directory, &invalid)?;
        alerts.webhook =
            crate::alert::WebhookSettings::from_raw(raw.webhook, alerts.min_severity, &invalid)?;
        alerts.siem = crate::alert::SiemSettings::from_raw(raw.siem, &invalid)?;
        let listen = listen::ListenSettings::from_raw(raw.listen, &invalid)?;
        let mut watches: Vec<Watch> = Vec::new();
        for (i, w) in raw.watch.into_iter().enumerate() {
            let w = Watch::from_raw(w, &format!("watch[{i}]"), &invalid)?;
            if let Some(j) = watches.iter().position(|o| o.path == w.path) {
                return Err(invalid(
                    &format!("watch[{i}].path"),
                    format!("{} is watched already by watch[{j}]", w.path.display()),
                ));
            }
            watches.push(w);
        }
        let mut reports: Vec<crate::report::schedule::Schedule> = Vec::new();
        for (i, r) in raw.reports.into_iter().enumerate() {
            let r = crate::report::schedule::Schedule::from_raw(
                r,
                i,
                alerts.directory.is_some(),
                &invalid,
            )?;
            if let Some(j) = reports.iter().position(|o| o.name == r.name) {
                return Err(invalid(
                    &format!("reports[{i}].name"),
                    format!("report `{}`: reports[{j}] has that name already", r.name),
                ));
            }
            reports.push(r);
        }

        Ok(Config {
            origin,
            classifier: Classifier::from_domains(domains.clone()).with_tenants(&raw.tenant_ids),
            learn_tenant: raw.learn_tenant.unwrap_or(true),
            sources: SourceSettings {
                internal_domains: domains,
                tenant_ids: raw.tenant_ids,
                webex_org_ids: raw.webex_org_ids,
                internal_networks,
                teams_mapping,
            },
            language: raw.language,
            timezone,
            detect: raw.detect,
            rules: raw.rules,
            sensitivity: raw.sensitivity,
            catalog,
            active,
            selectors,
            exceptions: raw.exceptions,
            signals,
            state_dir: raw.state_dir.filter(|d| !d.as_os_str().is_empty()),
            service,
            watches,
            alerts,
            listen,
            reports,
        })
    }

    /// Whether a rule is switched on.
    pub fn rule_enabled(&self, rule: &str) -> bool {
        self.rules.get(rule).and_then(|r| r.enabled).unwrap_or(true)
    }

    /// The configured severity of a rule, if the config overrides the profiles.
    pub fn rule_severity(&self, rule: &str) -> Option<Severity> {
        self.rules.get(rule).and_then(|r| r.severity)
    }

    /// The settings of one rule (all unset when the config has none).
    pub fn rule_settings(&self, rule: &str) -> RuleSettings {
        self.rules.get(rule).cloned().unwrap_or_default()
    }

    /// The default profiles, in configured order.
    pub fn profiles(&self) -> impl Iterator<Item = &Profile> {
        self.active.iter().map(|&i| &self.catalog[i])
    }

    /// The profiles that judge a meeting: those of the first `[[profile_for]]` that matches
    /// its platform and organiser, else the default ones.
    pub fn profiles_for(&self, platform: Platform, organizer: Option<&str>) -> Vec<&Profile> {
        let domain = organizer
            .and_then(|o| o.rsplit_once('@'))
            .map(|(_, d)| d.trim_end_matches('.').to_ascii_lowercase());
        let chosen = self.selectors.iter().find(|(sel, _)| {
            (sel.platforms.is_empty() || sel.platforms.contains(&platform))
                && (sel.domains.is_empty()
                    || domain
                        .as_deref()
                        .is_some_and(|d| sel.domains.iter().any(|s| domain_in(d, s))))
        });
        let indices = chosen.map_or(&self.active, |(_, i)| i);
        indices.iter().map(|&i| &self.catalog[i]).collect()
    }

    /// Profiles in use whose validity ended before `today`.
    pub fn expired_profiles(&self, today: jiff::civil::Date) -> Vec<&Profile> {
        self.catalog
            .iter()
            .filter(|p| p.valid_until.is_some_and(|u| u < today))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_file_states_the_code_defaults() {
        let raw: RawConfig = toml::from_str(DEFAULT_CONFIG).unwrap();
        let get = |rule: &str| raw.rules.get(rule).cloned().unwrap_or_default();
        let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            get("chat-threat").phrases,
            Some(strings(DEFAULT_THREAT_PHRASES))
        );
        assert_eq!(
            get("classified-information").markers,
            Some(strings(DEFAULT_CLASSIFIED_MARKERS))
        );
        assert_eq!(
            get("meeting-not-ended").timeout,
            Some(DEFAULT_MEETING_TIMEOUT)
        );
        assert_eq!(
            get("large-sensitive-meeting").max_participants,
            Some(DEFAULT_MAX_PARTICIPANTS)
        );
        assert_eq!(
            raw.sensitivity.care_keywords,
            strings(DEFAULT_CARE_KEYWORDS)
        );
        for id in RULE_IDS {
            assert!(
                raw.rules.contains_key(*id),
                "config/motesvakt.toml lacks [rules.{id}]"
            );
        }
        let service = raw.service.clone().expect("the default file has [service]");
        let d = ServiceSettings::default();
        let written =
            ServiceSettings::from_raw(Some(service.clone()), &|k, m| format!("{k}: {m}")).unwrap();
        assert_eq!(written, d);
        for key in [
            &service.rescan,
            &service.quiescence,
            &service.keep_meetings,
            &service.keep_incidents,
        ] {
            assert!(key.is_some(), "[service] states every default");
        }
        assert_eq!(service.max_line_bytes, Some(d.max_line_bytes));
    }

    #[test]
    fn builtin_config_parses_with_documented_defaults() {
        let c = Config::builtin();
        let ids: Vec<_> = c.profiles().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["vgr-samsa"]);
        assert_eq!(c.language, Language::Sv);
        assert!(c.classifier.is_empty());
        for id in RULE_IDS {
            assert!(c.rule_enabled(id));
        }
    }

    #[test]
    fn unknown_key_names_the_key_and_line() {
        let err = Config::parse("profiles = [\"halland\"]\nfoo = 1\n", Origin::BuiltIn)
            .unwrap_err()
            .to_string();
        assert!(err.contains("foo"), "{err}");
        assert!(err.contains("line 2"), "{err}");
        let err = Config::parse(
            "[rules.chat-patient-data]\nseverity = \"huge\"\n",
            Origin::BuiltIn,
        )
        .unwrap_err()
        .to_string();
        // The key, where, and what was expected; never the value.
        assert!(
            err.contains("line 2, column 12, key `rules.chat-patient-data.severity`")
                && err.contains("expected one of `info`")
                && !err.contains("huge"),
            "{err}"
        );
        let err = Config::parse("[rules.no-such-rule]\nenabled = false\n", Origin::BuiltIn)
            .unwrap_err()
            .to_string();
        assert!(err.contains("rules.no-such-rule"), "{err}");
        let err = Config::parse("profiles = [\"skane\"]\n", Origin::BuiltIn)
            .unwrap_err()
            .to_string();
        assert!(err.contains("profiles") && err.contains("skane"), "{err}");
        let err = Config::parse("internal_domains = [\"not a domain\"]\n", Origin::BuiltIn)
            .unwrap_err()
            .to_string();
        assert!(err.contains("internal_domains"), "{err}");
    }

    #[test]
    fn toml_errors_name_line_column_and_key_never_the_value() {
        let err = |text: &str| {
            Config::parse(text, Origin::BuiltIn)
                .unwrap_err()
                .to_string()
        };
        // A value that is a number to hide (a custom pattern, a keyword), given with the wrong
        // type, with backticks and escaped quotes around it.
        for value in [
            r#""12345678""#,
            r#""a`12345678`b""#,
            r#""x\"12345678\"y""#,
            r#"'`12345678'"#,
        ] {
            let e = err(&format!("[detect]\ncustom = {value}\n"));
            assert!(!e.contains("1234"), "{e}");
            assert!(
                e.contains(
                    "line 2, column 10, key `detect.custom`: wrong type, expected a sequence"
                ),
                "{e}"
            );
        }
        let e = err("[[watch]]\npath = \"/a\"\n[[watch]]\npath = \"/b\"\nbogus = \"12345678\"\n");
        assert!(
            e.contains("line 5, column 1, key `watch[1].bogus`: unknown key"),
            "{e}"
        );
        assert!(!e.contains("1234"), "{e}");
        let e = err("[sensitivity]\ncare_keywords = [\"a\", 12345678]\n");
        assert!(
            e.contains("key `sensitivity.care_keywords`: wrong type"),
            "{e}"
        );
        assert!(!e.contains("1234"), "{e}");
        // No snippet of the file: one line.
        assert!(!e.contains('\n') && !e.contains('^'), "{e}");
    }

    #[test]
    fn rule_parameters_and_exceptions_are_checked() {
        let err = |text: &str| {
            Config::parse(text, Origin::BuiltIn)
                .unwrap_err()
                .to_string()
        };
        let e = err("[rules.recording-video]\nphrases = [\"x\"]\n");
        assert!(
            e.contains("rules.recording-video.phrases") && e.contains("chat-threat"),
            "{e}"
        );
        let e =
            err("[[exceptions]]\nrule = \"recording-video\"\nmeetings = [\"m\"]\nreason = \" \"\n");
        assert!(e.contains("exceptions[0].reason"), "{e}");
        let e = err("[[exceptions]]\nrule = \"recording-video\"\nreason = \"x\"\n");
        assert!(e.contains("exceptions[0]"), "{e}");
        let e = err("[rules.meeting-not-ended]\ntimeout = \"soon\"\n");
        assert!(e.contains("timeout"), "{e}");
        let e = err("[[profile_for]]\nprofiles = [\"nope\"]\n");
        assert!(e.contains("profile_for[0].profiles"), "{e}");
        let ok = Config::parse(
            "[rules.meeting-not-ended]\ntimeout = \"90m\"\n[rules.chat-threat]\nphrases = [\"nu jävlar\"]\n",
            Origin::BuiltIn,
        )
        .unwrap();
        assert_eq!(
            ok.rule_settings("meeting-not-ended").timeout,
            Some(SignedDuration::from_mins(90))
        );
    }

    #[test]
    fn a_region_adds_its_own_profile_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("skane.toml");
        std::fs::write(
            &path,
            "id = \"skane\"\nname = \"Region Skåne\"\nroutine = \"skane.pdf\"\n[rules.chat-patient-data]\nsection = \"3.1\"\nseverity = \"high\"\n",
        )
        .unwrap();
        let text = format!(
            "profiles = [\"skane\"]\nprofile_files = [{:?}]\n",
            path.display().to_string()
        );
        let c = Config::parse(&text, Origin::BuiltIn).unwrap();
        assert_eq!(c.profiles().next().unwrap().id, "skane");
        std::fs::write(&path, "id = \"skane\"\nname = \"x\"\nroutine = \"x\"\n[rules.no-such]\nsection = \"1\"\nseverity = \"high\"\n").unwrap();
        let e = Config::parse(&text, Origin::BuiltIn)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("profile_files[0]") && e.contains("no-such"),
            "{e}"
        );
    }
}
