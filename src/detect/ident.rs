//! Where identity numbers hide in identifiers and names: meeting and room ids, aliases, message
//! ids, actor ids and display names.
//!
//! Unlike [`super::scanner`], which judges a chat text by its context (a number glued to
//! letters or after `+` is part of something longer, a phone keyword lowers it), this pass
//! asks only whether the digits pass the date and check-digit test, in any written form: glued
//! to letters (`vmr.198612082399`, `x8612082399y`), after `+`, inside a longer digit run, with
//! `-`, `+`, a space (or what word processors put in their place) or nothing between date and
//! serial, 10 or 12 digits; and interim and reserve numbers with a check (interim, national,
//! VGR, Värmland, Region Stockholm, Inera Carelink). It does not depend on `[detect.formats]`:
//! switching a format off for detection does not switch it off here. The formats without a
//! check (Örebro, unknown reserve formats) are taken only where the ordinary scanner would take
//! them (see [`super::Detector::redact`]).
//!
//! The spans it reports may overlap; the caller merges them. Linear in the text: each digit
//! run is looked at once, with a fixed number of windows per digit.

use std::ops::Range;

use super::personnummer;
use super::reserve::{self, Enabled};
use super::scanner::{Sep, separator_at};

/// Reserve formats that have a check or a structure strict enough to look for anywhere.
const CHECKED: Enabled = Enabled {
    orebro: false,
    unknown: false,
    ..Enabled::ALL
};

/// The shortest run of ASCII digits every identity, interim or reserve number has (its date,
/// `YYMMDD`): a text without one needs no look.
pub const MIN_RUN: usize = 6;

/// True when `b` has a run of at least `n` ASCII digits (one pass, stops at the first).
pub fn has_run(b: &[u8], n: usize) -> bool {
    let mut i = 0;
    while let Some(start) = super::bytes::next_digit(b, i) {
        let mut end = start + 1;
        while end < b.len() && b[end].is_ascii_digit() {
            end += 1;
        }
        if end - start >= n.max(1) {
            return true;
        }
        i = end;
    }
    false
}

/// Calls `emit` with the byte span of every identity, interim or checked reserve number in
/// `b`, in any written form, whatever is around it.
pub fn spans(b: &[u8], emit: &mut dyn FnMut(Range<usize>)) {
    let n = b.len();
    let mut i = 0;
    while i < n {
        let Some(start) = super::bytes::next_digit(b, i) else {
            return;
        };
        let mut end = start;
        while end < n && b[end].is_ascii_digit() {
            end += 1;
        }
        in_run(b, start, end, emit);
        after_run(b, start, end, emit);
        i = end;
    }
}

/// Numbers written without a separator anywhere inside the digit run `start..end`: every ten-
/// and twelve-digit window.
fn in_run(b: &[u8], start: usize, end: usize, emit: &mut dyn FnMut(Range<usize>)) {
    if end - start < 10 {
        return;
    }
    let mut v = [0u8; 12];
    for s in start..=end - 10 {
        for (d, &c) in v.iter_mut().zip(&b[s..s + 10]) {
            *d = c - b'0';
        }
        let ten: &[u8; 10] = v[..10].try_into().unwrap_or(&[0; 10]);
        if ten_ok(ten) {
            emit(s..s + 10);
        }
        if s + 12 <= end {
            let d12: &[u8; 12] = b[s..s + 12].try_into().unwrap_or(&[0; 12]);
            let mut v12 = [0u8; 12];
            for (d, &c) in v12.iter_mut().zip(d12) {
                *d = c - b'0';
            }
            if personnummer::validate_12(&v12).is_some()
                || reserve::digits12(d12, &CHECKED, u32::MAX).is_some()
            {
                emit(s..s + 12);
            }
        }
    }
}

/// A personnummer or samordningsnummer's ten digits, in any century (digit values).
fn ten_ok(d: &[u8; 10]) -> bool {
    personnummer::validate_10(d, false).is_some() || personnummer::validate_10(d, true).is_some()
}

/// Numbers whose date ends the digit run `start..end` and whose serial follows a separator, or
/// whose last four characters hold a letter (interim and reserve numbers).
fn after_run(b: &[u8], start: usize, end: usize, emit: &mut dyn FnMut(Range<usize>)) {
    let len = end - start;
    if len < 6 {
        return;
    }
    // Date, separator, four digits: the date is the run's last six or eight digits.
    if let Some((sep, sep_len)) = separator_at(b, end) {
        let from = end + sep_len;
        if let Some(serial) = b
            .get(from..from + 4)
            .filter(|s| s.iter().all(u8::is_ascii_digit))
        {
            let mut d = [0u8; 10];
            for (x, &c) in d.iter_mut().zip(b[end - 6..end].iter().chain(serial)) {
                *x = c - b'0';
            }
            let valid = match sep {
                Sep::Plus => personnummer::validate_10(&d, true).is_some(),
                _ => ten_ok(&d),
            };
            if valid {
                let date_start = if len >= 8 { end - 8 } else { end - 6 };
                emit(date_start..from + 4);
            }
        }
    }
    // Date, optional dash, four characters with a letter.
    let tail_start = if b.get(end) == Some(&b'-') {
        end + 1
    } else {
        end
    };
    let Some(tail) = b.get(tail_start..tail_start + 4) else {
        return;
    };
    let Ok(tail) = <&[u8; 4]>::try_from(tail) else {
        return;
    };
    if !tail.iter().all(u8::is_ascii_alphanumeric) || !tail.iter().any(u8::is_ascii_alphabetic) {
        return;
    }
    let stop = tail_start + 4;
    if reserve::short_with_letter(&b[end - 6..end], tail, &CHECKED, u32::MAX).is_some() {
        emit(end - 6..stop);
    }
    if len >= 8 && reserve::long_with_letter(&b[end - 8..end], tail, &CHECKED, u32::MAX).is_some() {
        emit(end - 8..stop);
    }
}

/// Merges overlapping or touching spans, in place, sorted.
pub fn merge(spans: &mut Vec<Range<usize>>) {
    spans.sort_by_key(|s| s.start);
    let mut out: Vec<Range<usize>> = Vec::with_capacity(spans.len());
    for s in spans.drain(..) {
        match out.last_mut() {
            Some(last) if s.start <= last.end => last.end = last.end.max(s.end),
            _ => out.push(s),
        }
    }
    *spans = out;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<Range<usize>> {
        let mut v = Vec::new();
        spans(text.as_bytes(), &mut |s| v.push(s));
        merge(&mut v);
        v
    }

    #[test]
    fn any_written_form_is_found() {
        // Skatteverket's test numbers 19861208-2399 and the samordningsnummer 701063-2391.
        for (text, span) in [
            ("vmr.198612082399", 4..16),
            ("x8612082399y", 1..11),
            ("+468612082399", 3..13),
            ("tel8612082399", 3..13),
            ("order:19861208-2399/1", 6..19),
            ("861208+2399", 0..11),
            ("861208 2399", 0..11),
            ("861208\u{2013}2399", 0..13),
            ("a7010632391b", 1..11),
            ("86120823991234", 0..10),
            ("res000101-T220x", 3..14),
        ] {
            assert_eq!(found(text), vec![span], "{}", text.len());
        }
    }

    #[test]
    fn other_numbers_are_left() {
        for text in [
            "8612082398",
            "123456789012",
            "20240611T143000",
            "1714637200000",
            "19:meeting_NjA5ZGI@thread.v2",
            "861208-239",
        ] {
            assert!(found(text).is_empty(), "{}", text.len());
        }
    }

    #[test]
    fn overlapping_spans_merge() {
        let mut v = vec![5..9, 0..3, 2..6, 10..12];
        merge(&mut v);
        assert_eq!(v, [0..9, 10..12]);
    }
}
