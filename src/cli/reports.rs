//! `motesvakt report`: incident reports for line managers, period figures for IT security,
//! IMY and avvikelse drafts, from the incidents a database holds.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::{Args, ValueEnum};
use jiff::Timestamp;

use super::{SetupError, apply_tz, incidents_db, parse_language, parse_since, parse_tz};
use crate::alert::Directory;
use crate::config::Language;
use crate::report::{self, Draft, Filter, Format, Options, Scope, Sources};
use crate::store::IdMatch;
use clap::Subcommand;

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("scope").args(["unit", "manager", "person"]))]
pub struct ReportArgs {
    /// The database (as given to `scan --db`).
    #[arg(long, value_name = "FILE", required_unless_present = "config")]
    pub db: Option<PathBuf>,
    /// Configuration file whose `state_dir` holds the database (in place of --db); its
    /// [directory] names people, units and managers.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The directory CSV (user, name, unit, manager), in place of the config's [directory].
    #[arg(long, value_name = "FILE")]
    pub directory: Option<PathBuf>,
    /// Incidents whose event happened at or after TIME: `2024-05-02`, `2024-05-02 10:00`
    /// (Swedish time), RFC 3339, or a time ago (`7d`, `12h`).
    #[arg(long, value_name = "TIME", value_parser = parse_since)]
    pub since: Option<Timestamp>,
    /// Incidents whose event happened before TIME (same forms as --since).
    #[arg(long, value_name = "TIME", value_parser = parse_since)]
    pub until: Option<Timestamp>,
    /// Only the people of this unit (as the directory names it).
    #[arg(long, value_name = "UNIT")]
    pub unit: Option<String>,
    /// Only the people whose manager has this address (in the directory).
    #[arg(long, value_name = "EMAIL")]
    pub manager: Option<String>,
    /// Only this person (address or platform id).
    #[arg(long, value_name = "ID")]
    pub person: Option<String>,
    /// Only this incident (its id, or the start of it).
    #[arg(long, value_name = "ID")]
    pub incident: Option<String>,
    /// With --incident: print only a draft, in Markdown: `imy` (notification of a personal
    /// data breach) or `avvikelse` (deviation report).
    #[arg(long, value_name = "DRAFT", requires = "incident")]
    pub draft: Option<DraftArg>,
    /// html (one self-contained file), md, json (UTC times) or csv.
    #[arg(long, value_name = "FORMAT", default_value = "html")]
    pub format: FormatArg,
    /// Language: sv or en (overrides the config's `language`).
    #[arg(long, value_name = "LANG", value_parser = parse_language)]
    pub lang: Option<Language>,
    /// Write the report to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The CSV separator: `,` (default) or `;` (Swedish Excel).
    #[arg(long, value_name = "CHAR", default_value = ",", value_parser = parse_sep)]
    pub csv_sep: u8,
    /// Time zone of the times people read (an IANA name; overrides the config's `timezone`).
    #[arg(long, value_name = "ZONE", value_parser = parse_tz)]
    pub tz: Option<jiff::tz::TimeZone>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    Html,
    Md,
    Json,
    Csv,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DraftArg {
    Imy,
    Avvikelse,
}

fn parse_sep(s: &str) -> Result<u8, String> {
    match s {
        "," => Ok(b','),
        ";" => Ok(b';'),
        "\\t" | "tab" => Ok(b'\t'),
        _ => Err("the CSV separator is `,`, `;` or `tab`".into()),
    }
}

pub fn run(args: ReportArgs) -> Result<ExitCode> {
    apply_tz(args.tz.as_ref());
    let (config, store) = incidents_db(args.db.as_ref(), args.config.as_ref())?;
    let lang = args
        .lang
        .or(config.as_ref().map(|c| c.language))
        .unwrap_or_default();
    let directory_path = args
        .directory
        .clone()
        .or_else(|| config.as_ref().and_then(|c| c.alerts.directory.clone()));
    let directory = match &directory_path {
        Some(p) => Some(Directory::load(p).map_err(|e| SetupError(report::shown(&e.to_string())))?),
        None => None,
    };
    let scope = match (&args.unit, &args.manager, &args.person) {
        (Some(u), _, _) => Scope::Unit(u.clone()),
        (_, Some(m), _) => Scope::Manager(m.clone()),
        (_, _, Some(p)) => Scope::Person(p.clone()),
        _ => Scope::All,
    };
    if matches!(scope, Scope::Unit(_) | Scope::Manager(_)) && directory.is_none() {
        return Err(SetupError(
            "--unit and --manager need the directory: give --directory FILE or a config with [directory]".into(),
        )
        .into());
    }
    if let Some(d) = &directory {
        let unknown = match &scope {
            Scope::Unit(u) if !d.has_unit(u) => {
                Some("--unit: nobody in the directory is in that unit")
            }
            Scope::Manager(m) if !d.has_manager(m) => {
                Some("--manager: nobody in the directory has that manager")
            }
            _ => None,
        };
        if let Some(w) = unknown {
            let _ = writeln!(
                std::io::stderr(),
                "motesvakt: warning: {w}; the report is empty"
            );
        }
    }
    if let (Some(s), Some(u)) = (args.since, args.until)
        && s >= u
    {
        return Err(SetupError("--since is not before --until: the period is empty".into()).into());
    }
    let incident = match &args.incident {
        None => None,
        Some(given) => match store.read_transaction()?.find_incident(given)? {
            IdMatch::One(id) => Some(id),
            IdMatch::None => {
                return Err(SetupError(format!(
                    "no incident with the id {} in {} (`motesvakt incidents` lists them)",
                    report::shown(given),
                    report::shown_path(store.path())
                ))
                .into());
            }
            IdMatch::Many(n) => {
                return Err(SetupError(format!(
                    "{n} incidents have ids that start with {}: give more of the id",
                    report::shown(given)
                ))
                .into());
            }
        },
    };
    let filter = Filter {
        since: args.since,
        until: args.until,
        scope,
        incident,
    };
    let profiles = report::schedule::profiles(config.as_ref());
    let built = report::build(
        &store,
        &filter,
        Sources {
            directory: directory.as_ref(),
            profiles: &profiles,
            now: Timestamp::now(),
            classifier: config.as_ref().map(|c| &c.classifier),
        },
    )
    .map_err(|e| match e {
        report::ReportError::NoSuchIncident => SetupError(
            "that incident is not in the report's period and scope (check --since, --until, --unit, --manager, --person)"
                .into(),
        )
        .into(),
        e => anyhow::Error::from(e),
    })?;
    let bytes = match args.draft {
        Some(d) => report::render_draft(
            &built,
            match d {
                DraftArg::Imy => Draft::Imy,
                DraftArg::Avvikelse => Draft::Avvikelse,
            },
            lang,
        )
        .map_err(|e| match e {
            report::ReportError::NotReportable(_) => SetupError(format!(
                "{e} (`--draft avvikelse` gives the deviation report)"
            ))
            .into(),
            e => anyhow::Error::from(e),
        })?,
        None => report::render(
            &built,
            match args.format {
                FormatArg::Html => Format::Html,
                FormatArg::Md => Format::Markdown,
                FormatArg::Json => Format::Json,
                FormatArg::Csv => Format::Csv,
            },
            &Options {
                lang,
                csv_sep: args.csv_sep,
            },
        )?,
    };
    match &args.out {
        Some(path) => std::fs::write(path, &bytes)
            .with_context(|| format!("cannot write the report to {}", report::shown_path(path)))?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(&bytes)
                .and_then(|()| out.flush())
                .context("cannot write to stdout")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Args)]
pub struct ScheduledArgs {
    #[command(subcommand)]
    pub action: ScheduledAction,
}

#[derive(Debug, Subcommand)]
pub enum ScheduledAction {
    /// Write the [[reports]] due now that have not been written for their latest scheduled
    /// time (each once; the service does the same on its own), and print the files written.
    Run {
        /// Configuration file with the [[reports]] (its state_dir holds the database).
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// Only the report of this name.
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
        /// Run as if it were TIME (same forms as `report --since`): the latest scheduled time
        /// at or before it decides the period.
        #[arg(long, value_name = "TIME", value_parser = parse_since)]
        now: Option<Timestamp>,
        /// Write the reports again even when already written for that time.
        #[arg(long)]
        force: bool,
    },
}

pub fn run_scheduled(args: ScheduledArgs) -> Result<ExitCode> {
    let ScheduledAction::Run {
        config,
        name,
        now,
        force,
    } = args.action;
    let (config, store) = incidents_db(None, Some(&config))?;
    let Some(config) = config else {
        return Err(SetupError("give --config FILE".into()).into());
    };
    if config.reports.is_empty() {
        return Err(SetupError(format!(
            "{}: no [[reports]] configured",
            report::shown(&config.origin.to_string())
        ))
        .into());
    }
    let outcome = report::schedule::run_due(
        &store,
        &config,
        now.unwrap_or_else(Timestamp::now),
        name.as_deref(),
        force,
    )
    .map_err(|e| SetupError(e.to_string()))?;
    let mut out = std::io::stdout().lock();
    if outcome.written.is_empty() && outcome.failed.is_empty() {
        let _ = writeln!(
            std::io::stderr(),
            "motesvakt: no report due (each is written once per scheduled time; --force writes again)"
        );
    }
    for w in &outcome.written {
        writeln!(
            out,
            "{}\t{}\t{}",
            w.report,
            w.incidents,
            report::shown_path(&w.path)
        )
        .context("cannot write to stdout")?;
    }
    if !outcome.failed.is_empty() {
        let e: Vec<String> = outcome.failed.iter().map(ToString::to_string).collect();
        return Err(SetupError(e.join("\n")).into());
    }
    Ok(ExitCode::SUCCESS)
}
