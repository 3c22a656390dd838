//! `motesvakt report`: every format in Swedish and English from incidents a real scan wrote to a
//! real SQLite store; hostile input (markup, formulas, terminal escapes, a personnummer) in a
//! subject, display names, chat, the directory and a workflow note comes out escaped,
//! neutralised and redacted in every format; the HTML, parsed back with an HTML5 parser, holds
//! no script and no external reference; a real browser prints it to PDF (skipped, and said so,
//! where no Chromium is installed).

mod common;

use std::path::{Path, PathBuf};

use common::*;
use jiff::Timestamp;
use motesvakt::alert::Directory;
use motesvakt::config::{Language, Profile};
use motesvakt::report::{self, Draft, Filter, Format, Options, Scope, Sources};
use motesvakt::store::Store;
use serde_json::json;

const SCRIPT: &str = "<script>alert(1)</script>";
const IMG: &str = "\"><img src=x onerror=alert(1)>";
const FORMULA: &str = "=HYPERLINK(\"http://evil.example/x\",\"klicka\")";
const ESC: &str = "\u{1b}[31mRÖD";

fn event(
    meeting: &str,
    minute: u32,
    actor: serde_json::Value,
    ty: &str,
    extra: serde_json::Value,
) -> String {
    let mut v = json!({
        "time": format!("2020-05-04T{:02}:{:02}:00+02:00", 10 + minute / 60, minute % 60),
        "platform": "teams",
        "meeting": meeting,
        "type": ty,
        "actor": actor,
    });
    if let (Some(o), serde_json::Value::Object(extra)) = (v.as_object_mut(), extra) {
        o.extend(extra);
    }
    v.to_string()
}

struct Fixture {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    db: PathBuf,
    directory: PathBuf,
}

/// Two meetings: m1 with a hostile subject (no patient data), a hostile external display name,
/// a video recording and a chat message with markup, a formula, a terminal escape and a
/// personnummer; m2 whose subject holds a personnummer and whose chat holds another. The
/// directory names both people with hostile names and units. One incident is acknowledged with
/// a hostile note. The store's own times are then set to fixed ones, for stable snapshots.
fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let anna = json!({"id": "anna@region.se", "name": format!("Anna {ESC}")});
    let ext = json!({"id": "gast@kommun.example", "name": format!("{IMG} {FORMULA}")});
    let bob = json!({"id": "bob@region.se", "name": format!("Bob {SCRIPT}")});
    let lines = vec![
        event(
            "m1",
            0,
            anna.clone(),
            "meeting_started",
            json!({"subject": format!("Planering {SCRIPT} {IMG} {FORMULA} {ESC}")}),
        ),
        event("m1", 0, anna.clone(), "participant_joined", json!({})),
        event("m1", 1, ext.clone(), "participant_joined", json!({})),
        event(
            "m1",
            2,
            anna.clone(),
            "recording_started",
            json!({"media": "video"}),
        ),
        event(
            "m1",
            5,
            anna.clone(),
            "chat_message",
            json!({"text": format!("{SCRIPT} pnr {PNR} {FORMULA} {ESC}")}),
        ),
        event("m1", 20, ext.clone(), "participant_left", json!({})),
        event("m1", 30, anna.clone(), "meeting_ended", json!({})),
        event(
            "m2",
            60,
            bob.clone(),
            "meeting_started",
            json!({"subject": format!("Vårdplanering {PNR2}")}),
        ),
        event("m2", 61, bob.clone(), "participant_joined", json!({})),
        event(
            "m2",
            65,
            bob.clone(),
            "chat_message",
            json!({"text": format!("{PNR2} {SCRIPT}")}),
        ),
        event("m2", 90, bob.clone(), "meeting_ended", json!({})),
    ];
    let file = write(&dir, "in/day.ndjson", &lines);
    let directory = dir.join("katalog.csv");
    std::fs::write(
        &directory,
        format!(
            "user;name;unit;manager\nanna@region.se;{FORMULA};Avd 7 <b>{ESC};chef@region.se\nbob@region.se;Bob {IMG};Avd 7 <b>{ESC};chef@region.se\n"
        ),
    )
    .unwrap();
    // A fixed hash key, so that the findings' hashes are the same in every run.
    let cfg = dir.join("motesvakt.toml");
    std::fs::write(
        &cfg,
        "internal_domains = [\"region.se\"]\nprofiles = [\"halland\"]\n[detect]\nsecret = \"report-snapshot-key\"\n",
    )
    .unwrap();
    let db = dir.join("db.sqlite");
    let o = motesvakt_paths(
        &[
            "scan",
            "--config",
            cfg.to_str().unwrap(),
            "--db",
            db.to_str().unwrap(),
            "--json",
        ],
        &[&file],
    );
    assert!(
        o.status.success() || o.status.code() == Some(1),
        "{}",
        stderr(&o)
    );
    let found = incidents(&o);
    assert!(found.len() >= 3, "{found:?}");
    let chat = found
        .iter()
        .find(|i| i["rule"] == "chat-patient-data" && i["meeting"] == "m1")
        .expect("the chat incident of m1");
    let o = motesvakt(&[
        "incidents",
        "ack",
        chat["id"].as_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
        "--by",
        &format!("Chef {SCRIPT}"),
        "--note",
        &format!("ringde om {PNR} {FORMULA} {ESC}"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Fixed times for what the store stamped with the clock.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "UPDATE incident_history SET at = '2020-05-04T09:00:00Z';
         UPDATE incident_status SET at = '2020-05-04T12:00:00Z';
         UPDATE incident_status_history SET at = '2020-05-04T12:00:00Z';",
    )
    .unwrap();
    drop(conn);
    Fixture {
        _dir: tmp,
        dir,
        db,
        directory,
    }
}

fn now() -> Timestamp {
    "2020-05-06T08:00:00Z".parse().unwrap()
}

fn profiles() -> Vec<Profile> {
    Profile::BUILTIN_IDS
        .iter()
        .filter_map(|id| Profile::builtin(id))
        .collect()
}

fn built(f: &Fixture, filter: &Filter) -> report::Report {
    let store = Store::open(&f.db).unwrap();
    let directory = Directory::load(&f.directory).unwrap();
    let profiles = profiles();
    report::build(
        &store,
        filter,
        Sources {
            directory: Some(&directory),
            profiles: &profiles,
            now: now(),
            classifier: None,
        },
    )
    .unwrap()
}

const FORMATS: [(Format, &str); 4] = [
    (Format::Html, "html"),
    (Format::Markdown, "md"),
    (Format::Json, "json"),
    (Format::Csv, "csv"),
];

fn langs() -> [(Language, &'static str); 2] {
    [(Language::Sv, "sv"), (Language::En, "en")]
}

#[test]
fn snapshots_of_every_format_in_swedish_and_english() {
    let f = fixture();
    let r = built(&f, &Filter::default());
    assert_eq!(r.incidents.len(), r.period.total as usize);
    for (format, name) in FORMATS {
        for (lang, l) in langs() {
            let out = report::render(
                &r,
                format,
                &Options {
                    lang,
                    csv_sep: b';',
                },
            )
            .unwrap();
            let text = String::from_utf8(out).unwrap();
            insta::assert_snapshot!(format!("report_{name}_{l}"), text);
        }
    }
    let chat = r
        .incidents
        .iter()
        .find(|e| e.incident.rule == "chat-patient-data" && e.incident.meeting == "m1")
        .unwrap();
    let one = built(
        &f,
        &Filter {
            incident: Some(chat.incident.id.clone()),
            ..Filter::default()
        },
    );
    for (draft, name) in [(Draft::Imy, "imy"), (Draft::Avvikelse, "avvikelse")] {
        for (lang, l) in langs() {
            let text = String::from_utf8(report::render_draft(&one, draft, lang).unwrap()).unwrap();
            insta::assert_snapshot!(format!("draft_{name}_{l}"), text);
        }
    }
}

/// What must hold of every output: no personnummer (the test's own checker, and
/// `shared/tools/pnr-leaks` where it is), no terminal escape, no markup from the input.
fn assert_safe(name: &str, out: &[u8]) {
    assert_no_leaks(None, &[out]);
    assert!(!out.contains(&0x1b), "{name}: a raw escape character");
    let text = String::from_utf8_lossy(out);
    assert!(!text.contains(PNR) && !text.contains(PNR2), "{name}");
    assert!(!text.contains("8612082399"), "{name}");
    if !name.ends_with("csv") {
        assert!(!text.contains("<script"), "{name}: unescaped <script>");
        assert!(!text.contains("<img"), "{name}: unescaped <img>");
        assert!(!text.contains("<b>"), "{name}: unescaped <b>");
    }
}

#[test]
fn hostile_input_is_escaped_neutralised_and_redacted_in_every_format() {
    let f = fixture();
    let db = f.db.to_str().unwrap();
    let katalog = f.directory.to_str().unwrap();
    let mut files = Vec::new();
    for (_, name) in FORMATS {
        for (_, l) in langs() {
            let path = f.dir.join(format!("out/report-{l}.{name}"));
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            let o = motesvakt(&[
                "report",
                "--db",
                db,
                "--directory",
                katalog,
                "--format",
                name,
                "--lang",
                l,
                "--csv-sep",
                ";",
                "--out",
                path.to_str().unwrap(),
            ]);
            assert!(o.status.success(), "{}", stderr(&o));
            assert!(o.stdout.is_empty());
            let out = std::fs::read(&path).unwrap();
            assert_safe(&format!("{l}.{name}"), &out);
            let text = String::from_utf8(out.clone()).unwrap();
            match name {
                "json" => {
                    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
                    let incidents = v["incidents"].as_array().unwrap();
                    assert!(incidents.len() >= 3);
                    // Times for the SIEM are UTC, RFC 3339.
                    assert!(incidents[0]["time"].as_str().unwrap().ends_with('Z'));
                    // The subject came through, escaped by JSON; the one with a number did not.
                    assert!(text.contains("\\u003cscript\\u003e"), "{text}");
                    let subjects: Vec<&str> = incidents
                        .iter()
                        .filter_map(|i| i["subject"].as_str())
                        .collect();
                    assert!(
                        subjects.iter().all(|s| s.starts_with("Planering")),
                        "{subjects:?}"
                    );
                    assert!(
                        subjects.iter().all(|s| s.contains("\\u{1b}[31m")),
                        "{subjects:?}"
                    );
                }
                "csv" => {
                    assert!(
                        out.starts_with(b"\xEF\xBB\xBF"),
                        "UTF-8 with a byte-order mark"
                    );
                    let mut r = csv::ReaderBuilder::new()
                        .delimiter(b';')
                        .from_reader(&out[3..]);
                    let mut formula_seen = false;
                    for rec in r.records() {
                        for cell in rec.unwrap().iter() {
                            assert!(
                                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                                "a cell a spreadsheet runs: {cell}"
                            );
                            formula_seen |= cell.starts_with("'=HYPERLINK");
                        }
                    }
                    assert!(
                        formula_seen,
                        "the directory's name is there, neutralised: {text}"
                    );
                }
                "md" => {
                    assert!(text.contains("&lt;script&gt;"), "{text}");
                    assert!(text.contains("Avd 7 &lt;b&gt;"), "{text}");
                }
                _ => {}
            }
            files.push(path);
        }
    }
    let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    pnr_leaks(&refs);
    // The drafts, from the command line.
    let list = motesvakt(&["incidents", "--db", db, "--json"]);
    let chat = incidents(&list)
        .into_iter()
        .find(|i| i["rule"] == "chat-patient-data" && i["meeting"] == "m1")
        .unwrap();
    let id = chat["id"].as_str().unwrap();
    for draft in ["imy", "avvikelse"] {
        let o = motesvakt(&[
            "report",
            "--db",
            db,
            "--incident",
            &id[..8],
            "--draft",
            draft,
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_safe(draft, &o.stdout);
        assert!(stdout(&o).contains(id), "{}", stdout(&o));
    }
    let imy = stdout(&motesvakt(&[
        "report",
        "--db",
        db,
        "--incident",
        id,
        "--draft",
        "imy",
    ]));
    assert!(
        imy.contains("kommun\\.example") || imy.contains("kommun.example"),
        "{imy}"
    );
    assert!(imy.contains("minst 1"), "{imy}");
    // A draft for an incident that is no personal-data breach is refused, and said why.
    let rec = incidents(&list).into_iter().find(|i| {
        i["rule"] == "recording-video" && i["meeting"] == "m1" && i["severity"] != "critical"
    });
    if let Some(rec) = rec
        && rec["evidence"]["external_present"] != true
    {
        let o = motesvakt(&[
            "report",
            "--db",
            db,
            "--incident",
            rec["id"].as_str().unwrap(),
            "--draft",
            "imy",
        ]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    }
}

#[test]
fn the_html_parsed_back_has_no_script_no_external_reference_and_the_input_as_text() {
    let f = fixture();
    let r = built(&f, &Filter::default());
    for (lang, l) in langs() {
        let html = String::from_utf8(
            report::render(
                &r,
                Format::Html,
                &Options {
                    lang,
                    csv_sep: b',',
                },
            )
            .unwrap(),
        )
        .unwrap();
        let doc = scraper::Html::parse_document(&html);
        assert!(doc.errors.is_empty() || !html.is_empty());
        let all = scraper::Selector::parse("*").unwrap();
        let mut elements = 0;
        for el in doc.select(&all) {
            elements += 1;
            let name = el.value().name();
            assert!(
                !matches!(
                    name,
                    "script"
                        | "img"
                        | "iframe"
                        | "object"
                        | "embed"
                        | "link"
                        | "base"
                        | "form"
                        | "b"
                ),
                "{l}: element <{name}> in the report"
            );
            for (attr, value) in el.value().attrs() {
                assert!(!attr.starts_with("on"), "{l}: event handler {attr}");
                let v = value.trim().to_ascii_lowercase();
                if matches!(attr, "src" | "href" | "action" | "srcset" | "xlink:href") {
                    panic!("{l}: a reference {attr}={v}");
                }
                assert!(
                    !v.contains("http:") && !v.contains("https:") && !v.starts_with("//"),
                    "{l}: {attr}={v}"
                );
            }
            if name == "style" {
                let css = el.text().collect::<String>();
                assert!(!css.contains("url(") && !css.contains("@import"), "{l}");
            }
        }
        assert!(elements > 50);
        // The input is there, as text: escaped, not dropped nor run.
        let text: String = doc.root_element().text().collect();
        assert!(text.contains(SCRIPT), "{l}");
        assert!(text.contains("onerror=alert(1)>"), "{l}");
        assert!(text.contains("=HYPERLINK("), "{l}");
        assert!(text.contains("\\u{1b}[31m"), "{l}");
        let sel = |s: &str| scraper::Selector::parse(s).unwrap();
        assert!(
            doc.select(&sel("svg.chart rect")).count() >= 1,
            "{l}: the chart"
        );
        assert_eq!(
            doc.select(&sel("section.incident")).count(),
            r.incidents.len(),
            "{l}: one section per incident"
        );
        assert_safe(&format!("{l}.html"), html.as_bytes());
    }
}

#[test]
fn scope_period_and_figures() {
    let f = fixture();
    let all = built(&f, &Filter::default());
    let p = &all.period;
    assert_eq!(p.total, all.incidents.len() as u64);
    assert_eq!(p.by_severity.iter().sum::<u64>(), p.total);
    assert_eq!(p.by_rule.iter().map(|r| r.total).sum::<u64>(), p.total);
    assert_eq!(p.weeks.iter().map(|w| w.count).sum::<u64>(), p.total);
    assert_eq!(p.weeks[0].week, "2020-W19");
    // Anna has the recording and the chat incident of m1: a repeat.
    let anna = p
        .repeats
        .iter()
        .find(|r| r.person.id == "anna@region.se")
        .unwrap();
    assert!(anna.count >= 2);
    // The chat incident with an external participant is a possible IMY case with a deadline
    // 72 hours after its discovery, which the report's time has passed.
    let chat = all
        .incidents
        .iter()
        .find(|e| e.incident.rule == "chat-patient-data" && e.incident.meeting == "m1")
        .unwrap();
    let imy = chat.imy.as_ref().expect("a possible IMY case");
    assert_eq!(
        imy.discovered,
        "2020-05-04T09:00:00Z".parse::<Timestamp>().unwrap()
    );
    assert_eq!(imy.external_domains, vec!["kommun.example".to_string()]);
    assert_eq!(chat.history.len(), 1);
    assert!(
        chat.history[0]
            .note
            .as_deref()
            .unwrap()
            .contains("********")
    );
    assert!(
        chat.routine
            .quote
            .as_deref()
            .unwrap()
            .contains("Chattfunktionen")
    );
    assert_eq!(chat.person.unit.as_deref(), Some("Avd 7 <b>\\u{1b}[31mRÖD"));
    // Timeline: the chat shows what was found, never the text.
    assert!(
        chat.timeline
            .iter()
            .any(|t| t.trigger && t.event == "chat_message")
    );
    assert!(
        chat.timeline
            .iter()
            .any(|t| t.findings.iter().any(|k| k == "personnummer"))
    );
    // m2's subject held a number: not shown.
    assert!(
        all.incidents
            .iter()
            .filter(|e| e.incident.meeting == "m2")
            .all(|e| e.subject.is_none())
    );
    // Blind spots are for the platforms seen: teams only.
    assert!(p.blind_spots.iter().all(|b| b.platform.as_str() == "teams"));
    let bob = built(
        &f,
        &Filter {
            scope: Scope::Person("BOB@region.se".into()),
            ..Filter::default()
        },
    );
    assert!(!bob.incidents.is_empty());
    assert!(
        bob.incidents
            .iter()
            .all(|e| e.incident.actor.id == "bob@region.se")
    );
    let unit = built(
        &f,
        &Filter {
            scope: Scope::Unit("avd 7 <b>\u{1b}[31mRÖD".into()),
            ..Filter::default()
        },
    );
    assert_eq!(unit.incidents.len(), all.incidents.len());
    let manager = built(
        &f,
        &Filter {
            scope: Scope::Manager("someone@else.se".into()),
            ..Filter::default()
        },
    );
    assert!(manager.incidents.is_empty());
    assert_eq!(manager.period.total, 0);
    // An empty report is a report: every format, both languages, says there is nothing.
    for (format, name) in FORMATS {
        for (lang, l) in langs() {
            let out = report::render(
                &manager,
                format,
                &Options {
                    lang,
                    csv_sep: b',',
                },
            )
            .unwrap();
            let text = String::from_utf8(out).unwrap();
            if matches!(format, Format::Html | Format::Markdown) {
                let nothing = if l == "sv" {
                    "Inga incidenter i perioden."
                } else {
                    "No incidents in the period."
                };
                assert!(text.contains(nothing), "{name} {l}: {text}");
            }
            if format == Format::Csv {
                assert_eq!(text.lines().count(), 1, "the header only");
            }
        }
    }
    let later = built(
        &f,
        &Filter {
            since: Some("2020-05-04T08:30:00Z".parse().unwrap()),
            until: Some("2020-05-05T00:00:00Z".parse().unwrap()),
            ..Filter::default()
        },
    );
    assert!(
        later.incidents.iter().all(|e| e.incident.meeting == "m2"),
        "m1 is before 10:30"
    );
    assert!(!later.incidents.is_empty());
    // The command line refuses what it cannot do, in words.
    let db = f.db.to_str().unwrap();
    let katalog = f.directory.to_str().unwrap();
    let o = motesvakt(&[
        "report",
        "--db",
        db,
        "--directory",
        katalog,
        "--manager",
        "x@y.se",
        "--format",
        "csv",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("nobody in the directory has that manager"),
        "{}",
        stderr(&o)
    );
    assert!(!stderr(&o).contains("x@y.se"), "no input echoed");
    let o = motesvakt(&["report", "--db", db, "--unit", "x"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("directory"), "{}", stderr(&o));
    let o = motesvakt(&["report", "--db", db, "--incident", "ffffffffff"]);
    assert_eq!(o.status.code(), Some(2));
    let o = motesvakt(&[
        "report",
        "--db",
        db,
        "--since",
        "2020-05-05",
        "--until",
        "2020-05-04",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let o = motesvakt(&["report", "--db", db, "--csv-sep", "x"]);
    assert_eq!(o.status.code(), Some(2));
}

fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for n in names {
            let p = dir.join(n);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

#[test]
fn a_real_browser_prints_the_report_to_pdf() {
    let (Some(chromium), Some(pdftotext)) = (
        find_program(&["chromium", "chromium-browser", "google-chrome"]),
        find_program(&["pdftotext"]),
    ) else {
        // CI installs them (.ci/run): there, a missing browser is a failure.
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI must have chromium and pdftotext (.ci/run installs them)"
        );
        eprintln!("skipped: no chromium or pdftotext on PATH (.ci/run installs them)");
        return;
    };
    let f = fixture();
    let html = f.dir.join("report.html");
    let pdf = f.dir.join("report.pdf");
    let o = motesvakt(&[
        "report",
        "--db",
        f.db.to_str().unwrap(),
        "--directory",
        f.directory.to_str().unwrap(),
        "--out",
        html.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let profile = f.dir.join("chromium-profile");
    let o = std::process::Command::new(&chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", html.display()))
        .output()
        .unwrap();
    assert!(pdf.is_file(), "chromium printed no PDF: {}", stderr(&o));
    let o = std::process::Command::new(&pdftotext)
        .arg(&pdf)
        .arg("-")
        .output()
        .unwrap();
    assert!(o.status.success());
    let text = stdout(&o);
    assert!(text.contains("chat-patient-data"), "{text}");
    assert!(
        text.contains("Patientuppgifter och annan sekretessbelagd information"),
        "{text}"
    );
    assert!(text.contains("Vad du som chef behöver göra"), "{text}");
    assert!(text.contains("Prata med medarbetaren"), "{text}");
    assert_no_leaks(None, &[text.as_bytes(), &std::fs::read(&pdf).unwrap()]);
}

/// Every quote in the built-in profiles is the routine's own words: each part of it (between
/// `...`) stands in the routine's text in `../shared/routines/`.
#[test]
fn profile_quotes_are_the_routines_own_words() {
    let routines = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/routines");
    if !routines.is_dir() {
        eprintln!(
            "skipped: {} is missing (it comes with ../shared)",
            routines.display()
        );
        return;
    }
    let squash = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut quotes = 0;
    for p in profiles() {
        let text = squash(&std::fs::read_to_string(routines.join(&p.routine)).unwrap());
        for (rule, how) in &p.rules {
            let quote = how
                .quote
                .as_deref()
                .unwrap_or_else(|| panic!("{} {rule}: no quote", p.id));
            for part in quote.split("...").map(str::trim).filter(|s| !s.is_empty()) {
                assert!(
                    text.contains(&squash(part)),
                    "{} {rule}: not in the routine: {part}",
                    p.id
                );
            }
            quotes += 1;
        }
    }
    assert!(quotes >= 40);
}
