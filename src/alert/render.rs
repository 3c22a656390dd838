//! The text of an alert mail, rendered when it is sent from the stored incidents, in Swedish
//! or English. Only what the issue allows goes in: rule, severity, platform, meeting id, Swedish
//! local time, who, the routine and its section, counts. Never the summary, a phrase, a file
//! name or a finding; every value is passed through [`crate::report::shown`] (identity numbers
//! redacted, controls escaped), and header values lose CR and LF.

use crate::i18n::{Language, rule_title, who};
use crate::incident::Incident;

use super::Role;

/// A mail's subject and plain-text body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub subject: String,
    pub body: String,
}

/// A value for a mail header: no CR, LF or other control character, identity numbers
/// redacted.
pub fn header_value(s: &str) -> String {
    crate::report::shown(s)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn value(s: &str) -> String {
    crate::report::shown(s).replace(['\r', '\n'], " ")
}

/// Whether an incident may be a personal-data breach to report to IMY within 72 hours of
/// discovery (GDPR art. 33): patient data reached someone outside the organisation.
pub fn reportable(inc: &Incident) -> bool {
    use crate::incident::Severity;
    let e = &inc.evidence;
    match inc.rule.as_str() {
        "chat-patient-data" => inc.severity == Severity::Critical,
        "file-patient-data" => e.external_present,
        "recording-video" | "recording-audio" => e.external_present && e.sensitive.is_some(),
        _ => false,
    }
}

/// The mail for `incidents` (one recipient, one meeting; with `digest`, the day's incidents
/// below the immediate severity, all meetings), most severe first. `discovered`:
/// when motesvakt first wrote the alert (the start of the IMY deadline).
pub fn alert_mail(
    incidents: &[Incident],
    role: Role,
    lang: Language,
    discovered: jiff::Timestamp,
    digest: bool,
) -> Mail {
    let mut incs: Vec<&Incident> = incidents.iter().collect();
    incs.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.time.cmp(&b.time)));
    let Some(first) = incs.first() else {
        return Mail {
            subject: "[motesvakt]".into(),
            body: String::new(),
        };
    };
    let more = match (incs.len(), lang) {
        (n, Language::Sv) if digest => format!(" och {} till", n.saturating_sub(1)),
        (n, Language::En) if digest => format!(" and {} more", n.saturating_sub(1)),
        (1, _) => String::new(),
        (n, Language::Sv) => format!(" (och {} till)", n - 1),
        (n, Language::En) => format!(" (and {} more)", n - 1),
    };
    let subject = if digest {
        let word = match lang {
            Language::Sv => "Dagens sammanfattning",
            Language::En => "Daily digest",
        };
        let more = if incs.len() > 1 { more } else { String::new() };
        header_value(&format!(
            "[motesvakt] {word}: {} {}{more}",
            first.severity.label(lang),
            rule_title(&first.rule, lang),
        ))
    } else {
        header_value(&format!(
            "[motesvakt] {}: {}{more}",
            first.severity.label(lang),
            rule_title(&first.rule, lang),
        ))
    };
    let mut body = String::new();
    let (intro, why) = match lang {
        Language::Sv => (
            "motesvakt har hittat avsteg från rutinen för distansmöten.",
            match role {
                Role::Manager => "Du får detta som chef för den som ansvarar.",
                Role::ItSecurity => "Du får detta som IT-säkerhet.",
                Role::NoManager => {
                    "Ingen chef finns i katalogen för den som ansvarar: IT-säkerhet får larmet i chefens ställe."
                }
                Role::Escalation => {
                    "Du får detta som IT-säkerhet, igen: ingen har kvitterat incidenten."
                }
            },
        ),
        Language::En => (
            "motesvakt found breaches of the remote-meeting routine.",
            match role {
                Role::Manager => "You receive this as the manager of the person responsible.",
                Role::ItSecurity => "You receive this as IT security.",
                Role::NoManager => {
                    "No manager is in the directory for the person responsible: IT security receives the alert instead."
                }
                Role::Escalation => {
                    "You receive this as IT security, again: nobody has acknowledged the incident."
                }
            },
        ),
    };
    body.push_str(intro);
    body.push('\n');
    body.push_str(why);
    body.push_str("\n\n");
    if incs.iter().any(|i| reportable(i)) {
        let deadline =
            crate::i18n::time::date_time(discovered + jiff::SignedDuration::from_hours(72));
        body.push_str(&match lang {
            Language::Sv => format!(
                "MÖJLIG PERSONUPPGIFTSINCIDENT: patientuppgifter kan ha nått någon utanför organisationen. Den kan behöva anmälas till IMY inom 72 timmar från upptäckten, senast {deadline}.\n\n"
            ),
            Language::En => format!(
                "POSSIBLE PERSONAL DATA BREACH: patient data may have reached someone outside the organisation. It may have to be reported to IMY within 72 hours of discovery, by {deadline}.\n\n"
            ),
        });
    }
    for inc in &incs {
        for (label, v) in incident_lines(inc, lang) {
            body.push_str(&format!("{label}: {v}\n"));
        }
        body.push_str(&format!("Id: {}\n\n", value(&inc.id)));
    }
    body.push_str(match lang {
        Language::Sv => "Hela rapporten: motesvakt incidents --since <tid> på servern.\n",
        Language::En => "The full report: motesvakt incidents --since <time> on the server.\n",
    });
    Mail { subject, body }
}

/// What an alert tells of one incident, as (label, value) in `lang`: severity, rule, platform,
/// meeting, Swedish local time, who is responsible, routine and section, the number of
/// findings. Every value is redacted and on one line.
pub fn incident_lines(inc: &Incident, lang: Language) -> [(&'static str, String); 8] {
    let labels: [&str; 8] = match lang {
        Language::Sv => [
            "Allvarlighet",
            "Regel",
            "Plattform",
            "Möte",
            "Tid",
            "Ansvarig",
            "Rutin",
            "Fynd",
        ],
        Language::En => [
            "Severity",
            "Rule",
            "Platform",
            "Meeting",
            "Time",
            "Responsible",
            "Routine",
            "Findings",
        ],
    };
    let values = [
        inc.severity.label(lang).to_string(),
        format!("{} ({})", rule_title(&inc.rule, lang), inc.rule),
        inc.platform.as_str().to_string(),
        inc.meeting.clone(),
        crate::i18n::time::date_time(inc.time),
        who(&inc.actor).to_string(),
        if inc.rule == crate::incident::ALERT_UNDELIVERABLE
            || inc.rule == crate::incident::FEED_SILENT
        {
            match lang {
                Language::Sv => "inget avsteg från rutinen: motesvakts eget larm".to_string(),
                Language::En => "not a breach of the routine: motesvakt's own alert".to_string(),
            }
        } else {
            format!("{} {}", inc.routine.file, inc.routine.section)
        },
        inc.evidence.findings.len().to_string(),
    ];
    let mut out = labels.map(|l| (l, String::new()));
    for (o, v) in out.iter_mut().zip(values) {
        o.1 = value(&v);
    }
    out
}

/// One incident in one line, for a chat tool or a SIEM: "Hög: videoinspelning … (rule).
/// Plattform: teams. Möte: …". Redacted like the mail.
pub fn one_line(inc: &Incident, lang: Language) -> String {
    let lines = incident_lines(inc, lang);
    let mut out = format!("{}: {}", lines[0].1, lines[1].1);
    for (label, v) in &lines[2..] {
        out.push_str(&format!(". {label}: {v}"));
    }
    out
}

/// The escalation of a possible IMY case nobody acknowledged within `after`: the alert again,
/// to IT security, with the time left at `now` until the 72-hour deadline counted from
/// `discovered` (its first alert).
pub fn escalation_mail(
    incidents: &[Incident],
    lang: Language,
    discovered: jiff::Timestamp,
    after: std::time::Duration,
    now: jiff::Timestamp,
) -> Mail {
    let mail = alert_mail(incidents, Role::Escalation, lang, discovered, false);
    let deadline = discovered + jiff::SignedDuration::from_hours(72);
    let left = deadline.duration_since(now);
    let (h, m) = (left.as_secs() / 3600, (left.as_secs() % 3600) / 60);
    let after = super::duration_text(after);
    let id = incidents.first().map(|i| value(&i.id)).unwrap_or_default();
    let (prefix, text) = match lang {
        Language::Sv => (
            "Eskalering",
            if left.is_positive() {
                format!(
                    "ESKALERING: ingen har kvitterat denna möjliga personuppgiftsincident inom {after} efter det första larmet. Tid kvar till IMY-fristen: {h} h {m} min.\nKvittera: motesvakt incidents ack {id} --by NAMN\n\n"
                )
            } else {
                format!(
                    "ESKALERING: ingen har kvitterat denna möjliga personuppgiftsincident inom {after} efter det första larmet. IMY-fristen har gått ut.\nKvittera: motesvakt incidents ack {id} --by NAMN\n\n"
                )
            },
        ),
        Language::En => (
            "Escalation",
            if left.is_positive() {
                format!(
                    "ESCALATION: nobody has acknowledged this possible personal data breach within {after} of the first alert. Time left until the IMY deadline: {h} h {m} min.\nAcknowledge: motesvakt incidents ack {id} --by NAME\n\n"
                )
            } else {
                format!(
                    "ESCALATION: nobody has acknowledged this possible personal data breach within {after} of the first alert. The IMY deadline has passed.\nAcknowledge: motesvakt incidents ack {id} --by NAME\n\n"
                )
            },
        ),
    };
    Mail {
        subject: header_value(&mail.subject.replacen(
            "[motesvakt] ",
            &format!("[motesvakt] {prefix}: "),
            1,
        )),
        body: format!("{text}{}", mail.body),
    }
}

/// `mail` as the one mail of what the hourly cap held back: "N more incidents".
pub fn capped(mail: Mail, n: usize, lang: Language) -> Mail {
    let (subject, why) = match lang {
        Language::Sv => (
            format!("[motesvakt] {n} incidenter till"),
            "Gränsen för larm per timme nåddes: dessa hölls tillbaka och kommer här i ett brev.",
        ),
        Language::En => (
            format!("[motesvakt] {n} more incidents"),
            "The limit of alerts per hour was reached: these were held back and come in one mail.",
        ),
    };
    Mail {
        subject,
        body: format!("{why}\n\n{}", mail.body),
    }
}

/// The test mail of `motesvakt test-alert`.
pub fn test_mail(lang: Language) -> Mail {
    match lang {
        Language::Sv => Mail {
            subject: "[motesvakt] Testlarm".into(),
            body: "Detta är ett testlarm från motesvakt: e-post till dig fungerar.\n".into(),
        },
        Language::En => Mail {
            subject: "[motesvakt] Test alert".into(),
            body: "This is a test alert from motesvakt: mail to you works.\n".into(),
        },
    }
}
