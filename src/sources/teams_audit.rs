//! Microsoft Teams audit records: the Purview audit search export (CSV) and the Office 365
//! Management Activity API's `Audit.General` content (JSON array or NDJSON). Both carry the same
//! `AuditData` record; the CSV holds it as a JSON document inside a cell.
//!
//! - CSV: the header is found by name, not position (current exports have
//!   `RecordId,CreationDate,RecordType,Operation,UserId,AuditData,...`, older ones
//!   `CreationDate,UserIds,Operations,AuditData`); a UTF-8 BOM is ignored. The separator is
//!   the header's: `,`, or `;` (Excel with a Swedish locale), or a tab (Excel's "Unicode
//!   text", decoded from UTF-16 by `ingest`); PowerShell 5.1's `#TYPE ...` line before the
//!   header is skipped; a non-UTF-8 `AuditData` cell is read as Windows-1252 (Excel's
//!   "CSV"). Times come from `AuditData` (`CreationTime`, `StartTime`, `JoinTime`...), UTC
//!   without `Z`; the `CreationDate` column (locale-dependent, trailing spaces) is only a
//!   fallback for `CreationTime`.
//! - JSON: records one after another, in an array, or wrapped: `Search-UnifiedAuditLog |
//!   ConvertTo-Json` objects (`AuditData` a JSON string), Graph audit log query pages
//!   (`value[]` of records with `auditData`), Elastic's test wrapping
//!   (`{"events":[{"event":{"original":"<AuditData as a string>"}}]}`).
//! - A record's key is its `Id` (the CSV's `RecordId`), the same in CSV and JSON: the same
//!   record exported both ways, or twice, is read once.
//! - Operations are mapped through the [`TeamsMapping`] table (see `teams_map`);
//!   operations missing from it are [`Item::Unmapped`] `operation NAME`, and fields of mapped
//!   records it does not know are [`Item::UnmappedField`] `OPERATION.FIELD`.
//! - The meeting id is `MeetingDetail.Id` = `MeetingParticipantDetail.MeetingDetailId`. Chat
//!   records (`MessageSent`, `MessageDeleted`) are about a chat thread and use its id
//!   (`19:meeting_...@thread.v2`), like the Graph adapter; `MeetingDetail.ChatThreadId` links the
//!   two, but a streaming adapter cannot rewrite records it has already emitted, so a Teams
//!   meeting's audit events and chat events arrive under two ids (see docs/platforms.md).
//! - `MeetingParticipantDetail` records whose user agent is the recording bot ("SkypeBot Call
//!   Recorder Teams") are a video recording from `JoinTime` to `LeaveTime`, attributed to the
//!   record's `UserId` (the organiser); the transcription bot likewise gives transcription.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, BufRead};

use super::value::{Map, Value};
use jiff::Timestamp;

use super::csv_rows::{MAX_FIELDS, MAX_ROW, Row, RowReader};
use super::json::{JsonRecords, Layout, RawRecord, position_key, read_json};
use super::teams_map::{FieldMap, Handler, OperationMap, table_event};
use super::util::{
    actor, bool_field, event, json_error, obj_field, parse_object, parse_time, safe_word,
    str_field, tenant_guid, time_value,
};
use super::{Adapter, Flow, Identity, Item, Record, RecordKey, SourceSettings, TeamsMapping};
use crate::event::{Actor, ActorKind, EventKind, Media, Platform, Role};

type Obj<'a> = Map<'a>;

/// The family name in record keys (shared by the CSV and JSON forms).
pub const KEY_FAMILY: &str = "teams-audit";

/// The Teams audit adapter, for the CSV export or the JSON records.
pub struct TeamsAudit {
    csv: bool,
    tenants: Vec<String>,
    mapping: TeamsMapping,
}

/// True when the first line of `head` is a Purview audit CSV header (after the `#TYPE ...`
/// line Windows PowerShell 5.1's `Export-Csv` writes first), whatever the separator (`,`, the
/// `;` of Excel with a Swedish locale, the tab of Excel's "Unicode text").
pub fn looks_csv(head: &[u8]) -> bool {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let mut lines = head.split(|&b| b == b'\n');
    let mut first = lines.next().unwrap_or(head);
    if is_type_line(first) {
        first = lines.next().unwrap_or_default();
    }
    let lower = first.to_ascii_lowercase();
    let has = |k: &[u8]| memchr::memmem::find(&lower, k).is_some();
    let start = first.trim_ascii_start();
    !start.starts_with(b"{")
        && !start.starts_with(b"[")
        && has(b"auditdata")
        && has(b"creationdate")
}

/// The `#TYPE System.Management.Automation.PSCustomObject` line that Windows PowerShell 5.1's
/// `Export-Csv` writes before the header (unless `-NoTypeInformation`).
fn is_type_line(line: &[u8]) -> bool {
    let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
    line.len() >= 5 && line[..5].eq_ignore_ascii_case(b"#TYPE")
}

/// True when `head` looks like audit records in JSON: Management Activity API records, the
/// objects of `Search-UnifiedAuditLog | ConvertTo-Json` (`Operations`, `AuditData` as a JSON
/// string), or pages of Graph's audit log query records (`auditLogRecordType`, `auditData`).
pub fn looks_json(head: &[u8]) -> bool {
    let has = |k: &[u8]| memchr::memmem::find(head, k).is_some();
    ((has(b"\"Operation\"") || has(b"\\\"Operation\\\""))
        && (has(b"\"CreationTime\"") || has(b"\\\"CreationTime\\\"")))
        || (has(b"\"Operations\"") && has(b"\"AuditData\""))
        || (has(b"\"auditLogRecordType\"") || (has(b"\"auditData\"") && has(b"\"operation\"")))
}

/// What the CSV row adds to its AuditData.
#[derive(Default)]
struct RowContext<'a> {
    record_id: Option<&'a str>,
    creation_date: Option<&'a str>,
    operation: Option<&'a str>,
}

impl TeamsAudit {
    /// The adapter for the Purview CSV export.
    pub fn csv(settings: &SourceSettings) -> TeamsAudit {
        TeamsAudit {
            csv: true,
            ..TeamsAudit::json(settings)
        }
    }

    /// The adapter for Management Activity API JSON.
    pub fn json(settings: &SourceSettings) -> TeamsAudit {
        TeamsAudit {
            csv: false,
            tenants: settings.tenant_ids.clone(),
            mapping: settings.teams_mapping.clone(),
        }
    }
}

impl Adapter for TeamsAudit {
    fn read(
        &self,
        input: &mut dyn BufRead,
        emit: &mut dyn FnMut(Record<'_>) -> Flow,
    ) -> io::Result<()> {
        if self.csv {
            return self.read_csv(input, emit);
        }
        read_json(self, input, Layout::Any, emit)
    }

    fn read_lines(
        &self,
        input: &mut dyn BufRead,
        emit: &mut dyn FnMut(Record<'_>) -> Flow,
    ) -> io::Result<()> {
        if self.csv {
            return self.read_csv(input, emit);
        }
        read_json(self, input, Layout::Lines, emit)
    }

    fn json(&self) -> Option<&dyn JsonRecords> {
        (!self.csv).then_some(self as &dyn JsonRecords)
    }
}

impl JsonRecords for TeamsAudit {
    fn wrappers(&self) -> &'static [&'static str] {
        &["events", "value"]
    }

    fn map_record(&self, raw: RawRecord<'_>, emit: &mut dyn FnMut(Record<'_>) -> Flow) -> Flow {
        let mut items = Vec::new();
        let outer = raw.bytes.and_then(|b| Ok((b, parse_object(b)?)));
        let record = outer
            .as_ref()
            .map_err(String::clone)
            .and_then(|(json, outer)| Ok((*json, audit_record(outer)?)));
        let identity = match record {
            Ok((json, (obj, ctx))) => {
                self.record(&obj, &ctx, &mut items);
                record_identity(&obj, &ctx, json)
            }
            Err(reason) => {
                items.push(Item::Rejected(reason));
                Identity::Key(position_key(KEY_FAMILY, raw.pos))
            }
        };
        emit(Record {
            pos: raw.pos,
            identity,
            items: items.into(),
            chat_text: None,
        })
    }
}

/// A record's identity: its `Id` (any case), else its JSON.
fn record_identity<'a>(obj: &Obj, ctx: &RowContext<'_>, json: &'a [u8]) -> Identity<'a> {
    match str_field(obj, "Id").or(ctx.record_id) {
        Some(id) => Identity::Key(RecordKey::new(
            KEY_FAMILY,
            &[id.trim().to_ascii_lowercase().as_bytes()],
        )),
        None => Identity::Json {
            family: KEY_FAMILY,
            json,
        },
    }
}

/// The audit record a JSON record holds, and what its wrapping adds:
/// - a Management Activity API record is the record itself;
/// - `Search-UnifiedAuditLog | ConvertTo-Json` objects hold it as a JSON string in `AuditData`,
///   beside `Identity` (the record id), `Operations` and `CreationDate` (in Windows
///   PowerShell 5.1 written `/Date(MILLISECONDS)/`);
/// - Graph's audit log query records (`/security/auditLog/queries/{id}/records`) hold it as
///   an object in `auditData`, beside `id`, `operation` and `createdDateTime`;
/// - Elastic's test files carry it as a string in `event.original`, or under `o365audit`.
fn audit_record<'o>(outer: &'o Obj<'_>) -> Result<(Cow<'o, Obj<'o>>, RowContext<'o>), String> {
    if outer.contains_key("Operation") {
        return Ok((Cow::Borrowed(outer), RowContext::default()));
    }
    for key in ["AuditData", "auditData"] {
        let inner = match outer.get(key) {
            // The record is a string inside this one: its tree borrows from that string.
            Some(Value::String(text)) => {
                Cow::Owned(parse_object(text.as_bytes()).map_err(|e| format!("{key}: {e}"))?)
            }
            Some(Value::Object(inner)) => Cow::Borrowed(inner),
            Some(Value::Null) | None => continue,
            Some(_) => return Err(format!("`{key}` is neither a JSON object nor a string")),
        };
        let first = |keys: &[&str]| keys.iter().find_map(|k| str_field(outer, k));
        let ctx = RowContext {
            record_id: first(&["Identity", "id"]),
            creation_date: first(&["CreationDate", "createdDateTime"]),
            operation: first(&["Operations", "operation"]),
        };
        return Ok((inner, ctx));
    }
    if let Some(original) = obj_field(outer, "event").and_then(|e| str_field(e, "original")) {
        return Ok((
            Cow::Owned(parse_object(original.as_bytes())?),
            RowContext::default(),
        ));
    }
    if let Some(inner) = obj_field(outer, "o365audit") {
        return Ok((Cow::Borrowed(inner), RowContext::default()));
    }
    Ok((Cow::Borrowed(outer), RowContext::default()))
}

impl TeamsAudit {
    fn read_csv(
        &self,
        input: &mut dyn BufRead,
        emit: &mut dyn FnMut(Record<'_>) -> Flow,
    ) -> io::Result<()> {
        let mut rows = RowReader::new();
        let mut columns: Option<Columns> = None;
        // The separator the header showed, to read the rows after it with.
        let mut delimiter = None;
        let mut first_row = true;
        loop {
            if let Some(d) = delimiter.take() {
                rows.set_delimiter(d);
            }
            let Some((pos, row)) = rows.next(input)? else {
                break;
            };
            let at_start = std::mem::take(&mut first_row);
            let record = match row {
                Row::Fields(f) => f,
                Row::TooLong => {
                    let why = format!(
                        "CSV row longer than {MAX_ROW} bytes or {MAX_FIELDS} fields; skipped"
                    );
                    if columns.is_none() {
                        let _ = emit(Record::one(
                            pos,
                            Identity::Key(position_key(KEY_FAMILY, pos)),
                            Item::Rejected(format!("{why} (the header row); file skipped")),
                        ));
                        return Ok(());
                    }
                    if emit(Record::one(
                        pos,
                        Identity::Key(position_key(KEY_FAMILY, pos)),
                        Item::Rejected(why),
                    ))
                    .is_break()
                    {
                        return Ok(());
                    }
                    continue;
                }
            };
            let Some(cols) = &columns else {
                if at_start && record.get(0).is_some_and(is_type_line) {
                    // PowerShell 5.1's `#TYPE ...` line: the header comes next.
                    continue;
                }
                let names: Vec<&[u8]> = record.iter().collect();
                let header = match Columns::from_header(&names) {
                    Some(c) => Some(c),
                    // One field: the header of a file separated by `;` or tabs, read with `,`.
                    None if names.len() == 1 => [b';', b'\t'].into_iter().find_map(|d| {
                        let split: Vec<&[u8]> = names[0].split(|&b| b == d).collect();
                        let c = Columns::from_header(&split).filter(|_| split.len() > 1)?;
                        delimiter = Some(d);
                        Some(c)
                    }),
                    None => None,
                };
                match header {
                    Some(c) => columns = Some(c),
                    None => {
                        let _ = emit(Record::one(
                            pos,
                            Identity::Key(position_key(KEY_FAMILY, pos)),
                            Item::Rejected(
                                "CSV header has no AuditData column; file skipped".into(),
                            ),
                        ));
                        return Ok(());
                    }
                }
                continue;
            };
            if record.iter().all(|f| f.trim_ascii().is_empty()) {
                continue;
            }
            let cell = |i: Option<usize>| {
                i.and_then(|i| record.get(i))
                    .and_then(|b| std::str::from_utf8(b).ok())
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
            };
            let mut out = Vec::new();
            let mut identity = Identity::Key(position_key(KEY_FAMILY, pos));
            // Excel's plain "CSV" (not "CSV UTF-8") writes Windows-1252: read as such when
            // the cell is not UTF-8.
            let audit_data = record
                .get(cols.audit_data)
                .map(|b| match std::str::from_utf8(b) {
                    Ok(s) => Cow::Borrowed(s),
                    Err(_) => Cow::Owned(windows_1252(b)),
                });
            match audit_data
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                None => out.push(Item::Rejected("empty AuditData cell".into())),
                Some(data) => match super::value::from_str(data) {
                    Ok(Value::Object(obj)) => {
                        let ctx = RowContext {
                            record_id: cell(cols.record_id),
                            creation_date: cell(cols.creation_date),
                            operation: cell(cols.operation),
                        };
                        self.record(&obj, &ctx, &mut out);
                        identity = record_identity(&obj, &ctx, data.as_bytes());
                    }
                    Ok(_) => out.push(Item::Rejected("AuditData is not a JSON object".into())),
                    Err(e) => {
                        let mut why = format!("AuditData: {}", json_error(&e));
                        // A quote left open makes the cell run on over the next rows, which
                        // would otherwise vanish inside this one without a word.
                        let spanned = memchr::memchr_iter(b'\n', data.as_bytes()).count() as u64;
                        let last = pos.line + spanned;
                        if spanned > 0 {
                            let rows = if spanned == 1 {
                                format!("the row of line {last}")
                            } else {
                                format!("the rows of lines {}-{last}", pos.line + 1)
                            };
                            let _ = write!(
                                why,
                                "; the row runs on to line {last}: a quote left open may have swallowed {rows}"
                            );
                        }
                        out.push(Item::Rejected(why));
                    }
                },
            }
            if emit(Record {
                pos,
                identity,
                items: out.into(),
                chat_text: None,
            })
            .is_break()
            {
                return Ok(());
            }
        }
        Ok(())
    }

    fn record(&self, obj: &Obj, ctx: &RowContext<'_>, out: &mut Vec<Item>) {
        if let Err(reason) = self.map(obj, ctx, out) {
            out.push(Item::Rejected(reason));
        }
        if self.tenants.is_empty() {
            // Nothing classifies tenants: note those named, for the summary's hint. The
            // record's own `OrganizationId` is the tenant the export was made in.
            let own = str_field(obj, "OrganizationId").and_then(tenant_guid);
            if let Some(Value::Array(list)) = obj.get("Attendees") {
                for a in list.iter().filter_map(Value::as_object) {
                    if let Some(t) = str_field(a, "OrganizationId").and_then(tenant_guid)
                        && own.as_ref() != Some(&t)
                    {
                        out.push(Item::Tenant { id: t, own: false });
                    }
                }
            }
            if let Some(id) = own {
                out.push(Item::Tenant { id, own: true });
            }
        }
    }

    fn map(&self, obj: &Obj, ctx: &RowContext<'_>, out: &mut Vec<Item>) -> Result<(), String> {
        let op = str_field(obj, "Operation")
            .or(ctx.operation)
            .ok_or("missing field `Operation`")?
            .trim();
        let Some(rule) = self.mapping.operation(op) else {
            out.push(Item::Unmapped(format!("operation {}", safe_word(op))));
            return Ok(());
        };
        let created =
            time_value(obj.get("CreationTime")).or_else(|| ctx.creation_date.and_then(parse_time));
        let before = out.len();
        match rule.map {
            Handler::Ignore => {
                out.push(Item::Unmapped(format!("operation {}", safe_word(op))));
                return Ok(());
            }
            Handler::MeetingDetail => self.meeting_detail(obj, out)?,
            Handler::MeetingParticipantDetail => self.participant_detail(obj, op, out)?,
            Handler::MessageSent | Handler::MessageDeleted => {
                let meeting = chat_thread(obj)
                    .ok_or("no chat thread id (`ChatThreadId` or `Messages[].ChatThreadId`)")?;
                let time = created.ok_or("field `CreationTime` is missing or not a time")?;
                let kind = if rule.map == Handler::MessageSent {
                    EventKind::ChatMessage {
                        text: String::new(),
                        message_id: str_field(obj, "MessageId").map(str::to_string),
                    }
                } else {
                    EventKind::ChatMessageDeleted {
                        message_id: str_field(obj, "MessageId").map(str::to_string),
                    }
                };
                out.push(ev(time, &meeting, self.user(obj), kind));
            }
            Handler::Event => self.table_operation(obj, rule, created, out)?,
        }
        if rule.map != Handler::MeetingParticipantDetail {
            let actor = self.user(obj);
            let meeting = first_str(obj, &["MeetingDetailId", "ChatThreadId", "Id"]);
            if let Some(meeting) = meeting {
                for f in self.mapping.fields_of(op) {
                    field_events(obj, f, &meeting, &actor, out);
                }
            }
        }
        // `@odata.type` of a Graph `auditData` is the wrapping's, not a field of the record.
        for key in obj.keys_where(|k| !k.starts_with('@') && !self.mapping.knows_field(rule, k)) {
            out.push(Item::UnmappedField(format!(
                "{}.{}",
                safe_word(op),
                safe_word(key)
            )));
        }
        if out.len() == before {
            out.push(Item::Unmapped(format!(
                "operation {} (nothing to map)",
                safe_word(op)
            )));
        }
        Ok(())
    }

    /// The record's `UserId` as an actor: guests (`UserType` 10, `#EXT#`) are never internal.
    fn user(&self, obj: &Obj) -> Actor {
        let id = str_field(obj, "UserId").unwrap_or("unknown");
        let guest = obj.get("UserType").and_then(Value::as_i64) == Some(10) || is_ext(id);
        actor(id, None, guest.then_some(ActorKind::Guest))
    }

    fn meeting_detail(&self, obj: &Obj, out: &mut Vec<Item>) -> Result<(), String> {
        let id = str_field(obj, "Id").ok_or("missing field `Id`")?;
        let start = time_value(obj.get("StartTime"));
        let end = time_value(obj.get("EndTime"));
        if start.is_none() && end.is_none() {
            return Err("MeetingDetail has neither `StartTime` nor `EndTime`".into());
        }
        let organizer = self.user(obj);
        if let Some(t) = start {
            out.push(ev(
                t,
                id,
                organizer.clone(),
                EventKind::MeetingStarted {
                    subject: None,
                    organizer: Some(organizer.clone()),
                    // The meeting chat's thread id, under which Graph files the chat.
                    aliases: str_field(obj, "ChatThreadId")
                        .filter(|t| !t.is_empty() && *t != id)
                        .map(|t| vec![t.to_string()])
                        .unwrap_or_default(),
                },
            ));
        }
        if let Some(t) = end {
            out.push(ev(
                t,
                id,
                organizer,
                EventKind::MeetingEnded { reason: None },
            ));
        }
        Ok(())
    }

    fn participant_detail(&self, obj: &Obj, op: &str, out: &mut Vec<Item>) -> Result<(), String> {
        let meeting = str_field(obj, "MeetingDetailId").ok_or("missing field `MeetingDetailId`")?;
        let join =
            time_value(obj.get("JoinTime")).ok_or("field `JoinTime` is missing or not a time")?;
        let leave = time_value(obj.get("LeaveTime"));
        let organizer = self.user(obj);
        let agent = user_agent(obj).unwrap_or_default();
        let bot = if agent.contains("Call Recorder") {
            Some((
                EventKind::RecordingStarted {
                    media: Media::Video,
                },
                EventKind::RecordingStopped,
            ))
        } else if agent.contains("Transcription Bot") {
            Some((
                EventKind::TranscriptionStarted,
                EventKind::TranscriptionStopped,
            ))
        } else {
            None
        };
        if let Some((start, stop)) = bot {
            // The organiser stands for whoever pressed the button: the record does not say.
            out.push(ev(join, meeting, organizer.clone(), start));
            if let Some(leave) = leave {
                out.push(ev(leave, meeting, organizer, stop));
            }
            return Ok(());
        }
        let attendees: Vec<&Obj> = match obj.get("Attendees") {
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_object).collect(),
            _ => Vec::new(),
        };
        if attendees.is_empty() {
            return Err("MeetingParticipantDetail without `Attendees`".into());
        }
        let lobby = bool_field(obj, "IsJoinedFromLobby");
        let mut first_person = None;
        for a in attendees {
            if str_field(a, "RecipientType") == Some("Applications") {
                out.push(Item::Unmapped(format!(
                    "operation {} (application attendee)",
                    safe_word(op)
                )));
                continue;
            }
            let who = self.attendee(a);
            let organizes =
                str_field(a, "UPN").is_some_and(|u| u.eq_ignore_ascii_case(&organizer.id));
            out.push(ev(
                join,
                meeting,
                who.clone(),
                EventKind::ParticipantJoined {
                    role: organizes.then_some(Role::Organizer),
                    via_lobby: lobby,
                },
            ));
            if let Some(leave) = leave {
                out.push(ev(leave, meeting, who.clone(), EventKind::ParticipantLeft));
            }
            first_person.get_or_insert(who);
        }
        let actor = first_person.unwrap_or(organizer);
        for f in self.mapping.fields_of(op) {
            field_events(obj, f, meeting, &actor, out);
        }
        Ok(())
    }

    /// An attendee of a `MeetingParticipantDetail`.
    fn attendee(&self, a: &Obj) -> Actor {
        let upn = str_field(a, "UPN");
        let name = str_field(a, "DisplayName");
        let kind = match str_field(a, "RecipientType") {
            Some("Anonymous") => Some(ActorKind::Anonymous),
            Some("Phone") => Some(ActorKind::Phone),
            _ if upn.is_some_and(is_ext) => Some(ActorKind::Guest),
            _ => match str_field(a, "OrganizationId") {
                Some(org)
                    if self
                        .tenants
                        .iter()
                        .any(|t| t.trim().eq_ignore_ascii_case(org.trim())) =>
                {
                    Some(ActorKind::Internal)
                }
                Some(_) if !self.tenants.is_empty() => Some(ActorKind::External),
                _ => None,
            },
        };
        let id = upn
            .or(name.filter(|_| kind == Some(ActorKind::Phone)))
            .or_else(|| str_field(a, "UserObjectId"))
            .or(name)
            .unwrap_or("unknown");
        actor(id, name, kind)
    }

    /// `map = "event"`: the table says where the time, meeting, actor and target are.
    fn table_operation(
        &self,
        obj: &Obj,
        rule: &OperationMap,
        created: Option<Timestamp>,
        out: &mut Vec<Item>,
    ) -> Result<(), String> {
        let time = if rule.time.is_empty() {
            created
        } else {
            rule.time.iter().find_map(|f| time_value(obj.get(f)))
        }
        .ok_or("no time in the fields the Teams mapping names")?;
        let meeting_fields: Vec<&str> = if rule.meeting.is_empty() {
            vec!["MeetingDetailId", "ChatThreadId", "Id"]
        } else {
            rule.meeting.iter().map(String::as_str).collect()
        };
        let meeting = first_str(obj, &meeting_fields)
            .ok_or("no meeting id in the fields the Teams mapping names")?;
        let who = match rule.actor.first() {
            None => self.user(obj),
            Some(_) => {
                let id = rule
                    .actor
                    .iter()
                    .find_map(|f| str_field(obj, f))
                    .unwrap_or("unknown");
                actor(id, None, is_ext(id).then_some(ActorKind::Guest))
            }
        };
        let target = rule
            .target
            .iter()
            .find_map(|f| obj.get(f))
            .and_then(target_actor);
        let event_name = rule.event.as_deref().unwrap_or_default();
        let kind = table_event(event_name, target, rule.media)
            .ok_or("the target the Teams mapping names is missing")?;
        out.push(ev(time, &meeting, who, kind));
        Ok(())
    }
}

/// Events from a mapped field (`[[teams.fields]]`).
fn field_events(obj: &Obj, f: &FieldMap, meeting: &str, who: &Actor, out: &mut Vec<Item>) {
    let Some(value) = obj.get(&f.field) else {
        return;
    };
    let label = || {
        format!(
            "{}.{} (unreadable)",
            safe_word(&f.operation),
            safe_word(&f.field)
        )
    };
    let elements: Vec<&Value> = match value {
        Value::Array(list) => list.iter().collect(),
        Value::Null => return,
        v => vec![v],
    };
    for el in elements {
        let (start, end, target) = match el {
            Value::String(_) => (time_value(Some(el)), None, None),
            Value::Object(o) => (
                f.start.as_deref().and_then(|k| time_value(o.get(k))),
                f.end.as_deref().and_then(|k| time_value(o.get(k))),
                f.target
                    .as_deref()
                    .and_then(|k| o.get(k))
                    .and_then(target_actor),
            ),
            _ => (None, None, None),
        };
        let Some(start) = start else {
            out.push(Item::UnmappedField(label()));
            continue;
        };
        match table_event(&f.event, target.clone(), f.media) {
            Some(kind) => out.push(ev(start, meeting, who.clone(), kind)),
            None => {
                out.push(Item::UnmappedField(label()));
                continue;
            }
        }
        if let (Some(end_event), Some(end)) = (&f.end_event, end)
            && let Some(kind) = table_event(end_event, target, f.media)
        {
            out.push(ev(end, meeting, who.clone(), kind));
        }
    }
}

/// The other party of a mapped event: a UPN string or an object with `UPN`/`DisplayName`.
fn target_actor(v: &Value) -> Option<Actor> {
    match v {
        Value::String(s) if !s.trim().is_empty() => {
            Some(actor(s, None, is_ext(s).then_some(ActorKind::Guest)))
        }
        Value::Object(o) => {
            let upn = str_field(o, "UPN").or_else(|| str_field(o, "UserId"));
            let name = str_field(o, "DisplayName");
            let id = upn.or_else(|| str_field(o, "UserObjectId")).or(name)?;
            let kind = match str_field(o, "RecipientType") {
                Some("Anonymous") => Some(ActorKind::Anonymous),
                Some("Phone") => Some(ActorKind::Phone),
                _ => is_ext(id).then_some(ActorKind::Guest),
            };
            Some(actor(id, name, kind))
        }
        _ => None,
    }
}

fn ev(time: Timestamp, meeting: &str, who: Actor, kind: EventKind) -> Item {
    Item::Event(Box::new(event(time, Platform::Teams, meeting, who, kind)))
}

/// A guest account's UPN: `anna_extern.se#EXT#@region.onmicrosoft.com`.
fn is_ext(upn: &str) -> bool {
    let b = upn.as_bytes();
    memchr::memchr_iter(b'#', b).any(|i| {
        b.get(i..i + 5)
            .is_some_and(|w| w.eq_ignore_ascii_case(b"#EXT#"))
    })
}

fn first_str(obj: &Obj, fields: &[&str]) -> Option<String> {
    fields
        .iter()
        .find_map(|f| str_field(obj, f))
        .map(|s| s.trim().to_string())
}

/// `ChatThreadId`, else the first of `Messages[].ChatThreadId`.
fn chat_thread(obj: &Obj) -> Option<String> {
    first_str(obj, &["ChatThreadId"]).or_else(|| match obj.get("Messages") {
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_object)
            .find_map(|m| str_field(m, "ChatThreadId"))
            .map(str::to_string),
        _ => None,
    })
}

/// `ExtraProperties[]` entry `UserAgent`.
fn user_agent<'a>(obj: &'a Obj<'_>) -> Option<&'a str> {
    match obj.get("ExtraProperties")? {
        Value::Array(list) => list.iter().filter_map(Value::as_object).find_map(|p| {
            (str_field(p, "Key") == Some("UserAgent"))
                .then(|| str_field(p, "Value"))
                .flatten()
        }),
        _ => None,
    }
}

/// Text in Windows-1252 (what Excel's "CSV" saves on a Swedish Windows) as a string: Latin-1,
/// with the printable characters Windows puts at 0x80-0x9F (`€`, `”`, `–`...); the five
/// unassigned bytes become U+FFFD.
fn windows_1252(bytes: &[u8]) -> String {
    const HIGH: [char; 32] = [
        '€', '\u{FFFD}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{FFFD}', 'Ž',
        '\u{FFFD}', '\u{FFFD}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ',
        '\u{FFFD}', 'ž', 'Ÿ',
    ];
    bytes
        .iter()
        .map(|&b| match b {
            0x80..=0x9F => HIGH[usize::from(b - 0x80)],
            _ => char::from(b),
        })
        .collect()
}

/// Column positions of a Purview CSV, by header name.
struct Columns {
    audit_data: usize,
    record_id: Option<usize>,
    creation_date: Option<usize>,
    operation: Option<usize>,
}

impl Columns {
    fn from_header(header: &[&[u8]]) -> Option<Columns> {
        let find = |names: &[&str]| {
            header.iter().position(|h| {
                let h = h.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(h).trim_ascii();
                // A name still in quotes: a header split by hand (`"RecordId";"AuditData"`).
                let h = h
                    .strip_prefix(b"\"")
                    .and_then(|h| h.strip_suffix(b"\""))
                    .unwrap_or(h);
                names.iter().any(|n| h.eq_ignore_ascii_case(n.as_bytes()))
            })
        };
        Some(Columns {
            audit_data: find(&["AuditData"])?,
            record_id: find(&["RecordId", "Identity"]),
            creation_date: find(&["CreationDate"]),
            operation: find(&["Operation", "Operations"]),
        })
    }
}
