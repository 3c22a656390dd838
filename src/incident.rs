//! The incident model: what a breach of a routine is, how serious, what supports it, and what
//! recording it in the store did. Built by [`crate::rules`], kept by [`crate::store`], shown by
//! [`crate::report`]; it depends on none of them.

use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::detect::Confidence;
use crate::event::{Actor, EndReason, Media, Platform, ShareScope, TextField};
use crate::i18n::Language;

/// Every rule id, in catalog order. Ids are part of the interface (config, incidents, alerts).
pub const RULE_IDS: &[&str] = &[
    "chat-patient-data",
    "invitation-patient-data",
    "file-patient-data",
    "identifier-patient-data",
    "recording-video",
    "recording-audio",
    "transcription-sensitive",
    "control-external",
    "control-sensitive",
    "share-desktop",
    "share-sensitive",
    "share-before-admitted",
    "document-share",
    "lobby-bypass",
    "unidentified-participant",
    "meeting-not-ended",
    "platform-not-approved",
    "large-sensitive-meeting",
    "chat-threat",
    "threat-deleted",
    "classified-information",
];

/// How serious an incident is. Ordered: `Info < Low < Medium < High < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// From highest to lowest, for summaries.
    pub const DESCENDING: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn from_name(name: &str) -> Option<Severity> {
        Severity::DESCENDING
            .into_iter()
            .find(|s| s.as_str() == name)
    }

    /// The word people read, in `lang`.
    pub fn label(self, lang: Language) -> &'static str {
        match (lang, self) {
            (Language::Sv, Severity::Critical) => "KRITISK",
            (Language::Sv, Severity::High) => "HÖG",
            (Language::Sv, Severity::Medium) => "MEDEL",
            (Language::Sv, Severity::Low) => "LÅG",
            (Language::Sv, Severity::Info) => "INFO",
            (Language::En, s) => match s {
                Severity::Critical => "CRITICAL",
                Severity::High => "HIGH",
                Severity::Medium => "MEDIUM",
                Severity::Low => "LOW",
                Severity::Info => "INFO",
            },
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The routine and section an incident breaches, and the profile file that says so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Routine {
    /// The routine's file in `routines/`.
    pub file: String,
    pub section: String,
    /// The profile file citing it (`config/profiles/halland.toml`).
    #[serde(default)]
    pub profile_file: String,
}

/// A finding as shown in an incident: redacted, never the number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceFinding {
    pub field: TextField,
    pub kind: String,
    pub confidence: Confidence,
    pub redacted: String,
    /// Keyed hash of the number: equal hashes mean the same person.
    pub hash: String,
}

/// What supports an incident. Redacted by construction: built only from observations.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<EvidenceFinding>,
    /// The other party, e.g. who was handed control.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Actor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<Media>,
    /// What the saved recording turned out to hold, when the platform said so afterwards
    /// (a video recording whose files are all audio).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saved_media: Option<Media>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_scope: Option<ShareScope>,
    /// The configured phrase that matched (threat, classification marking).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phrase: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_reason: Option<EndReason>,
    /// Participants counted (large meetings).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participants: Option<u32>,
    /// The most participants the rule allows (large meetings).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_participants: Option<u32>,
    /// Where the configured phrase was found (classification marking).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phrase_field: Option<TextField>,
    /// Whether the logs show the meeting's end (`meeting-not-ended`): then `end_reason` says
    /// how it ended; if not, it was open for longer than `timeout_hours`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended: Option<bool>,
    /// The configured timeout, in hours, of a meeting without an end (`meeting-not-ended`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_hours: Option<i64>,
    /// Why the meeting counts as sensitive, when that mattered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensitive: Option<Sensitivity>,
    /// An external participant is or was in the meeting.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub external_present: bool,
    /// The actor was not a participant when it happened.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub actor_not_participant: bool,
    /// How many events the incident stands for, when more than one (chat messages with
    /// patient data from one person in one chat).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<Count>,
    /// The last of them (the incident's time is the first's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_time: Option<Timestamp>,
    /// How an alert was given up on (`alert-undeliverable`); `count` is then the number of
    /// incidents it held.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undelivered: Option<Undelivered>,
    /// A live feed not heard from (`feed-silent`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub silence: Option<Silence>,
}

/// A live feed silent for longer than it should be: which (`zoom`, `webex`, `pexip`), since
/// when (its last push, or the service's start), and its `expect_every` in minutes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Silence {
    pub source: String,
    pub since: Timestamp,
    pub expect_minutes: u64,
}

/// An alert given up on: through which channel (`mail`, `webhook`), and whether the receiver
/// refused it for good (else it was not delivered within `give_up_after`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Undelivered {
    pub channel: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub permanent: bool,
}

/// A number of events: exact, or at least this many when no more were kept (see
/// [`crate::meeting::chat`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Count {
    pub n: u32,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub at_least: bool,
}

/// A breach of a routine, or an observation worth recording (severity info).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// Stable: the same rule and triggering event give the same id, whatever file they came
    /// from and however often they are judged.
    pub id: String,
    pub rule: String,
    pub severity: Severity,
    pub platform: Platform,
    pub meeting: String,
    /// When the triggering event happened (UTC).
    pub time: Timestamp,
    /// Who caused it; `kind` is always set (resolved from config when the event had none).
    pub actor: Actor,
    /// The routine profile whose judgement this is.
    pub profile: String,
    pub routine: Routine,
    /// One sentence for a line manager, in the configured language when judged (for SIEM
    /// consumers and the store). People read [`crate::i18n::summary`], rendered from the rule,
    /// actor and evidence in the language asked for.
    pub summary: String,
    pub evidence: Evidence,
}

impl Incident {
    /// An incident of motesvakt's own, not a routine breach (a dead alert, a silent feed): an
    /// internal actor `actor`, profile and routine file `motesvakt`, the rule id as its section,
    /// no platform or meeting (the caller sets them where it knows them) and no summary yet
    /// ([`crate::i18n::summary`] renders it from the evidence).
    pub fn own(
        id: String,
        rule: &str,
        severity: Severity,
        actor: &str,
        time: Timestamp,
        evidence: Evidence,
    ) -> Incident {
        Incident {
            id,
            rule: rule.to_string(),
            severity,
            platform: Platform::Other,
            meeting: String::new(),
            time,
            actor: Actor {
                id: actor.to_string(),
                name: None,
                kind: Some(crate::event::ActorKind::Internal),
                tenant: None,
            },
            profile: "motesvakt".into(),
            routine: Routine {
                file: "motesvakt".into(),
                section: rule.to_string(),
                profile_file: String::new(),
            },
            summary: String::new(),
            evidence,
        }
    }
}

/// Why a meeting counts as sensitive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sensitivity {
    /// When the evidence was seen (for configured care meetings and organisers: the meeting's
    /// first event).
    pub time: jiff::Timestamp,
    /// `patient_data`, `care_keyword`, `care_meeting` or `care_organizer`.
    pub reason: String,
    /// Where patient data or a keyword was found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<TextField>,
    /// What: `personnummer`, `samordningsnummer`..., or the care keyword.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// What recording an incident did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// First time this incident was seen (or seen again after it had been withdrawn).
    New,
    /// Seen before at a lower severity; raised now (late evidence).
    Raised { from: Severity },
    /// Seen before at a higher severity; later evidence lowered it (a recorder who turns out to
    /// have been a participant, say).
    Lowered { from: Severity },
    /// Judged again, the meeting no longer gives this incident (an end that arrived late, an
    /// exception added, a rule switched off): it is withdrawn, and kept with its history.
    Withdrawn,
    /// Seen before at this severity: nothing new to say.
    Known,
}

impl Outcome {
    /// What the change is called in outputs and the history: `new`, `raised`, `lowered`,
    /// `withdrawn`, `known`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::New => "new",
            Outcome::Raised { .. } => "raised",
            Outcome::Lowered { .. } => "lowered",
            Outcome::Withdrawn => "withdrawn",
            Outcome::Known => "known",
        }
    }

    /// Whether this is news for the people an incident concerns: new or more serious.
    pub fn is_news(self) -> bool {
        matches!(self, Outcome::New | Outcome::Raised { .. })
    }
}

/// motesvakt's own rule for an alert that could not be delivered (dead after `give_up_after`, or
/// refused permanently): not a breach of a routine, so not in [`RULE_IDS`] (it cannot be
/// switched off nor given a severity by a profile), always high, told to IT security.
pub const ALERT_UNDELIVERABLE: &str = "alert-undeliverable";

/// motesvakt's own rule for a live feed (`[listen]`) silent for longer than its `expect_every`
/// during working hours: pushes may be lost, the gap is to be filled from the platform's
/// history. Like [`ALERT_UNDELIVERABLE`] not a routine breach; medium, told to IT security.
pub const FEED_SILENT: &str = "feed-silent";

/// Where an incident is in its follow-up (`motesvakt incidents ack|resolve|false-positive`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Open,
    Acknowledged,
    Resolved,
    FalsePositive,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Open,
        Status::Acknowledged,
        Status::Resolved,
        Status::FalsePositive,
    ];

    /// The name stored and printed in JSON: `open`, `acknowledged`, `resolved`,
    /// `false-positive`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Acknowledged => "acknowledged",
            Status::Resolved => "resolved",
            Status::FalsePositive => "false-positive",
        }
    }

    pub fn from_name(name: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// The word people read, in `lang`.
    pub fn label(self, lang: Language) -> &'static str {
        match (lang, self) {
            (Language::Sv, Status::Open) => "öppen",
            (Language::Sv, Status::Acknowledged) => "kvitterad",
            (Language::Sv, Status::Resolved) => "åtgärdad",
            (Language::Sv, Status::FalsePositive) => "falskt larm",
            (Language::En, Status::Open) => "open",
            (Language::En, Status::Acknowledged) => "acknowledged",
            (Language::En, Status::Resolved) => "resolved",
            (Language::En, Status::FalsePositive) => "false positive",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an incident is a false positive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FalsePositiveReason {
    /// The detection was wrong (not an identity number, not patient data).
    WrongDetection,
    /// Allowed by an exception decided outside motesvakt.
    AllowedByException,
    /// A test or training meeting.
    TestMeeting,
    Other,
}

impl FalsePositiveReason {
    pub const ALL: [FalsePositiveReason; 4] = [
        FalsePositiveReason::WrongDetection,
        FalsePositiveReason::AllowedByException,
        FalsePositiveReason::TestMeeting,
        FalsePositiveReason::Other,
    ];

    /// `wrong-detection`, `allowed-by-exception`, `test-meeting`, `other`.
    pub fn as_str(self) -> &'static str {
        match self {
            FalsePositiveReason::WrongDetection => "wrong-detection",
            FalsePositiveReason::AllowedByException => "allowed-by-exception",
            FalsePositiveReason::TestMeeting => "test-meeting",
            FalsePositiveReason::Other => "other",
        }
    }

    pub fn from_name(name: &str) -> Option<FalsePositiveReason> {
        FalsePositiveReason::ALL
            .into_iter()
            .find(|s| s.as_str() == name)
    }

    /// The words people read, in `lang`.
    pub fn label(self, lang: Language) -> &'static str {
        match (lang, self) {
            (Language::Sv, FalsePositiveReason::WrongDetection) => "felaktig träff",
            (Language::Sv, FalsePositiveReason::AllowedByException) => "tillåtet genom undantag",
            (Language::Sv, FalsePositiveReason::TestMeeting) => "testmöte",
            (Language::Sv, FalsePositiveReason::Other) => "annat",
            (Language::En, FalsePositiveReason::WrongDetection) => "wrong detection",
            (Language::En, FalsePositiveReason::AllowedByException) => "allowed by exception",
            (Language::En, FalsePositiveReason::TestMeeting) => "test meeting",
            (Language::En, FalsePositiveReason::Other) => "other",
        }
    }
}
