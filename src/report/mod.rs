//! Rendering incidents and scan summaries for people and machines.
//!
//! Everything rendered here comes from incidents, which are built from redacted observations:
//! no patient data can reach this module.

use std::fmt::Write;

use serde::Serialize;

use crate::config::Language;
use crate::rules::{Incident, Severity, confidence_word, field_word, kind_word, who};
use crate::scan::{Reported, Stats};
use crate::store::Outcome;

/// One incident as a JSON object on one line (`scan --json`).
pub fn json_line(r: &Reported) -> String {
    #[derive(Serialize)]
    struct Line<'a> {
        #[serde(flatten)]
        incident: &'a Incident,
        /// `new`, or `raised` when late evidence raised an earlier incident's severity.
        status: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        previous_severity: Option<Severity>,
    }
    let (status, previous_severity) = match r.outcome {
        Outcome::New | Outcome::Known => ("new", None),
        Outcome::Raised { from } => ("raised", Some(from)),
    };
    serde_json::to_string(&Line {
        incident: &r.incident,
        status,
        previous_severity,
    })
    .unwrap_or_default()
}

/// One incident as a readable block of text.
pub fn text_block(r: &Reported, lang: Language) -> String {
    let i = &r.incident;
    let sv = lang == Language::Sv;
    let mut s = String::new();
    let raised = match r.outcome {
        Outcome::Raised { from } => {
            if sv {
                format!(" (höjd från {})", from.label(lang))
            } else {
                format!(" (raised from {})", from.label(lang))
            }
        }
        _ => String::new(),
    };
    let _ = writeln!(
        s,
        "{}{raised}  {}  {}  {} {} {}",
        i.severity.label(lang),
        i.rule,
        i.time.strftime("%Y-%m-%d %H:%M:%S UTC"),
        i.platform,
        if sv { "möte" } else { "meeting" },
        i.meeting
    );
    let _ = writeln!(s, "    {}", i.summary);
    let _ = writeln!(
        s,
        "    {}: {}, {} ({} {})",
        if sv { "Rutin" } else { "Routine" },
        i.routine.file,
        i.routine.section,
        if sv { "profil" } else { "profile" },
        i.profile
    );
    let mut evidence = Vec::new();
    for f in &i.evidence.findings {
        evidence.push(format!(
            "{} {} ({} {}, {} {}, hash {})",
            f.kind,
            f.redacted,
            if sv { "i" } else { "in" },
            field_word(f.field, lang),
            if sv { "konfidens" } else { "confidence" },
            confidence_word(f.confidence, lang),
            f.hash
        ));
    }
    if let Some(t) = &i.evidence.target {
        evidence.push(format!(
            "{}: {} <{}> ({})",
            if sv { "mottagare" } else { "recipient" },
            who(t),
            t.id,
            t.kind.map_or("?", |k| kind_word(k, lang))
        ));
    }
    if let Some(sens) = &i.evidence.sensitive {
        evidence.push(format!(
            "{}: {} {} {} {}",
            if sv {
                "känsligt möte"
            } else {
                "sensitive meeting"
            },
            sens.kind,
            if sv { "i" } else { "in" },
            field_word(sens.field, lang),
            sens.time.strftime("%H:%M:%S UTC")
        ));
    }
    if !evidence.is_empty() {
        let _ = writeln!(
            s,
            "    {}: {}",
            if sv { "Underlag" } else { "Evidence" },
            evidence.join("; ")
        );
    }
    let _ = writeln!(
        s,
        "    {}: {} <{}>, id {}",
        if sv { "Vem" } else { "Who" },
        who(&i.actor),
        i.actor.id,
        i.id
    );
    s
}

/// The one-line summary that ends a scan (on stderr).
pub fn summary_line(stats: &Stats) -> String {
    let severities: Vec<String> = Severity::DESCENDING
        .iter()
        .map(|s| {
            format!(
                "{} {}",
                stats.by_severity.get(s).copied().unwrap_or(0),
                s.as_str()
            )
        })
        .collect();
    let mut line = format!(
        "motesvakt: {} files, {} events, {} meetings, incidents: {} ({} new, {} raised, {} already known), {} lines skipped, {} unmapped",
        stats.files,
        stats.events,
        stats.meetings,
        severities.join(", "),
        stats.new,
        stats.raised,
        stats.known,
        stats.lines_skipped(),
        stats.unmapped(),
    );
    if stats.files_skipped > 0 {
        let _ = write!(line, ", {} files skipped", stats.files_skipped);
    }
    if stats.duplicate_events > 0 {
        let _ = write!(line, ", {} events already seen", stats.duplicate_events);
    }
    let _ = write!(line, ", {:.2} s", stats.elapsed.as_secs_f64());
    line
}

/// Per-format record counts, one line per format read (on stderr, before the summary).
pub fn format_lines(stats: &Stats) -> Vec<String> {
    stats
        .formats
        .iter()
        .map(|(format, c)| {
            format!(
                "motesvakt: format {}: {} records read, {} mapped, {} unmapped, {} rejected",
                format.name(),
                c.read,
                c.mapped,
                c.unmapped,
                c.rejected
            )
        })
        .collect()
}
