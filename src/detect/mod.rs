//! Patient-data detection: finds Swedish identity numbers, temporary and reserve patient ids,
//! ICD-10 codes, clinical terms and configured custom patterns in any text: chat messages,
//! meeting subjects, invitations, file names.
//!
//! How it works (details and the confidence scale in `docs/detection.md`):
//!
//! 1. [`scanner`] walks the text once, from one run of digits to the next, and checks each run
//!    that has the shape of an identifier (length, separator, letters, boundaries) against its
//!    format's rules: a real date, the Luhn check digit or the format's own check. A text
//!    without digits costs one byte scan and no allocation.
//! 2. Each identifier is scored the way Microsoft Purview's "Sweden national ID" type works: the
//!    written form gives a base confidence, a keyword within `window` characters (or in a
//!    related text such as the meeting's subject) raises it, a negative keyword (telefon, order,
//!    OCR…) lowers it or drops the match.
//! 3. Clinical terms and custom patterns run over the whole text (one automaton, behind a
//!    prefilter that skips texts in which no word begins like a term; one regex set).
//!
//! Privacy starts here. A [`Finding`] never carries the matched text: only its kind, a
//! confidence, its byte span in the text it was found in, a redacted form that keeps the shape
//! and none of the letters or digits (`******-****`), and a keyed hash ([`HashKey`]) so that
//! incidents about the same person can be linked without storing the number. Nothing after the
//! detector needs (or gets) the raw text. No `Debug` or error message here shows scanned text.

mod bytes;
mod custom;
mod ident;
mod key;
mod keywords;
pub mod personnummer;
mod reserve;
mod scanner;
mod settings;

use std::fmt;
use std::ops::Range;

use aho_corasick::MatchKind;
use serde::{Deserialize, Serialize};

pub use key::{HashKey, KeyError, hex};
pub use keywords::KeywordError;
pub use keywords::defaults as default_keywords;
pub use settings::{Check, CustomKind, CustomPattern, DetectSettings, Formats, KeywordSettings};

use custom::CustomSet;
use keywords::{Class, Evidence, Keywords};
use reserve::Reserve;
use scanner::{DateShape, Hit, IdType, ScanFormats, Strength};

/// How sure the detector is that a finding is patient data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }

    /// One step lower (`Low` stays `Low`).
    pub fn lower(self) -> Confidence {
        match self {
            Confidence::High => Confidence::Medium,
            _ => Confidence::Low,
        }
    }

    /// One step higher (`High` stays `High`).
    pub fn higher(self) -> Confidence {
        match self {
            Confidence::Low => Confidence::Medium,
            _ => Confidence::High,
        }
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What was found.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// A personnummer.
    Personnummer,
    /// A samordningsnummer (day of birth + 60).
    Samordningsnummer,
    /// An interim number (`YYMMDD-Tnnn`).
    Interim,
    /// A reservnummer: `issuer` is `national`, `stockholm`, `vgr`, `carelink`, `varmland`,
    /// `orebro`, `unknown`, or the name of a custom pattern with `kind = "reservnummer"`.
    Reservnummer { issuer: String },
    /// An ICD-10 diagnosis code. A weak signal.
    Icd10,
    /// A clinical term (diagnosis, medication, test). A weak signal.
    ClinicalTerm,
    /// A match of the custom pattern with this name.
    Custom(String),
}

impl FindingKind {
    /// The kind's id, as written in incidents: `personnummer`, `samordningsnummer`, `interim`,
    /// `reservnummer`, `icd10`, `clinical_term`, or a custom pattern's name.
    pub fn as_str(&self) -> &str {
        match self {
            FindingKind::Personnummer => "personnummer",
            FindingKind::Samordningsnummer => "samordningsnummer",
            FindingKind::Interim => "interim",
            FindingKind::Reservnummer { .. } => "reservnummer",
            FindingKind::Icd10 => "icd10",
            FindingKind::ClinicalTerm => "clinical_term",
            FindingKind::Custom(name) => name,
        }
    }

    /// The issuer of a reservnummer.
    pub fn issuer(&self) -> Option<&str> {
        match self {
            FindingKind::Reservnummer { issuer } => Some(issuer),
            _ => None,
        }
    }

    /// True for an ICD-10 code or a clinical term: on its own it says little, and it makes a
    /// text patient data only together with other signals (see [`Detector::is_patient_data`]).
    pub fn is_weak_signal(&self) -> bool {
        matches!(self, FindingKind::Icd10 | FindingKind::ClinicalTerm)
    }

    /// True for a number that identifies a person (personnummer, samordningsnummer, interim,
    /// reservnummer).
    pub fn is_identity(&self) -> bool {
        matches!(
            self,
            FindingKind::Personnummer
                | FindingKind::Samordningsnummer
                | FindingKind::Interim
                | FindingKind::Reservnummer { .. }
        )
    }
}

/// `reservnummer (vgr)` for a reservnummer, [`FindingKind::as_str`] for the rest.
impl fmt::Display for FindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.issuer() {
            Some(issuer) => write!(f, "reservnummer ({issuer})"),
            None => f.write_str(self.as_str()),
        }
    }
}

/// One piece of patient data found in a text. Holds no part of the text itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub kind: FindingKind,
    pub confidence: Confidence,
    /// Byte range of the match in the scanned text.
    pub span: Range<usize>,
    /// The match with every letter and digit replaced by `*`, separators kept: `********-****`.
    pub redacted: String,
    /// HMAC-SHA256 of the normalised match under the installation's [`HashKey`], hex, first
    /// 16 characters: the same person gives the same hash whatever the written form (10 or 12
    /// digits, with or without separator), and the number cannot be recovered.
    pub hash: String,
    /// How a related text (the meeting's subject) would raise [`Finding::confidence`], when it
    /// would. The subject may arrive in another file or batch than the chat message, so the
    /// detector does not wait for it: it says what the subject would do, and the meeting state
    /// applies it once the meeting's subject is known ([`Finding::in_context`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lift: Option<Lift>,
}

impl Finding {
    /// See [`FindingKind::is_weak_signal`].
    pub fn is_weak_signal(&self) -> bool {
        self.kind.is_weak_signal()
    }

    /// The confidence given what the meeting's related texts say.
    pub fn in_context(&self, related: &TextContext) -> Confidence {
        match &self.lift {
            Some(l) if related.satisfies(l.when) => l.confidence.max(self.confidence),
            _ => self.confidence,
        }
    }
}

/// What a related text must hold to raise a finding: see [`Lift`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContextNeed {
    /// An identity or a patient keyword.
    IdentityOrPatient,
    /// An identity keyword (for a number written like a phone number).
    Identity,
    /// A keyword of custom pattern number `n`.
    Custom(u8),
}

/// The confidence a finding would have with a related text that holds what `when` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Lift {
    pub when: ContextNeed,
    pub confidence: Confidence,
}

/// What a related text (a meeting's subject) says about the numbers in the meeting's other
/// texts: its identity, patient and custom-pattern keywords. Holds no text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TextContext {
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub identity: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub patient: bool,
    /// Bit `n`: a keyword of custom pattern `n`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub custom: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl TextContext {
    /// True when the text says nothing that raises a finding.
    pub fn is_empty(&self) -> bool {
        *self == TextContext::default()
    }

    /// Both texts' keywords.
    pub fn union(self, other: TextContext) -> TextContext {
        TextContext {
            identity: self.identity || other.identity,
            patient: self.patient || other.patient,
            custom: self.custom | other.custom,
        }
    }

    /// Whether this context raises a finding that needs `need`.
    pub fn satisfies(&self, need: ContextNeed) -> bool {
        match need {
            ContextNeed::IdentityOrPatient => self.identity || self.patient,
            ContextNeed::Identity => self.identity,
            ContextNeed::Custom(n) => n < 64 && self.custom & (1 << n) != 0,
        }
    }
}

/// Extra text that gives context to a scan, such as the meeting's subject for a chat message.
/// Its identity and patient keywords count as if they were next to every number in the text;
/// its negative keywords do not count.
///
/// `time` is when the text was written (a chat message's time): a number whose date is just
/// before it is more likely a case number or a timestamp than a date of birth (see
/// `docs/detection.md`). Without it the detector takes the current time.
#[derive(Debug, Default, Clone, Copy)]
pub struct Context<'a> {
    pub related: &'a [&'a str],
    pub time: Option<jiff::Timestamp>,
}

/// Errors building a [`Detector`] from its settings. Messages name the configuration key.
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("{0}")]
    Keywords(#[from] KeywordError),
    #[error("{key}: {reason}")]
    Config { key: String, reason: String },
}

/// The patient-data detector. Build it once; [`Detector::scan`] is cheap and thread-safe.
#[derive(Clone)]
pub struct Detector {
    key: HashKey,
    min_confidence: Confidence,
    window: usize,
    formats: ScanFormats,
    /// Identity, patient, negative, diagnosis and custom-pattern keywords.
    keywords: Option<Keywords>,
    /// Clinical terms, when switched on.
    clinical: Option<Keywords>,
    /// The keyed hash of each clinical term, by its index in the terms' canonical list:
    /// a term's finding is always the same hash, made once here instead of at every match.
    clinical_hashes: Vec<String>,
    custom: Option<CustomSet>,
    /// Swedish time, for the date a text was written.
    tz: jiff::tz::TimeZone,
}

impl fmt::Debug for Detector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Detector")
            .field("min_confidence", &self.min_confidence)
            .field("window", &self.window)
            .field("formats", &self.formats)
            .field("clinical_terms", &self.clinical.is_some())
            .field("custom", &self.custom.is_some())
            .finish_non_exhaustive()
    }
}

impl Detector {
    /// Builds the detector: compiles the keyword lists and custom patterns. Errors name the
    /// configuration key at fault.
    pub fn new(settings: &DetectSettings, key: HashKey) -> Result<Detector, DetectError> {
        let f = &settings.formats;
        let formats = ScanFormats {
            personnummer: f.personnummer,
            samordningsnummer: f.samordningsnummer,
            space_separator: f.space_separator,
            reserve: reserve::Enabled {
                interim: f.interim,
                national: f.reservnummer,
                stockholm: f.stockholm,
                vgr: f.vgr,
                carelink: f.carelink,
                varmland: f.varmland,
                orebro: f.orebro,
                unknown: f.unknown_reserve,
            },
            icd10: f.icd10,
            max_year: latest_birth_year(),
        };

        let k = &settings.keywords;
        let list = |given: &Option<Vec<String>>, default: &[&str], extra: &[String]| {
            let mut v = given
                .clone()
                .unwrap_or_else(|| default_keywords::list(default));
            v.extend_from_slice(extra);
            v
        };
        let mut builder = keywords::Builder::default();
        builder.add(
            "detect.keywords.identity",
            Class::Identity,
            &list(&k.identity, default_keywords::IDENTITY, &k.extra_identity),
        )?;
        builder.add(
            "detect.keywords.patient",
            Class::Patient,
            &list(&k.patient, default_keywords::PATIENT, &k.extra_patient),
        )?;
        builder.add(
            "detect.keywords.phone",
            Class::Phone,
            &list(&k.phone, default_keywords::PHONE, &k.extra_phone),
        )?;
        builder.add(
            "detect.keywords.negative",
            Class::Negative,
            &list(&k.negative, default_keywords::NEGATIVE, &k.extra_negative),
        )?;
        builder.add(
            "detect.keywords.diagnosis",
            Class::Diagnosis,
            &list(
                &k.diagnosis,
                default_keywords::DIAGNOSIS,
                &k.extra_diagnosis,
            ),
        )?;
        for (i, p) in settings
            .custom
            .iter()
            .enumerate()
            .take(custom::MAX_PATTERNS)
        {
            builder.add(
                &format!("detect.custom[{i}].keywords"),
                Class::Custom(i as u8),
                &p.keywords,
            )?;
        }
        let keywords = builder.build(MatchKind::Standard)?;

        let clinical = if f.clinical_terms {
            let mut b = keywords::Builder::default();
            b.add(
                "detect.keywords.clinical",
                Class::Clinical,
                &list(&k.clinical, default_keywords::CLINICAL, &k.extra_clinical),
            )?;
            b.build(MatchKind::LeftmostLongest)?
        } else {
            None
        };

        let clinical_hashes = clinical.as_ref().map_or_else(Vec::new, |terms| {
            terms
                .canonical()
                .iter()
                .map(|term| term_hash(&key, term))
                .collect()
        });
        Ok(Detector {
            key,
            min_confidence: settings.min_confidence,
            window: settings.window,
            formats,
            keywords,
            clinical,
            clinical_hashes,
            custom: CustomSet::compile(&settings.custom)?,
            tz: crate::config::profile::swedish_tz(),
        })
    }

    /// A fingerprint of the hash key (a keyed hash of a constant): changes when the key does,
    /// says nothing about the key.
    pub fn key_fingerprint(&self) -> String {
        self.key.hash_hex(b"motesvakt-key-fingerprint")
    }

    /// The lowest confidence that makes a finding count as patient data.
    pub fn min_confidence(&self) -> Confidence {
        self.min_confidence
    }

    /// What `text`, used as a related text, would say about the numbers of other texts: its
    /// identity, patient and custom-pattern keywords (see [`Finding::lift`]).
    pub fn context_of(&self, text: &str) -> TextContext {
        let Some(kw) = &self.keywords else {
            return TextContext::default();
        };
        let ev = kw.evidence(text, 0..text.len());
        TextContext {
            identity: ev.identity,
            patient: ev.patient,
            custom: ev.custom,
        }
    }

    /// Finds every identity number, reserve id, ICD-10 code, clinical term and custom-pattern
    /// match in `text`, at any confidence, in text order. Callers compare
    /// [`Finding::confidence`] with [`Detector::min_confidence`], or use
    /// [`Detector::is_patient_data`].
    pub fn scan(&self, text: &str, ctx: &Context<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        let mut related: Option<Evidence> = None;
        let b = text.as_bytes();
        if bytes::has_digit(b) {
            scanner::scan(b, &self.formats, &mut |hit| {
                if let Some(f) = self.judge(text, hit, ctx, &mut related) {
                    out.push(f);
                }
            });
        }
        if let Some(terms) = &self.clinical {
            terms.each_match(text, |span, term| {
                let hash = self.clinical_hashes[term].clone();
                out.push(self.finding(
                    FindingKind::ClinicalTerm,
                    Confidence::Low,
                    text,
                    span,
                    hash,
                ));
            });
        }
        if let Some(custom) = &self.custom {
            custom.each_match(text, self.formats.max_year, |p, span| {
                let ev = self.evidence(text, &span, ctx, &mut related);
                let mut confidence = p.confidence;
                let mut lift = None;
                if ev.negative || ev.phone {
                    confidence = confidence.lower();
                }
                if p.has_keywords && ev.custom & (1 << p.index) == 0 {
                    lift = Some(Lift {
                        when: ContextNeed::Custom(p.index),
                        confidence,
                    });
                    confidence = confidence.lower();
                }
                let norm: Vec<u8> = text[span.clone()]
                    .chars()
                    .filter(|c| c.is_alphanumeric())
                    .flat_map(char::to_uppercase)
                    .collect::<String>()
                    .into_bytes();
                let hash = self.hash(&[b"custom:", p.name.as_bytes(), b":", &norm]);
                let kind = match p.kind {
                    CustomKind::Custom => FindingKind::Custom(p.name.clone()),
                    CustomKind::Reservnummer => FindingKind::Reservnummer {
                        issuer: p.name.clone(),
                    },
                };
                let mut f = self.finding(kind, confidence, text, span, hash);
                f.lift = lift.filter(|l| l.confidence > f.confidence);
                out.push(f);
            });
        }
        if out.len() > 1 {
            resolve_overlaps(&mut out);
        }
        out
    }

    /// `text` with every identity number, interim or reserve number and custom-pattern match
    /// replaced by its redacted form, whatever is around it: for names (a display name, a kept
    /// subject or file name), where context says nothing. `None` when there is nothing to
    /// replace. Does not depend on `[detect.formats]`: a number is found here in any written
    /// form (see [`mod@ident`]) even when its format is switched off for detection. A text without
    /// a run of six digits costs one byte scan (unless custom patterns are configured).
    pub fn redact(&self, text: &str) -> Option<String> {
        let spans = self.identifier_spans(text)?;
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for s in spans {
            out.push_str(&text[last..s.start]);
            out.push_str(&redact(&text[s.clone()]));
            last = s.end;
        }
        out.push_str(&text[last..]);
        Some(out)
    }

    /// Like [`Detector::redact`], for identifiers that group events (meeting, room and message
    /// ids, aliases, actor ids): each redacted number is followed by `~` and a keyed hash of
    /// what it replaced (8 hex digits), so that two ids that differ only in the number stay
    /// apart, and the same id always gives the same form.
    pub fn redact_id(&self, text: &str) -> Option<String> {
        let spans = self.identifier_spans(text)?;
        let mut out = String::with_capacity(text.len() + 16);
        let mut last = 0;
        for s in spans {
            out.push_str(&text[last..s.start]);
            out.push_str(&redact(&text[s.clone()]));
            out.push('~');
            let h = self.hash(&[b"ident:", text[s.clone()].as_bytes()]);
            out.push_str(&h[..8]);
            last = s.end;
        }
        out.push_str(&text[last..]);
        Some(out)
    }

    /// Every span [`Detector::redact`] replaces, merged and on character boundaries; `None`
    /// when there are none.
    fn identifier_spans(&self, text: &str) -> Option<Vec<Range<usize>>> {
        let b = text.as_bytes();
        let custom = self.custom.as_ref().filter(|_| bytes::has_digit(b));
        let numbers = ident::has_run(b, ident::MIN_RUN);
        if custom.is_none() && !numbers {
            return None;
        }
        let mut spans: Vec<Range<usize>> = Vec::new();
        if numbers {
            ident::spans(b, &mut |s| spans.push(s));
            // The forms without a check, where the ordinary scanner takes them.
            scanner::scan(b, &ALL_FORMATS, &mut |hit| {
                if let Hit::Id(c) = hit {
                    spans.push(c.span);
                }
            });
        }
        if let Some(custom) = custom {
            custom.each_match(text, self.formats.max_year, |_, span| spans.push(span));
        }
        if spans.is_empty() {
            return None;
        }
        for s in &mut spans {
            s.end = s.end.min(text.len());
            while s.start > 0 && !text.is_char_boundary(s.start) {
                s.start -= 1;
            }
            while s.end < text.len() && !text.is_char_boundary(s.end) {
                s.end += 1;
            }
        }
        ident::merge(&mut spans);
        Some(spans)
    }

    /// The identity numbers (and custom-pattern matches) in an identifier or a name that
    /// people in the meeting see: its id, its room name, a participant's display name. Scored
    /// as in any text ([`Detector::scan`]), so that a meeting id that happens to pass the
    /// check as a bare ten-digit run stays below the usual threshold; ICD codes and clinical
    /// terms are left out. Only a text in which [`Detector::redact`] replaces something is
    /// scanned: empty, after one byte scan, for a text without a run of six digits (unless
    /// custom patterns are configured).
    pub fn scan_identifier(&self, text: &str) -> Vec<Finding> {
        // What the detector finds is a part of what redaction replaces: the cheap pass first.
        if self.identifier_spans(text).is_none() {
            return Vec::new();
        }
        let mut found = self.scan(text, &Context::default());
        found.retain(|f| !f.is_weak_signal());
        found
    }

    /// True when `findings` (of one text, or of all the texts of one meeting) hold patient data:
    /// an identifier or custom match at [`Detector::min_confidence`] or above, or an identity
    /// number one step below it together with a weak clinical signal (ICD-10 code or clinical
    /// term): a clinical signal raises an identifier by one step. Weak signals alone never are.
    pub fn is_patient_data(&self, findings: &[Finding]) -> bool {
        is_patient_data(findings.iter(), self.min_confidence)
    }

    /// Scores one scanner hit; `None` when the context rules it out.
    fn judge(
        &self,
        text: &str,
        hit: Hit,
        ctx: &Context<'_>,
        related: &mut Option<Evidence>,
    ) -> Option<Finding> {
        match hit {
            Hit::Id(mut c) => {
                let written_as = c.strength;
                if c.id == IdType::Personnummer {
                    let shape = scanner::date_shape(
                        text.as_bytes(),
                        &c.span,
                        self.formats.max_year,
                        // Seconds in an average Gregorian year.
                        ctx.time.map_or(self.formats.max_year, |t| {
                            1970 + u32::try_from(t.as_second() / 31_556_952).unwrap_or(0)
                        }),
                        || {
                            let t = ctx.time.unwrap_or_else(jiff::Timestamp::now);
                            let d = self.tz.to_datetime(t).date();
                            let part = |v: i8| u32::try_from(v).unwrap_or(1);
                            (
                                u32::try_from(d.year()).unwrap_or(0),
                                part(d.month()),
                                part(d.day()),
                            )
                        },
                    );
                    match shape {
                        DateShape::Future => return None,
                        DateShape::Clock => c.strength = Strength::Clock,
                        DateShape::Recent if c.strength == Strength::Strong => {
                            c.strength = Strength::Weak;
                        }
                        DateShape::Recent | DateShape::Birth => {}
                    }
                }
                let ev = self.evidence(text, &c.span, ctx, related);
                // An identity keyword says what the number is, whatever its date suggests.
                if ev.identity {
                    c.strength = written_as;
                }
                let confidence = score(c.strength, &ev)?;
                // What a related text arriving later (the meeting's subject) would do.
                let when = match c.strength {
                    Strength::Strong | Strength::Weak if !ev.positive() => {
                        Some(ContextNeed::IdentityOrPatient)
                    }
                    Strength::PhoneLike | Strength::Clock if !ev.identity => {
                        Some(ContextNeed::Identity)
                    }
                    _ => None,
                };
                let lift = when.and_then(|when| {
                    let mut lifted = ev;
                    lifted.identity = true;
                    let c = score(written_as, &lifted)?;
                    (c > confidence).then_some(Lift {
                        when,
                        confidence: c,
                    })
                });
                let (kind, tag): (FindingKind, &[u8]) = match c.id {
                    IdType::Personnummer => (FindingKind::Personnummer, b""),
                    IdType::Samordningsnummer => (FindingKind::Samordningsnummer, b""),
                    IdType::Reserve(Reserve::Interim) => (FindingKind::Interim, b"interim:"),
                    IdType::Reserve(r) => (
                        FindingKind::Reservnummer {
                            issuer: r.issuer().to_string(),
                        },
                        b"reserv:",
                    ),
                };
                let hash = self.hash(&[tag, c.norm.as_bytes()]);
                let mut f = self.finding(kind, confidence, text, c.span, hash);
                f.lift = lift;
                Some(f)
            }
            Hit::Icd(c) => {
                if !c.decimal && !self.evidence(text, &c.span, ctx, related).diagnosis {
                    return None;
                }
                let code: Vec<u8> = text.as_bytes()[c.span.clone()]
                    .iter()
                    .copied()
                    .filter(|&b| b != b'.')
                    .collect();
                let hash = self.hash(&[b"icd:", &code]);
                Some(self.finding(FindingKind::Icd10, Confidence::Low, text, c.span, hash))
            }
        }
    }

    /// The keywords within the window around `span`, plus the positive ones of the related
    /// texts (computed once per scan).
    fn evidence(
        &self,
        text: &str,
        span: &Range<usize>,
        ctx: &Context<'_>,
        related: &mut Option<Evidence>,
    ) -> Evidence {
        let Some(kw) = &self.keywords else {
            return Evidence::default();
        };
        let mut ev = kw.evidence(text, keywords::window(text, span, self.window));
        let rel = related.get_or_insert_with(|| {
            let mut r = Evidence::default();
            for t in ctx.related {
                r.add_positive(&kw.evidence(t, 0..t.len()));
            }
            r
        });
        ev.add_positive(rel);
        ev
    }

    fn hash(&self, parts: &[&[u8]]) -> String {
        hash_parts(&self.key, parts)
    }

    fn finding(
        &self,
        kind: FindingKind,
        confidence: Confidence,
        text: &str,
        span: Range<usize>,
        hash: String,
    ) -> Finding {
        Finding {
            kind,
            confidence,
            redacted: redact(&text[span.clone()]),
            span,
            hash,
            lift: None,
        }
    }
}

/// [`Detector::is_patient_data`] with the threshold given: for judging stored findings, which
/// needs no detector.
pub fn is_patient_data<'a>(
    findings: impl Iterator<Item = &'a Finding> + Clone,
    min: Confidence,
) -> bool {
    let strong = findings
        .clone()
        .any(|f| !f.is_weak_signal() && f.confidence >= min);
    strong
        || (findings.clone().any(Finding::is_weak_signal)
            && findings
                .clone()
                .any(|f| f.kind.is_identity() && f.confidence.higher() >= min))
}

/// The confidence scale for identifiers (see `docs/detection.md`).
///
/// A phone keyword does not lower a strong form: no Swedish phone number is written
/// `YYMMDD-NNNC` or `YYYYMMDDNNNC`, while "ring" and "tel" are everyday words in care chat
/// ("ring anhörig").
fn score(strength: Strength, ev: &Evidence) -> Option<Confidence> {
    match strength {
        Strength::Strong => {
            let c = if ev.positive() {
                Confidence::High
            } else {
                Confidence::Medium
            };
            Some(if ev.negative { c.lower() } else { c })
        }
        Strength::Weak | Strength::PhoneLike | Strength::Clock if ev.negative || ev.phone => None,
        Strength::Weak if ev.positive() => Some(Confidence::Medium),
        Strength::PhoneLike | Strength::Clock if ev.identity => Some(Confidence::Medium),
        Strength::Weak | Strength::PhoneLike | Strength::Clock => Some(Confidence::Low),
    }
}

/// Every format on, for [`Detector::redact`]: the forms without a check digit (Örebro, unknown
/// reserve formats) where the ordinary scanner takes them.
const ALL_FORMATS: ScanFormats = ScanFormats {
    personnummer: true,
    samordningsnummer: true,
    space_separator: true,
    reserve: reserve::Enabled::ALL,
    icd10: false,
    max_year: u32::MAX,
};

/// The keyed hash of `parts`, one after the other.
fn hash_parts(key: &HashKey, parts: &[&[u8]]) -> String {
    let data: Vec<u8> = parts.concat();
    key.hash_hex(&data)
}

/// The keyed hash of a clinical term's finding.
fn term_hash(key: &HashKey, term: &str) -> String {
    hash_parts(key, &[b"term:", term.as_bytes()])
}

/// Every letter and digit replaced by `*`; separators and spaces kept.
fn redact(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_alphanumeric() { '*' } else { c })
        .collect()
}

/// Sorts findings by position and, where two non-weak findings overlap (a custom pattern over a
/// built-in id), keeps the more confident one (the built-in one on a tie).
fn resolve_overlaps(out: &mut Vec<Finding>) {
    out.sort_by_key(|f| f.span.start);
    let mut kept: Vec<Finding> = Vec::with_capacity(out.len());
    // The kept identifiers never overlap and are in order of start, so only the last one can
    // overlap the next (which starts at or after it): one comparison each, linear in the
    // findings however many one text holds.
    let mut last_strong: Option<usize> = None;
    for f in out.drain(..) {
        if f.is_weak_signal() {
            kept.push(f);
            continue;
        }
        let clash = last_strong
            .filter(|&i| kept[i].span.start < f.span.end && f.span.start < kept[i].span.end);
        match clash {
            Some(i) if kept[i].confidence < f.confidence => kept[i] = f,
            Some(_) => {}
            None => {
                last_strong = Some(kept.len());
                kept.push(f);
            }
        }
    }
    *out = kept;
}

/// The latest year anyone can be born in: the current year (in Sweden, which is at most a few
/// hours ahead of UTC).
fn latest_birth_year() -> u32 {
    let soon = jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_hours(14))
        .unwrap_or_else(|_| jiff::Timestamp::now());
    u32::try_from(soon.to_zoned(jiff::tz::TimeZone::UTC).year()).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests;
