//! Custom patterns from the configuration (`[[detect.custom]]`): a regular expression, a
//! confidence, optional keywords and an optional check. All patterns are compiled into one
//! `RegexSet` that tells in one pass which of them match at all; only those are then run to
//! find their spans.

use std::ops::Range;

use regex::{Regex, RegexSet};

use super::personnummer::date_exists;
use super::reserve::{date6_ok, date8_ok, luhn, luhn_ascii};
use super::settings::{Check, CustomKind, CustomPattern};
use super::{Confidence, DetectError};

/// The most custom patterns a configuration may hold (their keywords are tracked in a `u64`).
pub const MAX_PATTERNS: usize = 64;

/// One compiled custom pattern.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub name: String,
    pub regex: Regex,
    pub confidence: Confidence,
    pub has_keywords: bool,
    pub check: Option<Check>,
    pub kind: CustomKind,
    /// Position in the configuration, the bit of its keywords in `Evidence::custom`.
    pub index: u8,
}

/// All custom patterns.
#[derive(Debug, Clone)]
pub struct CustomSet {
    set: RegexSet,
    patterns: Vec<Compiled>,
}

impl CustomSet {
    /// Compiles `list`; `None` when it is empty. Errors name the pattern.
    pub fn compile(list: &[CustomPattern]) -> Result<Option<CustomSet>, DetectError> {
        if list.is_empty() {
            return Ok(None);
        }
        if list.len() > MAX_PATTERNS {
            return Err(DetectError::Config {
                key: "detect.custom".into(),
                reason: format!("at most {MAX_PATTERNS} custom patterns are supported"),
            });
        }
        let mut patterns = Vec::with_capacity(list.len());
        for (i, p) in list.iter().enumerate() {
            let key = format!("detect.custom[{i}] (name {:?})", p.name);
            if p.name.trim().is_empty() {
                return Err(DetectError::Config {
                    key,
                    reason: "`name` is empty".into(),
                });
            }
            if list[..i].iter().any(|q| q.name == p.name) {
                return Err(DetectError::Config {
                    key,
                    reason: "another custom pattern has the same name".into(),
                });
            }
            let regex = Regex::new(&p.regex).map_err(|e| DetectError::Config {
                key: key.clone(),
                reason: format!("invalid `regex`: {}", regex_reason(&e)),
            })?;
            if regex.is_match("") {
                return Err(DetectError::Config {
                    key,
                    reason: "`regex` matches the empty string".into(),
                });
            }
            patterns.push(Compiled {
                name: p.name.clone(),
                regex,
                confidence: p.confidence,
                has_keywords: !p.keywords.is_empty(),
                check: p.check,
                kind: p.kind,
                index: i as u8,
            });
        }
        let set =
            RegexSet::new(list.iter().map(|p| &p.regex)).map_err(|e| DetectError::Config {
                key: "detect.custom".into(),
                reason: format!("cannot compile the patterns together: {}", regex_reason(&e)),
            })?;
        Ok(Some(CustomSet { set, patterns }))
    }

    /// Calls `f(pattern, span)` for every match (that passes its check) of every pattern.
    pub fn each_match(
        &self,
        text: &str,
        max_year: u32,
        mut f: impl FnMut(&Compiled, Range<usize>),
    ) {
        let matched = self.set.matches(text);
        if !matched.matched_any() {
            return;
        }
        for i in matched.iter() {
            let p = &self.patterns[i];
            for m in p.regex.find_iter(text) {
                if m.is_empty() {
                    continue;
                }
                if p.check.is_none_or(|c| check_ok(c, m.as_str(), max_year)) {
                    f(p, m.range());
                }
            }
        }
    }
}

/// Whether `s` passes `check`.
pub fn check_ok(check: Check, s: &str, max_year: u32) -> bool {
    let digits = || s.bytes().filter(u8::is_ascii_digit);
    let luhn_digits = |skip_century: bool| {
        let mut v: Vec<u32> = digits().map(|c| u32::from(c - b'0')).collect();
        if skip_century && v.len() == 12 {
            v.drain(..2);
        }
        v.len() >= 2 && luhn(v.into_iter())
    };
    let date = || {
        let mut d = [0u8; 8];
        let mut n = 0;
        for c in digits().take(8) {
            d[n] = c;
            n += 1;
        }
        if n == 8 && matches!(&d[..2], b"18" | b"19" | b"20") {
            // YYYYMMDD, a samordningsnummer's day + 60 allowed.
            date8_ok(&d, max_year) || samordning_date(&d, max_year)
        } else {
            n >= 6 && date6_ok(&d[..6], max_year)
        }
    };
    match check {
        Check::Luhn => luhn_digits(false),
        Check::LuhnAscii => {
            let chars: Vec<u8> = s
                .bytes()
                .filter(u8::is_ascii_alphanumeric)
                .map(|c| c.to_ascii_uppercase())
                .collect();
            chars.len() >= 2 && luhn_ascii(&chars)
        }
        Check::Date => date(),
        Check::DateLuhn => date() && luhn_digits(true),
    }
}

fn samordning_date(d: &[u8; 8], max_year: u32) -> bool {
    let n = |i: usize| u32::from(d[i] - b'0') * 10 + u32::from(d[i + 1] - b'0');
    let year = n(0) * 100 + n(2);
    let day = n(6);
    day > 60 && year <= max_year && date_exists(year, n(4), day - 60)
}

/// Why a regex was refused, without the pattern: the regex crate's message quotes the pattern
/// with a caret under the fault, and a pattern may be the very number it is meant to find. Its
/// last line (`error: unclosed group`) says what is wrong.
fn regex_reason(e: &regex::Error) -> String {
    match e {
        regex::Error::CompiledTooBig(limit) => {
            format!("the compiled pattern is larger than the limit of {limit} bytes")
        }
        _ => {
            let text = e.to_string();
            let last = text
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("");
            let why = last.trim().trim_start_matches("error:").trim();
            if why.is_empty() || text.lines().count() < 2 {
                "not a valid regular expression".to_string()
            } else {
                why.to_string()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(name: &str, regex: &str) -> CustomPattern {
        CustomPattern {
            name: name.into(),
            regex: regex.into(),
            confidence: Confidence::Medium,
            keywords: Vec::new(),
            check: None,
            kind: CustomKind::Custom,
        }
    }

    #[test]
    fn bad_regex_names_the_pattern() {
        let err = CustomSet::compile(&[pattern("ok", r"\d+"), pattern("trasig", r"(\d+")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("detect.custom[1]"), "{err}");
        assert!(err.contains("trasig"), "{err}");
        let err = CustomSet::compile(&[pattern("tom", r"\d*")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("empty string"), "{err}");
        let err = CustomSet::compile(&[pattern("a", "x"), pattern("a", "y")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("same name"), "{err}");
    }

    #[test]
    fn checks() {
        assert!(check_ok(Check::Luhn, "8612-08 2399", 2100));
        assert!(!check_ok(Check::Luhn, "8612082398", 2100));
        assert!(check_ok(Check::Date, "19861208XY12", 2100));
        assert!(check_ok(Check::Date, "861208-AB12", 2100));
        assert!(!check_ok(Check::Date, "19861308XY12", 2100));
        assert!(check_ok(Check::DateLuhn, "19861208-2399", 2100));
        assert!(check_ok(Check::LuhnAscii, "22950606-FH20", 2100));
        assert!(!check_ok(Check::LuhnAscii, "22950606-FH21", 2100));
    }
}
