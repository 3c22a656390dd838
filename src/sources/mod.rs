//! Platform adapters: each reads one platform's export or webhook format and maps its records
//! onto [`crate::event::Event`].
//!
//! An adapter is handed a buffered reader over one file and calls back once per record with an
//! [`Item`]: an event, a record it understood but maps to nothing (counted, so nobody is blind to
//! what was skipped), or a record it could not read (reported as `FILE:LINE: reason`). Adapters
//! stream: they hold at most one record in memory.

pub mod lines;
pub mod native;

use std::io::{self, BufRead};

use crate::event::Event;

/// What one record of an input file turned into.
#[derive(Debug)]
pub enum Item {
    /// A mapped meeting event.
    Event(Box<Event>),
    /// A well-formed record that maps to no event (an unknown `type`, an operation that is not
    /// about meetings). The text says what it was, e.g. `type hand_raised`; it must never hold
    /// free text from the record.
    Unmapped(String),
    /// A record that could not be read. The reason must never quote free text from the record.
    Rejected(String),
}

/// Where in the file a record was: the line (or CSV row) it starts on, from 1.
pub type Line = u64;

/// A reader of one input format.
pub trait Adapter {
    /// Reads every record from `input`, calling `emit` for each. An `Err` is an I/O error that
    /// stops this file; bad records are reported through `emit` as [`Item::Rejected`] instead.
    fn read(&mut self, input: &mut dyn BufRead, emit: &mut dyn FnMut(Line, Item)) -> io::Result<()>;
}

/// Settings the adapters need to classify participants and map records. Read from the
/// top-level configuration keys of the same names (see `config/motesvakt.toml`).
#[derive(Debug, Clone, Default)]
pub struct SourceSettings {
    /// The organisation's own e-mail domains (subdomains included).
    pub internal_domains: Vec<String>,
}

/// The input formats motesvakt reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    /// motesvakt NDJSON, the native event format (`docs/event-format.md`).
    Native,
}

impl Format {
    /// Every format, for `--format` help and summaries.
    pub const ALL: &'static [Format] = &[Format::Native];

    /// The format's name in `--format`, config and summaries.
    pub fn name(self) -> &'static str {
        match self {
            Format::Native => "native",
        }
    }

    /// Parses a name as written in `--format` or config.
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.iter().copied().find(|f| f.name() == name)
    }

    /// Decides the format of a file from its first bytes (up to 64 KiB), not from its name.
    /// `None` means the content matches no known format.
    pub fn sniff(head: &[u8]) -> Option<Format> {
        if native::looks_native(head) {
            return Some(Format::Native);
        }
        None
    }

    /// A fresh adapter for this format.
    pub fn adapter(self, _settings: &SourceSettings) -> Box<dyn Adapter> {
        match self {
            Format::Native => Box::new(native::Native),
        }
    }
}
