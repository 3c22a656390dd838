//! Routine profiles: which rules a routine demands, with what severity, and the section cited.
//!
//! Each routine in `../shared/routines/` is one TOML file in `config/profiles/`, compiled in;
//! a region adds its own routine as a file of the same form (`profile_files` in the config)
//! without touching code. A profile lists the rules that apply under it; a rule it does not
//! list does not fire under it. A profile with validity dates judges only events inside them.

use std::collections::BTreeMap;
use std::path::Path;

use jiff::civil::Date;
use serde::Deserialize;

use crate::event::Platform;
use crate::incident::{RULE_IDS, Severity};

/// How one profile applies one rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileRule {
    /// The routine's section (number and/or heading) that the rule enforces.
    pub section: String,
    /// The severity of an incident under this profile.
    pub severity: Severity,
    /// The severity when the meeting is sensitive (patient data or care work), if higher.
    pub severity_if_sensitive: Option<Severity>,
    /// The severity when an external, guest, anonymous or phone participant is or was in the
    /// meeting, if higher.
    pub severity_if_external: Option<Severity>,
    /// The severity when the actor is not a participant (has not joined, or has left), if
    /// higher (`recording-audio`).
    pub severity_if_outsider: Option<Severity>,
    /// `platform-not-approved`: the platforms this routine approves for sensitive meetings.
    /// Without a list (here or in the config) the rule is off under this profile.
    pub approved_platforms: Option<Vec<Platform>>,
    /// The sentence of the routine the rule enforces, in the routine's own words (short), for
    /// the reports a manager reads.
    pub quote: Option<String>,
}

/// What made a candidate more serious; see [`ProfileRule::severity_for`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Qualifiers {
    pub sensitive: bool,
    pub external: bool,
    pub outsider: bool,
}

impl ProfileRule {
    /// The severity under this profile given the qualifiers: the highest that applies.
    pub fn severity_for(&self, q: Qualifiers) -> Severity {
        let mut s = self.severity;
        for (applies, level) in [
            (q.sensitive, self.severity_if_sensitive),
            (q.external, self.severity_if_external),
            (q.outsider, self.severity_if_outsider),
        ] {
            if let (true, Some(level)) = (applies, level) {
                s = s.max(level);
            }
        }
        s
    }

    /// The severity of a breach: the highest level this rule can reach here.
    pub fn breach_severity(&self) -> Severity {
        self.severity_for(Qualifiers {
            sensitive: true,
            external: true,
            outsider: true,
        })
    }
}

/// One routine profile.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub id: String,
    /// The routine's title.
    pub name: String,
    /// The routine's file name in `routines/`.
    pub routine: String,
    /// First and last day the routine is in force, when it says so.
    pub valid_from: Option<Date>,
    pub valid_until: Option<Date>,
    #[serde(default)]
    pub rules: BTreeMap<String, ProfileRule>,
    /// Where the profile was read from: `config/profiles/<id>.toml` for a built-in one, the
    /// configured path for a region's own. Set by motesvakt, not written in the file.
    #[serde(skip)]
    pub file: String,
}

/// The calendar day in Sweden at `time`. The time-zone database is compiled in, so this does
/// not depend on the host's.
pub fn swedish_date(time: jiff::Timestamp) -> Date {
    time.to_zoned(swedish_tz()).date()
}

/// Swedish time (Europe/Stockholm, with summer time), from the bundled time-zone database.
pub fn swedish_tz() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get("Europe/Stockholm").unwrap_or(jiff::tz::TimeZone::UTC)
}

const BUILTIN: &[(&str, &str)] = &[
    (
        "vgr-samsa",
        include_str!("../../config/profiles/vgr-samsa.toml"),
    ),
    (
        "halland",
        include_str!("../../config/profiles/halland.toml"),
    ),
    (
        "kronoberg",
        include_str!("../../config/profiles/kronoberg.toml"),
    ),
    ("sas", include_str!("../../config/profiles/sas.toml")),
    ("orebro", include_str!("../../config/profiles/orebro.toml")),
];

impl Profile {
    /// The ids of the profiles shipped with motesvakt.
    pub const BUILTIN_IDS: &'static [&'static str] =
        &["vgr-samsa", "halland", "kronoberg", "sas", "orebro"];

    /// A built-in profile by id.
    pub fn builtin(id: &str) -> Option<Profile> {
        let (_, text) = BUILTIN.iter().find(|(i, _)| *i == id)?;
        let mut profile = Profile::parse(text).expect("built-in profiles are valid (tested)");
        profile.file = format!("config/profiles/{id}.toml");
        Some(profile)
    }

    /// Reads a profile file written by a region for its own routine.
    pub fn load(path: &Path) -> Result<Profile, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read profile {}: {e}", path.display()))?;
        let mut profile =
            Profile::parse(&text).map_err(|e| format!("profile {}: {e}", path.display()))?;
        profile.file = path.display().to_string();
        Ok(profile)
    }

    /// Parses and checks a profile.
    pub fn parse(text: &str) -> Result<Profile, String> {
        let p: Profile = toml::from_str(text).map_err(|e| super::toml_error(text, &e))?;
        if p.id.trim().is_empty() {
            return Err("`id` is empty".into());
        }
        for (rule, how) in &p.rules {
            if !RULE_IDS.contains(&rule.as_str()) {
                return Err(format!(
                    "[rules.{rule}]: unknown rule (known: {})",
                    RULE_IDS.join(", ")
                ));
            }
            if how.section.trim().is_empty() {
                return Err(format!("[rules.{rule}]: `section` is empty"));
            }
        }
        if let (Some(from), Some(until)) = (p.valid_from, p.valid_until)
            && from > until
        {
            return Err("`valid_from` is after `valid_until`".into());
        }
        Ok(p)
    }

    /// Whether the routine is in force at `time`. Its dates are Swedish calendar days, so
    /// `time` is read in Swedish time (Europe/Stockholm).
    pub fn valid_at(&self, time: jiff::Timestamp) -> bool {
        self.valid_on(swedish_date(time))
    }

    /// Whether the routine is in force on `day` (always, when it has no dates).
    pub fn valid_on(&self, day: Date) -> bool {
        self.valid_from.is_none_or(|f| f <= day) && self.valid_until.is_none_or(|u| day <= u)
    }

    /// How this profile applies `rule`, if it does.
    pub fn rule(&self, rule: &str) -> Option<&ProfileRule> {
        self.rules.get(rule)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_profile_parses_and_cites_known_rules() {
        assert_eq!(BUILTIN.len(), Profile::BUILTIN_IDS.len());
        for id in Profile::BUILTIN_IDS {
            let p = Profile::builtin(id).unwrap();
            assert_eq!(p.id, *id);
            assert!(!p.rules.is_empty());
            for (rule, how) in &p.rules {
                assert!(RULE_IDS.contains(&rule.as_str()), "{id}: {rule}");
                assert!(!how.section.trim().is_empty(), "{id}: {rule}");
            }
        }
    }

    #[test]
    fn validity_dates_are_swedish_days() {
        let orebro = Profile::builtin("orebro").unwrap();
        // 23:30 UTC on 31 December is 00:30 on 1 January in Sweden.
        assert!(!orebro.valid_at("2020-12-31T23:30:00Z".parse().unwrap()));
        assert!(orebro.valid_at("2020-12-31T22:30:00Z".parse().unwrap()));
        // Summer time: 22:30 UTC on 30 June is 00:30 on 1 July.
        assert_eq!(
            swedish_date("2020-06-30T22:30:00Z".parse().unwrap()),
            jiff::civil::date(2020, 7, 1)
        );
    }

    #[test]
    fn recording_severity_follows_the_routine() {
        let vgr = Profile::builtin("vgr-samsa").unwrap();
        let r = vgr.rule("recording-video").unwrap();
        assert_eq!(
            (r.severity, r.severity_if_sensitive),
            (Severity::High, None)
        );
        let halland = Profile::builtin("halland").unwrap();
        let r = halland.rule("recording-video").unwrap();
        assert_eq!(r.severity, Severity::Info);
        assert_eq!(r.breach_severity(), Severity::High);
        assert!(
            Profile::builtin("sas")
                .unwrap()
                .rule("recording-video")
                .is_none()
        );
    }
}
