//! Platform adapters: each reads one platform's export or webhook format and maps its records
//! onto [`crate::event::Event`].
//!
//! An adapter is handed a buffered reader over one file and calls back once per record with a
//! [`Record`]: where the record was in the file ([`Position`]: line, first and last byte), its
//! identity ([`RecordKey`]: the platform's own record id where it has one, else a hash of the
//! normalised record) and what it turned into ([`Item`]s): events, a record it understood but
//! maps to nothing (counted, so nobody is blind to what was skipped), or a record it could not
//! read (reported as `FILE:LINE: reason`). The callback can stop the read at once by returning
//! [`ControlFlow::Break`] (a store error, a shutdown).
//!
//! Adapters are stateless: `read` takes `&self`, and each record is mapped on its own. Pairing
//! that needs more than one record (a Pexip participant's flags from one update to the next, a
//! Zoom recording reported live and again when its files are saved, a Graph recording's start
//! and end) is left to the meeting state ([`crate::meeting`]), which sees a meeting's events in
//! time order whatever files and batches they came in. Deduplication is done by the store on the
//! record key. So a file read from an offset in the middle gives the same events as the same
//! records read from the start.
//!
//! One record may give several items (a Teams `MeetingParticipantDetail` is a join and a
//! leave); they share the record's position and key.
//!
//! Formats, their field mappings and the coverage matrix are documented in `docs/platforms.md`.

pub mod coverage;
pub(crate) mod csv_rows;
pub(crate) mod json;
pub(crate) mod lines;
pub mod native;
pub(crate) mod net;
pub mod pexip;
pub mod teams_audit;
pub mod teams_graph;
pub(crate) mod teams_map;
pub(crate) mod util;
pub(crate) mod value;
pub mod webex;
pub mod zoom;

use std::fmt;
use std::io::{self, BufRead};
use std::ops::ControlFlow;

use sha2::{Digest, Sha256};

use crate::event::{Event, Platform};
pub use json::{JsonRecords, RawRecord, Run};
pub use net::{Cidr, CidrError};
pub use teams_map::TeamsMapping;

/// What a record of an input file turned into.
#[derive(Debug)]
pub enum Item {
    /// A mapped meeting event.
    Event(Box<Event>),
    /// A well-formed record that maps to no event (an unknown `type`, an operation that is not
    /// about meetings). The text says what it was, e.g. `type hand_raised`, `operation
    /// TeamsSessionStarted`; it must never hold free text from the record.
    Unmapped(String),
    /// A field of a mapped record that the mapping does not know, e.g.
    /// `MeetingParticipantDetail.ScreenSharingDetails`: the record was mapped, but this part of
    /// it was not looked at. Counted per field name so that new fields a platform adds are seen.
    UnmappedField(String),
    /// A record that could not be read. The reason must never quote free text from the record.
    Rejected(String),
    /// A Microsoft 365 tenant a Teams record names while `tenant_ids` is not set, so that
    /// nothing classifies its users (a GUID, checked by [`util::tenant_guid`]; never other
    /// text). `own` when it is the audit record's own `OrganizationId`: the tenant the export
    /// was made in, the organisation's. Counted for the scan summary's hint, nothing else.
    Tenant { id: String, own: bool },
}

/// Where a record was in its file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Position {
    /// The line the record starts on (a CSV row: its first line), from 1.
    pub line: u64,
    /// The byte offset of the record's first byte.
    pub start: u64,
    /// The byte offset just after the record (after its line end, for line-based formats): a
    /// reader that resumes here starts at the next record.
    pub end: u64,
}

/// The identity of a source record: the platform's own record id where it has one (a Teams
/// audit `Id`, a Webex event id, a Graph message id and version), else a hash of the normalised
/// record (JSON without blanks outside strings). SHA-256 over the format family and the parts,
/// cut to 128 bits: the same record read again, from another file, in another batch or after a
/// configuration change, has the same key; a platform id never reaches the store in clear.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordKey([u8; 16]);

impl RecordKey {
    /// The key of a record of `family` (`native`, `teams-audit`, `zoom`...) identified by
    /// `parts` (each length-prefixed, so part boundaries count).
    pub fn new(family: &str, parts: &[&[u8]]) -> RecordKey {
        let mut h = Sha256::new();
        h.update((family.len() as u64).to_le_bytes());
        h.update(family.as_bytes());
        for part in parts {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part);
        }
        RecordKey::from_digest(h)
    }

    /// The key of a JSON record by its content: blanks outside strings are skipped, so
    /// indentation and spacing do not change it.
    pub fn of_json(family: &str, json: &[u8]) -> RecordKey {
        let mut h = Self::json_hasher(family);
        let blank = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
        // Outside strings, hash what is not blank; strings go whole (the closing quote is found
        // with memchr, skipping escaped ones). The digest is that of the text without those
        // blanks, hashed in one update: the text itself when it has none (most records: no
        // copy), else a copy without them, made from the first blank on.
        let mut kept: Option<Vec<u8>> = None;
        let mut i = 0;
        while i < json.len() {
            let quote = memchr::memchr(b'"', &json[i..]).map_or(json.len(), |q| i + q);
            let outside = &json[i..quote];
            match &mut kept {
                Some(k) => k.extend(outside.iter().filter(|b| !blank(b))),
                None if outside.iter().any(blank) => {
                    let mut k = Vec::with_capacity(json.len());
                    k.extend_from_slice(&json[..i]);
                    k.extend(outside.iter().filter(|b| !blank(b)));
                    kept = Some(k);
                }
                None => {}
            }
            if quote == json.len() {
                break;
            }
            // The string, up to and including its closing quote.
            let mut end = quote + 1;
            loop {
                match memchr::memchr2(b'"', b'\\', &json[end..]) {
                    None => {
                        end = json.len();
                        break;
                    }
                    Some(k) if json[end + k] == b'\\' => end = (end + k + 2).min(json.len()),
                    Some(k) => {
                        end += k + 1;
                        break;
                    }
                }
            }
            if let Some(k) = &mut kept {
                k.extend_from_slice(&json[quote..end]);
            }
            i = end;
        }
        h.update(kept.as_deref().unwrap_or(json));
        RecordKey::from_digest(h)
    }

    /// [`RecordKey::of_json`] of a JSON record known to have no blanks outside strings (as
    /// [`json::read_records`] hands records over): the same key, without looking for them.
    pub fn of_compact_json(family: &str, json: &[u8]) -> RecordKey {
        let mut h = Self::json_hasher(family);
        h.update(json);
        RecordKey::from_digest(h)
    }

    fn json_hasher(family: &str) -> Sha256 {
        let mut h = Sha256::new();
        h.update((family.len() as u64).to_le_bytes());
        h.update(family.as_bytes());
        h.update(b"json");
        h
    }

    fn from_digest(h: Sha256) -> RecordKey {
        let d = h.finalize();
        let mut k = [0u8; 16];
        k.copy_from_slice(&d[..16]);
        RecordKey(k)
    }

    /// The key's bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// A key from bytes written by [`RecordKey::as_bytes`].
    pub fn from_bytes(bytes: [u8; 16]) -> RecordKey {
        RecordKey(bytes)
    }
}

impl fmt::Debug for RecordKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecordKey({})", crate::detect::hex(&self.0))
    }
}

/// How a record is identified: by a key the adapter made (from the platform's id), or by its
/// JSON, hashed only when the key is needed ([`Record::key`]): most chat messages are read,
/// checked and dropped without ever needing one.
#[derive(Debug, Clone, Copy)]
pub enum Identity<'a> {
    Key(RecordKey),
    Json {
        family: &'static str,
        json: &'a [u8],
    },
    /// JSON without blanks outside strings ([`RecordKey::of_compact_json`]).
    CompactJson {
        family: &'static str,
        json: &'a [u8],
    },
}

impl Identity<'_> {
    /// The key: the adapter's, or the hash of the JSON.
    pub fn key(&self) -> RecordKey {
        match *self {
            Identity::Key(k) => k,
            Identity::Json { family, json } => RecordKey::of_json(family, json),
            Identity::CompactJson { family, json } => RecordKey::of_compact_json(family, json),
        }
    }
}

/// What a record gave: nearly always one item, held without an allocation of its own (a
/// `Vec` cost a malloc and a free for every record).
pub type Items = smallvec::SmallVec<[Item; 1]>;

/// One record of an input file: where it was, what it is, what it gave.
#[derive(Debug)]
pub struct Record<'a> {
    pub pos: Position,
    pub identity: Identity<'a>,
    pub items: Items,
    /// The text of the record's one event, a chat message, borrowed from the input: set only
    /// by [`Adapter::read_lines_lending`], which then leaves the event's own `text` empty so
    /// that the text is not copied. `None` everywhere else.
    pub chat_text: Option<&'a str>,
}

impl<'a> Record<'a> {
    /// A record that gave one item.
    pub fn one(pos: Position, identity: Identity<'a>, item: Item) -> Record<'a> {
        Record {
            pos,
            identity,
            items: smallvec::smallvec![item],
            chat_text: None,
        }
    }

    /// The record's key.
    pub fn key(&self) -> RecordKey {
        self.identity.key()
    }
}

/// What the adapter's callback says: go on, or stop reading now.
pub type Flow = ControlFlow<()>;

/// A reader of one input format.
pub trait Adapter: Send + Sync {
    /// Reads every record from `input`, calling `emit` for each, until the input ends or `emit`
    /// says stop. An `Err` is an I/O error that stops this file; bad records are reported
    /// through `emit` as [`Item::Rejected`] instead.
    fn read(
        &self,
        input: &mut dyn BufRead,
        emit: &mut dyn FnMut(Record<'_>) -> Flow,
    ) -> io::Result<()>;

    /// Like [`Adapter::read`], for input known to be whole lines of NDJSON: a block cut from a
    /// file at line ends, the file's first record having fit on one line. JSON formats then
    /// take each line as a record on its own from the block's first line, as they do in the
    /// whole file, so that blocks read apart give the records the whole file gives.
    fn read_lines(
        &self,
        input: &mut dyn BufRead,
        emit: &mut dyn FnMut(Record<'_>) -> Flow,
    ) -> io::Result<()> {
        self.read(input, emit)
    }

    /// Like [`Adapter::read_lines`], for a caller that reads a chat message's text from
    /// [`Record::chat_text`] when it is set (the scan's observer): an adapter may then lend the
    /// text from the input instead of copying it into the event, whose `text` it leaves empty.
    /// Others read their lines as [`Adapter::read_lines`] does.
    fn read_lines_lending(
        &self,
        input: &mut dyn BufRead,
        emit: &mut dyn FnMut(Record<'_>) -> Flow,
    ) -> io::Result<()> {
        self.read_lines(input, emit)
    }

    /// The adapter's mapping of one JSON record, when it reads its records with the JSON
    /// splitter ([`json::read_json`]): a scan on several threads then splits the file on one
    /// thread and maps runs of records on the others, even where the file cannot be cut (a JSON
    /// array, a list response, pretty-printed objects), with the records, positions and
    /// diagnostics of [`Adapter::read`]. `None` for formats read otherwise (native NDJSON, CSV).
    fn json(&self) -> Option<&dyn JsonRecords> {
        None
    }
}

/// Settings the adapters need to classify participants and map records. Read from the
/// top-level configuration keys of the same names (see `config/motesvakt.toml`); every field
/// defaults to empty, and [`SourceSettings::teams_mapping`] to the built-in table.
#[derive(Debug, Clone, Default)]
pub struct SourceSettings {
    /// The organisation's own e-mail domains (subdomains included). Config: `internal_domains`.
    pub internal_domains: Vec<String>,
    /// The organisation's Microsoft 365 tenant ids (Teams `OrganizationId`, Graph `tenantId`):
    /// a participant of one of these tenants is internal, of another tenant external.
    /// Config: `tenant_ids`.
    pub tenant_ids: Vec<String>,
    /// The organisation's Webex org ids (`orgId`): internal when listed, external otherwise.
    /// Config: `webex_org_ids`.
    pub webex_org_ids: Vec<String>,
    /// Networks whose addresses are internal (Pexip `remote_address`). Config:
    /// `internal_networks`, CIDR strings parsed with [`Cidr`]'s `FromStr`.
    pub internal_networks: Vec<Cidr>,
    /// How Teams audit operations and fields map onto events. Config: `[[teams.operations]]`
    /// and `[[teams.fields]]` tables, merged over the built-in table with
    /// [`TeamsMapping::merge`].
    pub teams_mapping: TeamsMapping,
}

impl SourceSettings {
    /// True when `tenant` is one of [`SourceSettings::tenant_ids`] (GUIDs, any case).
    pub fn is_own_tenant(&self, tenant: &str) -> bool {
        self.tenant_ids
            .iter()
            .any(|t| t.trim().eq_ignore_ascii_case(tenant.trim()))
    }

    /// True when `org` is one of [`SourceSettings::webex_org_ids`].
    pub fn is_own_webex_org(&self, org: &str) -> bool {
        self.webex_org_ids.iter().any(|o| o.trim() == org.trim())
    }
}

/// The input formats motesvakt reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    /// motesvakt NDJSON, the native event format (`docs/event-format.md`).
    Native,
    /// Microsoft Purview audit search export (CSV with an `AuditData` JSON column).
    TeamsAuditCsv,
    /// Office 365 Management Activity API `Audit.General` records (JSON array or NDJSON).
    TeamsAuditJson,
    /// Microsoft Graph `chatMessage` objects (list responses or NDJSON).
    TeamsGraph,
    /// Zoom webhook POST bodies.
    Zoom,
    /// Pexip Infinity event sink bodies and history API pages.
    Pexip,
    /// Webex webhook bodies and REST list responses.
    Webex,
}

impl Format {
    /// Every format, for `--format` help and summaries.
    pub const ALL: &'static [Format] = &[
        Format::Native,
        Format::TeamsAuditCsv,
        Format::TeamsAuditJson,
        Format::TeamsGraph,
        Format::Zoom,
        Format::Pexip,
        Format::Webex,
    ];

    /// The format's name in `--format`, config and summaries.
    pub fn name(self) -> &'static str {
        match self {
            Format::Native => "native",
            Format::TeamsAuditCsv => "teams-audit-csv",
            Format::TeamsAuditJson => "teams-audit-json",
            Format::TeamsGraph => "teams-graph",
            Format::Zoom => "zoom",
            Format::Pexip => "pexip",
            Format::Webex => "webex",
        }
    }

    /// Parses a name as written in `--format` or config.
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.iter().copied().find(|f| f.name() == name)
    }

    /// The platform whose records this format holds; `None` for native NDJSON, whose events
    /// name their own platform.
    pub fn platform(self) -> Option<Platform> {
        match self {
            Format::Native => None,
            Format::TeamsAuditCsv | Format::TeamsAuditJson | Format::TeamsGraph => {
                Some(Platform::Teams)
            }
            Format::Zoom => Some(Platform::Zoom),
            Format::Pexip => Some(Platform::Pexip),
            Format::Webex => Some(Platform::Webex),
        }
    }

    /// Decides the format of a file from its first bytes (up to 64 KiB), not from its name.
    /// `None` means the content matches no known format.
    ///
    /// The rules, in order: a first line (after PowerShell's `#TYPE` line) that is a CSV
    /// header with `AuditData` and `CreationDate`, whatever its separator, is
    /// `teams-audit-csv`; a first line with the native keys is `native`; otherwise the JSON
    /// keys seen decide: `Operation` + `CreationTime`, `Operations` + `AuditData`
    /// (`ConvertTo-Json`) or Graph audit records → `teams-audit-json`; `messageType`, GraphSvc
    /// types, change notifications or attendance records → `teams-graph`; `event` + `payload`
    /// → `zoom`;
    /// `node` + `seq` + `event`, or a history page → `pexip`; `resource` + `event` + `data`, or
    /// Webex object fields → `webex`.
    pub fn sniff(head: &[u8]) -> Option<Format> {
        if teams_audit::looks_csv(head) {
            return Some(Format::TeamsAuditCsv);
        }
        if native::looks_native(head) {
            return Some(Format::Native);
        }
        let trimmed = head
            .strip_prefix(b"\xEF\xBB\xBF")
            .unwrap_or(head)
            .trim_ascii_start();
        if !trimmed.starts_with(b"{") && !trimmed.starts_with(b"[") {
            return None;
        }
        if teams_audit::looks_json(head) {
            Some(Format::TeamsAuditJson)
        } else if teams_graph::looks_graph(head) {
            Some(Format::TeamsGraph)
        } else if zoom::looks_zoom(head) {
            Some(Format::Zoom)
        } else if pexip::looks_pexip(head) {
            Some(Format::Pexip)
        } else if webex::looks_webex(head) {
            Some(Format::Webex)
        } else {
            None
        }
    }

    /// The adapter for this format. Adapters hold no state between records, so one adapter can
    /// read any number of files, or a file from the middle.
    pub fn adapter(self, settings: &SourceSettings) -> Box<dyn Adapter> {
        match self {
            Format::Native => Box::new(native::Native),
            Format::TeamsAuditCsv => Box::new(teams_audit::TeamsAudit::csv(settings)),
            Format::TeamsAuditJson => Box::new(teams_audit::TeamsAudit::json(settings)),
            Format::TeamsGraph => Box::new(teams_graph::TeamsGraph::new(settings)),
            Format::Zoom => Box::new(zoom::Zoom::new(settings)),
            Format::Pexip => Box::new(pexip::Pexip::new(settings)),
            Format::Webex => Box::new(webex::Webex::new(settings)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for f in Format::ALL {
            assert_eq!(Format::from_name(f.name()), Some(*f));
        }
        assert_eq!(Format::from_name("teams"), None);
        assert_eq!(Format::Zoom.platform(), Some(Platform::Zoom));
        assert_eq!(Format::TeamsGraph.platform(), Some(Platform::Teams));
        assert_eq!(Format::Native.platform(), None);
    }

    #[test]
    fn sniffs_by_content_only() {
        let s = |t: &str| Format::sniff(t.as_bytes());
        assert_eq!(
            s("\u{feff}RecordId,CreationDate,RecordType,Operation,UserId,AuditData\r\n"),
            Some(Format::TeamsAuditCsv)
        );
        assert_eq!(
            s(r#"[{"CreationTime":"2020-02-17T16:59:44","Operation":"MeetingDetail"}]"#),
            Some(Format::TeamsAuditJson)
        );
        assert_eq!(
            s(r#"{"@odata.context":"x","value":[{"messageType":"message"}]}"#),
            Some(Format::TeamsGraph)
        );
        assert_eq!(
            s(r#"{"event":"meeting.started","payload":{"object":{}}}"#),
            Some(Format::Zoom)
        );
        assert_eq!(
            s(r#"{"node":"n","seq":1,"time":1.5,"event":"eventsink_started"}"#),
            Some(Format::Pexip)
        );
        assert_eq!(
            s(r#"{"id":"h","resource":"meetings","event":"started","data":{}}"#),
            Some(Format::Webex)
        );
        assert_eq!(s("hello world"), None);
        assert_eq!(s(r#"{"a":1}"#), None);
        assert_eq!(s(""), None);
    }

    #[test]
    fn record_keys_ignore_blanks_outside_strings_only() {
        let k = |s: &str| RecordKey::of_json("native", s.as_bytes());
        let base = k(r#"{"a":"x y","b":[1,2],"c":"q\"z"}"#);
        assert_eq!(
            base,
            k("{ \"a\" : \"x y\",\n  \"b\": [1, 2],\t\"c\":\"q\\\"z\" }\r")
        );
        assert_ne!(
            base,
            k(r#"{"a":"xy","b":[1,2],"c":"q\"z"}"#),
            "blanks in strings count"
        );
        assert_ne!(
            base,
            k(r#"{"a":"x y","b":[1,2],"c":"q\" z"}"#),
            "after an escaped quote"
        );
        assert_ne!(
            base,
            RecordKey::of_json("zoom", br#"{"a":"x y","b":[1,2],"c":"q\"z"}"#)
        );
        // A record without blanks outside strings, as the JSON splitter hands it over, has
        // the same key whether looked at or not.
        let compact = br#"{"a":"x y","b":[1,2],"c":"q\"z"}"#;
        assert_eq!(base, RecordKey::of_compact_json("native", compact));
        // An unclosed string or a trailing backslash do not panic.
        let _ = k(r#"{"a":"x"#);
        let _ = k("\"\\");
        assert_ne!(
            RecordKey::new("f", &[b"ab", b"c"]),
            RecordKey::new("f", &[b"a", b"bc"]),
            "parts are length-prefixed"
        );
    }

    #[test]
    fn settings_compare_ids_loosely() {
        let s = SourceSettings {
            tenant_ids: vec!["ABC-1".into()],
            webex_org_ids: vec!["Org1".into()],
            ..SourceSettings::default()
        };
        assert!(s.is_own_tenant(" abc-1"));
        assert!(s.is_own_webex_org("Org1"));
        assert!(!s.is_own_webex_org("org1"));
        assert_eq!(s.teams_mapping, TeamsMapping::default());
    }

    /// The text [`RecordKey::of_json`] hashes, the slow way: byte by byte, blanks outside
    /// strings left out.
    fn without_blanks(json: &[u8]) -> Vec<u8> {
        let (mut out, mut in_string, mut escaped) = (Vec::new(), false, false);
        for &b in json {
            if in_string {
                out.push(b);
                if escaped {
                    escaped = false;
                } else if b == b'\\' {
                    escaped = true;
                } else if b == b'"' {
                    in_string = false;
                }
            } else if b == b'"' {
                in_string = true;
                out.push(b);
            } else if !matches!(b, b' ' | b'\t' | b'\r' | b'\n') {
                out.push(b);
            }
        }
        out
    }

    proptest::proptest! {
        /// Whether it copies or not, the key is the hash of the text without the blanks
        /// outside strings (so keys in existing stores stay as they were).
        #[test]
        fn json_keys_are_of_the_text_without_blanks(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "{", "}", "[", "]", "\"", "\\", " ", "\n", "\t", "\r", "a", "1", ":", ",",
                    "\\\"", "é",
                ]),
                0..40,
            )
        ) {
            let json = parts.concat();
            let stripped = without_blanks(json.as_bytes());
            proptest::prop_assert_eq!(
                RecordKey::of_json("f", json.as_bytes()),
                RecordKey::of_compact_json("f", &stripped)
            );
            proptest::prop_assert_eq!(
                RecordKey::of_json("f", &stripped),
                RecordKey::of_compact_json("f", &stripped)
            );
        }
    }
}
