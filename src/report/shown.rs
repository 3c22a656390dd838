//! Text from outside (file and folder names, command-line values, names from a config or an
//! input record) as it may be shown in an error, a diagnostic or a log line: every identity
//! number, interim or reserve number in it replaced by its redacted form, and control and
//! reordering characters escaped ([`terminal_safe`]).
//!
//! The redaction uses the built-in formats with every one switched on, whatever
//! `[detect.formats]` says: switching a format off for detection does not switch off
//! redaction, and a message about a config that cannot be read is redacted too.

use std::sync::OnceLock;

use super::terminal_safe;
use crate::detect::{DetectSettings, Detector, HashKey};

/// The detector that redacts shown text: built-in formats, no custom patterns, and a key that
/// is never used (redaction makes no hash).
fn redactor() -> Option<&'static Detector> {
    static REDACTOR: OnceLock<Option<Detector>> = OnceLock::new();
    REDACTOR
        .get_or_init(|| {
            Detector::new(&DetectSettings::default(), HashKey::from_bytes([0; 32])).ok()
        })
        .as_ref()
}

/// `text` fit for an error message or a log line: identity numbers redacted, control
/// characters escaped. Use it on anything that came from outside, or on a whole message that
/// holds such text.
pub fn shown(text: &str) -> String {
    let safe = terminal_safe(text);
    // The built-in settings always build (tested); should they not, no digit is shown at all.
    redact_ids(&safe).unwrap_or(safe)
}

/// `text` with every identity number, interim or reserve number redacted, and nothing else
/// changed (a log line keeps its colours and line end): the detector's redaction of
/// identifiers and names ([`Detector::redact`]), which finds a number in any written form,
/// also glued to letters (`x19861208-2399`, `vmr.8612082399`): a name has no word boundaries.
pub fn redact_ids(text: &str) -> Option<String> {
    match redactor() {
        Some(d) => d.redact(text),
        None => text
            .bytes()
            .any(|b| b.is_ascii_digit())
            .then(|| text.replace(|c: char| c.is_ascii_digit(), "*")),
    }
}

/// [`shown`] for a message of several lines (an error with its causes): line breaks stay, and
/// every line after the first is indented, so that text from outside cannot pass for a line
/// of its own.
pub fn shown_lines(text: &str) -> String {
    text.split('\n')
        .map(shown)
        .collect::<Vec<_>>()
        .join("\n    ")
}

/// A path as shown in a message: [`shown`] over its lossy UTF-8 form.
pub fn shown_path(path: &std::path::Path) -> String {
    shown(&path.to_string_lossy())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_identity_numbers_in_every_form_and_escapes_controls() {
        let redactor_builds = redactor().is_some();
        assert!(redactor_builds, "the built-in detector settings build");
        for form in [
            "19861208-2399",
            "198612082399",
            "861208-2399",
            "8612082399",
            "861208+2399",
        ] {
            let got = shown(&format!("file /in/{form}.json: bad"));
            assert!(!got.contains(form), "{got}");
            assert!(got.contains("/in/") && got.ends_with(".json: bad"), "{got}");
        }
        for glued in [
            "x19861208-2399",
            "vmr.8612082399",
            "tel198612082399x",
            "a_861208+2399",
            "[rules.x19861208-2399]",
        ] {
            let got = shown(glued);
            assert!(!got.contains("2399"), "{got}");
        }
        // Not identity numbers: left as they are.
        assert_eq!(shown("line 198612082398"), "line 198612082398");
        // A number inside a longer digit run is redacted too (an identifier may hold one so).
        assert!(!shown("offset 1198612082399").contains("2399"));
        assert_eq!(shown("plain \u{1b}[2J name"), "plain \\u{1b}[2J name");
        assert_eq!(shown("line 12, column 3"), "line 12, column 3");
        let many = shown_lines("a 19861208-2399\nb\u{7}");
        assert_eq!(many, "a ********-****\n    b\\u{7}");
    }
}
