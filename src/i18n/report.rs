//! The words of `motesvakt report`, in Swedish and English: headings and labels, the events of a
//! meeting's timeline, what the manager is expected to do, and the drafts of an IMY
//! notification and an avvikelse. Only words live here: the facts come from the report model.

use std::collections::BTreeMap;

use super::Language;
use crate::incident::Incident;

/// Picks the text in `lang`.
fn pick(lang: Language, sv: &'static str, en: &'static str) -> &'static str {
    match lang {
        Language::Sv => sv,
        Language::En => en,
    }
}

/// Every heading and label of a report, by key, in `lang`.
pub fn labels(lang: Language) -> BTreeMap<&'static str, &'static str> {
    const L: &[(&str, &str, &str)] = &[
        (
            "title",
            "Rapport om distansmöten",
            "Report on remote meetings",
        ),
        (
            "classification",
            "Innehåller inga personnummer eller chattexter: identitetsnummer visas maskerade.",
            "Holds no identity numbers nor chat texts: identity numbers are shown masked.",
        ),
        ("generated", "Skapad", "Generated"),
        ("period", "Period", "Period"),
        ("from", "från", "from"),
        ("until", "till", "until"),
        ("beginning", "början", "the beginning"),
        ("now", "nu", "now"),
        ("scope", "Omfattning", "Scope"),
        ("scope_all", "hela organisationen", "the whole organisation"),
        ("scope_unit", "enhet", "unit"),
        ("scope_manager", "chef", "manager"),
        ("scope_person", "person", "person"),
        (
            "summary",
            "Sammanfattning för perioden",
            "Figures of the period",
        ),
        ("incidents_total", "Incidenter", "Incidents"),
        (
            "by_rule",
            "Per regel och allvarlighet",
            "By rule and severity",
        ),
        ("rule", "Regel", "Rule"),
        ("total", "Totalt", "Total"),
        ("per_week", "Incidenter per vecka", "Incidents per week"),
        ("week", "Vecka", "Week"),
        ("count", "Antal", "Count"),
        ("top", "Vanligaste avstegen", "Most frequent breaches"),
        (
            "repeats",
            "Upprepade avsteg per person",
            "Repeat occurrences per person",
        ),
        (
            "no_repeats",
            "Ingen person har mer än ett avsteg.",
            "Nobody has more than one breach.",
        ),
        (
            "open",
            "Öppna ärenden och deras ålder",
            "Open items and their age",
        ),
        ("no_open", "Inga öppna ärenden.", "No open items."),
        ("age_days", "Ålder (dagar)", "Age (days)"),
        (
            "imy_deadlines",
            "IMY-frister (72 timmar)",
            "IMY deadlines (72 hours)",
        ),
        (
            "no_deadlines",
            "Inga möjliga personuppgiftsincidenter öppna.",
            "No possible personal-data breaches open.",
        ),
        ("deadline", "Senast", "By"),
        ("hours_left", "Timmar kvar", "Hours left"),
        ("overdue", "försenad", "overdue"),
        (
            "blind_spots",
            "Blinda fläckar i källorna",
            "Blind spots of the sources",
        ),
        (
            "blind_spots_intro",
            "Regler som inte kan slå till för periodens plattformar, eftersom deras exporter saknar händelsen:",
            "Rules that cannot fire for this period's platforms, because their exports lack the event:",
        ),
        (
            "no_blind_spots",
            "Inga: källorna bär allt reglerna behöver.",
            "None: the sources carry all the rules need.",
        ),
        (
            "no_platforms",
            "inga (inga händelser i perioden)",
            "none (no events in the period)",
        ),
        (
            "platforms",
            "Plattformar i perioden",
            "Platforms in the period",
        ),
        ("missing", "saknar", "lacks"),
        (
            "missing_col",
            "Saknas i exporten",
            "Missing from the exports",
        ),
        (
            "no_incidents",
            "Inga incidenter i perioden.",
            "No incidents in the period.",
        ),
        ("incident", "Incident", "Incident"),
        ("what", "Vad hände", "What happened"),
        ("when", "När", "When"),
        ("who", "Vem", "Who"),
        ("unit", "Enhet", "Unit"),
        ("manager", "Chef", "Manager"),
        ("meeting", "Möte", "Meeting"),
        ("platform", "Plattform", "Platform"),
        ("subject", "Ämne", "Subject"),
        (
            "subject_hidden",
            "visas inte (kan innehålla patientuppgifter eller saknas)",
            "not shown (may hold patient data, or missing)",
        ),
        ("severity", "Allvarlighet", "Severity"),
        ("routine", "Rutin", "Routine"),
        ("section", "Avsnitt", "Section"),
        ("quote", "Rutinen säger", "The routine says"),
        ("evidence", "Underlag (maskerat)", "Evidence (masked)"),
        (
            "timeline",
            "Mötets förlopp",
            "The meeting's course of events",
        ),
        (
            "timeline_empty",
            "Mötets händelser finns inte längre kvar i databasen.",
            "The meeting's events are no longer kept in the database.",
        ),
        (
            "timeline_omitted",
            "händelser till visas inte",
            "more events not shown",
        ),
        ("trigger", "← incidenten", "← the incident"),
        (
            "action",
            "Vad du som chef behöver göra",
            "What you as manager need to do",
        ),
        ("status", "Status", "Status"),
        ("history", "Historik", "History"),
        (
            "no_history",
            "Inga ändringar: öppen sedan den upptäcktes.",
            "No changes: open since it was found.",
        ),
        (
            "severity_history",
            "Allvarlighet, ändringar",
            "Severity changes",
        ),
        ("by", "av", "by"),
        ("reason", "skäl", "reason"),
        ("note", "anteckning", "note"),
        (
            "imy_draft",
            "Utkast: anmälan av personuppgiftsincident till IMY",
            "Draft: personal data breach notification to IMY",
        ),
        (
            "avvikelse_draft",
            "Utkast: avvikelserapport",
            "Draft: deviation report (avvikelse)",
        ),
        ("id", "Id", "Id"),
    ];
    L.iter()
        .map(|&(k, sv, en)| (k, pick(lang, sv, en)))
        .collect()
}

/// An event type of a meeting's timeline, as words in `lang`.
pub fn event_word(event: &str, lang: Language) -> &'static str {
    let (sv, en) = match event {
        "meeting_started" => ("mötet startade", "meeting started"),
        "meeting_ended" => ("mötet avslutades", "meeting ended"),
        "participant_joined" => ("anslöt", "joined"),
        "participant_admitted" => ("släppte in", "admitted"),
        "participant_left" => ("lämnade", "left"),
        "recording_started" => ("startade inspelning", "started a recording"),
        "recording_stopped" => ("stoppade inspelning", "stopped the recording"),
        "recording_completed" => ("inspelning sparad", "recording saved"),
        "transcription_started" => ("startade transkribering", "started transcription"),
        "transcription_stopped" => ("stoppade transkribering", "stopped transcription"),
        "screen_share_started" => ("började dela skärm", "started sharing the screen"),
        "screen_share_stopped" => ("slutade dela skärm", "stopped sharing the screen"),
        "control_granted" => ("lämnade över kontrollen till", "handed control to"),
        "control_revoked" => ("tog tillbaka kontrollen från", "took control back from"),
        "chat_message" => ("skrev i chatten", "wrote in the chat"),
        "chat_message_deleted" => ("raderade ett chattmeddelande", "deleted a chat message"),
        "file_shared" => ("delade en fil", "shared a file"),
        "invitation" => ("kallelse", "invitation"),
        _ => ("händelse", "event"),
    };
    pick(lang, sv, en)
}

/// "innehöll: personnummer" for the findings of a timeline event.
pub fn found_words(kinds: &[String], lang: Language) -> String {
    if kinds.is_empty() {
        return String::new();
    }
    format!("{}: {}", pick(lang, "innehöll", "held"), kinds.join(", "))
}

/// What the manager is expected to do about `inc`, in `lang`: make the routine known, act on
/// misuse; an avvikelse; within 72 hours a personuppgiftsincident to IMY where it may apply.
pub fn manager_actions(inc: &Incident, reportable: bool, lang: Language) -> Vec<String> {
    let mut out = Vec::new();
    let sv = lang == Language::Sv;
    let routine = &inc.routine.section;
    if inc.rule == crate::incident::ALERT_UNDELIVERABLE {
        out.push(
            pick(
                lang,
                "Inget avsteg från rutinen: ett larm nådde inte fram. IT-säkerhet kontrollerar larmkanalen.",
                "Not a breach of the routine: an alert did not get through. IT security checks the alert channel.",
            )
            .to_string(),
        );
        return out;
    }
    out.push(if sv {
        format!("Prata med medarbetaren om det som hände och gå igenom rutinens avsnitt ”{routine}”, så att rutinen är känd.")
    } else {
        format!("Talk to the employee about what happened and go through the routine's section \"{routine}\", so that the routine is known.")
    });
    let specific = match inc.rule.as_str() {
        "chat-patient-data"
        | "file-patient-data"
        | "invitation-patient-data"
        | "identifier-patient-data" => pick(
            lang,
            "Se till att uppgiften tas bort där det går (meddelandet, filen, kallelsen eller namnet) och att patientuppgifter framöver bara hanteras i journalsystemet eller i samtalet.",
            "See that the data is removed where possible (the message, file, invitation or name) and that patient data is from now on handled only in the record system or in the conversation.",
        ),
        "recording-video" | "recording-audio" | "transcription-sensitive" => pick(
            lang,
            "Se till att inspelningen eller utskriften raderas om den innehåller patientuppgifter, och ta reda på varför den startades.",
            "See that the recording or transcript is deleted if it holds patient data, and find out why it was started.",
        ),
        "chat-threat" | "threat-deleted" => pick(
            lang,
            "Ett hot ska tas på allvar: kontakta medarbetaren, bedöm om polisanmälan behövs och spara konversationen.",
            "A threat must be taken seriously: contact the employee, judge whether to report it to the police, and keep the conversation.",
        ),
        "classified-information" => pick(
            lang,
            "Kontakta säkerhetsskyddschefen omgående: säkerhetsskyddsklassificerad information får inte hanteras i tjänsten.",
            "Contact the security protection officer at once: classified information may not be handled in the service.",
        ),
        _ => pick(
            lang,
            "Kontrollera mötets inställningar tillsammans med medarbetaren så att det inte upprepas.",
            "Check the meeting's settings with the employee so that it does not happen again.",
        ),
    };
    out.push(specific.to_string());
    out.push(
        pick(
            lang,
            "Vid upprepat eller medvetet avsteg: agera enligt verksamhetens rutin för missbruk av IT-tjänster.",
            "If the breach is repeated or deliberate: act under the unit's routine for misuse of IT services.",
        )
        .to_string(),
    );
    out.push(
        pick(
            lang,
            "Rapportera en avvikelse i regionens avvikelsesystem (utkast nedan).",
            "Report an avvikelse (deviation) in the region's deviation system (draft below).",
        )
        .to_string(),
    );
    if reportable {
        out.push(
            pick(
                lang,
                "Möjlig personuppgiftsincident: kontakta dataskyddsombudet och IT-säkerhet genast. Den ska anmälas till IMY inom 72 timmar från upptäckten, om den inte bedöms osannolik att medföra risk (utkast nedan).",
                "Possible personal data breach: contact the data protection officer and IT security at once. It must be notified to IMY within 72 hours of discovery, unless it is judged unlikely to result in a risk (draft below).",
            )
            .to_string(),
        );
    }
    out
}

/// The likely consequences of an incident for the people concerned, in `lang`.
pub fn consequences(inc: &Incident, lang: Language) -> &'static str {
    match inc.rule.as_str() {
        "chat-patient-data"
        | "file-patient-data"
        | "invitation-patient-data"
        | "identifier-patient-data" => pick(
            lang,
            "Patientuppgifter som omfattas av sekretess (OSL 25 kap.) kan ha blivit kända för obehöriga, även utanför organisationen, och finns kvar i plattformens historik. Risk för integritetsintrång; risk för vårdskada bedöms inte föreligga.",
            "Patient data covered by secrecy (OSL ch. 25) may have become known to unauthorised people, also outside the organisation, and stays in the platform's history. Risk of intrusion into privacy; no risk of harm to care is judged to exist.",
        ),
        "recording-video" | "recording-audio" | "transcription-sensitive" => pick(
            lang,
            "Ett samtal med patientuppgifter kan ha sparats hos plattformen och nåtts av deltagare utanför organisationen. Risk för integritetsintrång.",
            "A conversation with patient data may have been saved by the platform and reached by participants outside the organisation. Risk of intrusion into privacy.",
        ),
        _ => pick(
            lang,
            "Uppgifter kan ha visats för obehöriga. Konsekvensen bedöms av IT-säkerhet.",
            "Data may have been shown to unauthorised people. IT security assesses the consequence.",
        ),
    }
}

/// The fields of the IMY draft, as (label, value) in `lang`, from facts the caller gives
/// (times already written for people). Names no patient, no identity number.
pub struct ImyFacts<'a> {
    pub what: &'a str,
    pub happened: &'a str,
    pub discovered: &'a str,
    pub deadline: &'a str,
    pub late: bool,
    pub platform: &'a str,
    pub people: usize,
    pub domains: &'a [String],
    pub consequences: &'a str,
    pub measures: &'a [String],
}

/// The IMY draft (GDPR art. 33(3)): what happened, when discovered, categories and approximate
/// number of people concerned, likely consequences, measures taken.
pub fn imy_draft(f: &ImyFacts<'_>, lang: Language) -> Vec<(&'static str, String)> {
    let sv = lang == Language::Sv;
    let mut v = vec![
        (pick(lang, "Vad hände", "What happened"), f.what.to_string()),
        (pick(lang, "När inträffade incidenten", "When it happened"), f.happened.to_string()),
        (
            pick(lang, "När upptäcktes incidenten", "When it was discovered"),
            if sv {
                format!("{} (av motesvakt; ange när IT-säkerhet bekräftade den om det var senare)", f.discovered)
            } else {
                format!("{} (by motesvakt; give when IT security confirmed it if that was later)", f.discovered)
            },
        ),
        (pick(lang, "Anmälan senast", "Notify by"), f.deadline.to_string()),
        (pick(lang, "Var", "Where"), f.platform.to_string()),
        (
            pick(lang, "Vilka grupper tillhör de registrerade", "Categories of people concerned"),
            pick(lang, "patienter", "patients").to_string(),
        ),
        (
            pick(lang, "Ungefärligt antal registrerade", "Approximate number of people concerned"),
            if sv {
                format!("minst {} (olika identitetsnummer i underlaget)", f.people)
            } else {
                format!("at least {} (distinct identity numbers in the evidence)", f.people)
            },
        ),
        (
            pick(lang, "Vilken sorts personuppgifter", "Categories of personal data"),
            pick(
                lang,
                "personnummer; sannolikt uppgifter om hälsa; sekretessbelagda uppgifter (OSL 25 kap.)",
                "identity numbers (personnummer); probably data concerning health; data covered by secrecy (OSL ch. 25)",
            )
            .to_string(),
        ),
        (
            pick(lang, "Mottagare utanför organisationen", "Recipients outside the organisation"),
            if f.domains.is_empty() {
                pick(lang, "okänt (inga domäner i loggarna)", "unknown (no domains in the logs)").to_string()
            } else {
                f.domains.join(", ")
            },
        ),
        (pick(lang, "Sannolika konsekvenser", "Likely consequences"), f.consequences.to_string()),
        (
            pick(lang, "Vidtagna åtgärder", "Measures taken"),
            if f.measures.is_empty() {
                pick(lang, "inga registrerade ännu (fyll i: meddelandet borttaget, chefen informerad ...)", "none recorded yet (fill in: message removed, manager informed ...)").to_string()
            } else {
                f.measures.join("; ")
            },
        ),
        (
            pick(lang, "Information till de registrerade", "Informing the people concerned"),
            pick(lang, "bedöms av dataskyddsombudet (art. 34)", "assessed by the data protection officer (art. 34)").to_string(),
        ),
    ];
    if f.late {
        v.push((
            pick(lang, "Skäl till försening", "Reasons for the delay"),
            pick(
                lang,
                "(fyll i: fristen på 72 timmar har passerat)",
                "(fill in: the 72-hour deadline has passed)",
            )
            .to_string(),
        ));
    }
    v
}

/// The avvikelse draft (HSLF-FS 2017:40, SOSFS 2011:9), as (label, value) in `lang`.
pub struct AvvikelseFacts<'a> {
    pub what: &'a str,
    pub when: &'a str,
    pub unit: &'a str,
    pub rule: &'a str,
    pub routine: &'a str,
    pub course: &'a str,
    pub consequences: &'a str,
    pub actions: &'a [String],
    pub manager: &'a str,
    pub imy: bool,
}

pub fn avvikelse_draft(f: &AvvikelseFacts<'_>, lang: Language) -> Vec<(&'static str, String)> {
    vec![
        (
            pick(lang, "Händelse", "Event"),
            format!("{} ({})", f.rule, f.routine),
        ),
        (
            pick(lang, "Datum och tid", "Date and time"),
            f.when.to_string(),
        ),
        (pick(lang, "Verksamhet/enhet", "Unit"), f.unit.to_string()),
        (
            pick(lang, "Typ", "Type"),
            pick(
                lang,
                "informationssäkerhet / sekretess / patientdata",
                "information security / secrecy / patient data",
            )
            .to_string(),
        ),
        (pick(lang, "Beskrivning", "Description"), f.what.to_string()),
        (
            pick(lang, "Händelseförlopp", "Course of events"),
            f.course.to_string(),
        ),
        (
            pick(
                lang,
                "Konsekvens för patient",
                "Consequence for the patient",
            ),
            format!(
                "{} {}",
                f.consequences,
                pick(
                    lang,
                    "Risk för vårdskada: bedöms ej.",
                    "Risk of harm in care: not assessed."
                )
            ),
        ),
        (
            pick(lang, "Orsak (förslag)", "Cause (suggested)"),
            pick(
                lang,
                "(fyll i: t.ex. okunskap om rutinen, förvald inställning)",
                "(fill in: e.g. the routine not known, a default setting)",
            )
            .to_string(),
        ),
        (
            pick(lang, "Förslag till åtgärd", "Proposed action"),
            f.actions.join(" "),
        ),
        (
            pick(lang, "Ansvarig chef", "Manager responsible"),
            f.manager.to_string(),
        ),
        (
            pick(lang, "Uppföljning (datum)", "Follow-up (date)"),
            pick(lang, "(fyll i)", "(fill in)").to_string(),
        ),
        (
            pick(lang, "Koppling", "Related reports"),
            if f.imy {
                pick(
                    lang,
                    "IMY-anmälan: ja, bedöms; lex Maria: bedömd nej",
                    "IMY notification: yes, to be assessed; lex Maria: assessed no",
                )
                .to_string()
            } else {
                pick(
                    lang,
                    "IMY-anmälan: nej; lex Maria: bedömd nej",
                    "IMY notification: no; lex Maria: assessed no",
                )
                .to_string()
            },
        ),
    ]
}

/// The word for a value nobody knows (no unit in the directory).
pub fn unknown(lang: Language) -> &'static str {
    pick(lang, "okänd", "unknown")
}

/// How the IMY draft names the employee: not at all.
pub fn employee(lang: Language) -> &'static str {
    pick(lang, "En medarbetare", "An employee")
}
