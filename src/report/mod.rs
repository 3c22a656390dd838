//! Rendering incidents and scan summaries for people and machines.
//!
//! Everything rendered here comes from incidents, which are built from redacted observations:
//! no patient data can reach this module.

pub mod model;
mod render;
pub mod schedule;
mod shown;
mod svg;

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

use crate::config::{Config, Language, Profile};
use crate::i18n::{confidence_word, field_word, kind_word, who};
use crate::incident::{Incident, Outcome, Severity};
use crate::pipeline::Reported;
use crate::rules::RULES;
use crate::scan::Stats;
pub use model::{Filter, Report, ReportError, Scope, Sources, build};
pub use render::{Draft, Format, Options, csv_cell, markdown_escape, render, render_draft};
pub use shown::{redact_ids, shown, shown_lines, shown_path};

/// One incident as a JSON object on one line (`scan --json`).
pub fn json_line(r: &Reported) -> String {
    #[derive(Serialize)]
    struct Line<'a> {
        #[serde(flatten)]
        incident: &'a Incident,
        /// `new`; `raised` or `lowered` when later evidence changed an earlier incident's
        /// severity; `withdrawn` when it no longer holds.
        status: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        previous_severity: Option<Severity>,
    }
    let (status, previous_severity) = match r.outcome {
        Outcome::New | Outcome::Known => ("new", None),
        Outcome::Raised { from } | Outcome::Lowered { from } => (r.outcome.as_str(), Some(from)),
        Outcome::Withdrawn => ("withdrawn", None),
    };
    json_safe(
        serde_json::to_string(&Line {
            incident: &r.incident,
            status,
            previous_severity,
        })
        .unwrap_or_default(),
    )
}

/// Escapes, in JSON text, what serde_json writes raw but a terminal may act on: C1 controls,
/// DEL and the bidirectional overrides. They can only be inside strings, where `\uXXXX` means
/// the same character.
pub fn json_safe(json: String) -> String {
    let raw = |c: char| matches!(c, '\u{7f}'..='\u{9f}') || reorders(c);
    if !json.chars().any(raw) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if raw(c) {
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

/// The evidence of an incident as short texts in `lang`: each finding (redacted, with where and
/// how sure), the other party, why the meeting is sensitive, how many events, the phrase.
/// Text from outside is escaped for a terminal ([`terminal_safe`]).
pub fn evidence_lines(i: &Incident, lang: Language) -> Vec<String> {
    let sv = lang == Language::Sv;
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
            terminal_safe(who(t)),
            terminal_safe(&t.id),
            t.kind.map_or("?", |k| kind_word(k, lang))
        ));
    }
    if let Some(sens) = &i.evidence.sensitive {
        let what = match (sens.kind.as_deref(), sens.field) {
            (Some(kind), Some(field)) => format!(
                "{kind} {} {}",
                if sv { "i" } else { "in" },
                field_word(field, lang)
            ),
            _ => terminal_safe(&sens.reason),
        };
        evidence.push(format!(
            "{}: {what} {}",
            if sv {
                "känsligt möte"
            } else {
                "sensitive meeting"
            },
            crate::i18n::time::clock(sens.time)
        ));
    }
    // Events an incident stands for (the summary already says how many incidents a dead
    // alert held).
    if let (Some(c), Some(last)) = (i.evidence.count, i.evidence.last_time) {
        let last = crate::i18n::time::date_time(last);
        evidence.push(match (sv, c.at_least) {
            (true, false) => format!("{} gånger", c.n),
            (true, true) => format!("minst {} gånger", c.n),
            (false, false) => format!("{} times", c.n),
            (false, true) => format!("at least {} times", c.n),
        });
        evidence.push(format!("{}: {last}", if sv { "senast" } else { "last" }));
    }
    if let Some(p) = &i.evidence.phrase {
        evidence.push(format!(
            "{}: \"{}\"",
            if sv { "fras" } else { "phrase" },
            terminal_safe(p)
        ));
    }
    evidence
}

/// One incident as a readable block of text.
pub fn text_block(r: &Reported, lang: Language) -> String {
    let i = &r.incident;
    let sv = lang == Language::Sv;
    let mut s = String::new();
    let raised = match (r.outcome, sv) {
        (Outcome::Raised { from }, true) => format!(" (höjd från {})", from.label(lang)),
        (Outcome::Raised { from }, false) => format!(" (raised from {})", from.label(lang)),
        (Outcome::Lowered { from }, true) => format!(" (sänkt från {})", from.label(lang)),
        (Outcome::Lowered { from }, false) => format!(" (lowered from {})", from.label(lang)),
        (Outcome::Withdrawn, true) => " (återkallad: gäller inte längre)".to_string(),
        (Outcome::Withdrawn, false) => " (withdrawn: no longer holds)".to_string(),
        _ => String::new(),
    };
    let _ = writeln!(
        s,
        "{}{raised}  {}  {}  {} {} {}",
        i.severity.label(lang),
        i.rule,
        crate::i18n::time::date_time(i.time),
        i.platform,
        if sv { "möte" } else { "meeting" },
        terminal_safe(&i.meeting)
    );
    let _ = writeln!(s, "    {}", terminal_safe(&crate::i18n::summary(i, lang)));
    let _ = writeln!(
        s,
        "    {}: {}, {} ({} {}, {})",
        if sv { "Rutin" } else { "Routine" },
        i.routine.file,
        i.routine.section,
        if sv { "profil" } else { "profile" },
        i.profile,
        i.routine.profile_file
    );
    let evidence = evidence_lines(i, lang);
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
        terminal_safe(who(&i.actor)),
        terminal_safe(&i.actor.id),
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
        "motesvakt: {} files, {} events, {} meetings judged, incidents: {} ({} new, {} raised, {} already known), {} lines skipped, {} unmapped",
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
    if stats.lowered > 0 {
        let _ = write!(line, ", {} lowered", stats.lowered);
    }
    if stats.withdrawn > 0 {
        let _ = write!(line, ", {} withdrawn", stats.withdrawn);
    }
    if stats.files_skipped > 0 {
        let _ = write!(line, ", {} files skipped", stats.files_skipped);
    }
    if stats.excepted > 0 {
        let _ = write!(line, ", {} excepted by configuration", stats.excepted);
    }
    if stats.duplicate_events > 0 {
        let _ = write!(line, ", {} events already seen", stats.duplicate_events);
    }
    let _ = write!(line, ", {:.2} s", stats.elapsed.as_secs_f64());
    line
}

/// When Teams records named tenants and `tenant_ids` is not set (the adapters note tenants only
/// then), one line that says so and how to fix it: the tenant the audit records name as their
/// own (`OrganizationId`, the tenant the export was made in) is the one to list. Not when a
/// tenant was learned from the store's audit records (`learn_tenant`). Tenant ids are GUIDs
/// checked by the adapters; nothing else from the input is shown.
pub fn tenant_hint(stats: &Stats) -> Option<String> {
    // A tenant learned from the audit records classifies them: nothing to fix.
    if !stats.learned_tenants.is_empty() {
        return None;
    }
    let mut tenants: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for c in stats.formats.values() {
        for (id, (own, named)) in &c.tenants {
            let t = tenants.entry(id.as_str()).or_default();
            t.0 += own;
            t.1 += named;
        }
    }
    if tenants.is_empty() {
        return None;
    }
    let mut own: Vec<(&str, u64)> = tenants
        .iter()
        .filter(|(_, (o, _))| *o > 0)
        .map(|(id, (o, _))| (*id, *o))
        .collect();
    own.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let n = tenants.len();
    let what = if n == 1 {
        "1 tenant".to_string()
    } else {
        format!("{n} tenants")
    };
    let fix = match own.first() {
        Some((id, _)) => format!(
            "the audit records' own tenant (OrganizationId) is {id}: add `tenant_ids = [\"{id}\"]` to the configuration"
        ),
        None => "add `tenant_ids = [\"YOUR-TENANT-GUID\"]` to the configuration (the OrganizationId of your Teams audit records, or Tenant ID in the Microsoft Entra admin center)".to_string(),
    };
    Some(format!(
        "motesvakt: warning: Teams records name {what} and `tenant_ids` is not set, so Teams users known only by object id (Graph chat authors) count as external; {fix}"
    ))
}

/// Per-format counts, one line per format read (on stderr, before the summary), each followed
/// by what was not mapped, most frequent first, so nobody is blind to what was skipped.
pub fn format_lines(stats: &Stats) -> Vec<String> {
    let mut lines = Vec::new();
    for (format, c) in &stats.formats {
        let mut line = format!(
            "motesvakt: format {}: {} records read, {} mapped, {} unmapped, {} rejected",
            format.name(),
            c.read,
            c.mapped,
            c.unmapped,
            c.rejected
        );
        if c.unmapped_fields > 0 {
            let _ = write!(line, ", {} unmapped fields", c.unmapped_fields);
        }
        lines.push(line);
        if !c.labels.is_empty() {
            let mut labels: Vec<(&String, &u64)> = c.labels.iter().collect();
            labels.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            let shown: Vec<String> = labels
                .iter()
                .take(12)
                .map(|(l, n)| format!("{} ×{n}", terminal_safe(l)))
                .collect();
            let more = labels.len().saturating_sub(12);
            let mut line = format!("motesvakt:   not mapped: {}", shown.join(", "));
            if more > 0 {
                let _ = write!(line, " and {more} more");
            }
            lines.push(line);
        }
    }
    lines
}

/// The rule catalog as a table (`motesvakt rules`): each rule, what makes it fire, and under
/// each profile the severity and the routine section it cites.
pub fn rules_table(config: &Config, profiles: &[Profile]) -> String {
    let mut s = String::new();
    for p in profiles {
        let validity = match (p.valid_from, p.valid_until) {
            (None, None) => String::new(),
            (from, until) => format!(
                ", valid {} to {}",
                from.map_or("-".to_string(), |d| d.to_string()),
                until.map_or("-".to_string(), |d| d.to_string())
            ),
        };
        let active = if config.profiles().any(|a| a.id == p.id) {
            "active"
        } else {
            "not active"
        };
        let _ = writeln!(s, "profile {} ({active}{validity}): {}", p.id, p.name);
        let _ = writeln!(s, "  routine: {}", p.routine);
    }
    let _ = writeln!(s);
    for rule in RULES {
        let enabled = config.rule_enabled(rule.id);
        if profiles.len() == 1 && profiles[0].rule(rule.id).is_none() {
            continue;
        }
        let applies = enabled && config.profiles().any(|a| a.rule(rule.id).is_some());
        let _ = writeln!(
            s,
            "{}{}\n  fires when {}",
            rule.id,
            if !enabled {
                "  [disabled in config]"
            } else if applies {
                "  [applies: an active profile uses it]"
            } else {
                "  [no active profile uses it]"
            },
            crate::i18n::fires_when(rule.id)
        );
        let mut any = false;
        for p in profiles {
            let Some(how) = p.rule(rule.id) else {
                continue;
            };
            any = true;
            let active = config.profiles().any(|a| a.id == p.id);
            let mut sev = how.severity.as_str().to_string();
            for (cond, level) in [
                ("sensitive", how.severity_if_sensitive),
                ("external present", how.severity_if_external),
                ("actor not a participant", how.severity_if_outsider),
            ] {
                if let Some(l) = level {
                    let _ = write!(sev, ", {} if {cond}", l.as_str());
                }
            }
            if let Some(o) = config.rule_severity(rule.id) {
                let _ = write!(sev, " (config: {})", o.as_str());
            }
            let platforms = config
                .rule_settings(rule.id)
                .approved_platforms
                .or_else(|| how.approved_platforms.clone());
            if rule.id == "platform-not-approved" {
                match platforms {
                    Some(list) => {
                        let names: Vec<&str> = list.iter().map(|p| p.as_str()).collect();
                        let _ = write!(sev, "; approved: {}", names.join(", "));
                    }
                    None => sev.push_str("; off: no approved platforms configured"),
                }
            }
            if !active {
                sev.push_str("  (profile not active)");
            }
            let _ = writeln!(s, "  {:<10} {sev}\n  {:<10} § {}", p.id, "", how.section);
        }
        if !any {
            let _ = writeln!(s, "  (no listed profile uses this rule)");
        }
        for line in blind_spots(rule.needs) {
            let _ = writeln!(s, "  {line}");
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(
        s,
        "{}  [motesvakt's own: not a breach of a routine]\n  fires when {}\n  high, in every profile; told to IT security, never to the recipient it could not reach; cannot be switched off\n",
        crate::incident::ALERT_UNDELIVERABLE,
        crate::i18n::fires_when(crate::incident::ALERT_UNDELIVERABLE)
    );
    let _ = writeln!(
        s,
        "{}  [motesvakt's own: not a breach of a routine]\n  fires when {}\n  medium, in every profile; told to IT security; only with [listen] and an expect_every\n",
        crate::incident::FEED_SILENT,
        crate::i18n::fires_when(crate::incident::FEED_SILENT)
    );
    s
}

/// Which platforms cannot give a rule's incidents because their exports never carry an event
/// the rule needs: `cannot fire on pexip: no control_granted in its exports`.
pub fn blind_spots(needs: &[&str]) -> Vec<String> {
    crate::sources::coverage::PLATFORMS
        .iter()
        .filter_map(|&platform| {
            let missing = crate::sources::coverage::missing(platform, needs);
            (!missing.is_empty()).then(|| {
                format!(
                    "cannot fire on {platform}: no {} in its exports",
                    missing.join(", ")
                )
            })
        })
        .collect()
}

/// The bidirectional embeddings, overrides and isolates: text from outside that holds one can
/// make what follows it display in another order than it is written.
fn reorders(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `text` safe to print on a terminal or in a log line: control characters (C0, DEL, C1) and
/// the characters that reorder text (bidirectional overrides and isolates) are written as
/// `\u{..}` escapes, so input cannot move the cursor, clear the screen or hide text.
pub fn terminal_safe(text: &str) -> String {
    let unsafe_char = |c: char| c.is_control() || reorders(c);
    if !text.chars().any(unsafe_char) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// [`terminal_safe`] for a message of several lines (an error with its causes): line breaks
/// stay, and every line after the first is indented, so that text from outside cannot pass
/// for a line of its own.
pub fn terminal_safe_lines(text: &str) -> String {
    text.split('\n')
        .map(terminal_safe)
        .collect::<Vec<_>>()
        .join("\n    ")
}

#[cfg(test)]
mod terminal_tests {
    use super::terminal_safe;

    #[test]
    fn control_and_reordering_characters_are_escaped() {
        assert_eq!(terminal_safe("plain å ä ö"), "plain å ä ö");
        assert_eq!(terminal_safe("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(terminal_safe("x\ny\u{7f}"), "x\\u{a}y\\u{7f}");
        assert_eq!(terminal_safe("\u{202e}txt.exe"), "\\u{202e}txt.exe");
        assert_eq!(terminal_safe("\u{85}"), "\\u{85}");
    }
}

#[cfg(test)]
mod json_safe_tests {
    #[test]
    fn c1_controls_and_overrides_are_escaped_and_the_json_means_the_same() {
        let v = serde_json::json!({"name": "a\u{9b}2Jb\u{202e}c\u{1b}d"});
        let text = super::json_safe(serde_json::to_string(&v).unwrap());
        assert!(
            text.chars().all(|c| !c.is_control() && c != '\u{202e}'),
            "{text}"
        );
        assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap(), v);
    }
}
