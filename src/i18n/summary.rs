//! Incident summaries: one sentence for a line manager who does not know the tool, rendered
//! from a stored incident's rule, actor and evidence, in Swedish or English. The rules build
//! evidence only; every sentence is here, so a stored incident reads in either language.

use super::{Language, field_word, kind_word, who};
use crate::event::{EndReason, Media};
use crate::incident::{EvidenceFinding, Incident, Sensitivity};

/// The incident's summary in `lang`. An incident stored by an older version may lack what its
/// sentence needs (the timeout of `meeting-not-ended`, say): it reads as it was stored then,
/// in the language configured then.
pub fn summary(inc: &Incident, lang: Language) -> String {
    render_summary(inc, lang).unwrap_or_else(|| inc.summary.clone())
}

/// Picks the sentence in `lang`.
fn say(lang: Language, sv: String, en: String) -> String {
    match lang {
        Language::Sv => sv,
        Language::En => en,
    }
}

/// The summary in `lang`, or `None` when the incident's rule is unknown or its evidence lacks
/// what the sentence needs.
pub fn render_summary(inc: &Incident, lang: Language) -> Option<String> {
    let e = &inc.evidence;
    let actor = who(&inc.actor);
    let k = kinds(&e.findings);
    let why = why_sensitive(e.sensitive.as_ref(), lang);
    let text = match inc.rule.as_str() {
        "chat-patient-data" => {
            let (extra_sv, extra_en) = if e.external_present {
                (
                    " Mötet har eller har haft deltagare utanför organisationen, som kan läsa chatten.",
                    " People outside the organisation are or were in the meeting and can read the chat.",
                )
            } else {
                ("", "")
            };
            match e.count {
                None => say(
                    lang,
                    format!("{actor} skrev en patientuppgift ({k}) i mötets chatt.{extra_sv}"),
                    format!("{actor} wrote patient data ({k}) in the meeting chat.{extra_en}"),
                ),
                Some(c) => {
                    let n = c.n;
                    let (least_sv, least_en) = if c.at_least {
                        ("minst ", "at least ")
                    } else {
                        ("", "")
                    };
                    say(
                        lang,
                        format!(
                            "{actor} skrev patientuppgifter ({k}) i {least_sv}{n} meddelanden i mötets chatt.{extra_sv}"
                        ),
                        format!(
                            "{actor} wrote patient data ({k}) in {least_en}{n} messages in the meeting chat.{extra_en}"
                        ),
                    )
                }
            }
        }
        "invitation-patient-data" => say(
            lang,
            format!(
                "Mötets kallelse eller ämnesrad från {actor} innehåller en patientuppgift ({k})."
            ),
            format!("The meeting invitation or subject from {actor} holds patient data ({k})."),
        ),
        "file-patient-data" if !e.findings.is_empty() => say(
            lang,
            format!("{actor} delade en fil vars namn innehåller en patientuppgift ({k})."),
            format!("{actor} shared a file whose name holds patient data ({k})."),
        ),
        "file-patient-data" => say(
            lang,
            format!(
                "{actor} delade en fil i ett möte med patientuppgifter{why} där deltagare utanför organisationen finns."
            ),
            format!(
                "{actor} shared a file in a meeting with patient data{why} that has participants from outside the organisation."
            ),
        ),
        "identifier-patient-data"
            if e.findings
                .iter()
                .any(|f| f.field == crate::event::TextField::MeetingId) =>
        {
            say(
                lang,
                format!(
                    "Mötets id eller rumsnamn innehåller en patientuppgift ({k}); alla som bjuds in eller deltar ser det."
                ),
                format!(
                    "The meeting's id or room name holds patient data ({k}); everyone invited or taking part sees it."
                ),
            )
        }
        "identifier-patient-data" => say(
            lang,
            format!(
                "Deltagaren {actor} har en patientuppgift ({k}) i sitt visningsnamn, som alla i mötet ser."
            ),
            format!(
                "Participant {actor} has patient data ({k}) in their display name, which everyone in the meeting sees."
            ),
        ),
        "recording-video" => {
            let mut s = match e.sensitive {
                Some(_) => say(
                    lang,
                    format!(
                        "{actor} startade en videoinspelning av ett möte där patientuppgifter förekom{why}."
                    ),
                    format!(
                        "{actor} started a video recording of a meeting where patient data appeared{why}."
                    ),
                ),
                None => say(
                    lang,
                    format!("{actor} startade en videoinspelning av mötet."),
                    format!("{actor} started a video recording of the meeting."),
                ),
            };
            if e.saved_media == Some(Media::Audio) {
                s.push_str(&say(
                    lang,
                    " De sparade filerna innehåller enligt plattformen bara ljud.".into(),
                    " The platform reports that the saved files hold audio only.".into(),
                ));
            }
            s
        }
        "recording-audio" => {
            let mut sv = format!("{actor} startade en ljudinspelning av mötet");
            let mut en = format!("{actor} started an audio recording of the meeting");
            if e.actor_not_participant {
                sv.push_str(" utan att själv delta i samtalet");
                en.push_str(" without taking part in it");
            }
            if e.sensitive.is_some() {
                sv.push_str(&format!(", där patientuppgifter förekom{why}"));
                en.push_str(&format!(", where patient data appeared{why}"));
            }
            sv.push('.');
            en.push('.');
            say(lang, sv, en)
        }
        "transcription-sensitive" => say(
            lang,
            format!("{actor} startade transkribering av ett möte med patientuppgifter{why}."),
            format!("{actor} started transcription of a meeting with patient data{why}."),
        ),
        "control-external" => {
            let target = e.target.as_ref()?;
            let (to, kind) = (who(target), kind_word(target.kind?, lang));
            say(
                lang,
                format!(
                    "{actor} lämnade över kontrollen över sin dator till {to} ({kind}), som inte tillhör organisationen."
                ),
                format!(
                    "{actor} handed control of their computer to {to} ({kind}), who is outside the organisation."
                ),
            )
        }
        "control-sensitive" => {
            let to = who(e.target.as_ref()?);
            say(
                lang,
                format!(
                    "{actor} lämnade över kontrollen över sin dator till {to} under ett möte med patientuppgifter{why}."
                ),
                format!(
                    "{actor} handed control of their computer to {to} during a meeting with patient data{why}."
                ),
            )
        }
        "share-desktop" => say(
            lang,
            format!(
                "{actor} delade hela skrivbordet i stället för ett program under ett möte med patientuppgifter{why}."
            ),
            format!(
                "{actor} shared the whole desktop rather than one application in a meeting with patient data{why}."
            ),
        ),
        "share-sensitive" => say(
            lang,
            format!(
                "{actor} delade sin skärm under ett möte med patientuppgifter{why} medan deltagare utanför organisationen var med."
            ),
            format!(
                "{actor} shared their screen in a meeting with patient data{why} while participants from outside the organisation were present."
            ),
        ),
        "share-before-admitted" => say(
            lang,
            format!(
                "{actor} delade sin skärm medan någon väntade i lobbyn eller en anonym deltagare var med."
            ),
            format!(
                "{actor} shared their screen while someone waited in the lobby or an anonymous participant was present."
            ),
        ),
        "document-share" => say(
            lang,
            format!("{actor} delade ett dokument på skärmen under mötet."),
            format!("{actor} shared a document on screen in the meeting."),
        ),
        // The organiser is responsible; the one who joined is the target.
        "lobby-bypass" => {
            let joiner = e.target.as_ref()?;
            let (name, kind) = (who(joiner), kind_word(joiner.kind?, lang));
            say(
                lang,
                format!(
                    "{name} ({kind}) anslöt till mötet utan att först vänta i lobbyn och släppas in."
                ),
                format!(
                    "{name} ({kind}) joined the meeting without waiting in the lobby to be let in."
                ),
            )
        }
        "unidentified-participant" => {
            let joiner = e.target.as_ref()?;
            let (name, kind) = (who(joiner), kind_word(joiner.kind?, lang));
            say(
                lang,
                format!(
                    "En oidentifierad deltagare ({kind}, {name}) var med i ett möte med patientuppgifter{why}."
                ),
                format!(
                    "An unidentified participant ({kind}, {name}) was in a meeting with patient data{why}."
                ),
            )
        }
        "meeting-not-ended" if e.ended? => {
            let (how_sv, how_en) = match e.end_reason {
                Some(EndReason::LastLeft) => (
                    "när den sista deltagaren lämnade",
                    "when the last participant left",
                ),
                Some(EndReason::Timeout) => ("av en tidsgräns", "by a timeout"),
                _ => (
                    "av någon annan än organisatören eller ordföranden",
                    "by someone other than the organiser or chair",
                ),
            };
            say(
                lang,
                format!("Mötet avslutades inte av organisatören eller ordföranden utan {how_sv}."),
                format!("The meeting was not ended by its organiser or chair but {how_en}."),
            )
        }
        "meeting-not-ended" => {
            let hours = e.timeout_hours?;
            say(
                lang,
                format!(
                    "Mötet avslutades aldrig: inget avslut syns i loggarna, och det senaste som hände i mötet ligger mer än {hours} timmar bakåt."
                ),
                format!(
                    "The meeting was never ended: the logs show no end, and its last event is more than {hours} hours old."
                ),
            )
        }
        "platform-not-approved" => {
            let platform = inc.platform;
            say(
                lang,
                format!(
                    "Ett möte med patientuppgifter{why} hölls i {platform}, som inte är godkänt för känsliga möten."
                ),
                format!(
                    "A meeting with patient data{why} was held on {platform}, which is not approved for sensitive meetings."
                ),
            )
        }
        "large-sensitive-meeting" => {
            let (total, max) = (e.participants?, e.max_participants?);
            say(
                lang,
                format!(
                    "Ett möte med patientuppgifter{why} hade {total} deltagare, fler än {max}."
                ),
                format!(
                    "A meeting with patient data{why} had {total} participants, more than {max}."
                ),
            )
        }
        "chat-threat" => {
            let phrase = e.phrase.as_deref()?;
            say(
                lang,
                format!(
                    "{actor} skrev ett hot i mötets chatt (\"{phrase}\"). Kontakta ansvarig chef och radera inte konversationen."
                ),
                format!(
                    "{actor} wrote a threat in the meeting chat (\"{phrase}\"). Tell the line manager and do not delete the conversation."
                ),
            )
        }
        // The one who deleted is responsible; the sender is the target.
        "threat-deleted" => {
            let sender = who(e.target.as_ref()?);
            say(
                lang,
                format!(
                    "{actor} raderade ett chattmeddelande från {sender} som innehöll ett hot. Hot ska inte raderas, så att avsändaren kan spåras."
                ),
                format!(
                    "{actor} deleted a chat message from {sender} that held a threat. Threats must not be deleted, so the sender can be traced."
                ),
            )
        }
        "classified-information" => {
            let (phrase, field) = (e.phrase.as_deref()?, field_word(e.phrase_field?, lang));
            say(
                lang,
                format!(
                    "Säkerhetsskyddsklassificerad information (\"{phrase}\") förekom i {field} från {actor}; sådan information får inte utbytas i mötestjänsterna."
                ),
                format!(
                    "Security-classified information (\"{phrase}\") appeared in {field} from {actor}; it may not be exchanged through meeting services."
                ),
            )
        }
        crate::incident::ALERT_UNDELIVERABLE => {
            let d = e.undelivered.as_ref()?;
            let n = e.count.map_or(1, |c| c.n);
            let to = crate::report::shown(&inc.actor.id);
            match (d.channel.as_str(), d.permanent) {
                ("mail", true) => say(
                    lang,
                    format!(
                        "Ett larm om {n} incident(er) kunde inte levereras till {to}: e-postservern vägrade ta emot det. Mottagaren har inte fått veta; se motesvakt alerts --dead."
                    ),
                    format!(
                        "An alert of {n} incident(s) could not be delivered to {to}: the mail server refused it. The recipient has not been told; see motesvakt alerts --dead."
                    ),
                ),
                ("mail", false) => say(
                    lang,
                    format!(
                        "Ett larm om {n} incident(er) kunde inte levereras till {to} inom give_up_after. Mottagaren har inte fått veta; se motesvakt alerts --dead."
                    ),
                    format!(
                        "An alert of {n} incident(s) could not be delivered to {to} within give_up_after. The recipient has not been told; see motesvakt alerts --dead."
                    ),
                ),
                (_, true) => say(
                    lang,
                    format!(
                        "Ett larm om {n} incident(er) kunde inte levereras till webhooken: mottagaren svarade med ett permanent fel. Ingen har fått veta genom den; se motesvakt alerts --dead."
                    ),
                    format!(
                        "An alert of {n} incident(s) could not be delivered to the webhook: it answered with a permanent error. Nobody has been told through it; see motesvakt alerts --dead."
                    ),
                ),
                (_, false) => say(
                    lang,
                    format!(
                        "Ett larm om {n} incident(er) kunde inte levereras till webhooken inom give_up_after. Ingen har fått veta genom den; se motesvakt alerts --dead."
                    ),
                    format!(
                        "An alert of {n} incident(s) could not be delivered to the webhook within give_up_after. Nobody has been told through it; see motesvakt alerts --dead."
                    ),
                ),
            }
        }
        crate::incident::FEED_SILENT => {
            let d = e.silence.as_ref()?;
            let since = crate::i18n::time::date_time(d.since);
            let every = d.expect_minutes;
            let (platform, fill) = match d.source.as_str() {
                "zoom" => (
                    "Zoom",
                    "Zooms API för tidigare möten (past meeting participants)",
                ),
                "webex" => (
                    "Webex",
                    "Webex API för mötesdeltagare (meetingParticipants)",
                ),
                _ => ("Pexip", "Pexips history-API"),
            };
            let fill_en = match d.source.as_str() {
                "zoom" => "Zoom's past meeting participants API",
                "webex" => "Webex's meetingParticipants API",
                _ => "Pexip's history API",
            };
            say(
                lang,
                format!(
                    "Inget har kommit från {platform} sedan {since}, fast något väntas minst var {every}:e minut under arbetstid. Händelser kan ha gått förlorade: kontrollera flödet och fyll luckan från {fill} till en bevakad mapp."
                ),
                format!(
                    "Nothing has come from {platform} since {since}, though something is expected at least every {every} minutes during working hours. Events may be lost: check the feed and fill the gap from {fill_en} into a watched folder."
                ),
            )
        }
        _ => return None,
    };
    Some(text)
}

/// " (personnummer i chatten)" / " (care keyword in the subject)": why a meeting is sensitive.
fn why_sensitive(s: Option<&Sensitivity>, lang: Language) -> String {
    let Some(s) = s else {
        return String::new();
    };
    let field = s.field.map(|f| field_word(f, lang)).unwrap_or_default();
    let kind = s.kind.as_deref().unwrap_or_default();
    match (lang, s.reason.as_str()) {
        (Language::Sv, "patient_data") => format!(" ({kind} i {field})"),
        (Language::Sv, "care_keyword") => format!(" (vårdord \"{kind}\" i {field})"),
        (Language::Sv, "care_meeting") => " (mötesrummet är angivet som vårdmöte)".into(),
        (Language::Sv, _) => " (organisatören håller vårdmöten)".into(),
        (Language::En, "patient_data") => format!(" ({kind} in {field})"),
        (Language::En, "care_keyword") => format!(" (care keyword \"{kind}\" in {field})"),
        (Language::En, "care_meeting") => " (the room is configured as care work)".into(),
        (Language::En, _) => " (the organiser's meetings are care work)".into(),
    }
}

/// The kinds of the findings, sorted, each once: "personnummer, samordningsnummer".
fn kinds(findings: &[EvidenceFinding]) -> String {
    let mut k: Vec<&str> = findings.iter().map(|f| f.kind.as_str()).collect();
    k.sort_unstable();
    k.dedup();
    k.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An incident as an older version stored it: no `ended`, `timeout_hours`,
    /// `max_participants` or `phrase_field` in its evidence.
    fn stored(rule: &str, evidence: &str) -> Incident {
        let body = format!(
            r#"{{"id":"0123456789abcdef","rule":"{rule}","severity":"low","platform":"teams",
            "meeting":"m1","time":"2020-05-04T08:00:00Z",
            "actor":{{"id":"anna@region.se","name":"Anna Berg","kind":"internal"}},
            "profile":"vgr-samsa","routine":{{"file":"r.md","section":"6.3"}},
            "summary":"Som det lagrades.","evidence":{evidence}}}"#
        );
        serde_json::from_str(&body).expect("an old incident still reads")
    }

    #[test]
    fn an_old_incident_lacking_what_its_sentence_needs_reads_as_stored() {
        for (rule, evidence) in [
            ("meeting-not-ended", "{}"),
            ("large-sensitive-meeting", r#"{"participants":40}"#),
            ("classified-information", r#"{"phrase":"HEMLIG"}"#),
            ("control-external", "{}"),
            ("no-such-rule", "{}"),
        ] {
            let inc = stored(rule, evidence);
            assert_eq!(render_summary(&inc, Language::En), None, "{rule}");
            assert_eq!(summary(&inc, Language::En), "Som det lagrades.", "{rule}");
        }
    }

    #[test]
    fn an_old_incident_with_what_its_sentence_needs_reads_in_either_language() {
        let inc = stored("meeting-not-ended", r#"{"end_reason":"last_left"}"#);
        assert_eq!(summary(&inc, Language::Sv), "Som det lagrades.");
        let inc = stored(
            "recording-video",
            r#"{"media":"video","saved_media":"audio"}"#,
        );
        assert_eq!(
            summary(&inc, Language::Sv),
            "Anna Berg startade en videoinspelning av mötet. De sparade filerna innehåller enligt plattformen bara ljud."
        );
        assert_eq!(
            summary(&inc, Language::En),
            "Anna Berg started a video recording of the meeting. The platform reports that the saved files hold audio only."
        );
    }

    #[test]
    fn the_new_evidence_renders_each_variant() {
        let mut inc = stored("meeting-not-ended", "{}");
        inc.evidence.ended = Some(false);
        inc.evidence.timeout_hours = Some(12);
        assert!(summary(&inc, Language::En).contains("more than 12 hours old"));
        inc.evidence.ended = Some(true);
        assert_eq!(
            summary(&inc, Language::Sv),
            "Mötet avslutades inte av organisatören eller ordföranden utan av någon annan än organisatören eller ordföranden."
        );
        let mut inc = stored("classified-information", r#"{"phrase":"HEMLIG"}"#);
        inc.evidence.phrase_field = Some(crate::event::TextField::Subject);
        assert_eq!(
            summary(&inc, Language::Sv),
            "Säkerhetsskyddsklassificerad information (\"HEMLIG\") förekom i ämnesraden från Anna Berg; sådan information får inte utbytas i mötestjänsterna."
        );
        let mut inc = stored(
            "large-sensitive-meeting",
            r#"{"participants":40,"sensitive":{"time":"2020-05-04T08:00:00Z","reason":"care_meeting"}}"#,
        );
        inc.evidence.max_participants = Some(30);
        assert_eq!(
            summary(&inc, Language::En),
            "A meeting with patient data (the room is configured as care work) had 40 participants, more than 30."
        );
    }
}
