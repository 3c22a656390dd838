//! The language of texts people read, and the words shared by every text that names people,
//! fields and confidences.

use serde::Deserialize;

use crate::detect::Confidence;
use crate::event::{Actor, ActorKind, TextField};

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
