//! Configuration: TOML, with a built-in default so nothing must exist on disk.
//!
//! `config/motesvakt.toml` is both the documented example and the built-in default (it is
//! compiled in). Loading goes in two steps, as in ripgrep: the raw TOML is deserialised with
//! unknown keys refused ([`RawConfig`]), then checked and resolved into a [`Config`] that owns
//! the active profiles and the participant [`Classifier`].

pub mod profile;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::detect::DetectSettings;
use crate::event::{Actor, ActorKind};
use crate::rules::{RULE_IDS, Severity};
use crate::sources::SourceSettings;
pub use profile::{Profile, ProfileRule};

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
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The TOML is malformed, or has an unknown key or a bad value. The message from the TOML
    /// parser names the key and shows the line.
    #[error("config {origin}: {message}")]
    Toml { origin: Origin, message: String },
    #[error("config {origin}: {key}: {message}")]
    Invalid {
        origin: Origin,
        key: String,
        message: String,
    },
}

/// The language of texts people read: incident summaries, reports, alerts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    Sv,
    En,
}

impl Language {
    pub fn from_name(name: &str) -> Option<Language> {
        match name {
            "sv" => Some(Language::Sv),
            "en" => Some(Language::En),
            _ => None,
        }
    }
}

/// `[rules.<rule-id>]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSettings {
    pub enabled: Option<bool>,
    pub severity: Option<Severity>,
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
    #[serde(default)]
    pub detect: DetectSettings,
    #[serde(default)]
    pub rules: BTreeMap<String, RuleSettings>,
}

/// A checked configuration, ready to use.
#[derive(Debug, Clone)]
pub struct Config {
    pub origin: Origin,
    pub classifier: Classifier,
    /// Active profiles, in the order configured.
    pub profiles: Vec<Profile>,
    pub language: Language,
    pub detect: DetectSettings,
    pub rules: BTreeMap<String, RuleSettings>,
    pub sources: SourceSettings,
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
            message: e.to_string().trim_end().to_string(),
        })?;
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            origin: origin.clone(),
            key: key.to_string(),
            message,
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

        let ids = raw
            .profiles
            .unwrap_or_else(|| vec!["vgr-samsa".to_string()]);
        if ids.is_empty() {
            return Err(invalid(
                "profiles",
                "no profile is active; name at least one".into(),
            ));
        }
        let mut profiles = Vec::new();
        for id in &ids {
            let profile = Profile::builtin(id).ok_or_else(|| {
                invalid(
                    "profiles",
                    format!(
                        "unknown profile `{id}` (known: {})",
                        Profile::BUILTIN_IDS.join(", ")
                    ),
                )
            })?;
            if profiles.iter().any(|p: &Profile| p.id == profile.id) {
                return Err(invalid("profiles", format!("`{id}` is listed twice")));
            }
            profiles.push(profile);
        }

        for id in raw.rules.keys() {
            if !RULE_IDS.contains(&id.as_str()) {
                return Err(invalid(
                    &format!("rules.{id}"),
                    format!("unknown rule `{id}` (known: {})", RULE_IDS.join(", ")),
                ));
            }
        }

        Ok(Config {
            origin,
            sources: SourceSettings {
                internal_domains: domains.clone(),
            },
            classifier: Classifier { domains },
            profiles,
            language: raw.language,
            detect: raw.detect,
            rules: raw.rules,
        })
    }

    /// Whether a rule is switched on.
    pub fn rule_enabled(&self, rule: &str) -> bool {
        self.rules.get(rule).and_then(|r| r.enabled).unwrap_or(true)
    }

    /// The configured breach severity of a rule, if the config overrides the profile.
    pub fn rule_severity(&self, rule: &str) -> Option<Severity> {
        self.rules.get(rule).and_then(|r| r.severity)
    }
}

/// Decides whether an actor is inside the organisation.
#[derive(Debug, Clone, Default)]
pub struct Classifier {
    domains: Vec<String>,
}

impl Classifier {
    pub fn new(domains: &[&str]) -> Classifier {
        Classifier {
            domains: domains.iter().map(|d| d.to_ascii_lowercase()).collect(),
        }
    }

    /// True when no internal domain is configured, so every actor without an explicit kind
    /// counts as external.
    pub fn is_empty(&self) -> bool {
        self.domains.is_empty()
    }

    /// The actor's kind: the explicit one if the event gave it; a guest for Teams guest UPNs
    /// (`#EXT#`); internal when the domain of its id is an internal domain or a subdomain of
    /// one; external otherwise.
    pub fn kind(&self, actor: &Actor) -> ActorKind {
        if let Some(kind) = actor.kind {
            return kind;
        }
        let id = actor.id.trim();
        if id.to_ascii_lowercase().contains("#ext#") {
            return ActorKind::Guest;
        }
        let Some((_, domain)) = id.rsplit_once('@') else {
            return ActorKind::External;
        };
        let domain = domain.trim_end_matches('.').to_ascii_lowercase();
        let internal = self.domains.iter().any(|d| {
            domain == *d
                || (domain.len() > d.len()
                    && domain.ends_with(d.as_str())
                    && domain.as_bytes()[domain.len() - d.len() - 1] == b'.')
        });
        if internal {
            ActorKind::Internal
        } else {
            ActorKind::External
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_config_parses_with_documented_defaults() {
        let c = Config::builtin();
        assert_eq!(c.profiles.len(), 1);
        assert_eq!(c.profiles[0].id, "vgr-samsa");
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
        assert!(err.contains("severity") && err.contains("huge"), "{err}");
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
    fn classifier_uses_explicit_kind_then_domain() {
        let c = Classifier::new(&["region.se"]);
        let kind = |id: &str| c.kind(&Actor::new(id));
        assert_eq!(kind("anna@region.se"), ActorKind::Internal);
        assert_eq!(kind("Anna@Vard.Region.SE"), ActorKind::Internal);
        assert_eq!(kind("eve@notregion.se"), ActorKind::External);
        assert_eq!(kind("eve@region.se.evil.com"), ActorKind::External);
        assert_eq!(kind("participant-42"), ActorKind::External);
        assert_eq!(kind("eve_gmail.com#EXT#@region.se"), ActorKind::Guest);
        let mut explicit = Actor::new("bob@region.se");
        explicit.kind = Some(ActorKind::Phone);
        assert_eq!(c.kind(&explicit), ActorKind::Phone);
    }
}
