//! The command line: argument definitions and the commands behind them.
//!
//! Exit codes: 0 the command ran; 1 `scan --fail-on` found an incident at or above the given
//! severity; 2 a usage, configuration or database error.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};

use jiff::Timestamp;

use crate::config::{Config, Language};
use crate::detect::{Detector, HashKey};
use crate::incident::Severity;
use crate::pipeline::Reported;
use crate::report;
use crate::scan::{self, ScanOptions};
use crate::sources::Format;
use crate::store::{IncidentFilter, Store};

/// motesvakt audits video-meeting logs against Swedish health and social care routines.
#[derive(Debug, Parser)]
#[command(name = "motesvakt", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan meeting-log exports (files or folders) and print the incidents found.
    Scan(ScanArgs),
    /// List the rules, their severities and the routine sections they cite, per profile.
    Rules {
        /// Configuration file (TOML). Without it, the built-in default is used.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Show only this profile (any known profile, active or not).
        #[arg(long, value_name = "ID")]
        profile: Option<String>,
    },
    /// Check a configuration file and print the active profiles.
    CheckConfig {
        /// Configuration file (TOML). Without it, the built-in default is checked.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// List the incidents a database holds (the latest judgement of each meeting), oldest
    /// first.
    Incidents(IncidentsArgs),
    /// Run the service: follow the folders of the config's [[watch]] blocks and keep the
    /// incidents in the state folder's database, until SIGTERM or SIGINT (SIGHUP reloads the
    /// configuration).
    Run(RunArgs),
    /// Write a report of the incidents a database holds: per incident what happened, who,
    /// the routine and what the manager is expected to do; the period's figures; IMY and
    /// avvikelse drafts. HTML, Markdown, JSON or CSV, Swedish or English.
    Report(Box<reports::ReportArgs>),
    /// The scheduled reports of the config's [[reports]]: `reports run` writes those due now
    /// (as the service does), for testing and for cron.
    Reports(reports::ScheduledArgs),
    /// Show the alert outbox: each alert, its recipient, state and attempts, oldest first.
    Alerts(AlertsArgs),
    /// Send a test mail through the configured [smtp] server.
    TestAlert {
        /// Configuration file (TOML) with the [smtp] section.
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// The address to send it to.
        #[arg(long, value_name = "ADDRESS")]
        to: String,
    },
    /// Show the service's state: the files it follows, the meetings waiting for judgement,
    /// the last batch, the store's size.
    Status {
        /// Configuration file (TOML) whose state folder to read. Without it, the built-in
        /// default's (`$STATE_DIRECTORY`, else ./motesvakt-state).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// The status as one JSON object.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Configuration file (TOML). Without it, the built-in default is used (which watches
    /// nothing).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// How log lines are written on stderr. `auto`: journald's form (`<6>message`) when stderr
    /// is the journal, else text with Swedish local times.
    #[arg(long, value_name = "FORMAT", default_value = "auto")]
    pub log_format: crate::logging::LogFormat,
}

/// `run`'s exit code for a configuration that cannot be used (EX_CONFIG): systemd does not
/// restart the service for it (`RestartPreventExitStatus=78`).
pub const EXIT_CONFIG: u8 = 78;
/// `scan` was given input and could read none of it.
pub const EXIT_READ_NOTHING: u8 = 3;

/// `run`'s exit code for a database error (EX_TEMPFAIL): systemd restarts the service.
pub const EXIT_STORE: u8 = 75;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct IncidentsArgs {
    /// Follow an incident up: acknowledge, resolve, mark a false positive, reopen, show.
    #[command(subcommand)]
    pub action: Option<workflow::IncidentAction>,
    /// The database (as given to `scan --db`).
    #[arg(long, value_name = "FILE", required_unless_present = "config")]
    pub db: Option<PathBuf>,
    /// Configuration file whose `state_dir` holds the database (in place of --db).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Only incidents whose event happened at or after TIME: `2024-05-02` or
    /// `2024-05-02 10:00` (Swedish time), RFC 3339 (`2024-05-02T08:00:00Z`), or a time ago
    /// (`7d`, `12h`, `30m`).
    #[arg(long, value_name = "TIME", value_parser = parse_since)]
    pub since: Option<Timestamp>,
    /// Only incidents of this severity or higher.
    #[arg(long, value_name = "SEVERITY")]
    pub severity: Option<SeverityArg>,
    /// One JSON object per incident per line, as `scan --json` prints them.
    #[arg(long)]
    pub json: bool,
    /// Language of the text output and the summaries: sv or en (overrides the config's
    /// `language`). Stored incidents are rendered again in it.
    #[arg(long, value_name = "LANG", value_parser = parse_language)]
    pub lang: Option<Language>,
    /// Time zone of the times in the text output (an IANA name such as UTC; overrides the
    /// config's `timezone`). Default: Swedish time.
    #[arg(long, value_name = "ZONE", value_parser = parse_tz)]
    pub tz: Option<jiff::tz::TimeZone>,
}

mod reports;
mod workflow;

/// `--since`: a Swedish date or date and time, RFC 3339, or a duration back from now.
fn parse_since(s: &str) -> Result<Timestamp, String> {
    parse_time_arg(s, Timestamp::now())
}

/// `--since` with "now" given.
pub fn parse_time_arg(s: &str, now: Timestamp) -> Result<Timestamp, String> {
    let s = s.trim();
    let bad = || {
        "not a time: expected 2024-05-02, \"2024-05-02 10:00\", 2024-05-02T08:00:00Z or a time ago like 7d, 12h, 30m".to_string()
    };
    if let Ok(t) = s.parse::<Timestamp>() {
        return Ok(t);
    }
    if let Some((n, unit)) = s
        .char_indices()
        .last()
        .map(|(i, c)| (&s[..i], c))
        .filter(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    {
        let n: i64 = n.parse().map_err(|_| bad())?;
        let secs = match unit {
            'd' => n.checked_mul(86_400),
            'h' => n.checked_mul(3_600),
            'm' => n.checked_mul(60),
            _ => None,
        }
        .ok_or_else(bad)?;
        return now
            .checked_sub(jiff::SignedDuration::from_secs(secs))
            .map_err(|_| bad());
    }
    let civil = s
        .parse::<jiff::civil::DateTime>()
        .or_else(|_| {
            s.parse::<jiff::civil::Date>()
                .map(|d| d.to_datetime(jiff::civil::Time::midnight()))
        })
        .map_err(|_| bad())?;
    civil
        .to_zoned(crate::config::profile::swedish_tz())
        .map(|z| z.timestamp())
        .map_err(|_| bad())
}

/// Severity names on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SeverityArg {
    Critical,
    High,
    Medium,
    Low,
    Info,
}

impl From<SeverityArg> for Severity {
    fn from(s: SeverityArg) -> Severity {
        match s {
            SeverityArg::Critical => Severity::Critical,
            SeverityArg::High => Severity::High,
            SeverityArg::Medium => Severity::Medium,
            SeverityArg::Low => Severity::Low,
            SeverityArg::Info => Severity::Info,
        }
    }
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Configuration file (TOML). Without it, the built-in default configuration is used.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Keep meeting state and incidents in this SQLite file; a later scan then reports only
    /// what is new. Without it, everything is kept in memory for this run.
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,
    /// Print one JSON object per incident per line on stdout, and nothing else there.
    #[arg(long)]
    pub json: bool,
    /// Exit with code 1 when an incident of this severity or higher is reported.
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<SeverityArg>,
    /// Read every file as this format instead of detecting it from the content.
    #[arg(long, value_name = "FORMAT", value_parser = parse_format)]
    pub format: Option<Format>,
    /// Language of summaries: sv or en (overrides the config's `language`).
    #[arg(long, value_name = "LANG", value_parser = parse_language)]
    pub lang: Option<Language>,
    /// Time zone of the times in the text output (an IANA name such as UTC; overrides the
    /// config's `timezone`). Default: Swedish time. JSON keeps UTC.
    #[arg(long, value_name = "ZONE", value_parser = parse_tz)]
    pub tz: Option<jiff::tz::TimeZone>,
    /// Threads for reading and judging; the incidents are the same whatever the number.
    /// Default: the machine's cores (at most 8).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub threads: Option<u16>,
    /// Write alerts of new and raised incidents to the database's outbox ([alerts],
    /// [directory]) and deliver the immediate ones ([smtp]) before exiting. Needs --db.
    #[arg(long, requires = "db")]
    pub alert: bool,
    /// Files or folders to scan (folders recursively).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct AlertsArgs {
    /// The database (as given to `scan --db`).
    #[arg(long, value_name = "FILE", required_unless_present = "config")]
    pub db: Option<PathBuf>,
    /// Configuration file whose `state_dir` holds the database (in place of --db).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Only alerts not delivered yet.
    #[arg(long, group = "which")]
    pub pending: bool,
    /// Only alerts not delivered yet after a failed attempt.
    #[arg(long, group = "which")]
    pub failed: bool,
    /// Only alerts given up on.
    #[arg(long, group = "which")]
    pub dead: bool,
}

fn parse_format(s: &str) -> Result<Format, String> {
    Format::from_name(s).ok_or_else(|| {
        let names: Vec<_> = Format::ALL.iter().map(|f| f.name()).collect();
        format!("not a format motesvakt knows (known: {})", names.join(", "))
    })
}

fn parse_language(s: &str) -> Result<Language, String> {
    Language::from_name(s)
        .ok_or_else(|| "not a language motesvakt knows (known: sv, en)".to_string())
}

/// An error that means "usage or configuration": exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SetupError(String);

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Scan(args) => scan_command(args),
        Command::Incidents(args) => incidents_command(args),
        Command::Report(args) => reports::run(*args),
        Command::Reports(args) => reports::run_scheduled(args),
        Command::Alerts(args) => alerts_command(args),
        Command::TestAlert { config, to } => test_alert_command(&config, &to),
        Command::Run(args) => Ok(run_command(args)),
        Command::Status { config, json } => {
            let config = load_config(config.as_deref())?;
            let status = crate::service::status::read(&config.service_state_dir())
                .map_err(|e| SetupError(e.to_string()))?;
            if json {
                println!("{}", serde_json::to_string(&status)?);
            } else {
                print!("{}", crate::service::status::text(&status));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Rules { config, profile } => {
            let config = load_config(config.as_deref())?;
            let profiles: Vec<crate::config::Profile> = match &profile {
                Some(id) => {
                    let p = config
                        .catalog
                        .iter()
                        .find(|p| &p.id == id)
                        .cloned()
                        .or_else(|| crate::config::Profile::builtin(id))
                        .ok_or_else(|| {
                            SetupError(format!(
                                "unknown profile `{id}` (known: {})",
                                crate::config::Profile::BUILTIN_IDS.join(", ")
                            ))
                        })?;
                    vec![p]
                }
                // The whole catalog: every built-in profile and the configuration's own.
                None => {
                    let mut all = config.catalog.clone();
                    for id in crate::config::Profile::BUILTIN_IDS {
                        if !all.iter().any(|p| p.id == *id)
                            && let Some(p) = crate::config::Profile::builtin(id)
                        {
                            all.push(p);
                        }
                    }
                    all
                }
            };
            // Profile ids and names may come from the configuration's own profile files.
            let table: String = report::rules_table(&config, &profiles)
                .lines()
                .map(|l| report::shown(l) + "\n")
                .collect();
            std::io::stdout()
                .lock()
                .write_all(table.as_bytes())
                .map_err(|e| SetupError(format!("cannot write to stdout: {e}")))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::CheckConfig { config } => {
            let config = load_config(config.as_deref())?;
            // Everything scan and run check before reading: custom patterns, keyword lists
            // (with a throwaway key: checking makes no key file).
            Detector::new(&config.detect, HashKey::from_bytes([0; 32]))
                .map_err(|e| SetupError(format!("config {}: {e}", config.origin)))?;
            // The directory as the service would read it at its start.
            let directory = match &config.alerts.directory {
                Some(path) => Some(
                    crate::alert::Directory::load(path)
                        .map_err(|e| SetupError(format!("config {}: {e}", config.origin)))?,
                ),
                None => None,
            };
            // The webhook's secret as the service would read it.
            let channels = crate::alert::channels::Channels::new(&config.alerts)
                .map_err(|e| SetupError(format!("config {}: {e}", config.origin)))?;
            println!(
                "configuration OK: {}",
                report::shown(&config.origin.to_string())
            );
            if let Some(c) = &channels {
                println!("alerts also go to: {}", c.describe());
            }
            for p in config.profiles() {
                println!(
                    "{}",
                    report::shown(&format!("profile {}: {} ({})", p.id, p.name, p.routine))
                );
            }
            if config.classifier.is_empty() {
                println!(
                    "warning: internal_domains is empty; everyone without an explicit kind counts as external"
                );
            }
            if let Some(d) = &directory {
                let managers = d.with_manager();
                println!("directory: {} user(s), {managers} with a manager", d.len());
            }
            for r in &config.reports {
                println!(
                    "{}",
                    report::shown(&format!(
                        "report {}: {}; {} Swedish time, to {}",
                        r.name,
                        r.describe(),
                        r.at.strftime("%H:%M"),
                        r.folder.display()
                    ))
                );
            }
            if (directory.is_some() || config.alerts.smtp.is_some())
                && config.alerts.it_security.is_empty()
            {
                println!(
                    "warning: [alerts] it_security is empty; an incident whose responsible person has no manager in the directory alerts nobody"
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn load_config(path: Option<&Path>) -> Result<Config> {
    let config = match path {
        Some(p) => Config::load(p).map_err(|e| SetupError(e.to_string()))?,
        None => Config::builtin(),
    };
    if let Some(tz) = &config.timezone {
        crate::i18n::time::set_zone(tz.clone());
    }
    Ok(config)
}

/// `--tz`: set before the configuration is read, so that it wins over `timezone`.
fn apply_tz(tz: Option<&jiff::tz::TimeZone>) {
    if let Some(tz) = tz {
        crate::i18n::time::set_zone(tz.clone());
    }
}

fn parse_tz(s: &str) -> Result<jiff::tz::TimeZone, String> {
    crate::i18n::time::zone_named(s).ok_or_else(|| {
        "not a time zone motesvakt knows (write an IANA name such as Europe/Stockholm or UTC)"
            .to_string()
    })
}

/// The hash key: from config or a credential, else kept beside the database, else fresh for
/// this run.
fn hash_key(config: &Config, db: Option<&Path>) -> Result<HashKey> {
    let dir = db.map(crate::setup::db_dir);
    crate::setup::hash_key(config, dir.as_deref()).map_err(|e| SetupError(e.0).into())
}

fn scan_command(args: ScanArgs) -> Result<ExitCode> {
    apply_tz(args.tz.as_ref());
    let mut config = load_config(args.config.as_deref())?;
    if let Some(lang) = args.lang {
        config.language = lang;
    }
    let mut out = IncidentWriter::new(args.json, config.language);
    // `-` is standard input.
    let mut args = args;
    for p in &mut args.paths {
        if p.as_os_str() == "-" {
            *p = PathBuf::from("/dev/stdin");
        }
    }
    for p in &args.paths {
        if !p.exists() {
            return Err(SetupError(format!("{}: no such file or folder", p.display())).into());
        }
    }
    let key = hash_key(&config, args.db.as_deref())?;
    let detector = Detector::new(&config.detect, key)
        .map_err(|e| SetupError(format!("config {}: {e}", config.origin)))?;
    let store = match &args.db {
        Some(path) => {
            let mut store = Store::open(path).map_err(|e| SetupError(e.to_string()))?;
            store
                .set_bulk_writes()
                .map_err(|e| SetupError(e.to_string()))?;
            store
        }
        None => Store::temporary()?,
    };
    let stderr = std::io::stderr();
    if config.classifier.is_empty() {
        let _ = writeln!(
            stderr.lock(),
            "motesvakt: warning: internal_domains is empty in {}; participants without an explicit kind count as external",
            report::shown(&config.origin.to_string())
        );
    }
    let today = crate::config::profile::swedish_date(jiff::Timestamp::now());
    for p in config.expired_profiles(today) {
        let _ = writeln!(
            stderr.lock(),
            "motesvakt: warning: profile {} ({}) was valid until {}; it judges only events up to that day",
            report::shown(&p.id),
            report::shown(&p.routine),
            p.valid_until.map(|d| d.to_string()).unwrap_or_default()
        );
    }
    // A progress bar for people watching a terminal; nothing when stderr goes to a file, a
    // pipe or the journal, or with --json.
    use std::io::IsTerminal;
    let bar = (!args.json && stderr.is_terminal()).then(progress_bar);
    let options = ScanOptions {
        paths: args.paths,
        format: args.format,
        threads: args
            .threads
            .map_or_else(crate::work::default_threads, usize::from),
        progress: bar.clone().map(|bar| {
            let started = std::time::Instant::now();
            Box::new(move |p: &scan::Progress| {
                bar.set_length(p.total);
                bar.set_position(p.bytes);
                let secs = started.elapsed().as_secs_f64().max(0.001);
                bar.set_message(format!("{:.0} events/s", p.events as f64 / secs));
            }) as Box<dyn Fn(&scan::Progress)>
        }),
    };
    let threshold = args.fail_on.map(Severity::from);
    let mut failed = false;
    let router = if args.alert {
        let router = crate::alert::Router::new(config.alerts.clone())
            .map_err(|e| SetupError(e.to_string()))?;
        Some(std::sync::Arc::new(router))
    } else {
        None
    };
    let mailer = match (&router, &config.alerts.smtp) {
        (Some(_), Some(smtp)) => {
            Some(crate::alert::smtp::Mailer::new(smtp).map_err(|e| SetupError(e.to_string()))?)
        }
        _ => None,
    };
    let mut channels = match &router {
        Some(_) => crate::alert::channels::Channels::new(&config.alerts)
            .map_err(|e| SetupError(e.to_string()))?,
        None => None,
    };
    let stats = scan::run_with_alerts(
        &config,
        &detector,
        &store,
        &options,
        router.clone(),
        &mut |d| {
            let print = || {
                let _ = writeln!(stderr.lock(), "{}", report::shown(&d.to_string()));
            };
            match &bar {
                Some(bar) => bar.suspend(print),
                None => print(),
            }
        },
        &mut |r| {
            if let Some(bar) = &bar {
                bar.finish_and_clear();
            }
            failed |= r.outcome.is_news() && threshold.is_some_and(|t| r.incident.severity >= t);
            out.write(r);
        },
    )
    .context("the scan stopped")?;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let printed = out.finish(args.db.is_some());
    let mut err = stderr.lock();
    for line in report::format_lines(&stats) {
        let _ = writeln!(err, "{line}");
    }
    if let Some(hint) = report::tenant_hint(&stats) {
        let _ = writeln!(err, "{hint}");
    }
    let _ = writeln!(err, "{}", report::summary_line(&stats));
    drop(err);
    printed?;
    if router.is_some() {
        let runtime = crate::alert::smtp::runtime().context("cannot start the alert sender")?;
        // The webhook and the SIEM first: a dead webhook call is told by mail.
        if let Some(c) = &mut channels {
            let done = runtime
                .block_on(crate::alert::channels::deliver(
                    &store,
                    c,
                    &config.alerts,
                    config.language,
                    true,
                ))
                .context("the alerts were not delivered")?;
            eprintln!(
                "motesvakt: alerts ({}): {} delivered, {} to try again later, {} given up",
                c.describe(),
                done.sent,
                done.retried,
                done.dead
            );
        }
        match &mailer {
            Some(mailer) => {
                let done = runtime
                    .block_on(crate::alert::smtp::deliver(
                        &store,
                        mailer,
                        &config.alerts,
                        config.language,
                        true,
                    ))
                    .context("the alerts were not delivered")?;
                eprintln!(
                    "motesvakt: alerts: {} mail(s) sent, {} to try again later, {} given up, {} alert(s) held back by the hourly cap",
                    done.sent, done.retried, done.dead, done.held
                );
            }
            None if config.alerts.directory.is_some() || !config.alerts.it_security.is_empty() => {
                eprintln!(
                    "motesvakt: alerts: mail written to the outbox; no [smtp] server in {}, no mail sent",
                    report::shown(&config.origin.to_string())
                )
            }
            None => {}
        }
    }

    if stats.read_nothing() {
        eprintln!(
            "motesvakt: error: nothing of the input could be read (every file skipped or every record rejected: see the lines above)"
        );
        return Ok(ExitCode::from(EXIT_READ_NOTHING));
    }
    if failed {
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes incidents to stdout as they come, as JSON lines or text blocks. A write error (a
/// closed pipe, a full disk) stops the output, not the run (with `--db` the incidents are still
/// stored), and [`IncidentWriter::finish`] reports it: exit code 2, never a quiet success.
struct IncidentWriter {
    out: std::io::BufWriter<std::io::Stdout>,
    json: bool,
    lang: Language,
    error: Option<std::io::Error>,
}

impl IncidentWriter {
    fn new(json: bool, lang: Language) -> IncidentWriter {
        IncidentWriter {
            out: std::io::BufWriter::new(std::io::stdout()),
            json,
            lang,
            error: None,
        }
    }

    fn write(&mut self, r: &Reported) {
        if self.error.is_some() {
            return;
        }
        let written = if self.json {
            writeln!(self.out, "{}", report::json_line(r))
        } else {
            writeln!(self.out, "{}", report::text_block(r, self.lang))
        };
        if let Err(e) = written {
            self.error = Some(e);
        }
    }

    /// [`IncidentWriter::write`] with the incident's workflow status (`None`: open).
    fn write_with_status(&mut self, r: &Reported, status: Option<&crate::store::StatusRecord>) {
        if self.error.is_some() {
            return;
        }
        let written = if self.json {
            writeln!(self.out, "{}", workflow::json_with_status(r, status))
        } else {
            writeln!(
                self.out,
                "{}    {}\n",
                report::text_block(r, self.lang),
                workflow::status_line(status, self.lang)
            )
        };
        if let Err(e) = written {
            self.error = Some(e);
        }
    }

    /// Flushes, and turns a write error into one that says what was lost.
    fn finish(mut self, stored: bool) -> Result<()> {
        if self.error.is_none()
            && let Err(e) = self.out.flush()
        {
            self.error = Some(e);
        }
        let Some(e) = self.error.take() else {
            return Ok(());
        };
        let why = match e.kind() {
            std::io::ErrorKind::BrokenPipe => "stdout was closed by the reader".to_string(),
            _ => format!("cannot write to stdout: {e}"),
        };
        let hint = if stored {
            "; they are in the database: `motesvakt incidents` lists them"
        } else {
            ""
        };
        Err(SetupError(format!("{why}: not every incident was printed{hint}")).into())
    }
}

/// `motesvakt run`: the service, with its exit codes (0 stopped; [`EXIT_CONFIG`];
/// [`EXIT_STORE`]).
fn run_command(args: RunArgs) -> ExitCode {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    crate::logging::init(args.log_format);
    let path = args.config.clone();
    let load = move || match &path {
        Some(p) => Config::load(p).map_err(|e| e.to_string()),
        None => Ok(Config::builtin()),
    };
    let config = match load() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("{e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    // Alerts and the status show times in it (a reload does not change it: restart).
    if let Some(tz) = &config.timezone {
        crate::i18n::time::set_zone(tz.clone());
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let stop = Arc::new(AtomicBool::new(false));
    if let Err(e) = crate::service::signals::listen(tx.clone(), stop.clone()) {
        tracing::error!("cannot listen for signals: {e}");
        return ExitCode::from(EXIT_STORE);
    }
    match crate::service::serve(config, Box::new(load), tx, rx, stop.clone()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(crate::service::ServiceError::Setup(e)) => {
            tracing::error!("{e}");
            ExitCode::from(EXIT_CONFIG)
        }
        Err(e) => {
            tracing::error!("{e}; stopping (systemd restarts the service)");
            let _ = stop.load(Ordering::Relaxed);
            ExitCode::from(EXIT_STORE)
        }
    }
}

/// The configuration of `--config`, if given, and the database of `--db`, else of that
/// configuration's state folder; the database must exist.
fn incidents_db(db: Option<&PathBuf>, config: Option<&PathBuf>) -> Result<(Option<Config>, Store)> {
    let config = match config {
        Some(p) => Some(load_config(Some(p))?),
        None => None,
    };
    let path = match (db, &config) {
        (Some(db), _) => db.clone(),
        (None, Some(c)) => c.service_state_dir().join(crate::config::STATE_DB),
        (None, None) => return Err(SetupError("give --db FILE or --config FILE".into()).into()),
    };
    if !path.is_file() {
        let hint = match (db, &config) {
            (None, Some(c)) => format!(
                " (the database in the state folder of {}: its state_dir, else $STATE_DIRECTORY, else ./{})",
                c.origin,
                crate::config::DEFAULT_STATE_DIR
            ),
            _ => String::new(),
        };
        return Err(SetupError(format!("{}: no such database{hint}", path.display())).into());
    }
    let store = Store::open(&path).map_err(|e| SetupError(e.to_string()))?;
    Ok((config, store))
}

fn incidents_command(args: IncidentsArgs) -> Result<ExitCode> {
    if let Some(action) = args.action {
        return workflow::run(action);
    }
    apply_tz(args.tz.as_ref());
    let (config, store) = incidents_db(args.db.as_ref(), args.config.as_ref())?;
    let filter = IncidentFilter {
        since: args.since,
        min_severity: args.severity.map(Severity::from),
    };
    let lang = args
        .lang
        .or(config.as_ref().map(|c| c.language))
        .unwrap_or_default();
    let mut out = IncidentWriter::new(args.json, lang);
    store
        .each_incident(&filter, &mut |s| {
            // Stored in the language configured when it was judged; read in the one asked for.
            let mut incident = s.incident;
            incident.summary = crate::i18n::summary(&incident, lang);
            out.write_with_status(
                &Reported {
                    incident,
                    outcome: s.last_change,
                },
                s.status.as_ref(),
            )
        })
        .context("cannot list the incidents")?;
    out.finish(false)?;
    Ok(ExitCode::SUCCESS)
}

/// The database of `--db`, else of the config's state folder; it must exist.
fn existing_db(db: Option<&PathBuf>, config: Option<&Config>) -> Result<PathBuf> {
    let path = match (db, config) {
        (Some(db), _) => db.clone(),
        (None, Some(c)) => c.service_state_dir().join(crate::config::STATE_DB),
        (None, None) => return Err(SetupError("give --db FILE or --config FILE".into()).into()),
    };
    if !path.is_file() {
        return Err(SetupError(format!("{}: no such database", path.display())).into());
    }
    Ok(path)
}

fn alerts_command(args: AlertsArgs) -> Result<ExitCode> {
    use crate::store::OutboxFilter;
    let config = match &args.config {
        Some(p) => Some(load_config(Some(p))?),
        None => None,
    };
    let db = existing_db(args.db.as_ref(), config.as_ref())?;
    let store = Store::open(&db).map_err(|e| SetupError(e.to_string()))?;
    let filter = if args.pending {
        OutboxFilter::Pending
    } else if args.failed {
        OutboxFilter::Failed
    } else if args.dead {
        OutboxFilter::Dead
    } else {
        OutboxFilter::All
    };
    let tx = store.read_transaction()?;
    let rows = tx.outbox(filter).context("cannot list the alerts")?;
    drop(tx);
    let time = |us: i64| {
        Timestamp::from_microsecond(us)
            .map(crate::i18n::time::date_time_seconds)
            .unwrap_or_default()
    };
    let mut out = std::io::BufWriter::new(std::io::stdout());
    for r in &rows {
        let path = if r.immediate { "immediate" } else { "digest" };
        let mut line = if r.channel == "mail" {
            format!(
                "{} {} {} mail {} to {} ({}) incident {} created {} attempts {}",
                r.id,
                r.state,
                r.severity,
                path,
                r.recipient,
                r.role,
                r.incident,
                time(r.created_us),
                r.attempts
            )
        } else {
            format!(
                "{} {} {} {} {} incident {} created {} attempts {}",
                r.id,
                r.state,
                r.severity,
                r.channel,
                r.change,
                r.incident,
                time(r.created_us),
                r.attempts
            )
        };
        if let Some(m) = &r.mail {
            line.push_str(&format!(" mail <{m}>"));
        }
        if let Some(t) = r.sent_us {
            line.push_str(&format!(" sent {}", time(t)));
        } else if r.state == "pending" && (r.attempts > 0 || r.capped) {
            line.push_str(&format!(" next {}", time(r.next_us)));
        }
        if r.capped {
            line.push_str(" held back by the hourly cap");
        }
        if let Some(e) = &r.last_error {
            line.push_str(&format!(" error: {e}"));
        }
        writeln!(out, "{}", report::shown(&line)).context("cannot write to stdout")?;
    }
    out.flush().context("cannot write to stdout")?;
    eprintln!("motesvakt: {} alert(s)", rows.len());
    Ok(ExitCode::SUCCESS)
}

fn test_alert_command(config: &Path, to: &str) -> Result<ExitCode> {
    let config = load_config(Some(config))?;
    let Some(smtp) = &config.alerts.smtp else {
        return Err(SetupError(format!(
            "{} has no [smtp] section",
            report::shown(&config.origin.to_string())
        ))
        .into());
    };
    if !crate::alert::directory::looks_like_address(to) {
        return Err(SetupError("--to: not an e-mail address".into()).into());
    }
    let mailer = crate::alert::smtp::Mailer::new(smtp).map_err(|e| SetupError(e.to_string()))?;
    let mail = crate::alert::render::test_mail(config.language);
    let id = crate::alert::short_hash(&["test", to, &Timestamp::now().to_string()]);
    let sent = crate::alert::smtp::runtime()
        .context("cannot start the mail sender")?
        .block_on(mailer.send(to, &mail, &id));
    match sent {
        Ok(()) => {
            println!(
                "test mail sent to {} through {}:{}",
                report::shown(to),
                smtp.host,
                smtp.port
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(f) => Err(SetupError(format!(
            "the test mail was not sent through {}:{}: {}",
            smtp.host, smtp.port, f.message
        ))
        .into()),
    }
}

/// The scan's progress bar on stderr: bytes, events/s and time left.
fn progress_bar() -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(0),
        indicatif::ProgressDrawTarget::stderr_with_hz(4),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] [{wide_bar}] {bytes}/{total_bytes} {msg}, {eta} left",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

#[cfg(test)]
mod tests {
    use super::parse_time_arg;

    #[test]
    fn since_takes_swedish_dates_rfc_3339_and_times_ago() {
        let now: jiff::Timestamp = "2024-07-01T12:00:00Z".parse().unwrap();
        let t = |s: &str| parse_time_arg(s, now).map(|t| t.to_string());
        // Summer time: Swedish midnight is 22:00 UTC the day before.
        assert_eq!(t("2024-05-02").unwrap(), "2024-05-01T22:00:00Z");
        assert_eq!(t("2024-01-02 10:00").unwrap(), "2024-01-02T09:00:00Z");
        assert_eq!(t("2024-05-02T08:00:00Z").unwrap(), "2024-05-02T08:00:00Z");
        assert_eq!(t("7d").unwrap(), "2024-06-24T12:00:00Z");
        assert_eq!(t("12h").unwrap(), "2024-07-01T00:00:00Z");
        assert_eq!(t("30m").unwrap(), "2024-07-01T11:30:00Z");
        for bad in [
            "yesterday",
            "7x",
            "d",
            "",
            "99999999999999999999d",
            "2024-13-01",
        ] {
            assert!(t(bad).is_err(), "{bad}");
        }
    }
}
