//! A hand-written reader for the native event line, the one nearly every line takes.
//!
//! serde_json with the visitor of `de.rs` cost ~5,400 instructions a line (callgrind, 20 MB of
//! generator NDJSON): the visitor's calls for every key and value, `Option<Actor>` through the
//! derive, scratch buffers. This reader walks the line once, borrows every string without an
//! escape and builds the same [`Fields`] that the visitor builds, then the event with the
//! visitor's own [`build`].
//!
//! It reads only what it is sure of: the JSON grammar as serde_json accepts it, the fields the
//! visitor reads the way it reads them (the last of a repeated field wins, `null` is absent,
//! unknown fields are skipped). Whatever else it meets (an error of any kind, a value of the
//! wrong type, an unknown `type`, an observation's own fields, a surrogate escape, deep
//! nesting) it gives up on, and the line is read by serde as before: every diagnostic is the
//! one it was, and a line this reader takes gives the event serde gives (a proptest compares
//! the two on generated and mutated lines).

use std::borrow::Cow;

use serde::de::value::{Error as ValueError, StrDeserializer};
use serde::de::{DeserializeOwned, IntoDeserializer};

use super::Actor;
use super::de::{Fields, Type, build};

/// What [`read`] gives for a line it takes.
pub(crate) struct Fast<'a> {
    pub event: super::Event,
    /// No blank outside strings: the line is its own compact form, and its record key needs no
    /// scan for blanks ([`crate::sources::RecordKey::of_compact_json`]).
    pub compact: bool,
    /// A chat message's text, borrowed from the line, when [`read`] was asked to lend it and
    /// it has no escape: the event's own `text` is then empty.
    pub chat_text: Option<&'a str>,
}

/// The event of `line`, or `None` when the line is for serde to read. With `lend_chat_text`,
/// a chat message's text without an escape is not copied into the event but lent
/// ([`Fast::chat_text`]).
pub(crate) fn read(line: &str, lend_chat_text: bool) -> Option<Fast<'_>> {
    let mut p = Reader {
        s: line,
        b: line.as_bytes(),
        i: 0,
        blank: false,
    };
    let mut text = None;
    let mut fields = Fields::default();
    p.event(&mut fields, &mut text)?;
    p.ws();
    if p.i != p.b.len() {
        return None;
    }
    let mut chat_text = None;
    fields.text = match text {
        Some(Cow::Borrowed(t))
            if lend_chat_text && matches!(fields.ty, Some(Type::ChatMessage)) =>
        {
            chat_text = Some(t);
            Some(String::new())
        }
        t => t.map(Cow::into_owned),
    };
    let read = build::<ValueError>(fields).ok()?;
    if !read.findings.is_empty() || !read.signals.is_empty() || !read.context.is_empty() {
        return None;
    }
    Some(Fast {
        event: read.event,
        compact: !p.blank,
        chat_text,
    })
}

/// The deepest nesting of arrays and objects read here (serde_json's own limit is 128).
const MAX_DEPTH: u32 = 32;

struct Reader<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
    /// Whether a blank was skipped between tokens.
    blank: bool,
}

impl<'a> Reader<'a> {
    /// Skips JSON white space (the four blanks serde_json skips).
    #[inline]
    fn ws(&mut self) {
        while let Some(&c) = self.b.get(self.i) {
            if !matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                break;
            }
            self.i += 1;
            self.blank = true;
        }
    }

    /// The next byte after white space, not consumed.
    #[inline]
    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.b.get(self.i).copied()
    }

    #[inline]
    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    /// `lit` (`true`, `false`, `null`) at the current place.
    fn literal(&mut self, lit: &[u8]) -> Option<()> {
        self.b[self.i..]
            .starts_with(lit)
            .then(|| self.i += lit.len())
    }

    /// `null` (when next) read: the value is absent.
    fn null(&mut self) -> Option<bool> {
        if self.peek()? == b'n' {
            self.literal(b"null")?;
            return Some(true);
        }
        Some(false)
    }

    /// A string, borrowed when it has no escape.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        self.eat(b'"')?;
        let start = self.i;
        let mut j = self.plain_run(start)?;
        if self.b[j] == b'"' {
            self.i = j + 1;
            return Some(Cow::Borrowed(&self.s[start..j]));
        }
        let mut out = String::with_capacity(j - start + 16);
        out.push_str(&self.s[start..j]);
        loop {
            // At a backslash.
            let e = *self.b.get(j + 1)?;
            j += 2;
            match e {
                b'"' => out.push('"'),
                b'\\' => out.push('\\'),
                b'/' => out.push('/'),
                b'b' => out.push('\u{8}'),
                b'f' => out.push('\u{c}'),
                b'n' => out.push('\n'),
                b'r' => out.push('\r'),
                b't' => out.push('\t'),
                b'u' => {
                    let hi = self.hex4(j)?;
                    j += 4;
                    let c = match hi {
                        0xD800..=0xDBFF => {
                            // A pair: the low half must follow as an escape of its own.
                            if self.b.get(j..j + 2)? != b"\\u" {
                                return None;
                            }
                            let lo = self.hex4(j + 2)?;
                            if !(0xDC00..=0xDFFF).contains(&lo) {
                                return None;
                            }
                            j += 6;
                            0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                        }
                        0xDC00..=0xDFFF => return None,
                        c => c,
                    };
                    out.push(char::from_u32(c)?);
                }
                _ => return None,
            }
            let end = self.plain_run(j)?;
            out.push_str(&self.s[j..end]);
            j = end;
            if self.b[j] == b'"' {
                self.i = j + 1;
                return Some(Cow::Owned(out));
            }
        }
    }

    /// The end of the run of plain string bytes from `from`: the place of the next quote or
    /// backslash; `None` at the end of the line or at a control character (an error in JSON).
    /// Eight bytes at a time, as serde_json does (memchr's setup cost more than the search on
    /// strings this short).
    #[inline]
    fn plain_run(&self, from: usize) -> Option<usize> {
        const ONES: u64 = u64::from_ne_bytes([1; 8]);
        const HIGH: u64 = ONES << 7;
        let b = self.b;
        let mut i = from;
        while let Some(chunk) = b.get(i..i + 8) {
            let w = u64::from_le_bytes(chunk.try_into().ok()?);
            let quote = w ^ (ONES * u64::from(b'"'));
            let backslash = w ^ (ONES * u64::from(b'\\'));
            // The lowest byte flagged is the first quote, backslash or byte below 0x20 (the
            // subtraction's borrows only flag bytes above a true one).
            let found = (quote.wrapping_sub(ONES) & !quote)
                | (backslash.wrapping_sub(ONES) & !backslash)
                | (w.wrapping_sub(ONES * 0x20) & !w);
            let found = found & HIGH;
            if found != 0 {
                i += (found.trailing_zeros() / 8) as usize;
                return (b[i] >= 0x20).then_some(i);
            }
            i += 8;
        }
        while let Some(&c) = b.get(i) {
            match c {
                b'"' | b'\\' => return Some(i),
                0..0x20 => return None,
                _ => i += 1,
            }
        }
        None
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let h = self.b.get(at..at + 4)?;
        h.iter().try_fold(0u32, |n, &c| {
            let d = (c as char).to_digit(16)?;
            Some(n * 16 + d)
        })
    }

    fn opt_string(&mut self) -> Option<Option<String>> {
        Some(self.opt_str()?.map(Cow::into_owned))
    }

    /// [`Reader::opt_string`], borrowed when it has no escape.
    fn opt_str(&mut self) -> Option<Option<Cow<'a, str>>> {
        if self.null()? {
            return Some(None);
        }
        Some(Some(self.string()?))
    }

    fn opt_bool(&mut self) -> Option<Option<bool>> {
        match self.peek()? {
            b'n' => self.literal(b"null").map(|()| None),
            b't' => self.literal(b"true").map(|()| Some(true)),
            b'f' => self.literal(b"false").map(|()| Some(false)),
            _ => None,
        }
    }

    /// A string naming a unit variant of `T` (a platform, role, media...), read by `T`'s own
    /// derive from the string: the same names, without JSON.
    fn opt_word<T: DeserializeOwned>(&mut self) -> Option<Option<T>> {
        if self.null()? {
            return Some(None);
        }
        let s = self.string()?;
        let d: StrDeserializer<'_, ValueError> = (&*s).into_deserializer();
        T::deserialize(d).ok().map(Some)
    }

    fn opt_time(&mut self) -> Option<Option<jiff::Timestamp>> {
        if self.null()? {
            return Some(None);
        }
        let s = self.string()?;
        super::parse_event_time(&s).ok().map(Some)
    }

    fn opt_strings(&mut self) -> Option<Option<Vec<String>>> {
        if self.null()? {
            return Some(None);
        }
        let mut out = Vec::new();
        self.array(|p| {
            out.push(p.string()?.into_owned());
            Some(())
        })?;
        Some(Some(out))
    }

    /// Reads an array's elements, calling `element` to read each.
    fn array(&mut self, mut element: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.eat(b'[')?;
        if self.peek()? == b']' {
            self.i += 1;
            return Some(());
        }
        loop {
            element(self)?;
            match self.peek()? {
                b',' => self.i += 1,
                b']' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// Reads an object's members, calling `member` with each key (the reader then at its
    /// value, which `member` must read).
    fn object(&mut self, mut member: impl FnMut(&mut Self, &str) -> Option<()>) -> Option<()> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(());
        }
        loop {
            if self.peek()? != b'"' {
                return None;
            }
            let key = self.string()?;
            self.eat(b':')?;
            member(self, &key)?;
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// An actor as [`Actor`]'s derive reads it (from an object only: the derive's array form
    /// is left to serde); a repeated field is serde's error, so given up on.
    fn opt_actor(&mut self) -> Option<Option<Actor>> {
        if self.null()? {
            return Some(None);
        }
        let (mut id, mut name, mut kind, mut tenant) = (None, None, None, None);
        let mut seen = 0u8;
        self.object(|p, key| {
            let bit = match key {
                "id" => 1,
                "name" => 2,
                "kind" => 4,
                "tenant" => 8,
                _ => return p.skip(1),
            };
            if seen & bit != 0 {
                return None;
            }
            seen |= bit;
            match bit {
                1 => id = Some(p.string()?.into_owned()),
                2 => name = p.opt_string()?,
                4 => kind = p.opt_word()?,
                _ => tenant = p.opt_string()?,
            }
            Some(())
        })?;
        Some(Some(Actor {
            id: id?,
            name,
            kind,
            tenant,
        }))
    }

    /// Skips any JSON value, checked as serde_json checks one it ignores.
    fn skip(&mut self, depth: u32) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.peek()? {
            b'"' => self.string().map(drop),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => self.number(),
            b'{' => self.object(|p, _| p.skip(depth + 1)),
            b'[' => self.array(|p| p.skip(depth + 1)),
            _ => None,
        }
    }

    /// A number: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    fn number(&mut self) -> Option<()> {
        let b = self.b;
        let mut i = self.i;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        let digits = |i: &mut usize| {
            let from = *i;
            while b.get(*i).is_some_and(u8::is_ascii_digit) {
                *i += 1;
            }
            *i > from
        };
        match b.get(i)? {
            b'0' => i += 1,
            b'1'..=b'9' => {
                digits(&mut i);
            }
            _ => return None,
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            if !digits(&mut i) {
                return None;
            }
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            if !digits(&mut i) {
                return None;
            }
        }
        // A digit right after a leading zero (`01`) is serde_json's error.
        if b.get(i).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        self.i = i;
        Some(())
    }

    /// The event object, read into the visitor's [`Fields`], but for `text`, which is left
    /// borrowed in `text` (the caller decides whether to copy it).
    fn event(&mut self, f: &mut Fields, text: &mut Option<Cow<'a, str>>) -> Option<()> {
        self.object(|p, key| {
            match key {
                "time" => f.time = p.opt_time()?,
                "platform" => f.platform = p.opt_word()?,
                "meeting" => f.meeting = p.opt_string()?,
                "actor" => f.actor = p.opt_actor()?,
                "type" => f.ty = p.opt_word::<Type>()?,
                "subject" => f.subject = p.opt_string()?,
                "organizer" => f.organizer = p.opt_actor()?,
                "aliases" => f.aliases = p.opt_strings()?,
                "reason" => f.reason = p.opt_word()?,
                "role" => f.role = p.opt_word()?,
                "via_lobby" => f.via_lobby = p.opt_bool()?,
                "target" => f.target = p.opt_actor()?,
                "media" => f.media = p.opt_word()?,
                "started" => f.started = p.opt_time()?,
                "ended" => f.ended = p.opt_time()?,
                "presenting" => f.presenting = p.opt_bool()?,
                "streaming" => f.streaming = p.opt_bool()?,
                "waiting" => f.waiting = p.opt_bool()?,
                "scope" => f.scope = p.opt_word()?,
                "text" => *text = p.opt_str()?,
                "message_id" => f.message_id = p.opt_string()?,
                "name" => f.name = p.opt_string()?,
                "body" => f.body = p.opt_string()?,
                // An observation's own fields: serde's to read.
                "findings" | "signals" | "context" => return None,
                _ => p.skip(1)?,
            }
            Some(())
        })?;
        // An unknown type is the careful path's to count.
        if matches!(f.ty, Some(Type::Unknown)) {
            return None;
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::{
        EVENT_TYPES, EventKind, Parsed, parse_line_compact, parse_line_lending, parse_line_serde,
    };
    use crate::sources::RecordKey;

    /// Values for each key, well and badly formed: escapes, Unicode, `null`, wrong types.
    fn values(key: &str) -> Vec<String> {
        let q = |s: &str| format!("\"{s}\"");
        let strings = vec![
            q("m-1"),
            q(""),
            q("räksmörgås ✓ 😀"),
            q(r#"a\"b\\c\/d\b\f\n\r\t"#),
            q(r"\u00e5\u00C5\u0000x"),
            q(r"\ud83d\ude00 pair"),
            q(r"\ud83d lone"),
            q(r"\ude00 lone low"),
            q(r"\ud83d\u0041 bad pair"),
            q(r"\x bad escape"),
            q(r"\u12 short"),
            "null".into(),
            "5".into(),
            "[]".into(),
            "\"tab\there\"".into(),
            "nul".into(),
        ];
        let actor = vec![
            r#"{"id":"a@x.se"}"#.into(),
            r#"{"id":"a","name":"Å \"B\"","kind":"guest","tenant":"t"}"#.into(),
            r#"{"name":null,"kind":null,"tenant":null,"id":"z"}"#.into(),
            r#"{"id":"a","extra":[1,{"y":-0.5e3,"z":[true,false,null]}]}"#.into(),
            r#"{"name":"no id"}"#.into(),
            r#"{"id":"a","id":"b"}"#.into(),
            r#"{"id":"a","kind":"boss"}"#.into(),
            r#"{"id":null}"#.into(),
            r#"{"i\u0064":"escaped key"}"#.into(),
            r#"["a"]"#.into(),
            r#"{}"#.into(),
            r#"{"id":"a",}"#.into(),
            "null".into(),
            "\"a\"".into(),
        ];
        let time = vec![
            q("2024-05-02T08:20:00Z"),
            q("2024-05-02T10:20:00.123+02:00"),
            q(r"2024-05-02T08:20:00\u005a"),
            q("1969-07-20T20:17:00Z"),
            q("2024-05-02 08:20"),
            q("2024-05-02T08:20:00+25:00"),
            "null".into(),
            "17".into(),
        ];
        let word = |ws: &[&str]| -> Vec<String> {
            let mut v: Vec<String> = ws.iter().map(|w| q(w)).collect();
            v.extend([
                "null".into(),
                q("Other"),
                "{\"video\":null}".into(),
                "true".into(),
            ]);
            v
        };
        let bools = vec![
            "true".into(),
            "false".into(),
            "null".into(),
            "\"true\"".into(),
            "0".into(),
        ];
        let skipped = vec![
            "1".into(),
            "-0".into(),
            "0.5e-3".into(),
            "1E+9".into(),
            "01".into(),
            "1.".into(),
            "-".into(),
            ".5".into(),
            "[1,]".into(),
            "[1 2]".into(),
            r#"{"a":[[[]]],"b":{}}"#.into(),
            r#"{"a" 1}"#.into(),
            "tru".into(),
            "\"\\q\"".into(),
            "[".repeat(40) + &"]".repeat(40),
            "[\"x\",{\"k\":\"v\"}]".into(),
        ];
        match key {
            "time" | "started" | "ended" => time,
            "platform" => word(&[
                "teams",
                "pexip",
                "zoom",
                "webex",
                "skype",
                "other",
                r"te\u0061ms",
            ]),
            "type" => {
                let mut v: Vec<String> = EVENT_TYPES.iter().map(|t| q(t)).collect();
                v.extend([
                    q("wave"),
                    q(r"chat_m\u0065ssage"),
                    "null".into(),
                    "3".into(),
                ]);
                v
            }
            "actor" | "organizer" | "target" => actor,
            "aliases" => vec![
                r#"["19:x","å"]"#.into(),
                "[]".into(),
                "[null]".into(),
                r#"["a",]"#.into(),
                "null".into(),
                "\"a\"".into(),
            ],
            "reason" => word(&["ended_by_host", "last_left", "timeout", "unknown"]),
            "role" => word(&["organizer", "chair", "presenter", "attendee", "guest"]),
            "media" => word(&["video", "audio"]),
            "scope" => word(&["desktop", "application", "document", "whiteboard"]),
            "via_lobby" | "presenting" | "streaming" | "waiting" => bools,
            "findings" | "signals" | "context" => vec!["[]".into(), "{}".into(), "null".into()],
            "meeting" | "subject" | "text" | "message_id" | "name" | "body" => strings,
            _ => skipped,
        }
    }

    const KEYS: &[&str] = &[
        "time",
        "platform",
        "meeting",
        "actor",
        "type",
        "subject",
        "organizer",
        "aliases",
        "reason",
        "role",
        "via_lobby",
        "target",
        "media",
        "started",
        "ended",
        "presenting",
        "streaming",
        "waiting",
        "scope",
        "text",
        "message_id",
        "name",
        "body",
        "findings",
        "signals",
        "context",
        "extra",
        "t\\u0069me",
        "",
    ];

    /// A line of members from `keys` (the common ones first, each picked value by index),
    /// with the blanks picked put between tokens.
    fn line(common: &[usize], members: &[(usize, usize)], blanks: &[usize], tail: usize) -> String {
        let blank = |i: usize| [" ", "", "", "", "\t", "\r\n", "  "][blanks[i % blanks.len()] % 7];
        let mut picked: Vec<(&str, String)> = ["time", "platform", "meeting", "actor", "type"]
            .iter()
            .zip(common)
            .map(|(k, &v)| {
                let vs = values(k);
                // Mostly the first (well-formed) values.
                (*k, vs[v % 4 % vs.len()].clone())
            })
            .collect();
        for &(k, v) in members {
            let key = KEYS[k % KEYS.len()];
            let vs = values(key);
            picked.push((key, vs[v % vs.len()].clone()));
        }
        let mut out = String::new();
        out.push_str(blank(0));
        out.push('{');
        for (i, (k, v)) in picked.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(blank(i * 3 + 1));
            out.push_str(&format!("\"{k}\""));
            out.push_str(blank(i * 3 + 2));
            out.push(':');
            out.push_str(blank(i * 3 + 3));
            out.push_str(v);
        }
        out.push('}');
        out.push_str(["", "", " ", "x", ",", "}", "\t"][tail % 7]);
        out
    }

    /// The hand-written reader and serde agree on `line`: an event it takes is serde's, with
    /// the same record key; any other line goes to serde.
    fn agree(line: &str) -> Result<(), TestCaseError> {
        let (fast, compact) = parse_line_compact(line);
        let serde = parse_line_serde(line);
        match (&fast, &serde) {
            (Ok(Parsed::Event(a)), Ok(Parsed::Event(b))) => prop_assert_eq!(a, b, "{}", line),
            (Ok(Parsed::UnknownType(a)), Ok(Parsed::UnknownType(b))) => prop_assert_eq!(a, b),
            (Err(a), Err(b)) => prop_assert_eq!(a, b),
            _ => prop_assert!(false, "{line}: {fast:?} against {serde:?}"),
        }
        if compact {
            prop_assert_eq!(
                RecordKey::of_compact_json("native", line.as_bytes()),
                RecordKey::of_json("native", line.as_bytes())
            );
        }
        // Lending a chat text changes nothing but where the text is: put back, it is the
        // event read without lending.
        let (lent, lent_compact, text) = parse_line_lending(line);
        prop_assert_eq!(lent_compact, compact);
        match (lent, &fast) {
            (Ok(Parsed::Event(mut a)), Ok(Parsed::Event(b))) => {
                if let Some(t) = text {
                    match &mut a.kind {
                        EventKind::ChatMessage { text, .. } => {
                            prop_assert!(text.is_empty());
                            *text = t.to_string();
                        }
                        other => prop_assert!(false, "{line}: lent a text of {other:?}"),
                    }
                }
                prop_assert_eq!(&a, b, "{}", line);
            }
            (Ok(Parsed::UnknownType(a)), Ok(Parsed::UnknownType(b))) => prop_assert_eq!(&a, b),
            (Err(a), Err(b)) => {
                prop_assert!(text.is_none());
                prop_assert_eq!(&a, b);
            }
            (a, _) => prop_assert!(false, "{line}: {a:?} against {fast:?}"),
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        #[test]
        fn the_reader_agrees_with_serde_on_generated_lines(
            common in proptest::collection::vec(0usize..100, 5),
            members in proptest::collection::vec((0usize..100, 0usize..100), 0..6),
            blanks in proptest::collection::vec(0usize..100, 1..8),
            tail in 0usize..100,
        ) {
            agree(&line(&common, &members, &blanks, tail))?;
        }

        #[test]
        fn the_reader_agrees_with_serde_on_mutated_lines(
            common in proptest::collection::vec(0usize..100, 5),
            members in proptest::collection::vec((0usize..100, 0usize..100), 0..4),
            edits in proptest::collection::vec((0usize..10_000, 0usize..3, any::<char>(), 0usize..12), 1..4),
        ) {
            let mut s = line(&common, &members, &[1], 0);
            for (at, op, c, pick) in edits {
                let c = if pick < 11 { "{}[]\",:\\ u0"[pick..].chars().next().unwrap_or(c) } else { c };
                let Some((at, _)) = s.char_indices().nth(at % s.chars().count().max(1)) else {
                    continue;
                };
                match op {
                    0 => { s.remove(at); }
                    1 => s.insert(at, c),
                    _ => { s.remove(at); s.insert(at, c); }
                }
            }
            agree(&s)?;
        }
    }

    #[test]
    fn the_reader_takes_well_formed_lines_and_reads_them_as_serde_does() {
        let taken = [
            r#"{"time":"2024-05-02T08:20:00Z","platform":"teams","meeting":"m","type":"chat_message","actor":{"id":"a","name":"Å"},"text":"hej \"du\"\n\u00e5 \ud83d\ude00","message_id":"1"}"#,
            r#" { "type" : "participant_joined" , "actor":{"id":"a"},"time":"2024-05-02T08:20:00+02:00","platform":"zoom","meeting":"m","role":"chair","via_lobby":null,"x":[1,{"y":-2.5e3}]} "#,
            r#"{"time":"2024-05-02T08:20:00Z","platform":"teams","meeting":"m","type":"meeting_started","actor":{"id":"a","more":{}},"subject":"s","subject":null,"aliases":["19:x"]}"#,
        ];
        for line in taken {
            assert!(super::read(line, false).is_some(), "{line}");
            agree(line).unwrap();
        }
        assert!(super::read(taken[0], false).unwrap().compact);
        // A chat text with an escape is copied; one without is lent.
        assert_eq!(super::read(taken[0], true).unwrap().chat_text, None);
        let plain = r#"{"time":"2024-05-02T08:20:00Z","platform":"teams","meeting":"m","type":"chat_message","actor":{"id":"a"},"text":"hej du"}"#;
        let lent = super::read(plain, true).unwrap();
        assert_eq!(lent.chat_text, Some("hej du"));
        assert!(
            matches!(&lent.event.kind, super::super::EventKind::ChatMessage { text, .. } if text.is_empty())
        );
        assert_eq!(super::read(plain, false).unwrap().chat_text, None);
        assert!(!super::read(taken[1], false).unwrap().compact);
        // Left to serde: an unknown type, a broken line, an observation's fields, a lone
        // surrogate, an actor as an array.
        for line in [
            r#"{"time":"2024-05-02T08:20:00Z","platform":"teams","meeting":"m","type":"wave","actor":{"id":"a"}}"#,
            r#"{"time":"2024-05-02T08:20:00Z","platform":"teams","meeting":"m","type":"participant_left","actor":{"id":"a"}"#,
            r#"{"time":"2024-05-02T08:20:00Z","platform":"teams","meeting":"m","type":"participant_left","actor":{"id":"a"},"signals":[]}"#,
            r#"{"time":"2024-05-02T08:20:00Z","platform":"teams","meeting":"\ud800","type":"participant_left","actor":{"id":"a"}}"#,
            r#"{"time":"2024-05-02T08:20:00Z","platform":"teams","meeting":"m","type":"participant_left","actor":["a"]}"#,
        ] {
            assert!(super::read(line, false).is_none(), "{line}");
            agree(line).unwrap();
        }
    }

    #[test]
    fn the_reader_takes_every_sample_line_serde_reads() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut stack = vec![root.join("examples"), root.join("tests/fixtures")];
        let (mut taken, mut events) = (0, 0);
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                    continue;
                }
                if !p.to_string_lossy().ends_with("ndjson") {
                    continue;
                }
                for line in std::fs::read_to_string(&p).unwrap_or_default().lines() {
                    agree(line).unwrap();
                    if matches!(parse_line_serde(line), Ok(Parsed::Event(_))) {
                        events += 1;
                        taken += usize::from(super::read(line, false).is_some());
                    }
                }
            }
        }
        assert!(events > 50, "only {events} events");
        assert_eq!(
            taken, events,
            "every event line of the samples is read by hand"
        );
    }
}
