//! The binary form of a chunk's body: what the store keeps of a meeting's observations.
//!
//! A chunk was a JSON array of `[key in hex, observation or null]`; encoding and decoding that
//! JSON was the largest single cost of judging a meeting (a tenth of a scan's time). This form
//! writes the same content in a compact binary layout: a [`MAGIC`] byte (a JSON body starts
//! with `[`, so both forms are told apart and chunks written by earlier versions still read),
//! the number of entries, then each entry: the 18-byte source key, `0` for a tombstone or `1`
//! and the observation. Numbers are LEB128 varints (signed ones zigzagged), strings a length
//! and UTF-8 bytes, enums one byte each from the tables below (never reorder them: stored
//! chunks depend on the codes), `Option`s a `0`/`1` byte before the value.
//!
//! The content is the JSON form's, field for field: nothing is kept that the JSON did not keep
//! (no chat text, redacted findings only).

use jiff::Timestamp;

use crate::detect::{Confidence, ContextNeed, Finding, FindingKind, Lift, TextContext};
use crate::event::{
    Actor, ActorKind, EndReason, Event, EventKind, Media, Platform, Role, ShareScope, TextField,
};
use crate::meeting::{FieldFinding, Observation, SourceKey};
use crate::phrases::{Signal, SignalKind};

/// The first byte of a binary chunk (format 1).
pub const MAGIC: u8 = 0xB1;

/// Whether `body` is a binary chunk (else it is a JSON one).
pub fn is_binary(body: &[u8]) -> bool {
    body.first() == Some(&MAGIC)
}

/// One byte per variant, both ways, from one list (an exhaustive match: a new variant must get
/// a code).
macro_rules! codes {
    ($enc:ident, $dec:ident, $ty:ident, $what:literal, { $($code:literal => $variant:ident),* $(,)? }) => {
        fn $enc(v: $ty) -> u8 {
            match v {
                $($ty::$variant => $code,)*
            }
        }
        fn $dec(b: u8) -> Result<$ty, String> {
            match b {
                $($code => Ok($ty::$variant),)*
                _ => Err(format!("a bad {} code in a chunk", $what)),
            }
        }
    };
}

codes!(platform_code, platform_of, Platform, "platform", {
    0 => Teams, 1 => Pexip, 2 => Zoom, 3 => Webex, 4 => Skype, 5 => Other,
});
codes!(actor_kind_code, actor_kind_of, ActorKind, "actor kind", {
    0 => Internal, 1 => External, 2 => Guest, 3 => Anonymous, 4 => Phone,
});
/// Set in an actor's kind byte when the actor's tenant follows it.
const TENANT_FLAG: u8 = 0x80;

codes!(reason_code, reason_of, EndReason, "end reason", {
    0 => EndedByHost, 1 => LastLeft, 2 => Timeout, 3 => Unknown,
});
codes!(role_code, role_of, Role, "role", {
    0 => Organizer, 1 => Chair, 2 => Presenter, 3 => Attendee, 4 => Guest,
});
codes!(media_code, media_of, Media, "media", { 0 => Video, 1 => Audio });
codes!(scope_code, scope_of, ShareScope, "share scope", {
    0 => Desktop, 1 => Application, 2 => Document, 3 => Whiteboard,
});
codes!(field_code, field_of, TextField, "text field", {
    0 => Chat, 1 => Subject, 2 => Body, 3 => FileName, 4 => MeetingId, 5 => DisplayName,
});
codes!(confidence_code, confidence_of, Confidence, "confidence", {
    0 => Low, 1 => Medium, 2 => High,
});
codes!(signal_code, signal_of, SignalKind, "signal kind", {
    0 => Threat, 1 => Classified, 2 => CareKeyword,
});

/// Encodes a chunk's entries.
pub fn encode(entries: &[(SourceKey, Option<&Observation>)]) -> Vec<u8> {
    let mut w = Writer(Vec::with_capacity(64 + entries.len() * 96));
    w.u8(MAGIC);
    w.var(entries.len() as u64);
    for (key, obs) in entries {
        w.0.extend_from_slice(&key.to_bytes());
        match obs {
            None => w.u8(0),
            Some(o) => {
                w.u8(1);
                w.observation(o);
            }
        }
    }
    w.0
}

/// Decodes a binary chunk into its entries, in order (`None`: a tombstone). The error says
/// what was wrong, never what the chunk holds.
pub fn decode(body: &[u8]) -> Result<Vec<(SourceKey, Option<Observation>)>, String> {
    let mut r = Reader { b: body, at: 0 };
    if r.u8()? != MAGIC {
        return Err("not a binary chunk".into());
    }
    let n = r.var()?;
    // Each entry takes at least 19 bytes: a bad count cannot make a huge allocation.
    let mut out = Vec::with_capacity((n as usize).min(body.len() / 19));
    for _ in 0..n {
        let key = SourceKey::from_bytes(r.take(18)?).ok_or("a bad source key")?;
        let obs = match r.u8()? {
            0 => None,
            1 => {
                let mut o = r.observation()?;
                o.key = key;
                Some(o)
            }
            _ => return Err("a bad entry tag in a chunk".into()),
        };
        out.push((key, obs));
    }
    if r.at != body.len() {
        return Err("bytes after the end of a chunk".into());
    }
    Ok(out)
}

struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, b: u8) {
        self.0.push(b);
    }

    fn var(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }

    fn signed(&mut self, v: i64) {
        self.var(((v << 1) ^ (v >> 63)) as u64);
    }

    fn str(&mut self, s: &str) {
        self.var(s.len() as u64);
        self.0.extend_from_slice(s.as_bytes());
    }

    fn opt_str(&mut self, s: &Option<String>) {
        match s {
            None => self.u8(0),
            Some(s) => {
                self.u8(1);
                self.str(s);
            }
        }
    }

    fn opt_bool(&mut self, b: Option<bool>) {
        self.u8(match b {
            None => 0,
            Some(false) => 1,
            Some(true) => 2,
        });
    }

    fn time(&mut self, t: Timestamp) {
        self.signed(t.as_second());
        self.signed(i64::from(t.subsec_nanosecond()));
    }

    fn opt_time(&mut self, t: Option<Timestamp>) {
        match t {
            None => self.u8(0),
            Some(t) => {
                self.u8(1);
                self.time(t);
            }
        }
    }

    fn actor(&mut self, a: &Actor) {
        self.str(&a.id);
        self.opt_str(&a.name);
        // The kind's byte: 0 none, else 1 + its code; [`TENANT_FLAG`] set when the tenant
        // follows (chunks written before it existed never have it).
        let kind = a.kind.map_or(0, |k| 1 + actor_kind_code(k));
        match &a.tenant {
            None => self.u8(kind),
            Some(t) => {
                self.u8(kind | TENANT_FLAG);
                self.str(t);
            }
        }
    }

    fn observation(&mut self, o: &Observation) {
        self.event(&o.event);
        self.var(o.findings.len() as u64);
        for f in &o.findings {
            self.u8(field_code(f.field));
            self.finding(&f.finding);
        }
        self.var(o.signals.len() as u64);
        for s in &o.signals {
            self.u8(signal_code(s.kind));
            self.u8(field_code(s.field));
            self.str(&s.phrase);
        }
        let c = &o.context;
        self.u8(u8::from(c.identity) | (u8::from(c.patient) << 1));
        self.var(c.custom);
    }

    fn finding(&mut self, f: &Finding) {
        match &f.kind {
            FindingKind::Personnummer => self.u8(0),
            FindingKind::Samordningsnummer => self.u8(1),
            FindingKind::Interim => self.u8(2),
            FindingKind::Reservnummer { issuer } => {
                self.u8(3);
                self.str(issuer);
            }
            FindingKind::Icd10 => self.u8(4),
            FindingKind::ClinicalTerm => self.u8(5),
            FindingKind::Custom(name) => {
                self.u8(6);
                self.str(name);
            }
        }
        self.u8(confidence_code(f.confidence));
        self.var(f.span.start as u64);
        self.var(f.span.end as u64);
        self.str(&f.redacted);
        self.str(&f.hash);
        match f.lift {
            None => self.u8(0),
            Some(l) => {
                match l.when {
                    ContextNeed::IdentityOrPatient => self.u8(1),
                    ContextNeed::Identity => self.u8(2),
                    ContextNeed::Custom(n) => {
                        self.u8(3);
                        self.u8(n);
                    }
                }
                self.u8(confidence_code(l.confidence));
            }
        }
    }

    fn event(&mut self, e: &Event) {
        self.time(e.time);
        self.u8(platform_code(e.platform));
        self.str(&e.meeting);
        self.actor(&e.actor);
        match &e.kind {
            EventKind::MeetingStarted {
                subject,
                organizer,
                aliases,
            } => {
                self.u8(0);
                self.opt_str(subject);
                match organizer {
                    None => self.u8(0),
                    Some(a) => {
                        self.u8(1);
                        self.actor(a);
                    }
                }
                self.var(aliases.len() as u64);
                for a in aliases {
                    self.str(a);
                }
            }
            EventKind::MeetingEnded { reason } => {
                self.u8(1);
                self.u8(reason.map_or(0, |r| 1 + reason_code(r)));
            }
            EventKind::ParticipantJoined { role, via_lobby } => {
                self.u8(2);
                self.u8(role.map_or(0, |r| 1 + role_code(r)));
                self.opt_bool(*via_lobby);
            }
            EventKind::ParticipantAdmitted { target } => {
                self.u8(3);
                self.actor(target);
            }
            EventKind::ParticipantLeft => self.u8(4),
            EventKind::ParticipantState {
                presenting,
                streaming,
                waiting,
            } => {
                self.u8(5);
                self.opt_bool(*presenting);
                self.opt_bool(*streaming);
                self.opt_bool(*waiting);
            }
            EventKind::RecordingStarted { media } => {
                self.u8(6);
                self.u8(media_code(*media));
            }
            EventKind::RecordingStopped => self.u8(7),
            EventKind::RecordingCompleted {
                media,
                started,
                ended,
            } => {
                self.u8(8);
                self.u8(media_code(*media));
                self.opt_time(*started);
                self.opt_time(*ended);
            }
            EventKind::TranscriptionStarted => self.u8(9),
            EventKind::TranscriptionStopped => self.u8(10),
            EventKind::ScreenShareStarted { scope } => {
                self.u8(11);
                self.u8(scope.map_or(0, |s| 1 + scope_code(s)));
            }
            EventKind::ScreenShareStopped => self.u8(12),
            EventKind::ControlGranted { target } => {
                self.u8(13);
                self.actor(target);
            }
            EventKind::ControlRevoked { target } => {
                self.u8(14);
                self.actor(target);
            }
            EventKind::ChatMessage { text, message_id } => {
                self.u8(15);
                self.str(text);
                self.opt_str(message_id);
            }
            EventKind::ChatMessageDeleted { message_id } => {
                self.u8(16);
                self.opt_str(message_id);
            }
            EventKind::FileShared { name } => {
                self.u8(17);
                self.str(name);
            }
            EventKind::Invitation { subject, body } => {
                self.u8(18);
                self.str(subject);
                self.opt_str(body);
            }
        }
    }
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

const SHORT: &str = "a chunk that ends too soon";

impl<'a> Reader<'a> {
    fn u8(&mut self) -> Result<u8, String> {
        let b = *self.b.get(self.at).ok_or(SHORT)?;
        self.at += 1;
        Ok(b)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.b.len());
        let end = end.ok_or(SHORT)?;
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn var(&mut self) -> Result<u64, String> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err("a bad number in a chunk".into())
    }

    fn signed(&mut self) -> Result<i64, String> {
        let v = self.var()?;
        Ok(((v >> 1) as i64) ^ -((v & 1) as i64))
    }

    fn usize(&mut self) -> Result<usize, String> {
        usize::try_from(self.var()?).map_err(|_| "a bad length in a chunk".to_string())
    }

    /// A count of items that take at least one byte each: never more than the bytes left.
    fn count(&mut self) -> Result<usize, String> {
        let n = self.usize()?;
        if n > self.b.len() - self.at {
            return Err(SHORT.into());
        }
        Ok(n)
    }

    fn str(&mut self) -> Result<String, String> {
        let n = self.usize()?;
        let bytes = self.take(n)?;
        std::str::from_utf8(bytes)
            .map(str::to_string)
            .map_err(|_| "a string in a chunk that is not UTF-8".to_string())
    }

    fn opt<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, String>,
    ) -> Result<Option<T>, String> {
        match self.u8()? {
            0 => Ok(None),
            1 => f(self).map(Some),
            _ => Err("a bad option tag in a chunk".into()),
        }
    }

    /// A `0` byte for none, else `1 +` the code `of` reads.
    fn opt_code<T>(&mut self, of: fn(u8) -> Result<T, String>) -> Result<Option<T>, String> {
        match self.u8()? {
            0 => Ok(None),
            b => of(b - 1).map(Some),
        }
    }

    fn opt_bool(&mut self) -> Result<Option<bool>, String> {
        match self.u8()? {
            0 => Ok(None),
            1 => Ok(Some(false)),
            2 => Ok(Some(true)),
            _ => Err("a bad flag in a chunk".into()),
        }
    }

    fn time(&mut self) -> Result<Timestamp, String> {
        let s = self.signed()?;
        let ns = i32::try_from(self.signed()?).map_err(|_| "a bad time in a chunk")?;
        Timestamp::new(s, ns).map_err(|_| "a bad time in a chunk".to_string())
    }

    fn actor(&mut self) -> Result<Actor, String> {
        let id = self.str()?;
        let name = self.opt(Self::str)?;
        let b = self.u8()?;
        let kind = match b & !TENANT_FLAG {
            0 => None,
            k => Some(actor_kind_of(k - 1)?),
        };
        let tenant = if b & TENANT_FLAG != 0 {
            Some(self.str()?)
        } else {
            None
        };
        Ok(Actor {
            id,
            name,
            kind,
            tenant,
        })
    }

    fn observation(&mut self) -> Result<Observation, String> {
        let event = self.event()?;
        let n = self.count()?;
        let mut findings = Vec::with_capacity(n);
        for _ in 0..n {
            let field = field_of(self.u8()?)?;
            findings.push(FieldFinding {
                field,
                finding: self.finding()?,
            });
        }
        let n = self.count()?;
        let mut signals = Vec::with_capacity(n);
        for _ in 0..n {
            signals.push(Signal {
                kind: signal_of(self.u8()?)?,
                field: field_of(self.u8()?)?,
                phrase: self.str()?,
            });
        }
        let flags = self.u8()?;
        if flags > 3 {
            return Err("bad context flags in a chunk".into());
        }
        let context = TextContext {
            identity: flags & 1 != 0,
            patient: flags & 2 != 0,
            custom: self.var()?,
        };
        Ok(Observation {
            key: SourceKey::default(),
            event,
            findings,
            signals,
            context,
        })
    }

    fn finding(&mut self) -> Result<Finding, String> {
        let kind = match self.u8()? {
            0 => FindingKind::Personnummer,
            1 => FindingKind::Samordningsnummer,
            2 => FindingKind::Interim,
            3 => FindingKind::Reservnummer {
                issuer: self.str()?,
            },
            4 => FindingKind::Icd10,
            5 => FindingKind::ClinicalTerm,
            6 => FindingKind::Custom(self.str()?),
            _ => return Err("a bad finding kind in a chunk".into()),
        };
        let confidence = confidence_of(self.u8()?)?;
        let start = self.usize()?;
        let end = self.usize()?;
        let redacted = self.str()?;
        let hash = self.str()?;
        let when = match self.u8()? {
            0 => None,
            1 => Some(ContextNeed::IdentityOrPatient),
            2 => Some(ContextNeed::Identity),
            3 => Some(ContextNeed::Custom(self.u8()?)),
            _ => return Err("a bad lift in a chunk".into()),
        };
        let lift = match when {
            None => None,
            Some(when) => Some(Lift {
                when,
                confidence: confidence_of(self.u8()?)?,
            }),
        };
        Ok(Finding {
            kind,
            confidence,
            span: start..end,
            redacted,
            hash,
            lift,
        })
    }

    fn event(&mut self) -> Result<Event, String> {
        let time = self.time()?;
        let platform = platform_of(self.u8()?)?;
        let meeting = self.str()?;
        let actor = self.actor()?;
        let kind = match self.u8()? {
            0 => {
                let subject = self.opt(Self::str)?;
                let organizer = self.opt(Self::actor)?;
                let n = self.count()?;
                let mut aliases = Vec::with_capacity(n);
                for _ in 0..n {
                    aliases.push(self.str()?);
                }
                EventKind::MeetingStarted {
                    subject,
                    organizer,
                    aliases,
                }
            }
            1 => EventKind::MeetingEnded {
                reason: self.opt_code(reason_of)?,
            },
            2 => EventKind::ParticipantJoined {
                role: self.opt_code(role_of)?,
                via_lobby: self.opt_bool()?,
            },
            3 => EventKind::ParticipantAdmitted {
                target: self.actor()?,
            },
            4 => EventKind::ParticipantLeft,
            5 => EventKind::ParticipantState {
                presenting: self.opt_bool()?,
                streaming: self.opt_bool()?,
                waiting: self.opt_bool()?,
            },
            6 => EventKind::RecordingStarted {
                media: media_of(self.u8()?)?,
            },
            7 => EventKind::RecordingStopped,
            8 => EventKind::RecordingCompleted {
                media: media_of(self.u8()?)?,
                started: self.opt(Self::time)?,
                ended: self.opt(Self::time)?,
            },
            9 => EventKind::TranscriptionStarted,
            10 => EventKind::TranscriptionStopped,
            11 => EventKind::ScreenShareStarted {
                scope: self.opt_code(scope_of)?,
            },
            12 => EventKind::ScreenShareStopped,
            13 => EventKind::ControlGranted {
                target: self.actor()?,
            },
            14 => EventKind::ControlRevoked {
                target: self.actor()?,
            },
            15 => EventKind::ChatMessage {
                text: self.str()?,
                message_id: self.opt(Self::str)?,
            },
            16 => EventKind::ChatMessageDeleted {
                message_id: self.opt(Self::str)?,
            },
            17 => EventKind::FileShared { name: self.str()? },
            18 => EventKind::Invitation {
                subject: self.str()?,
                body: self.opt(Self::str)?,
            },
            _ => return Err("a bad event type in a chunk".into()),
        };
        Ok(Event {
            time,
            platform,
            meeting,
            actor,
            kind,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::RecordKey;

    fn actor(id: &str, name: Option<&str>, kind: Option<ActorKind>) -> Actor {
        Actor {
            id: id.into(),
            name: name.map(str::to_string),
            kind,
            tenant: None,
        }
    }

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    /// One event of every kind, with fields present and absent.
    fn kinds() -> Vec<EventKind> {
        let anna = actor("anna@region.se", Some("Anna Ö"), Some(ActorKind::Internal));
        vec![
            EventKind::MeetingStarted {
                subject: Some("Vårdplanering".into()),
                organizer: Some(anna.clone()),
                aliases: vec!["19:meeting_x@thread.v2".into(), "b".into()],
            },
            EventKind::MeetingStarted {
                subject: None,
                organizer: None,
                aliases: vec![],
            },
            EventKind::MeetingEnded {
                reason: Some(EndReason::Timeout),
            },
            EventKind::MeetingEnded { reason: None },
            EventKind::ParticipantJoined {
                role: Some(Role::Guest),
                via_lobby: Some(true),
            },
            EventKind::ParticipantJoined {
                role: None,
                via_lobby: Some(false),
            },
            EventKind::ParticipantAdmitted {
                target: actor("x", None, Some(ActorKind::Phone)),
            },
            EventKind::ParticipantAdmitted {
                target: Actor {
                    tenant: Some("7c9a0f31-0000-4000-8000-00000000000a".into()),
                    ..actor("b2c1f0e4-object-id", None, None)
                },
            },
            EventKind::ParticipantAdmitted {
                target: Actor {
                    tenant: Some("t".into()),
                    ..actor("x", Some("X"), Some(ActorKind::Guest))
                },
            },
            EventKind::ParticipantLeft,
            EventKind::ParticipantState {
                presenting: Some(true),
                streaming: None,
                waiting: Some(false),
            },
            EventKind::RecordingStarted {
                media: Media::Audio,
            },
            EventKind::RecordingStopped,
            EventKind::RecordingCompleted {
                media: Media::Video,
                started: Some(t("2024-05-06T08:00:00.123456789Z")),
                ended: None,
            },
            EventKind::TranscriptionStarted,
            EventKind::TranscriptionStopped,
            EventKind::ScreenShareStarted {
                scope: Some(ShareScope::Whiteboard),
            },
            EventKind::ScreenShareStarted { scope: None },
            EventKind::ScreenShareStopped,
            EventKind::ControlGranted {
                target: anna.clone(),
            },
            EventKind::ControlRevoked {
                target: actor("", Some(""), None),
            },
            EventKind::ChatMessage {
                text: String::new(),
                message_id: Some("m1".into()),
            },
            EventKind::ChatMessageDeleted { message_id: None },
            EventKind::FileShared {
                name: "plan ✓.docx".into(),
            },
            EventKind::Invitation {
                subject: "SIP".into(),
                body: None,
            },
        ]
    }

    fn finding(kind: FindingKind, lift: Option<Lift>) -> FieldFinding {
        FieldFinding {
            field: TextField::Chat,
            finding: Finding {
                kind,
                confidence: Confidence::Medium,
                span: 3..16,
                redacted: "********-****".into(),
                hash: "0123456789abcdef".into(),
                lift,
            },
        }
    }

    fn observations() -> Vec<Observation> {
        let lifts = [
            None,
            Some(Lift {
                when: ContextNeed::IdentityOrPatient,
                confidence: Confidence::High,
            }),
            Some(Lift {
                when: ContextNeed::Identity,
                confidence: Confidence::Low,
            }),
            Some(Lift {
                when: ContextNeed::Custom(63),
                confidence: Confidence::High,
            }),
        ];
        let finding_kinds = [
            FindingKind::Personnummer,
            FindingKind::Samordningsnummer,
            FindingKind::Interim,
            FindingKind::Reservnummer {
                issuer: "vgr".into(),
            },
            FindingKind::Icd10,
            FindingKind::ClinicalTerm,
            FindingKind::Custom("journal-id".into()),
        ];
        kinds()
            .into_iter()
            .enumerate()
            .map(|(i, kind)| Observation {
                key: SourceKey::new(RecordKey::from_bytes([i as u8; 16]), i as u16 * 1021),
                event: Event {
                    // Nanoseconds too.
                    time: if i == 3 {
                        t("2001-01-01T00:00:00.000000001Z")
                    } else {
                        t("2024-05-06T08:00:00Z") + jiff::SignedDuration::from_millis(i as i64)
                    },
                    platform: [Platform::Teams, Platform::Zoom, Platform::Other][i % 3],
                    meeting: format!("m-{i}"),
                    actor: actor("bo@kommun.se", None, None),
                    kind,
                },
                findings: (0..i % 3)
                    .map(|j| finding(finding_kinds[(i + j) % 7].clone(), lifts[(i + j) % 4]))
                    .collect(),
                signals: (0..i % 2)
                    .map(|_| Signal {
                        kind: SignalKind::CareKeyword,
                        field: TextField::Subject,
                        phrase: "vårdplanering".into(),
                    })
                    .collect(),
                context: TextContext {
                    identity: i % 2 == 0,
                    patient: i % 3 == 0,
                    custom: if i == 5 { u64::MAX } else { i as u64 },
                },
            })
            .collect()
    }

    fn entries(obs: &[Observation]) -> Vec<(SourceKey, Option<&Observation>)> {
        let mut e: Vec<_> = obs.iter().map(|o| (o.key, Some(o))).collect();
        e.push((obs[0].key, None));
        e
    }

    #[test]
    fn every_event_kind_comes_back_as_written_and_as_its_json_form_did() {
        let obs = observations();
        let entries = entries(&obs);
        let body = encode(&entries);
        assert!(is_binary(&body));
        let back = decode(&body).unwrap();
        let want: Vec<(SourceKey, Option<Observation>)> =
            entries.iter().map(|(k, o)| (*k, o.cloned())).collect();
        assert_eq!(back, want);
        // The JSON form of earlier versions reads to the same observations.
        let list: Vec<(String, Option<&Observation>)> = entries
            .iter()
            .map(|(k, o)| (crate::detect::hex(&k.to_bytes()), *o))
            .collect();
        let json = serde_json::to_vec(&list).unwrap();
        assert!(!is_binary(&json));
        let binary = super::super::decode_chunks(std::slice::from_ref(&body)).unwrap();
        let legacy = super::super::decode_chunks(std::slice::from_ref(&json)).unwrap();
        assert_eq!(binary.observations, legacy.observations);
        assert_eq!(
            binary.observations.len(),
            obs.len() - 1,
            "the tombstone forgets one"
        );
        assert_eq!(super::super::chunk_entries(&body), Ok(entries.len()));
        assert_eq!(super::super::chunk_entries(&json), Ok(entries.len()));
        // And smaller.
        assert!(
            body.len() * 2 < json.len(),
            "{} vs {}",
            body.len(),
            json.len()
        );
    }

    #[test]
    fn a_damaged_chunk_is_an_error_never_a_panic_or_a_wrong_value() {
        let obs = observations();
        let body = encode(&entries(&obs));
        for n in 0..body.len() {
            assert!(decode(&body[..n]).is_err(), "cut at {n}");
        }
        let mut longer = body.clone();
        longer.push(0);
        assert!(decode(&longer).is_err());
        // Bytes flipped anywhere: an error or some value, but no panic.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..2000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let mut b = body.clone();
            let at = 1 + (state as usize) % (b.len() - 1);
            b[at] = (state >> 32) as u8;
            let _ = decode(&b);
        }
        // A count far beyond the bytes left does not allocate for it.
        let mut huge = vec![MAGIC];
        huge.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
        assert!(decode(&huge).is_err());
    }
}
