//! Phrase signals in text that are not patient data but that rules need: threats in chat,
//! markings of security-classified information, and care keywords that make a meeting
//! sensitive. The phrases are configured; what an observation keeps is which phrase matched
//! (configuration text), never the text it matched in.

use std::borrow::Cow;

use aho_corasick::AhoCorasick;
use serde::{Deserialize, Serialize};

use crate::event::TextField;

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
    phrases: Vec<Phrase>,
    /// Case-insensitive phrases, folded, searched in folded text; pattern id → phrase index
    /// ([`GATE`] for the upper-case markings, folded too: see [`PhraseSet::matches_normalized`]).
    folded: Option<(AhoCorasick, Vec<usize>)>,
    /// Upper-case markings, searched in unfolded text.
    exact: Option<(AhoCorasick, Vec<usize>)>,
    /// The patterns of `folded`, for [`Signals`]' automaton of several sets.
    folded_patterns: Vec<String>,
}

#[derive(Debug, Clone)]
struct Phrase {
    text: String,
    whole_word: bool,
}

/// A phrase that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("phrase `{phrase}`: {reason}")]
pub struct PhraseError {
    pub phrase: String,
    pub reason: String,
}

/// `text` with runs of white space made one space, and lower-cased when `fold` (Unicode, so
/// `Å` becomes `å`): the form phrases are searched in. Borrowed when `text` is already in that
/// form; with `fold`, ASCII capitals are left alone (the folded automaton ignores ASCII case),
/// so most texts are not copied.
pub fn normalize(text: &str, fold: bool) -> Cow<'_, str> {
    normalize_as(text, fold, &Shape::of(text))
}

/// What [`normalize`] needs to know of a text, found once for both of its forms.
struct Shape {
    ascii: bool,
    /// White space other than single spaces between words.
    odd_space: bool,
}

impl Shape {
    fn of(text: &str) -> Shape {
        let bytes = text.as_bytes();
        let ascii = bytes.is_ascii();
        // memchr and memmem rather than byte by byte: every chat message is looked at.
        let odd_space = bytes.first() == Some(&b' ')
            || bytes.last() == Some(&b' ')
            || memchr::memmem::find(bytes, b"  ").is_some()
            || memchr::memchr3(b'\t', b'\n', b'\r', bytes).is_some()
            || memchr::memchr2(0x0b, 0x0c, bytes).is_some()
            || (!ascii && has_other_space(text));
        Shape { ascii, odd_space }
    }
}

/// White space other than ASCII in `text`. Every such character (U+0085, U+00A0, U+1680,
/// U+2000-U+3000) starts with the byte 0xC2, 0xE1, 0xE2 or 0xE3 in UTF-8, which Swedish letters
/// (0xC3) do not: most texts are not decoded at all.
fn has_other_space(text: &str) -> bool {
    let b = text.as_bytes();
    (memchr::memchr3(0xC2, 0xE1, 0xE2, b).is_some() || memchr::memchr(0xE3, b).is_some())
        && text.chars().any(|c| !c.is_ascii() && c.is_whitespace())
}

/// A capital letter other than ASCII in `text`. Only the characters after a non-ASCII byte are
/// decoded, and Latin-1's (`Å`, `Ä`, `Ö`, `é`) are told without Unicode's tables.
fn has_non_ascii_capital(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = 0;
    while let Some(k) = b[i..].iter().position(|&c| !c.is_ascii()) {
        i += k;
        // `i` is at a character's first byte: the bytes before it are ASCII or whole
        // characters.
        let Some(c) = text[i..].chars().next() else {
            return false;
        };
        let upper = match u32::from(c) {
            0xC0..=0xDE => c != '×',
            0xDF..=0xFF => false,
            _ => c.is_uppercase(),
        };
        if upper {
            return true;
        }
        i += c.len_utf8();
    }
    false
}

fn normalize_as<'t>(text: &'t str, fold: bool, shape: &Shape) -> Cow<'t, str> {
    let Shape { ascii, odd_space } = *shape;
    // The folded automaton ignores ASCII case itself; only other capitals need folding here.
    let needs_fold = fold && !ascii && has_non_ascii_capital(text);
    if !odd_space && !needs_fold {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        if !fold {
            out.push(c);
        } else if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
        } else {
            out.extend(c.to_lowercase());
        }
    }
    Cow::Owned(out)
}

impl PhraseSet {
    pub fn new(phrases: &[String], exact_upper: bool) -> Result<PhraseSet, PhraseError> {
        let mut kept = Vec::with_capacity(phrases.len());
        let (mut folded, mut folded_ids) = (Vec::new(), Vec::new());
        let (mut exact, mut exact_ids) = (Vec::new(), Vec::new());
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
            if upper {
                exact.push(normalize(p, false).into_owned());
                exact_ids.push(kept.len());
                // Its folded form goes into the folded automaton as a gate only.
                folded.push(normalize(p, true).into_owned());
                folded_ids.push(GATE);
            } else {
                folded.push(normalize(p, true).into_owned());
                folded_ids.push(kept.len());
            }
            kept.push(Phrase {
                text: p.to_string(),
                whole_word,
            });
        }
        let build = |patterns: &[String], ids: Vec<usize>, ascii_case_insensitive: bool| {
            if patterns.is_empty() {
                return Ok(None);
            }
            automaton(patterns, ascii_case_insensitive)
                .map(|ac| Some((ac, ids)))
                .map_err(|e| PhraseError {
                    phrase: patterns.join(", "),
                    reason: e.to_string(),
                })
        };
        Ok(PhraseSet {
            phrases: kept,
            folded: build(&folded, folded_ids, true)?,
            exact: build(&exact, exact_ids, false)?,
            folded_patterns: folded,
        })
    }

    /// The configured phrases that occur in `text`.
    pub fn matches(&self, text: &str) -> Vec<&str> {
        let folded = self.folded.as_ref().map(|_| normalize(text, true));
        let exact = self.exact.as_ref().map(|_| normalize(text, false));
        let (folded, exact) = (folded.as_deref(), exact.as_deref());
        self.matches_normalized(folded, exact)
    }

    /// Like [`PhraseSet::matches`], on text already normalized with and without folding (so a
    /// text scanned by several sets is normalized once).
    pub fn matches_normalized(&self, folded: Option<&str>, exact: Option<&str>) -> Vec<&str> {
        let mut hit = Vec::new();
        // Most texts hold no phrase: a search that stops at the first match, with the
        // automaton's prefilter, says so faster than the overlapping one. The folded automaton
        // also holds every upper-case marking, folded: a marking in the unfolded text is one
        // in the folded text, ASCII case aside (each character is folded by itself, and the
        // white space is the same in both), so a text in which the folded automaton finds
        // nothing holds no phrase of either kind, and the second search is not made.
        let folded_match = match (&self.folded, folded) {
            (Some((ac, _)), Some(text)) => ac.is_match(text),
            _ => false,
        };
        if !folded_match && folded.is_some() {
            return Vec::new();
        }
        for (searched, automaton, text) in [
            (Some(folded_match), &self.folded, folded),
            (None, &self.exact, exact),
        ] {
            let (Some((ac, ids)), Some(text)) = (automaton, text) else {
                continue;
            };
            if !searched.unwrap_or_else(|| ac.is_match(text)) {
                continue;
            }
            for m in ac.find_overlapping_iter(text) {
                let index = ids[m.pattern().as_usize()];
                if index == GATE {
                    continue;
                }
                let phrase = &self.phrases[index];
                let starts_word = !text[..m.start()]
                    .chars()
                    .next_back()
                    .is_some_and(char::is_alphanumeric);
                let ends_word = !phrase.whole_word
                    || !text[m.end()..]
                        .chars()
                        .next()
                        .is_some_and(char::is_alphanumeric);
                if starts_word && ends_word && !hit.contains(&index) {
                    hit.push(index);
                }
            }
        }
        hit.sort_unstable();
        hit.into_iter()
            .map(|i| self.phrases[i].text.as_str())
            .collect()
    }

    fn needs_folded(&self) -> bool {
        self.folded.is_some()
    }

    fn needs_exact(&self) -> bool {
        self.exact.is_some()
    }
}

/// The automaton phrases are searched with. A DFA: a few dozen phrases make a small one, and
/// every chat message is searched (the default, a contiguous NFA, cost three times the
/// detector's scan).
fn automaton(
    patterns: &[String],
    ascii_case_insensitive: bool,
) -> Result<AhoCorasick, aho_corasick::BuildError> {
    AhoCorasick::builder()
        .kind(Some(aho_corasick::AhoCorasickKind::DFA))
        .ascii_case_insensitive(ascii_case_insensitive)
        .build(patterns)
}

/// The phrase index of a folded upper-case marking in the folded automaton: it only says that
/// the unfolded text may hold the marking.
const GATE: usize = usize::MAX;

/// A signal found in one text of an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signal {
    pub kind: SignalKind,
    pub field: TextField,
    /// The configured phrase that matched.
    pub phrase: String,
}

/// The compiled phrase sets.
#[derive(Debug, Clone)]
pub struct Signals {
    threats: PhraseSet,
    classified: PhraseSet,
    care: PhraseSet,
    /// The folded phrases of every set searched in chat (threats, markings) and in subjects
    /// and invitations (markings, care keywords), each as one automaton: most texts hold no
    /// phrase, which one search then says for all the sets at once (two searches of every
    /// chat message were 3 % of a scan's instructions). `None` where a set alone is searched
    /// or the automaton could not be built (the sets are then searched one by one).
    gates: [Option<AhoCorasick>; 2],
}

impl Signals {
    /// The sets, and the automata that search several at once.
    pub fn new(threats: PhraseSet, classified: PhraseSet, care: PhraseSet) -> Signals {
        let gate = |sets: [&PhraseSet; 2]| {
            let patterns: Vec<String> = sets
                .iter()
                .flat_map(|s| s.folded_patterns.iter().cloned())
                .collect();
            (!patterns.is_empty())
                .then(|| automaton(&patterns, true).ok())
                .flatten()
        };
        let gates = [gate([&threats, &classified]), gate([&classified, &care])];
        Signals {
            threats,
            classified,
            care,
            gates,
        }
    }

    /// Every signal in `text`.
    pub fn scan(&self, field: TextField, text: &str, out: &mut Vec<Signal>) {
        // Threats count in chat only; care keywords in subjects and invitations only.
        let chat = field == TextField::Chat;
        let subject = matches!(field, TextField::Subject | TextField::Body);
        let sets = [
            (SignalKind::Threat, &self.threats, chat),
            (SignalKind::Classified, &self.classified, true),
            (SignalKind::CareKeyword, &self.care, subject),
        ];
        let wanted = |need: fn(&PhraseSet) -> bool| {
            sets.iter().any(|(_, set, applies)| *applies && need(set))
        };
        let shape = Shape::of(text);
        let folded = wanted(PhraseSet::needs_folded).then(|| normalize_as(text, true, &shape));
        // A set finds nothing in a text its folded automaton finds nothing in (see
        // `PhraseSet::matches_normalized`), so neither does any set when the automaton of
        // their folded phrases together finds nothing.
        let gate = match (chat, subject) {
            (true, _) => self.gates[0].as_ref(),
            (_, true) => self.gates[1].as_ref(),
            _ => None,
        };
        if let (Some(gate), Some(folded)) = (gate, folded.as_deref())
            && !gate.is_match(folded)
        {
            return;
        }
        let exact = wanted(PhraseSet::needs_exact).then(|| normalize_as(text, false, &shape));
        for (kind, set, applies) in sets {
            if !applies {
                continue;
            }
            for phrase in set.matches_normalized(folded.as_deref(), exact.as_deref()) {
                out.push(Signal {
                    kind,
                    field,
                    phrase: phrase.to_string(),
                });
            }
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
        s.matches(text).into_iter().map(str::to_string).collect()
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
    fn markings_are_found_through_the_folded_gate() {
        let s = exact(&["BEGRÄNSAT HEMLIG", "KONFIDENTIELL", "vårdplanering"]);
        assert_eq!(hits(&s, "Bilaga BEGRÄNSAT HEMLIG"), ["BEGRÄNSAT HEMLIG"]);
        assert_eq!(hits(&s, "BEGRÄNSAT\n  HEMLIG"), ["BEGRÄNSAT HEMLIG"]);
        assert!(hits(&s, "begränsat hemlig").is_empty());
        assert!(hits(&s, "Konfidentiell").is_empty());
        assert_eq!(
            hits(&s, "VÅRDPLANERING, KONFIDENTIELL"),
            ["KONFIDENTIELL", "vårdplanering"]
        );
        let signals = Signals::new(set(&["du ska få se"]), s, set(&["SIP"]));
        let mut out = Vec::new();
        signals.scan(TextField::Chat, "Du ska få se, KONFIDENTIELL", &mut out);
        let got: Vec<(SignalKind, &str)> =
            out.iter().map(|s| (s.kind, s.phrase.as_str())).collect();
        assert_eq!(
            got,
            [
                (SignalKind::Threat, "du ska få se"),
                (SignalKind::Classified, "KONFIDENTIELL")
            ]
        );
        out.clear();
        signals.scan(TextField::Chat, "Konfidentiell SIP", &mut out);
        assert!(out.is_empty(), "{out:?}");
        // A phrase the same as a marking's gate but for case is still found.
        let both = exact(&["HEMLIG", "hemlig"]);
        assert_eq!(hits(&both, "en hemlig tårta"), ["hemlig"]);
        assert_eq!(hits(&both, "Bilaga HEMLIG"), ["HEMLIG", "hemlig"]);
    }

    #[test]
    fn normalize_folds_and_collapses_space_and_borrows_when_it_can() {
        assert!(matches!(
            normalize("redan normal text", true),
            Cow::Borrowed(_)
        ));
        assert!(matches!(
            normalize("Jag vet, säger Åsa", false),
            Cow::Borrowed(_)
        ));
        assert!(matches!(
            normalize("Jag vet var du bor", true),
            Cow::Borrowed(_)
        ));
        assert!(matches!(normalize("Versal", false), Cow::Borrowed(_)));
        assert_eq!(normalize(" Jag\tvet  var\u{a0}du ", true), "jag vet var du");
        assert_eq!(normalize("ÅÄÖ Éé", true), "åäö éé");
        assert_eq!(normalize("HEMLIG\n\nBilaga", false), "HEMLIG Bilaga");
    }

    #[test]
    fn non_ascii_capitals_and_spaces_are_told_as_unicode_tells_them() {
        for c in (0x80u32..0x3100).filter_map(char::from_u32) {
            let text = format!("a{c}b");
            assert_eq!(has_non_ascii_capital(&text), c.is_uppercase(), "{c:?}");
            assert_eq!(has_other_space(&text), c.is_whitespace(), "{c:?}");
        }
        assert!(!has_non_ascii_capital("åäö ÿ é"));
        assert!(has_non_ascii_capital("åäÖ"));
    }

    proptest::proptest! {
        /// The automata of several sets find what the sets searched one by one find.
        #[test]
        fn the_sets_searched_at_once_find_what_each_finds(
            words in proptest::collection::vec(0usize..14, 0..8),
            field in 0usize..4,
        ) {
            const WORDS: &[&str] = &[
                "du", "ska", "få", "se", "HEMLIG", "hemlig", "Vårdplaneringen", "SIP", "sip",
                "KONFIDENTIELL", "  ", "\n", "ÅÄÖ", "x",
            ];
            let text: Vec<&str> = words.iter().map(|&w| WORDS[w]).collect();
            let text = text.join(" ");
            let field = [TextField::Chat, TextField::Subject, TextField::Body, TextField::FileName][field];
            let signals = Signals::new(
                set(&["du ska få se", "jag vet var du bor"]),
                exact(&["HEMLIG", "KONFIDENTIELL", "försvarssekretess"]),
                set(&["vårdplanering", "SIP"]),
            );
            let one_by_one = Signals { gates: [None, None], ..signals.clone() };
            let (mut got, mut want) = (Vec::new(), Vec::new());
            signals.scan(field, &text, &mut got);
            one_by_one.scan(field, &text, &mut want);
            proptest::prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn empty_phrase_is_an_error() {
        assert!(PhraseSet::new(&[" ".to_string()], false).is_err());
    }
}
