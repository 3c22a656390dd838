//! motesvakt NDJSON: one [`Event`](crate::event::Event) per line, as documented in
//! `docs/event-format.md`.

use std::io::{self, BufRead};

use super::lines::{Line, LineReader, MAX_LINE};
use super::{Adapter, Flow, Identity, Item, Record, RecordKey};
use crate::event::{self, Parsed};

/// The family name in record keys: a native line's key is the hash of its JSON without blanks.
pub const KEY_FAMILY: &str = "native";

/// The native NDJSON adapter.
pub struct Native;

impl Adapter for Native {
    fn read(
        &self,
        input: &mut dyn BufRead,
        emit: &mut dyn FnMut(Record<'_>) -> Flow,
    ) -> io::Result<()> {
        read_lines(LineReader::new(), input, false, emit)
    }

    fn read_lines(
        &self,
        input: &mut dyn BufRead,
        emit: &mut dyn FnMut(Record<'_>) -> Flow,
    ) -> io::Result<()> {
        read_lines(LineReader::continuing(), input, false, emit)
    }

    fn read_lines_lending(
        &self,
        input: &mut dyn BufRead,
        emit: &mut dyn FnMut(Record<'_>) -> Flow,
    ) -> io::Result<()> {
        read_lines(LineReader::continuing(), input, true, emit)
    }
}

/// Reads `input` line by line; with `lend`, a chat message's text is lent in
/// [`Record::chat_text`] instead of copied ([`event::parse_line_lending`]).
fn read_lines(
    mut lines: LineReader,
    input: &mut dyn BufRead,
    lend: bool,
    emit: &mut dyn FnMut(Record<'_>) -> Flow,
) -> io::Result<()> {
    while let Some((pos, line)) = lines.next(input)? {
        let mut chat_text = None;
        let (identity, item) = match line {
            Line::TooLong => (
                Identity::Key(RecordKey::new(KEY_FAMILY, &[&pos.start.to_le_bytes()])),
                Item::Rejected(format!("line longer than {MAX_LINE} bytes")),
            ),
            Line::Text(bytes) if bytes.trim_ascii().is_empty() => continue,
            Line::Text(bytes) => match std::str::from_utf8(bytes) {
                Err(e) => (
                    identity(bytes, false),
                    Item::Rejected(format!(
                        "not valid UTF-8 (bad byte at column {})",
                        e.valid_up_to() + 1
                    )),
                ),
                Ok(text) => {
                    let (parsed, compact) = if lend {
                        let (parsed, compact, lent) = event::parse_line_lending(text);
                        chat_text = lent;
                        (parsed, compact)
                    } else {
                        event::parse_line_compact(text)
                    };
                    let item = match parsed {
                        Ok(Parsed::Event(e)) => Item::Event(e),
                        Ok(Parsed::UnknownType(t)) => {
                            Item::Unmapped(format!("type {}", safe_word(&t)))
                        }
                        Err(e) => Item::Rejected(e.to_string()),
                    };
                    (identity(bytes, compact), item)
                }
            },
        };
        let mut record = Record::one(pos, identity, item);
        record.chat_text = chat_text;
        if emit(record).is_break() {
            break;
        }
    }
    Ok(())
}

/// A line's identity: its JSON, hashed as it is when it is known to have no blanks outside
/// strings ([`event::parse_line_compact`]), else without them.
fn identity(json: &[u8], compact: bool) -> Identity<'_> {
    if compact {
        Identity::CompactJson {
            family: KEY_FAMILY,
            json,
        }
    } else {
        Identity::Json {
            family: KEY_FAMILY,
            json,
        }
    }
}

/// An unknown type name is shown in the summary; keep it only if it looks like a type name.
fn safe_word(t: &str) -> &str {
    if t.len() <= 40
        && t.bytes()
            .all(|b| b.is_ascii_alphabetic() || b == b'_' || b == b'.')
    {
        t
    } else {
        "(unprintable)"
    }
}

/// True when the first non-blank line of `head` is a JSON object with the native fields.
pub fn looks_native(head: &[u8]) -> bool {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let Some(first) = head
        .split(|&b| b == b'\n')
        .map(<[u8]>::trim_ascii)
        .find(|l| !l.is_empty())
    else {
        return false;
    };
    if !first.starts_with(b"{") {
        return false;
    }
    // Look for the native keys without parsing (the line may be cut at the end of `head`).
    let has = |key: &[u8]| memchr::memmem::find(first, key).is_some();
    has(b"\"platform\"") && has(b"\"meeting\"") && has(b"\"type\"") && has(b"\"time\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(data: &str) -> Vec<(u64, String)> {
        let mut out = Vec::new();
        Native
            .read(&mut data.as_bytes(), &mut |rec| {
                let line = rec.pos.line;
                let item = rec.items.into_iter().next().unwrap();
                out.push((
                    line,
                    match item {
                        Item::Event(e) => format!("event {}", e.kind.type_name()),
                        Item::Unmapped(w) => format!("unmapped {w}"),
                        Item::UnmappedField(w) => format!("unmapped field {w}"),
                        Item::Rejected(r) => format!("rejected {r}"),
                        Item::Tenant { id, .. } => format!("tenant {id}"),
                    },
                ));
                Flow::Continue(())
            })
            .unwrap();
        out
    }

    #[test]
    fn reads_events_and_reports_bad_lines_by_number() {
        let data = concat!(
            r#"{"time":"2024-05-02T08:00:00Z","platform":"teams","meeting":"m","type":"participant_left","actor":{"id":"a"}}"#,
            "\n\n{oops\n",
            r#"{"time":"2024-05-02T08:00:00Z","platform":"teams","meeting":"m","type":"wave","actor":{"id":"a"}}"#,
            "\n",
        );
        let got = read(data);
        assert_eq!(got[0], (1, "event participant_left".to_string()));
        assert_eq!(got[1].0, 3);
        assert!(
            got[1].1.starts_with("rejected not valid JSON"),
            "{:?}",
            got[1]
        );
        assert_eq!(got[2], (4, "unmapped type wave".to_string()));
    }

    #[test]
    fn sniffs_native_by_content() {
        assert!(looks_native(
            b"\n{\"time\":\"x\",\"platform\":\"teams\",\"meeting\":\"m\",\"type\":\"t\""
        ));
        assert!(!looks_native(b"RecordId,CreationDate,RecordType"));
        assert!(!looks_native(b"{\"event\":\"meeting.started\"}"));
    }
}
