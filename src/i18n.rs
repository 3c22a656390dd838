//! Texts people read, all of them here: the language, the words shared by every text that
//! names people, fields and confidences, rule titles, and incident summaries ([`summary`]),
//! rendered from stored incidents in Swedish or English. The rules build evidence only.

pub mod report;
mod summary;
pub mod time;

use serde::Deserialize;

use crate::detect::Confidence;
use crate::event::{Actor, ActorKind, TextField};
pub use summary::{render_summary, summary};

/// The language of texts people read: incident summaries, reports, alerts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    Sv,
    En,
}

impl Language {
    pub fn from_name(name: &str) -> Option<Language> {
        match name {
            "sv" => Some(Language::Sv),
            "en" => Some(Language::En),
            _ => None,
        }
    }
}

/// How people are named in summaries: display name, else id.
pub fn who(actor: &Actor) -> &str {
    actor.name.as_deref().unwrap_or(&actor.id)
}

/// An actor kind as a word in `lang`.
pub fn kind_word(kind: ActorKind, lang: Language) -> &'static str {
    match (lang, kind) {
        (Language::Sv, ActorKind::Internal) => "intern",
        (Language::Sv, ActorKind::External) => "extern",
        (Language::Sv, ActorKind::Guest) => "gäst",
        (Language::Sv, ActorKind::Anonymous) => "anonym",
        (Language::Sv, ActorKind::Phone) => "telefon",
        (Language::En, k) => k.as_str(),
    }
}

/// Where a finding was made, as words in `lang` ("i chatten" reads "in the chat").
pub fn field_word(field: TextField, lang: Language) -> &'static str {
    match (lang, field) {
        (Language::Sv, TextField::Chat) => "chatten",
        (Language::Sv, TextField::Subject) => "ämnesraden",
        (Language::Sv, TextField::Body) => "kallelsen",
        (Language::Sv, TextField::FileName) => "ett filnamn",
        (Language::Sv, TextField::MeetingId) => "mötets id eller rumsnamn",
        (Language::Sv, TextField::DisplayName) => "en deltagares visningsnamn",
        (Language::En, TextField::Chat) => "the chat",
        (Language::En, TextField::Subject) => "the subject",
        (Language::En, TextField::Body) => "the invitation",
        (Language::En, TextField::FileName) => "a file name",
        (Language::En, TextField::MeetingId) => "the meeting id or room name",
        (Language::En, TextField::DisplayName) => "a participant's display name",
    }
}

/// A confidence as a word in `lang`.
pub fn confidence_word(c: Confidence, lang: Language) -> &'static str {
    match (lang, c) {
        (Language::Sv, Confidence::Low) => "låg",
        (Language::Sv, Confidence::Medium) => "medel",
        (Language::Sv, Confidence::High) => "hög",
        (Language::En, c) => c.as_str(),
    }
}

/// What a rule's incidents are, as a short phrase in `lang`: the subject of an alert
/// ("[motesvakt] HÖG: videoinspelning i möte med patientuppgifter"). Rendered from the stored
/// incident's rule id, so a stored incident reads in either language.
pub fn rule_title(rule: &str, lang: Language) -> &str {
    let (sv, en) = match rule {
        "chat-patient-data" => (
            "patientuppgifter i mötets chatt",
            "patient data in the meeting chat",
        ),
        "invitation-patient-data" => (
            "patientuppgifter i kallelsen",
            "patient data in the invitation",
        ),
        "identifier-patient-data" => (
            "patientuppgifter i mötets id, rumsnamn eller ett visningsnamn",
            "patient data in the meeting id, room name or a display name",
        ),
        "file-patient-data" => (
            "fil med patientuppgifter delad",
            "file with patient data shared",
        ),
        "recording-video" => (
            "videoinspelning i möte med patientuppgifter",
            "video recording of a meeting with patient data",
        ),
        "recording-audio" => (
            "ljudinspelning i möte med patientuppgifter",
            "audio recording of a meeting with patient data",
        ),
        "transcription-sensitive" => (
            "transkribering i känsligt möte",
            "transcription in a sensitive meeting",
        ),
        "control-external" => (
            "kontroll lämnad till extern deltagare",
            "control handed to an external participant",
        ),
        "control-sensitive" => (
            "kontroll lämnad i känsligt möte",
            "control handed over in a sensitive meeting",
        ),
        "share-desktop" => ("hela skrivbordet delat", "whole desktop shared"),
        "share-sensitive" => (
            "skärmdelning i känsligt möte",
            "screen sharing in a sensitive meeting",
        ),
        "share-before-admitted" => (
            "delning innan alla släppts in",
            "sharing before everyone was admitted",
        ),
        "document-share" => ("dokument delat i mötet", "document shared in the meeting"),
        "lobby-bypass" => (
            "deltagare förbi väntrummet",
            "participant bypassed the lobby",
        ),
        "unidentified-participant" => ("oidentifierad deltagare", "unidentified participant"),
        "meeting-not-ended" => ("möte inte avslutat", "meeting not ended"),
        "platform-not-approved" => (
            "plattform inte godkänd för mötet",
            "platform not approved for the meeting",
        ),
        "large-sensitive-meeting" => ("stort känsligt möte", "large sensitive meeting"),
        "chat-threat" => ("hot i mötets chatt", "threat in the meeting chat"),
        "threat-deleted" => ("hot i chatten raderat", "threat in the chat deleted"),
        "classified-information" => (
            "säkerhetsskyddsklassad information",
            "security-classified information",
        ),
        crate::incident::ALERT_UNDELIVERABLE => {
            ("larm kunde inte levereras", "alert could not be delivered")
        }
        crate::incident::FEED_SILENT => ("flöde tyst", "feed silent"),
        _ => return rule,
    };
    match lang {
        Language::Sv => sv,
        Language::En => en,
    }
}

/// What makes a rule fire, in English (`motesvakt rules`).
pub fn fires_when(rule: &str) -> &'static str {
    match rule {
        crate::incident::ALERT_UNDELIVERABLE => {
            "an alert mail or webhook call is given up on (refused permanently, or not delivered within [alerts] give_up_after)"
        }
        crate::incident::FEED_SILENT => {
            "a live feed ([listen]) sent nothing for longer than its expect_every during working hours"
        }
        "chat-patient-data" => {
            "a chat message holds patient data (one incident per person and chat, with how many); critical when an external participant is or was in the meeting when one was written"
        }
        "invitation-patient-data" => "the subject or the invitation text holds patient data",
        "file-patient-data" => {
            "a shared file's name holds patient data, or a file is shared in a sensitive meeting with an external participant"
        }
        "identifier-patient-data" => {
            "the meeting's id or room name, or a participant's display name, holds an identity number: everyone in the meeting sees it"
        }
        "recording-video" => "a video recording was started",
        "recording-audio" => "an audio-only recording was started",
        "transcription-sensitive" => "transcription or captions were saved in a sensitive meeting",
        "control-external" => "control of a computer was handed to someone not internal",
        "control-sensitive" => "control of a computer was handed over in a sensitive meeting",
        "share-desktop" => "the whole desktop was shared in a sensitive meeting",
        "share-sensitive" => {
            "a screen was shared in a sensitive meeting with an external participant present"
        }
        "share-before-admitted" => {
            "a screen was shared while someone waited in the lobby or an anonymous participant was present"
        }
        "document-share" => "a document was shared on screen",
        "lobby-bypass" => {
            "an external, guest or anonymous participant joined without passing the lobby"
        }
        "unidentified-participant" => {
            "an anonymous or phone participant was in a sensitive meeting"
        }
        "meeting-not-ended" => {
            "the meeting was not ended by its organiser or chair (ended by the last one leaving, by timeout, or never)"
        }
        "platform-not-approved" => {
            "a sensitive meeting was held on a platform not approved for sensitive content"
        }
        "large-sensitive-meeting" => {
            "a sensitive meeting had more participants than configured (default 30)"
        }
        "chat-threat" => "a chat message holds a threat",
        "threat-deleted" => "a chat message that held a threat was deleted",
        "classified-information" => "a text marks security-classified information",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_has_a_title_in_both_languages() {
        let own = [
            crate::incident::ALERT_UNDELIVERABLE,
            crate::incident::FEED_SILENT,
        ];
        for rule in crate::incident::RULE_IDS.iter().chain(&own) {
            let (sv, en) = (
                rule_title(rule, Language::Sv),
                rule_title(rule, Language::En),
            );
            assert_ne!(sv, *rule, "{rule} has no Swedish title");
            assert_ne!(en, *rule, "{rule} has no English title");
            assert_ne!(sv, en, "{rule}");
            assert!(
                !fires_when(rule).is_empty(),
                "{rule} does not say when it fires"
            );
        }
    }
}
