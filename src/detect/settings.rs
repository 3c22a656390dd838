//! The `[detect]` table of the configuration. Every key has a default; unknown keys are errors.
//!
//! ```toml
//! [detect]
//! min_confidence = "medium"       # low | medium | high
//! secret_file = "/var/lib/motesvakt/secret.key"
//! window = 300                    # characters each side of a number searched for keywords
//!
//! [detect.formats]                # every format is on by default
//! varmland = false
//!
//! [detect.keywords]               # replace a built-in list, or add to it
//! extra_negative = ["swish-nr"]
//!
//! [[detect.custom]]
//! name = "skane-reserv"
//! regex = '\b(?:19|20)\d{6}-?[A-Z0-9]{4}\b'
//! confidence = "medium"
//! keywords = ["reserv"]
//! check = "date"
//! kind = "reservnummer"
//! ```

use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;

use super::Confidence;

/// The `[detect]` table of the configuration.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DetectSettings {
    /// The lowest confidence that counts as patient data for the rules.
    pub min_confidence: Confidence,
    /// Secret for the keyed hash, as text. Prefer `secret_file`.
    pub secret: Option<String>,
    /// File holding the secret; created (mode 0600) with a random secret when missing.
    pub secret_file: Option<PathBuf>,
    /// How many characters before and after a number are searched for keywords.
    pub window: usize,
    /// Which built-in formats are looked for.
    pub formats: Formats,
    /// The keyword lists.
    pub keywords: KeywordSettings,
    /// Extra patterns, compiled together with the built-in ones.
    pub custom: Vec<CustomPattern>,
}

impl Default for DetectSettings {
    fn default() -> Self {
        DetectSettings {
            min_confidence: Confidence::Medium,
            secret: None,
            secret_file: None,
            window: 300,
            formats: Formats::default(),
            keywords: KeywordSettings::default(),
            custom: Vec::new(),
        }
    }
}

/// Written by hand so that the secret never shows in a log.
impl fmt::Debug for DetectSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DetectSettings")
            .field("min_confidence", &self.min_confidence)
            .field("secret", &self.secret.as_ref().map(|_| "…"))
            .field("secret_file", &self.secret_file)
            .field("window", &self.window)
            .field("formats", &self.formats)
            .field("keywords", &self.keywords)
            .field("custom", &self.custom)
            .finish()
    }
}

/// `[detect.formats]`: switches for the built-in formats, all on by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Formats {
    /// Personnummer, 10 or 12 digits, with `-`, `+`, a space or nothing between date and serial.
    pub personnummer: bool,
    /// Samordningsnummer (day of birth + 60).
    pub samordningsnummer: bool,
    /// Accept a space in the separator's place (`YYMMDD NNNC`; weak evidence).
    pub space_separator: bool,
    /// Interim numbers (`YYMMDD-Tnnn`).
    pub interim: bool,
    /// The national reservnummer (NRID).
    pub reservnummer: bool,
    /// Region Stockholm's reservnummer (`99yyyyNNNNNC`).
    pub stockholm: bool,
    /// Västra Götalandsregionen's reservnummer (`yyyymmddKggC`).
    pub vgr: bool,
    /// Inera Carelink's reservnummer (`yyyymmxxNNNC`, xx 32-59).
    pub carelink: bool,
    /// Region Värmland's reservnummer (`yyyymmddSBNC`).
    pub varmland: bool,
    /// Region Örebro län's reservnummer (`aaaaaaaaTcde`).
    pub orebro: bool,
    /// Any other `yyyymmdd` + four capitals/digits with a letter (e.g. Region Skåne's form).
    pub unknown_reserve: bool,
    /// ICD-10 codes (`F32.1`; `F329` only next to a diagnosis keyword). Weak signals.
    pub icd10: bool,
    /// Clinical terms (the `clinical` keyword list). Weak signals.
    pub clinical_terms: bool,
}

impl Default for Formats {
    fn default() -> Self {
        Formats {
            personnummer: true,
            samordningsnummer: true,
            space_separator: true,
            interim: true,
            reservnummer: true,
            stockholm: true,
            vgr: true,
            carelink: true,
            varmland: true,
            orebro: true,
            unknown_reserve: true,
            icd10: true,
            clinical_terms: true,
        }
    }
}

/// `[detect.keywords]`: each list replaces the built-in one when given; the `extra_` lists add
/// to it. Keywords match at the start of a word, case-insensitively; end one with `$` to match
/// a whole word only. Phone and negative keywords match only the word itself, an inflection or a
/// number compound (see `keywords::inflected_tail`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KeywordSettings {
    /// Words that name an identity number (personnummer, pnr, …).
    pub identity: Option<Vec<String>>,
    /// Words about a patient, client or record (patient, brukare, journal, …).
    pub patient: Option<Vec<String>>,
    /// Words that make a number a phone number (telefon, ring, mobil, …).
    pub phone: Option<Vec<String>>,
    /// Words that make a number some other number (order, OCR, faktura, ref, …).
    pub negative: Option<Vec<String>>,
    /// Words that name a diagnosis (diagnos, dg, ICD).
    pub diagnosis: Option<Vec<String>>,
    /// Clinical terms, reported as weak signals (diabetes, waran, INR, …).
    pub clinical: Option<Vec<String>>,
    pub extra_identity: Vec<String>,
    pub extra_patient: Vec<String>,
    pub extra_phone: Vec<String>,
    pub extra_negative: Vec<String>,
    pub extra_diagnosis: Vec<String>,
    pub extra_clinical: Vec<String>,
}

/// One `[[detect.custom]]` pattern.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomPattern {
    /// Unique name; the finding's kind (or issuer, with `kind = "reservnummer"`).
    pub name: String,
    /// Regular expression (Rust `regex` syntax). Add `\b` or similar to bound it.
    pub regex: String,
    /// Confidence of a match with a keyword nearby (or of any match when `keywords` is empty).
    #[serde(default = "medium")]
    pub confidence: Confidence,
    /// When not empty, a match with none of these near it is one step less confident.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// A check the match must pass.
    #[serde(default)]
    pub check: Option<Check>,
    /// What the finding is reported as.
    #[serde(default)]
    pub kind: CustomKind,
}

fn medium() -> Confidence {
    Confidence::Medium
}

/// A check on a custom pattern's match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// Luhn (mod 10) over the digits of the match; other characters are skipped.
    Luhn,
    /// Luhn over every letter and digit, a letter counting as its ASCII code (as the national
    /// reservnummer).
    LuhnAscii,
    /// The match's digits start with a real date: `YYYYMMDD` (1800s-2000s), else `YYMMDD`.
    Date,
    /// As a personnummer: `date`, and Luhn over the digits with a 12-digit number's century
    /// left out.
    DateLuhn,
}

/// How a custom pattern's findings are reported.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustomKind {
    /// `FindingKind::Custom(name)`.
    #[default]
    Custom,
    /// `FindingKind::Reservnummer { issuer: name }`: a patient id.
    Reservnummer,
}
