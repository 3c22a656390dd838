//! `motesvakt incidents ack|resolve|false-positive|reopen|show`: the incident workflow.
//!
//! Names and notes are what people typed: the store keeps them with identity numbers
//! redacted, and every output escapes them (terminal controls in text, JSON's own escaping
//! plus [`report::json_safe`]).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::{Args, Subcommand, ValueEnum};
use jiff::Timestamp;

use super::{SetupError, incidents_db, parse_language};
use crate::config::Language;
use crate::incident::{FalsePositiveReason, Outcome, Status};
use crate::pipeline::Reported;
use crate::report;
use crate::store::{IdMatch, StatusRecord, Store, Transition};

#[derive(Debug, Subcommand)]
pub enum IncidentAction {
    /// Acknowledge an incident: someone is looking into it (no escalation then).
    Ack(ChangeArgs),
    /// Mark an incident resolved: it has been dealt with.
    Resolve(ChangeArgs),
    /// Mark an incident a false positive, with why; it alerts nobody again.
    FalsePositive(FalsePositiveArgs),
    /// Open an incident again (one marked by mistake).
    Reopen(ChangeArgs),
    /// Show one incident, withdrawn or not, with its severity and status history.
    Show(ShowArgs),
}

/// Where the database is, and how to answer.
#[derive(Debug, Args)]
pub struct Target {
    /// The incident's id, or its start (at least 6 characters, one incident only).
    #[arg(value_name = "ID")]
    pub id: String,
    /// The database (as given to `scan --db`).
    #[arg(long, value_name = "FILE", required_unless_present = "config")]
    pub db: Option<PathBuf>,
    /// Configuration file whose `state_dir` holds the database (in place of --db).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The answer as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Language of the text output: sv or en (overrides the config's `language`).
    #[arg(long, value_name = "LANG", value_parser = parse_language)]
    pub lang: Option<Language>,
}

#[derive(Debug, Args)]
pub struct ChangeArgs {
    #[command(flatten)]
    pub target: Target,
    /// Who makes the change (a name or an e-mail address).
    #[arg(long, value_name = "NAME")]
    pub by: String,
    /// A note kept with the change.
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
}

#[derive(Debug, Args)]
pub struct FalsePositiveArgs {
    #[command(flatten)]
    pub change: ChangeArgs,
    /// Why it is a false positive.
    #[arg(long, value_name = "REASON")]
    pub reason: ReasonArg,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub target: Target,
}

/// `--reason` on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ReasonArg {
    WrongDetection,
    AllowedByException,
    TestMeeting,
    Other,
}

impl From<ReasonArg> for FalsePositiveReason {
    fn from(r: ReasonArg) -> FalsePositiveReason {
        match r {
            ReasonArg::WrongDetection => FalsePositiveReason::WrongDetection,
            ReasonArg::AllowedByException => FalsePositiveReason::AllowedByException,
            ReasonArg::TestMeeting => FalsePositiveReason::TestMeeting,
            ReasonArg::Other => FalsePositiveReason::Other,
        }
    }
}

/// The longest `--by` and `--note` taken.
const MAX_BY: usize = 200;
const MAX_NOTE: usize = 2000;

pub fn run(action: IncidentAction) -> Result<ExitCode> {
    match action {
        IncidentAction::Ack(a) => change(a, Status::Acknowledged, None),
        IncidentAction::Resolve(a) => change(a, Status::Resolved, None),
        IncidentAction::Reopen(a) => change(a, Status::Open, None),
        IncidentAction::FalsePositive(a) => {
            change(a.change, Status::FalsePositive, Some(a.reason.into()))
        }
        IncidentAction::Show(a) => show(a.target),
    }
}

/// The store, the incident's full id and the output language.
fn open(t: &Target) -> Result<(Store, String, Language)> {
    let (config, store) = incidents_db(t.db.as_ref(), t.config.as_ref())?;
    let lang = t
        .lang
        .or(config.as_ref().map(|c| c.language))
        .unwrap_or_default();
    let found = store.read_transaction()?.find_incident(&t.id)?;
    let id = match found {
        IdMatch::One(id) => id,
        IdMatch::None => {
            return Err(SetupError(format!(
                "no incident with the id {} in {} (`motesvakt incidents` lists them)",
                report::shown(&t.id),
                report::shown_path(store.path())
            ))
            .into());
        }
        IdMatch::Many(n) => {
            return Err(SetupError(format!(
                "{n} incidents have ids that start with {}: give more of the id",
                report::shown(&t.id)
            ))
            .into());
        }
    };
    Ok((store, id, lang))
}

fn change(a: ChangeArgs, to: Status, reason: Option<FalsePositiveReason>) -> Result<ExitCode> {
    let by = a.by.trim();
    if by.is_empty() {
        return Err(SetupError("--by: give who makes the change".into()).into());
    }
    if by.chars().count() > MAX_BY {
        return Err(SetupError(format!("--by: at most {MAX_BY} characters")).into());
    }
    let note = a.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > MAX_NOTE) {
        return Err(SetupError(format!("--note: at most {MAX_NOTE} characters")).into());
    }
    let (store, id, lang) = open(&a.target)?;
    let tx = store.transaction()?;
    let done = tx
        .set_status(&id, to, reason, by, note, Timestamp::now())
        .context("cannot change the incident's status")?;
    let status = tx.status_of(&id)?;
    tx.commit()?;
    let sv = lang == Language::Sv;
    match done {
        Transition::Refused { current } => Err(SetupError(format!(
            "incident {id} is {}: it cannot be marked {} from there{}",
            current.as_str(),
            to.as_str(),
            if current == Status::Open {
                ""
            } else {
                " (`motesvakt incidents reopen` opens it again)"
            }
        ))
        .into()),
        Transition::Already(rec) => {
            if a.target.json {
                print_json(&id, None, status.as_ref(), false)?;
            } else {
                let when = if rec.by.is_empty() && rec.status == Status::Open {
                    String::new()
                } else {
                    format!(" ({})", who_when(&rec, lang))
                };
                println!(
                    "{}",
                    report::shown(&if sv {
                        format!(
                            "Incident {id} är redan {}{when}: inget ändrades.",
                            rec.status.label(lang)
                        )
                    } else {
                        format!(
                            "Incident {id} is already {}{when}: nothing changed.",
                            rec.status.label(lang)
                        )
                    })
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Transition::Changed { from } => {
            if a.target.json {
                print_json(&id, Some(from), status.as_ref(), true)?;
            } else {
                let line = format!(
                    "Incident {id}: {} → {}. {}",
                    from.label(lang),
                    to.label(lang),
                    status
                        .as_ref()
                        .map(|s| details(s, lang))
                        .unwrap_or_default()
                );
                println!("{}", report::shown(line.trim_end()));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn print_json(
    id: &str,
    from: Option<Status>,
    status: Option<&StatusRecord>,
    changed: bool,
) -> Result<()> {
    let mut v = status_json(status);
    v["id"] = id.into();
    v["changed"] = changed.into();
    if let Some(f) = from {
        v["previous_status"] = f.as_str().into();
    }
    writeln!(std::io::stdout(), "{}", report::json_safe(v.to_string()))
        .context("cannot write to stdout")
}

/// "av NAMN 2026-12-01 21:15" in the local time people read (Swedish by default); motesvakt for its own changes.
fn who_when(rec: &StatusRecord, lang: Language) -> String {
    let by = if rec.by.is_empty() {
        "motesvakt"
    } else {
        &rec.by
    };
    let at = crate::i18n::time::date_time(rec.at);
    match lang {
        Language::Sv => format!("av {} {at}", report::terminal_safe(by)),
        Language::En => format!("by {} {at}", report::terminal_safe(by)),
    }
}

/// Who, when, why and the note of a status, as text.
fn details(rec: &StatusRecord, lang: Language) -> String {
    let mut s = who_when(rec, lang);
    s = s[..1].to_uppercase() + &s[1..];
    if let Some(r) = rec.reason {
        s.push_str(&match lang {
            Language::Sv => format!(", skäl: {}", r.label(lang)),
            Language::En => format!(", reason: {}", r.label(lang)),
        });
    }
    if rec.by.is_empty() && rec.status == Status::Open {
        s.push_str(match lang {
            Language::Sv => ", när allvarligheten höjdes",
            Language::En => ", when the severity was raised",
        });
    }
    s.push('.');
    if let Some(n) = &rec.note {
        s.push_str(&format!(" \"{}\"", report::terminal_safe(n)));
    }
    s
}

/// The status line of `motesvakt incidents`: "Status: kvitterad (av ..., ...)".
pub fn status_line(status: Option<&StatusRecord>, lang: Language) -> String {
    let word = "Status";
    match status {
        None => format!("{word}: {}", Status::Open.label(lang)),
        Some(rec) => report::shown(&format!(
            "{word}: {}. {}",
            rec.status.label(lang),
            details(rec, lang)
        )),
    }
}

/// A status as JSON: `{"status": ..., "by", "at" (UTC), "reason", "note"}`.
pub fn status_json(status: Option<&StatusRecord>) -> serde_json::Value {
    match status {
        None => serde_json::json!({"status": Status::Open.as_str()}),
        Some(rec) => {
            let mut v = serde_json::json!({
                "status": rec.status.as_str(),
                "by": if rec.by.is_empty() { "motesvakt" } else { rec.by.as_str() },
                "at": rec.at.to_string(),
            });
            if let Some(r) = rec.reason {
                v["reason"] = r.as_str().into();
            }
            if let Some(n) = &rec.note {
                v["note"] = n.as_str().into();
            }
            v
        }
    }
}

/// An incident's JSON line with its workflow status as `"workflow"`.
pub fn json_with_status(r: &Reported, status: Option<&StatusRecord>) -> String {
    let line = report::json_line(r);
    let Some(head) = line.strip_suffix('}') else {
        return line;
    };
    format!(
        "{head},\"workflow\":{}}}",
        report::json_safe(status_json(status).to_string())
    )
}

fn show(t: Target) -> Result<ExitCode> {
    let (store, id, lang) = open(&t)?;
    let tx = store.read_transaction()?;
    let Some(incident) = tx.incident(&id)? else {
        return Err(SetupError(format!("incident {id} is gone from the database")).into());
    };
    let withdrawn = tx.is_withdrawn(&id)?;
    let status = tx.status_of(&id)?;
    let changes = tx.status_history(&id)?;
    drop(tx);
    let severity = store.incident_history(&id)?;
    let reported = Reported {
        incident,
        outcome: if withdrawn {
            Outcome::Withdrawn
        } else {
            match severity.last() {
                Some((c, Some(from), _)) if c == "raised" => Outcome::Raised { from: *from },
                Some((c, Some(from), _)) if c == "lowered" => Outcome::Lowered { from: *from },
                _ => Outcome::New,
            }
        },
    };
    let mut out = std::io::BufWriter::new(std::io::stdout());
    if t.json {
        let line = json_with_status(&reported, status.as_ref());
        let history: Vec<serde_json::Value> = changes
            .iter()
            .map(|c| {
                let mut v = status_json(Some(&c.to));
                v["from"] = c.from.as_str().into();
                v
            })
            .collect();
        let severity: Vec<serde_json::Value> = severity
            .iter()
            .map(|(change, from, to)| {
                serde_json::json!({
                    "change": change,
                    "from": from.map(|f| f.as_str()),
                    "to": to.as_str(),
                })
            })
            .collect();
        let head = line.strip_suffix('}').unwrap_or(&line);
        writeln!(
            out,
            "{head},\"withdrawn\":{withdrawn},\"severity_history\":{},\"workflow_history\":{}}}",
            report::json_safe(serde_json::Value::from(severity).to_string()),
            report::json_safe(serde_json::Value::from(history).to_string())
        )
        .context("cannot write to stdout")?;
    } else {
        let sv = lang == Language::Sv;
        write!(out, "{}", report::text_block(&reported, lang)).context("cannot write to stdout")?;
        writeln!(out, "    {}", status_line(status.as_ref(), lang))
            .context("cannot write to stdout")?;
        writeln!(
            out,
            "    {}:",
            if sv {
                "Allvarlighet, historik"
            } else {
                "Severity history"
            }
        )
        .context("cannot write to stdout")?;
        for (change, from, to) in &severity {
            let from = from
                .map(|f| format!("{} → ", f.label(lang)))
                .unwrap_or_default();
            writeln!(out, "      {change}: {from}{}", to.label(lang))
                .context("cannot write to stdout")?;
        }
        writeln!(
            out,
            "    {}:",
            if sv {
                "Status, historik"
            } else {
                "Status history"
            }
        )
        .context("cannot write to stdout")?;
        if changes.is_empty() {
            writeln!(
                out,
                "      {}",
                if sv {
                    "(inga ändringar: öppen)"
                } else {
                    "(no changes: open)"
                }
            )
            .context("cannot write to stdout")?;
        }
        for c in &changes {
            let line = format!(
                "{} → {}. {}",
                c.from.label(lang),
                c.to.status.label(lang),
                details(&c.to, lang)
            );
            writeln!(out, "      {}", report::shown(&line)).context("cannot write to stdout")?;
        }
    }
    out.flush().context("cannot write to stdout")?;
    Ok(ExitCode::SUCCESS)
}
