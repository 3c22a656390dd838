//! A [`Report`] in a format: HTML (one self-contained file), Markdown (mail bodies, tickets),
//! JSON (the SIEM; times in UTC, RFC 3339) or CSV (spreadsheets: UTF-8 with a byte-order mark,
//! formula injection neutralised), in Swedish or English; and the drafts of an IMY
//! notification and an avvikelse.
//!
//! The words come from [`crate::i18n::report`]; the templates (`templates/`, compiled in) are
//! rendered by minijinja with auto-escaping on: HTML escaping for `.html`, a Markdown escaper
//! for `.md`. Nothing is built by pasting strings into markup; the one chart is drawn by
//! [`super::svg`], which escapes its own text.

use jiff::Timestamp;
use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value};
use serde_json::json;

use super::model::{Entry, Report, ReportError, Scope};
use super::{evidence_lines, json_safe, shown};
use crate::i18n::report::{self as words, AvvikelseFacts, ImyFacts};
use crate::i18n::time::date_time;
use crate::i18n::{Language, kind_word, rule_title, summary};
use crate::incident::Severity;

/// The formats of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Html,
    Markdown,
    Json,
    Csv,
}

impl Format {
    pub fn from_name(name: &str) -> Option<Format> {
        match name {
            "html" => Some(Format::Html),
            "md" | "markdown" => Some(Format::Markdown),
            "json" => Some(Format::Json),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }
}

/// The drafts one incident gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Draft {
    /// The notification of a personal-data breach to IMY (GDPR art. 33).
    Imy,
    /// The deviation report for the region's avvikelse system.
    Avvikelse,
}

/// How a report is written.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub lang: Language,
    /// The CSV separator (`,` by default; `;` for Swedish Excel).
    pub csv_sep: u8,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            lang: Language::Sv,
            csv_sep: b',',
        }
    }
}

const HTML: &str = include_str!("templates/report.html");
const MARKDOWN: &str = include_str!("templates/report.md");
const DRAFT: &str = include_str!("templates/draft.md");

/// `text` escaped for Markdown: no character of it can start markup, a link, an HTML tag or
/// a new line.
pub fn markdown_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for (n, c) in text.chars().enumerate() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            // A list item, a rule or a heading underline where a line starts.
            '-' | '+' | '=' if n == 0 => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn environment() -> Result<Environment<'static>, ReportError> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") {
            AutoEscape::Html
        } else {
            AutoEscape::Custom("markdown".into())
        }
    });
    env.set_formatter(|out, state, value| {
        if matches!(state.auto_escape(), AutoEscape::Custom(_)) {
            if value.is_safe() {
                return minijinja::escape_formatter(out, &mut *state, value);
            }
            let text = if value.is_none() || value.is_undefined() {
                String::new()
            } else {
                value.to_string()
            };
            out.write_str(&markdown_escape(&text))
                .map_err(|_| minijinja::Error::new(minijinja::ErrorKind::WriteFailure, "write"))?;
            return Ok(());
        }
        minijinja::escape_formatter(out, state, value)
    });
    env.add_filter("local", |s: String| -> String {
        s.parse::<Timestamp>().map(date_time).unwrap_or(s)
    });
    let template = |e: minijinja::Error| ReportError::Template(e.to_string());
    env.add_template("report.html", HTML).map_err(template)?;
    env.add_template("report.md", MARKDOWN).map_err(template)?;
    env.add_template("draft.md", DRAFT).map_err(template)?;
    Ok(env)
}

fn ts(t: Timestamp) -> serde_json::Value {
    json!(t.to_string())
}

fn opt_ts(t: Option<Timestamp>) -> serde_json::Value {
    t.map_or(serde_json::Value::Null, ts)
}

/// The one incident's view: its facts and the words for them in `lang`.
fn incident_view(e: &Entry, lang: Language, now: Timestamp) -> serde_json::Value {
    let i = &e.incident;
    let reportable = e.imy.is_some();
    let what = shown(&summary(i, lang));
    let rule = format!("{} ({})", rule_title(&i.rule, lang), i.rule);
    let actions = words::manager_actions(i, reportable, lang);
    let consequences = words::consequences(i, lang);
    let course: Vec<String> = e
        .timeline
        .iter()
        .map(|t| {
            let mut line = format!(
                "{} {} {}",
                crate::i18n::time::clock(t.time),
                t.actor,
                words::event_word(t.event, lang)
            );
            if let Some(target) = &t.target {
                line.push(' ');
                line.push_str(target);
            }
            let found = words::found_words(&t.findings, lang);
            if !found.is_empty() {
                line.push_str(&format!(" ({found})"));
            }
            line
        })
        .collect();
    let unit = e
        .person
        .unit
        .clone()
        .unwrap_or_else(|| words::unknown(lang).to_string());
    let manager = e
        .person
        .manager
        .clone()
        .unwrap_or_else(|| words::unknown(lang).to_string());
    let routine = format!(
        "{}, {}",
        e.routine.title.as_deref().unwrap_or(&e.routine.file),
        e.routine.section
    );
    let avvikelse = words::avvikelse_draft(
        &AvvikelseFacts {
            what: &what,
            when: &date_time(i.time),
            unit: &unit,
            rule: &rule,
            routine: &routine,
            course: &course.join("; "),
            consequences,
            actions: &actions[..actions.len().min(3)],
            manager: &manager,
            imy: reportable,
        },
        lang,
    );
    let imy = e.imy.as_ref().map(|imy| {
        // IMY's notifications are public documents: the draft names nobody, not even the
        // employee ("Ni bör undvika att lämna fler uppgifter än nödvändigt").
        let mut anonymous = i.clone();
        anonymous.actor.name = Some(words::employee(lang).to_string());
        let what = shown(&summary(&anonymous, lang));
        let measures: Vec<String> = e
            .history
            .iter()
            .map(|c| {
                let mut m = format!("{}: {}", date_time(c.at), c.to.label(lang));
                if let Some(n) = &c.note {
                    m.push_str(&format!(" ({n})"));
                }
                m
            })
            .collect();
        let fields = words::imy_draft(
            &ImyFacts {
                what: &what,
                happened: &date_time(i.time),
                discovered: &date_time(imy.discovered),
                deadline: &date_time(imy.deadline),
                late: imy.deadline < now,
                platform: &format!(
                    "{} ({} {})",
                    i.platform,
                    words_meeting(lang),
                    shown(&i.meeting)
                ),
                people: imy.people,
                domains: &imy.external_domains,
                consequences,
                measures: &measures,
            },
            lang,
        );
        json!({
            "discovered": ts(imy.discovered),
            "deadline": ts(imy.deadline),
            "people": imy.people,
            "external_domains": imy.external_domains,
            "fields": fields,
        })
    });
    let record = e.status_record.as_ref();
    json!({
        "id": i.id,
        "rule": i.rule,
        "rule_title": rule_title(&i.rule, lang),
        "severity": i.severity.as_str(),
        "severity_label": i.severity.label(lang),
        "platform": i.platform.as_str(),
        "meeting": shown(&i.meeting),
        "time": ts(i.time),
        "last_time": opt_ts(i.evidence.last_time),
        "summary": what,
        "person": {
            "id": e.person.id,
            "name": e.person.name,
            "kind": e.person.kind.map(|k| kind_word(k, lang)),
            "unit": e.person.unit,
            "manager": e.person.manager,
        },
        "subject": e.subject,
        "routine": {
            "file": e.routine.file,
            "section": e.routine.section,
            "title": e.routine.title,
            "quote": e.routine.quote,
            "profile": e.routine.profile,
        },
        "evidence": evidence_lines(i, lang).iter().map(|l| shown(l)).collect::<Vec<_>>(),
        "timeline": e.timeline.iter().zip(&course).map(|(t, line)| json!({
            "time": ts(t.time),
            "event": t.event,
            "what": words::event_word(t.event, lang),
            "actor": t.actor,
            "actor_kind": t.actor_kind.map(|k| kind_word(k, lang)),
            "target": t.target,
            "found": words::found_words(&t.findings, lang),
            "trigger": t.trigger,
            "line": line,
        })).collect::<Vec<_>>(),
        "timeline_omitted": e.timeline_omitted,
        "actions": actions,
        "status": e.status.as_str(),
        "status_label": e.status.label(lang),
        "status_by": record.map(|r| r.by.clone()),
        "status_at": opt_ts(record.map(|r| r.at)),
        "status_reason": record.and_then(|r| r.reason).map(|r| r.label(lang)),
        "status_note": record.and_then(|r| r.note.clone()),
        "history": e.history.iter().map(|c| json!({
            "at": ts(c.at),
            "from": c.from.as_str(),
            "to": c.to.as_str(),
            "from_label": c.from.label(lang),
            "to_label": c.to.label(lang),
            "by": c.by,
            "reason": c.reason.map(|r| r.label(lang)),
            "note": c.note,
        })).collect::<Vec<_>>(),
        "severity_history": e.severity_history.iter().map(|(change, from, to)| json!({
            "change": change,
            "from": from.map(|f| f.as_str()),
            "to": to.as_str(),
            "from_label": from.map(|f| f.label(lang)),
            "to_label": to.label(lang),
        })).collect::<Vec<_>>(),
        "imy": imy,
        "avvikelse": avvikelse,
    })
}

fn words_meeting(lang: Language) -> &'static str {
    match lang {
        Language::Sv => "möte",
        Language::En => "meeting",
    }
}

/// The whole report's view in `lang`.
fn view(report: &Report, lang: Language) -> serde_json::Value {
    let p = &report.period;
    let severities: Vec<&str> = Severity::DESCENDING.iter().map(|s| s.label(lang)).collect();
    let labels = words::labels(lang);
    let (scope_kind, scope_value) = match &report.scope {
        Scope::All => (labels["scope_all"], None),
        Scope::Unit(u) => (labels["scope_unit"], Some(u.clone())),
        Scope::Manager(m) => (labels["scope_manager"], Some(m.clone())),
        Scope::Person(x) => (labels["scope_person"], Some(x.clone())),
    };
    let by_rule: Vec<serde_json::Value> = p
        .by_rule
        .iter()
        .map(|r| {
            json!({
                "rule": r.rule,
                "title": rule_title(&r.rule, lang),
                "by_severity": r.by_severity,
                "total": r.total,
            })
        })
        .collect();
    json!({
        "lang": match lang { Language::Sv => "sv", Language::En => "en" },
        "t": labels,
        "generated": ts(report.generated),
        "since": opt_ts(report.since),
        "until": opt_ts(report.until),
        "scope": { "kind": scope_kind, "value": scope_value },
        "severities": severities,
        "period": {
            "total": p.total,
            "by_severity": p.by_severity,
            "by_rule": by_rule,
            "top": by_rule.iter().take(5).collect::<Vec<_>>(),
            "weeks": p.weeks,
            "repeats": p.repeats.iter().map(|r| json!({
                "id": r.person.id,
                "name": r.person.name,
                "unit": r.person.unit,
                "count": r.count,
                "rules": r.rules.iter().map(|(rule, n)| format!("{} ×{n}", rule_title(rule, lang))).collect::<Vec<_>>().join(", "),
            })).collect::<Vec<_>>(),
            "open": p.open.iter().map(|o| json!({
                "id": o.id,
                "rule": o.rule,
                "rule_title": rule_title(&o.rule, lang),
                "severity_label": o.severity.label(lang),
                "status_label": o.status.label(lang),
                "age_days": o.age_days,
            })).collect::<Vec<_>>(),
            "deadlines": p.deadlines.iter().map(|d| json!({
                "id": d.id,
                "rule_title": rule_title(&d.rule, lang),
                "deadline": ts(d.deadline),
                "hours_left": d.hours_left,
                "overdue": d.hours_left < 0,
            })).collect::<Vec<_>>(),
            "platforms": p.platforms.iter().map(|x| x.as_str()).collect::<Vec<_>>(),
            "blind_spots": p.blind_spots.iter().map(|b| json!({
                "platform": b.platform.as_str(),
                "rule": b.rule,
                "rule_title": rule_title(&b.rule, lang),
                "missing": b.missing.join(", "),
            })).collect::<Vec<_>>(),
        },
        "incidents": report.incidents.iter().map(|e| incident_view(e, lang, report.generated)).collect::<Vec<_>>(),
    })
}

/// The view for the HTML template: the view plus the chart, which is markup already.
fn with_chart(v: serde_json::Value, report: &Report, lang: Language) -> Value {
    let bars: Vec<(String, u64)> = report
        .period
        .weeks
        .iter()
        .map(|w| (w.week.clone(), w.count))
        .collect();
    let title = words::labels(lang)["per_week"];
    let svg = super::svg::bar_chart(title, &bars);
    let ctx = Value::from(minijinja::value::Serde(&v));
    minijinja::context! { chart => Value::from_safe_string(svg), ..ctx }
}

/// `report` in `format`.
pub fn render(report: &Report, format: Format, opts: &Options) -> Result<Vec<u8>, ReportError> {
    let v = view(report, opts.lang);
    let template = |e: minijinja::Error| ReportError::Template(e.to_string());
    match format {
        Format::Json => {
            // The SIEM takes the facts; the headings are for people.
            let mut v = v;
            if let Some(o) = v.as_object_mut() {
                o.remove("t");
            }
            let text = serde_json::to_string_pretty(&v)
                .map_err(|e| ReportError::Template(e.to_string()))?;
            // `<`, `>` and `&` as `\uXXXX` too (the same JSON), so that no viewer of it can
            // take a value for markup.
            let text = json_safe(text)
                .replace('<', "\\u003c")
                .replace('>', "\\u003e")
                .replace('&', "\\u0026");
            let mut out = text.into_bytes();
            out.push(b'\n');
            Ok(out)
        }
        Format::Csv => csv(&v, opts),
        Format::Html => {
            let env = environment()?;
            let ctx = with_chart(v, report, opts.lang);
            env.get_template("report.html")
                .and_then(|t| t.render(ctx))
                .map(String::into_bytes)
                .map_err(template)
        }
        Format::Markdown => {
            let env = environment()?;
            env.get_template("report.md")
                .and_then(|t| t.render(Value::from(minijinja::value::Serde(&v))))
                .map(String::into_bytes)
                .map_err(template)
        }
    }
}

/// The draft `draft` of the report's one incident (built with [`super::Filter::incident`]), in
/// Markdown.
pub fn render_draft(report: &Report, draft: Draft, lang: Language) -> Result<Vec<u8>, ReportError> {
    let Some(e) = report.incidents.first() else {
        return Err(ReportError::NoSuchIncident);
    };
    if draft == Draft::Imy && e.imy.is_none() {
        return Err(ReportError::NotReportable(e.incident.id.clone()));
    }
    let v = incident_view(e, lang, report.generated);
    let labels = words::labels(lang);
    let (title, fields) = match draft {
        Draft::Imy => (labels["imy_draft"], v["imy"]["fields"].clone()),
        Draft::Avvikelse => (labels["avvikelse_draft"], v["avvikelse"].clone()),
    };
    let env = environment()?;
    env.get_template("draft.md")
        .and_then(|t| {
            t.render(minijinja::context! {
                title => title,
                t => Value::from(minijinja::value::Serde(&labels)),
                inc => Value::from(minijinja::value::Serde(&v)),
                fields => Value::from(minijinja::value::Serde(&fields)),
            })
        })
        .map(String::into_bytes)
        .map_err(|e| ReportError::Template(e.to_string()))
}

/// A CSV cell a spreadsheet cannot take for a formula: one starting with `=`, `+`, `-`, `@`,
/// tab or CR gets a leading `'`. Controls are escaped and identity numbers redacted.
pub fn csv_cell(text: &str) -> String {
    let text = shown(text);
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text,
    }
}

/// One row per incident, for spreadsheets: UTF-8 with a byte-order mark.
fn csv(v: &serde_json::Value, opts: &Options) -> Result<Vec<u8>, ReportError> {
    let sv = opts.lang == Language::Sv;
    let header: &[&str] = if sv {
        &[
            "id",
            "tid",
            "tid_utc",
            "allvarlighet",
            "regel",
            "regelns_namn",
            "plattform",
            "möte",
            "person",
            "namn",
            "enhet",
            "chef",
            "rutin",
            "avsnitt",
            "status",
            "vad_hände",
            "imy_senast",
        ]
    } else {
        &[
            "id",
            "time",
            "time_utc",
            "severity",
            "rule",
            "rule_title",
            "platform",
            "meeting",
            "person",
            "name",
            "unit",
            "manager",
            "routine",
            "section",
            "status",
            "what_happened",
            "imy_deadline",
        ]
    };
    let mut w = csv::WriterBuilder::new()
        .delimiter(opts.csv_sep)
        .from_writer(Vec::from(*b"\xEF\xBB\xBF"));
    let err = |e: csv::Error| ReportError::Csv(e.to_string());
    w.write_record(header).map_err(err)?;
    let s = |x: &serde_json::Value| x.as_str().map(csv_cell).unwrap_or_default();
    let local = |x: &serde_json::Value| {
        x.as_str()
            .and_then(|t| t.parse::<Timestamp>().ok())
            .map(date_time)
            .unwrap_or_default()
    };
    for i in v["incidents"].as_array().into_iter().flatten() {
        let routine = i["routine"]["title"]
            .as_str()
            .or(i["routine"]["file"].as_str())
            .map(csv_cell)
            .unwrap_or_default();
        w.write_record([
            s(&i["id"]),
            local(&i["time"]),
            s(&i["time"]),
            s(&i["severity_label"]),
            s(&i["rule"]),
            s(&i["rule_title"]),
            s(&i["platform"]),
            s(&i["meeting"]),
            s(&i["person"]["id"]),
            s(&i["person"]["name"]),
            s(&i["person"]["unit"]),
            s(&i["person"]["manager"]),
            routine,
            s(&i["routine"]["section"]),
            s(&i["status_label"]),
            s(&i["summary"]),
            local(&i["imy"]["deadline"]),
        ])
        .map_err(err)?;
    }
    w.into_inner().map_err(|e| ReportError::Csv(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_that_could_be_formulas_are_neutralised() {
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(csv_cell("+1"), "'+1");
        assert_eq!(csv_cell("-1"), "'-1");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("plain"), "plain");
        // Tab and CR are escaped for a terminal first: no longer at the start.
        assert!(!csv_cell("\tx").starts_with('\t'));
        assert_eq!(csv_cell("pnr 19861208-2399"), "pnr ********-****");
    }

    #[test]
    fn markdown_escape_leaves_no_markup() {
        let got = markdown_escape("<script>*x* [a](http://e) `c`\n# h");
        assert_eq!(got, "&lt;script&gt;\\*x\\* \\[a\\](http://e) \\`c\\` \\# h");
        assert_eq!(markdown_escape("- a-b"), "\\- a-b");
    }
}
