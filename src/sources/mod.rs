//! Platform adapters: each reads one platform's export or webhook format and maps its records
//! onto [`crate::event::Event`].
//!
//! An adapter is handed a buffered reader over one file and calls back once per record with an
//! [`Item`]: an event, a record it understood but maps to nothing (counted, so nobody is blind to
//! what was skipped), or a record it could not read (reported as `FILE:LINE: reason`). Adapters
//! stream: they hold at most one record in memory, plus per-file sets of ids for deduplication
//! and the little state a platform needs to pair events (who is presenting, which node hosts a
//! conference).
//!
//! One record may give several items (a Teams `MeetingParticipantDetail` is a join and a
//! leave); every item of a record carries the line (or CSV row's first line) it starts on.
//!
//! Formats, their field mappings and the coverage matrix are documented in `docs/platforms.md`.

pub mod coverage;
pub mod json;
pub mod lines;
pub mod native;
pub mod net;
pub mod pexip;
pub mod teams_audit;
pub mod teams_graph;
pub mod teams_map;
pub mod util;
pub mod webex;
pub mod zoom;

use std::io::{self, BufRead};

use crate::event::{Event, Platform};
pub use net::{Cidr, CidrError};
pub use teams_map::TeamsMapping;

/// What one record of an input file turned into.
#[derive(Debug)]
pub enum Item {
    /// A mapped meeting event.
    Event(Box<Event>),
    /// A well-formed record that maps to no event (an unknown `type`, an operation that is not
    /// about meetings, a duplicate). The text says what it was, e.g. `type hand_raised`,
    /// `operation TeamsSessionStarted`, `duplicate record`; it must never hold free text from
    /// the record.
    Unmapped(String),
    /// A field of a mapped record that the mapping does not know, e.g.
    /// `MeetingParticipantDetail.ScreenSharingDetails`: the record was mapped, but this part of
    /// it was not looked at. Counted per field name so that new fields a platform adds are seen.
    UnmappedField(String),
    /// A record that could not be read. The reason must never quote free text from the record.
    Rejected(String),
}

/// Where in the file a record was: the line (or CSV row) it starts on, from 1.
pub type Line = u64;

/// A reader of one input format.
pub trait Adapter {
    /// Reads every record from `input`, calling `emit` for each. An `Err` is an I/O error that
    /// stops this file; bad records are reported through `emit` as [`Item::Rejected`] instead.
    fn read(&mut self, input: &mut dyn BufRead, emit: &mut dyn FnMut(Line, Item))
    -> io::Result<()>;
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
    /// The rules, in order: a first line that is a CSV header with `AuditData` and
    /// `CreationDate` is `teams-audit-csv`; a first line with the native keys is `native`;
    /// otherwise the JSON keys seen decide: `Operation` + `CreationTime` → `teams-audit-json`;
    /// `messageType` or attendance records → `teams-graph`; `event` + `payload` → `zoom`;
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

    /// A fresh adapter for this format. Use one adapter per file: deduplication and pairing
    /// state is per adapter.
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
}
