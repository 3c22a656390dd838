//! Phrase signals in text that are not patient data but that rules need: threats in chat,
//! markings of security-classified information, and care keywords that make a meeting
//! sensitive. The phrases are configured; what an observation keeps is which phrase matched
//! (configuration text), never the text it matched in.

use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

/// What kind of phrase matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalKind {
    /// A threat (`chat-threat`).
    Threat,
    /// A marking of security-classified information (`classified-information`).
    Classified,
    /// A care keyword: the meeting is about care (`vårdplanering`, `SIP`...).
    CareKeyword,
}

/// A set of configured phrases, matched at the start of a word and case-insensitively
/// (Unicode: `Å` matches `å`). In a set built with `exact_upper`, a phrase written entirely in
/// upper case (`HEMLIG`) matches only in upper case, since the lower-case word is everyday
/// language (used for classification markings). A single word of four letters or more also
/// matches its inflected forms (`vårdplanering` matches `vårdplaneringen`); a shorter word
/// (`SIP`, `MDK`) and a phrase of several words must end on a whole word, so that
/// `du ska få se` does not match `du ska få semester`.
#[derive(Debug, Clone)]
pub struct PhraseSet {
    phrases: Vec<String>,
    regexes: Vec<Regex>,
}

/// A phrase that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("phrase `{phrase}`: {reason}")]
pub struct PhraseError {
    pub phrase: String,
    pub reason: String,
}

impl PhraseSet {
    pub fn new(phrases: &[String], exact_upper: bool) -> Result<PhraseSet, PhraseError> {
        let mut regexes = Vec::with_capacity(phrases.len());
        let mut kept = Vec::with_capacity(phrases.len());
        for phrase in phrases {
            let p = phrase.trim();
            if p.is_empty() {
                return Err(PhraseError {
                    phrase: phrase.clone(),
                    reason: "is empty".into(),
                });
            }
            let has_letters = p.chars().any(char::is_alphabetic);
            let upper = exact_upper && has_letters && !p.chars().any(char::is_lowercase);
            let whole_word = p.chars().count() <= 3 || p.contains(char::is_whitespace);
            let mut pattern = format!(r"\b{}", regex::escape(p).replace(' ', r"\s+"));
            if whole_word {
                pattern.push_str(r"\b");
            }
            let re = RegexBuilder::new(&pattern)
                .case_insensitive(!upper)
                .build()
                .map_err(|e| PhraseError {
                    phrase: phrase.clone(),
                    reason: e.to_string(),
                })?;
            regexes.push(re);
            kept.push(p.to_string());
        }
        Ok(PhraseSet {
            phrases: kept,
            regexes,
        })
    }

    /// The configured phrases that occur in `text`.
    pub fn matches<'a>(&'a self, text: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.regexes
            .iter()
            .zip(&self.phrases)
            .filter(move |(re, _)| re.is_match(text))
            .map(|(_, p)| p.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.phrases.is_empty()
    }
}

/// A signal found in one text of an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signal {
    pub kind: SignalKind,
    pub field: super::TextField,
    /// The configured phrase that matched.
    pub phrase: String,
}

/// The compiled phrase sets.
#[derive(Debug, Clone)]
pub struct Signals {
    pub threats: PhraseSet,
    pub classified: PhraseSet,
    pub care: PhraseSet,
}

impl Signals {
    /// Every signal in `text`.
    pub fn scan(&self, field: super::TextField, text: &str, out: &mut Vec<Signal>) {
        for (kind, set) in [
            (SignalKind::Threat, &self.threats),
            (SignalKind::Classified, &self.classified),
            (SignalKind::CareKeyword, &self.care),
        ] {
            // Threats count in chat only; care keywords in subjects and invitations only.
            let applies = match kind {
                SignalKind::Threat => field == super::TextField::Chat,
                SignalKind::CareKeyword => {
                    matches!(field, super::TextField::Subject | super::TextField::Body)
                }
                SignalKind::Classified => true,
            };
            if !applies {
                continue;
            }
            for phrase in set.matches(text) {
                out.push(Signal {
                    kind,
                    field,
                    phrase: phrase.to_string(),
                });
            }
        }
    }

    /// Signals with empty phrase sets, for tests.
    pub fn none() -> Signals {
        Signals {
            threats: PhraseSet::new(&[], false).expect("empty set"),
            classified: PhraseSet::new(&[], true).expect("empty set"),
            care: PhraseSet::new(&[], false).expect("empty set"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(p: &[&str]) -> PhraseSet {
        PhraseSet::new(&p.iter().map(|s| s.to_string()).collect::<Vec<_>>(), false).unwrap()
    }

    fn exact(p: &[&str]) -> PhraseSet {
        PhraseSet::new(&p.iter().map(|s| s.to_string()).collect::<Vec<_>>(), true).unwrap()
    }

    fn hits(s: &PhraseSet, text: &str) -> Vec<String> {
        s.matches(text).map(str::to_string).collect()
    }

    #[test]
    fn matches_word_starts_case_insensitively_with_swedish_letters() {
        let s = set(&["vårdplanering", "SIP", "jag vet var du bor"]);
        assert_eq!(hits(&s, "Inför VÅRDPLANERINGEN"), ["vårdplanering"]);
        assert_eq!(hits(&s, "Sip-möte"), ["SIP"]);
        assert!(hits(&s, "sipprar").is_empty());
        assert!(hits(&s, "ovårdplanering").is_empty());
        assert_eq!(hits(&s, "Jag  vet var\ndu bor."), ["jag vet var du bor"]);
        assert!(hits(&s, "jag vet var du borde ringa").is_empty());
        let threats = set(&["du ska få se"]);
        assert_eq!(hits(&threats, "DU SKA FÅ SE!"), ["du ska få se"]);
        assert!(hits(&threats, "Du ska få semester i juli").is_empty());
    }

    #[test]
    fn upper_case_phrases_match_only_upper_case() {
        let s = exact(&["HEMLIG", "försvarssekretess"]);
        assert_eq!(hits(&s, "Bilaga HEMLIG enl. beslut"), ["HEMLIG"]);
        assert!(hits(&s, "en hemlig tårta").is_empty());
        assert_eq!(
            hits(&s, "Omfattas av Försvarssekretess"),
            ["försvarssekretess"]
        );
    }

    #[test]
    fn empty_phrase_is_an_error() {
        assert!(PhraseSet::new(&[" ".to_string()], false).is_err());
    }
}
