//! Routine profiles: which rules a routine demands, with what severity, and the section cited.
//!
//! Each routine in `../shared/routines/` is one TOML file in `config/profiles/`, compiled in.
//! A profile lists the rules that apply under it; a rule it does not list does not fire under it.

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::Deserialize;

use crate::rules::Severity;

/// How one profile applies one rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileRule {
    /// The routine's section (number and/or heading) that the rule enforces.
    pub section: String,
    /// The severity of an incident under this profile.
    pub severity: Severity,
    /// For rules that depend on the meeting being sensitive (patient data seen in it): the
    /// severity when it is. `severity` then applies when it is not.
    pub severity_if_sensitive: Option<Severity>,
}

impl ProfileRule {
    /// The severity of a breach: the higher of the two levels.
    pub fn breach_severity(&self) -> Severity {
        self.severity_if_sensitive
            .map_or(self.severity, |s| s.max(self.severity))
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
        let profile: Profile = toml::from_str(text).expect("built-in profiles are valid (tested)");
        Some(profile)
    }

    /// How this profile applies `rule`, if it does.
    pub fn rule(&self, rule: &str) -> Option<&ProfileRule> {
        self.rules.get(rule)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RULE_IDS;

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
