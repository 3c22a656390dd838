//! Patient-data detection: finds Swedish identity numbers (and, later, other patient data) in
//! any text: chat messages, meeting subjects, invitations, file names.
//!
//! Privacy starts here. A [`Finding`] never carries the matched text: only its kind, a
//! confidence, its byte span in the text it was found in, a redacted form that keeps the shape
//! and none of the digits (`******-****`), and a keyed hash ([`HashKey`]) so that incidents
//! about the same person can be linked without storing the number. Nothing after the detector
//! needs (or gets) the raw text.

mod key;
pub mod personnummer;

use std::ops::Range;

use serde::{Deserialize, Serialize};

pub use key::{HashKey, KeyError};
use personnummer::IdKind;

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
}

/// What was found.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    Personnummer,
    Samordningsnummer,
}

impl FindingKind {
    /// The kind's id, as written in incidents.
    pub fn as_str(&self) -> &str {
        match self {
            FindingKind::Personnummer => "personnummer",
            FindingKind::Samordningsnummer => "samordningsnummer",
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
    /// The match with every digit replaced by `*`, separators kept: `********-****`.
    pub redacted: String,
    /// HMAC-SHA256 of the normalised number under the installation's [`HashKey`], hex, first
    /// 16 characters: the same person gives the same hash, and the number cannot be recovered.
    pub hash: String,
}

/// The `[detect]` table of the configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DetectSettings {
    /// The lowest confidence that counts as patient data for the rules.
    pub min_confidence: Confidence,
    /// Secret for the keyed hash, as text. Prefer `secret_file`.
    pub secret: Option<String>,
    /// File holding the secret; created (mode 0600) with a random secret when missing.
    pub secret_file: Option<std::path::PathBuf>,
}

impl Default for DetectSettings {
    fn default() -> Self {
        DetectSettings {
            min_confidence: Confidence::Medium,
            secret: None,
            secret_file: None,
        }
    }
}

/// Extra text that gives context to a scan, such as the meeting's subject for a chat message.
#[derive(Debug, Default, Clone, Copy)]
pub struct Context<'a> {
    pub related: &'a [&'a str],
}

/// Errors building a [`Detector`] from its settings.
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// The patient-data detector. Build it once; [`Detector::scan`] is cheap and thread-safe.
#[derive(Debug, Clone)]
pub struct Detector {
    key: HashKey,
    min_confidence: Confidence,
}

impl Detector {
    pub fn new(settings: &DetectSettings, key: HashKey) -> Result<Detector, DetectError> {
        Ok(Detector {
            key,
            min_confidence: settings.min_confidence,
        })
    }

    /// The lowest confidence that makes a finding count as patient data.
    pub fn min_confidence(&self) -> Confidence {
        self.min_confidence
    }

    /// Finds every identity number in `text`, at any confidence. Callers compare
    /// [`Finding::confidence`] with [`Detector::min_confidence`].
    pub fn scan(&self, text: &str, _ctx: &Context<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        let bytes = text.as_bytes();
        // Fast path: no digit, no finding.
        if memchr_digit(bytes).is_none() {
            return out;
        }
        let mut i = 0;
        while i < bytes.len() {
            if !bytes[i].is_ascii_digit() || (i > 0 && joins_left(bytes, i)) {
                i += 1;
                continue;
            }
            match candidate_at(bytes, i) {
                Some((end, normalized, kind)) => {
                    out.push(self.finding(bytes, i..end, &normalized, kind));
                    i = end;
                }
                None => {
                    // Skip the rest of this digit run: a number never starts inside another.
                    while i < bytes.len() && bytes[i].is_ascii_digit() {
                        i += 1;
                    }
                }
            }
        }
        out
    }

    fn finding(
        &self,
        bytes: &[u8],
        span: Range<usize>,
        normalized: &[u8],
        kind: IdKind,
    ) -> Finding {
        // A 12-digit number with a real century, or a 10-digit one with `-`/`+` in its place, is
        // strong; a bare 10-digit run (or one with a space) can be a phone or order number.
        let len = span.len();
        let sep = bytes.get(span.end - 5).copied();
        let confidence = if len == 12 || len == 13 || matches!(sep, Some(b'-' | b'+')) {
            Confidence::Medium
        } else {
            Confidence::Low
        };
        let redacted = bytes[span.clone()]
            .iter()
            .map(|&b| if b.is_ascii_digit() { '*' } else { b as char })
            .collect();
        Finding {
            kind: match kind {
                IdKind::Personnummer => FindingKind::Personnummer,
                IdKind::Samordningsnummer => FindingKind::Samordningsnummer,
            },
            confidence,
            span,
            redacted,
            hash: self.key.hash_hex(normalized),
        }
    }
}

fn memchr_digit(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(u8::is_ascii_digit)
}

/// True when the character before `i` glues position `i` to something before it: a letter or
/// digit, a `+` (phone numbers), or a `-`, `/`, `.`, `:` right after a digit.
fn joins_left(bytes: &[u8], i: usize) -> bool {
    let prev = bytes[i - 1];
    if prev.is_ascii_alphanumeric() || prev == b'+' || prev >= 0x80 {
        return true;
    }
    matches!(prev, b'-' | b'/' | b'.' | b':') && i >= 2 && bytes[i - 2].is_ascii_digit()
}

/// Tries to read an identity number starting at `start`. Returns the end of the match, the
/// normalised ten-digit form (ASCII) used for hashing, and its kind.
fn candidate_at(bytes: &[u8], start: usize) -> Option<(usize, Vec<u8>, IdKind)> {
    let digits_from = |from: usize, n: usize| -> Option<Vec<u8>> {
        let s = bytes.get(from..from + n)?;
        s.iter().all(u8::is_ascii_digit).then(|| s.to_vec())
    };
    let ends_clean = |end: usize| -> bool {
        bytes
            .get(end)
            .is_none_or(|&b| !(b.is_ascii_alphanumeric() || b >= 0x80))
    };
    // Date part: 8 digits (with century) or 6.
    for date_len in [8usize, 6] {
        let Some(date) = digits_from(start, date_len) else {
            continue;
        };
        let mut pos = start + date_len;
        let sep = bytes.get(pos).copied();
        let plus = sep == Some(b'+');
        if matches!(sep, Some(b'-' | b'+' | b' ')) {
            pos += 1;
        }
        let Some(serial) = digits_from(pos, 4) else {
            continue;
        };
        let end = pos + 4;
        if !ends_clean(end) {
            continue;
        }
        // A bare run must be exactly 10 or 12 digits long.
        let mut all = date.clone();
        all.extend_from_slice(&serial);
        let values: Vec<u8> = all.iter().map(|b| b - b'0').collect();
        let kind = if date_len == 8 {
            personnummer::validate_12(values.as_slice().try_into().ok()?)
        } else {
            personnummer::validate_10(values.as_slice().try_into().ok()?, plus)
        };
        if let Some(kind) = kind {
            let ten = all[all.len() - 10..].to_vec();
            return Some((end, ten, kind));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detector() -> Detector {
        Detector::new(&DetectSettings::default(), HashKey::from_bytes([7; 32])).unwrap()
    }

    fn found(text: &str) -> Vec<String> {
        detector()
            .scan(text, &Context::default())
            .into_iter()
            .map(|f| f.redacted)
            .collect()
    }

    #[test]
    fn finds_common_forms_and_redacts_all_digits() {
        assert_eq!(found("pnr 861208-2399 tack"), ["******-****"]);
        assert_eq!(found("19861208-2399"), ["********-****"]);
        assert_eq!(found("198612082399."), ["************"]);
        assert_eq!(found("(8612082399)"), ["**********"]);
        assert_eq!(found("701063-2391"), ["******-****"]);
    }

    #[test]
    fn ignores_invalid_and_embedded_numbers() {
        assert!(found("861208-2398").is_empty()); // wrong check digit
        assert!(found("+46861208239912").is_empty());
        assert!(found("x8612082399").is_empty());
        assert!(found("18612082399").is_empty()); // 11 digits
        assert!(found("070-123 45 67").is_empty());
    }

    #[test]
    fn same_number_same_hash_in_any_form() {
        let d = detector();
        let a = d.scan("861208-2399", &Context::default());
        let b = d.scan("198612082399", &Context::default());
        assert_eq!(a[0].hash, b[0].hash);
        assert_eq!(a[0].kind, FindingKind::Personnummer);
        assert_eq!(a[0].span, 0..11);
        assert_eq!(a[0].confidence, Confidence::Medium);
        assert_eq!(
            d.scan("8612082399", &Context::default())[0].confidence,
            Confidence::Low
        );
    }
}
