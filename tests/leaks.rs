//! No identity number leaves through any door: valid numbers (personnummer, samordningsnummer
//! and interim numbers, generated here with correct check digits) are planted in every field of
//! every record of every supported format's fixtures, in many written forms (10 and 12 digits,
//! with `-`, `+`, a space or nothing as separator, glued to letters, after `+`, with a suffix,
//! next to `tel`, as a JSON number), and every command and output form is run over them:
//! `scan` (text in both languages, `--json`, `--db`), `incidents` (text, `--json`), the
//! service (`run`, its log, its state folder), `status` (text, `--json`), `check-config` and
//! `rules`, also with every `[detect.formats]` switched off. None of the planted numbers may
//! appear in any stdout, stderr, database or other file written, in any written form; and the
//! independent checker of `common` (the way `shared/tools/pnr-leaks` looks) finds no valid
//! number either.
//!
//! A record is copied once per field (the copy holding the number in that field only), so
//! that a number in a field the adapter checks (a time, a GUID) costs that copy only and every
//! other field still reaches the mapping; record ids are made unique per copy so that formats
//! that know a record by its id judge every copy. The envelope of a JSON document (Graph's
//! `@odata.*`, Pexip's `meta`) is planted in a file of its own. The test also checks that each format was read and
//! mapped, and that the planted numbers were found where people see them (so that a test that
//! finds nothing because nothing was read cannot pass).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

/// One planted number: its ten-character form (`YYMMDDNNNC`, or `YYMMDD` + `Tnnn` for an
/// interim number) and its century.
#[derive(Clone)]
struct Planted {
    ten: String,
    century: &'static str,
}

/// Luhn over digit values, weights 2,1,2,1… from the left (ten values): true when valid.
fn luhn(values: &[u32]) -> bool {
    let sum: u32 = values
        .iter()
        .enumerate()
        .map(|(i, &d)| {
            let v = d * if i % 2 == 0 { 2 } else { 1 };
            if v > 9 { v - 9 } else { v }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn digits(s: &str) -> Vec<u32> {
    s.bytes().map(|b| u32::from(b - b'0')).collect()
}

/// A personnummer (or, with `coordination`, a samordningsnummer) born on the date given.
fn person(century: &'static str, yymmdd: &str, serial: &str, coordination: bool) -> Planted {
    let mut date = yymmdd.to_string();
    if coordination {
        let day: u32 = date[4..].parse().unwrap();
        date = format!("{}{:02}", &date[..4], day + 60);
    }
    let nine = format!("{date}{serial}");
    let check = (0..10)
        .find(|c| luhn(&digits(&format!("{nine}{c}"))))
        .unwrap();
    let p = Planted {
        ten: format!("{nine}{check}"),
        century,
    };
    // The workspace's own checker agrees.
    let v: [u8; 10] = digits(&p.ten)
        .iter()
        .map(|&d| d as u8)
        .collect::<Vec<_>>()
        .try_into()
        .unwrap();
    assert!(motesvakt::detect::personnummer::validate_10(&v, false).is_some());
    p
}

/// An interim number `YYMMDD-Tnnn`: Luhn over the date, the letter as 1, and the digits.
fn interim(century: &'static str, yymmdd: &str, nn: &str) -> Planted {
    let check = (0..10)
        .find(|c| {
            let mut v = digits(yymmdd);
            v.push(1);
            v.extend(digits(&format!("{nn}{c}")));
            luhn(&v)
        })
        .unwrap();
    Planted {
        ten: format!("{yymmdd}T{nn}{check}"),
        century,
    }
}

fn planted() -> Vec<Planted> {
    vec![
        person("19", "470312", "123", false),
        person("19", "580927", "456", false),
        person("19", "690415", "789", true),
        person("20", "030101", "234", false),
        person("19", "751122", "345", true),
        person("19", "881005", "567", false),
        interim("19", "520614", "22"),
        interim("19", "640830", "85"),
    ]
}

impl Planted {
    fn is_interim(&self) -> bool {
        self.ten.as_bytes()[6].is_ascii_alphabetic()
    }

    /// The number in written form `k`.
    fn form(&self, k: usize) -> String {
        let (d, s, c) = (&self.ten[..6], &self.ten[6..], self.century);
        if self.is_interim() {
            return match k % 4 {
                0 => format!("{d}-{s}"),
                1 => format!("{c}{d}-{s}"),
                2 => format!("{d}{s}"),
                _ => format!("res{c}{d}{s}x"),
            };
        }
        match k % 14 {
            0 => format!("{c}{d}-{s}"),
            1 => format!("{d}{s}"),
            2 => format!("{d}-{s}"),
            3 => format!("{c}{d}{s}"),
            4 => format!("{d}+{s}"),
            5 => format!("{d} {s}"),
            6 => format!("vmr.{c}{d}{s}"),
            7 => format!("x{d}{s}y"),
            8 => format!("+46{d}{s}"),
            9 => format!("tel{d}{s}"),
            10 => format!("order {d}-{s}"),
            11 => format!("{c}{d}{s}-1"),
            12 => format!("{c}{d} {s}"),
            _ => format!("pnr:{d}\u{2013}{s}"),
        }
    }

    /// Every way the number could show in an output.
    fn shows(&self) -> Vec<String> {
        let (d, s, c) = (&self.ten[..6], &self.ten[6..], self.century);
        let mut v = Vec::new();
        for date in [d.to_string(), format!("{c}{d}")] {
            for sep in ["", "-", "+", " ", "\u{2013}"] {
                v.push(format!("{date}{sep}{s}"));
                if self.is_interim() {
                    v.push(format!("{date}{sep}{}", s.to_ascii_lowercase()));
                }
            }
        }
        v
    }
}

/// The value to put in a string field for variant `k`: the number alone, after the value, or
/// glued to it.
fn planted_value(original: &str, p: &Planted, k: usize) -> String {
    let form = p.form(k / 3);
    match k % 3 {
        0 => form,
        1 => format!("{original} {form}"),
        _ => format!("{original}{form}"),
    }
}

/// `id` made unique for copy `k` in its own shape: its last six characters (digits or hex
/// digits) replaced by `k` in six digits, else `k` appended. Formats that know a record by its
/// id (Teams audit `Id`, Graph and Webex `id`) then judge every copy, not only the last.
fn unique(id: &str, k: usize) -> String {
    let tail = id.bytes().rev().take_while(u8::is_ascii_hexdigit).count();
    if tail >= 6 && id.is_ascii() {
        format!("{}{:06}", &id[..id.len() - 6], k % 1_000_000)
    } else {
        format!("{id}x{k}")
    }
}

/// The record ids [`unique`] changes.
const ID_FIELDS: &[&str] = &["Id", "id", "RecordId"];

/// Makes the ids of a copy unique, leaving the one the number was planted in.
fn make_unique(copy: &mut Value, original: &Value, k: usize) {
    for f in ID_FIELDS {
        if let (Some(Value::String(now)), Some(Value::String(was))) =
            (copy.get(*f), original.get(*f))
            && now == was
        {
            let u = unique(was, k);
            copy[*f] = Value::String(u);
        }
    }
    // An id inside a JSON string (Teams' `AuditData`).
    let values: Vec<&mut Value> = match copy {
        Value::Object(m) => m.values_mut().collect(),
        Value::Array(a) => a.iter_mut().collect(),
        _ => Vec::new(),
    };
    {
        for v in values {
            if let Value::String(s) = v
                && let Ok(mut inner @ Value::Object(_)) = serde_json::from_str::<Value>(s)
            {
                let before = inner.clone();
                make_unique(&mut inner, &before, k);
                *v = Value::String(inner.to_string());
            }
        }
    }
}

/// Paths to every string and number leaf of `v`.
fn leaves(v: &Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                path.push(k.clone());
                leaves(x, path, out);
                path.pop();
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                path.push(i.to_string());
                leaves(x, path, out);
                path.pop();
            }
        }
        Value::String(_) | Value::Number(_) => out.push(path.clone()),
        _ => {}
    }
}

fn leaf_mut<'a>(v: &'a mut Value, path: &[String]) -> &'a mut Value {
    path.iter().fold(v, |v, k| match v {
        Value::Object(m) => m.get_mut(k).unwrap(),
        Value::Array(a) => a.get_mut(k.parse::<usize>().unwrap()).unwrap(),
        _ => unreachable!(),
    })
}

/// Sets one leaf to the planted value; a string holding JSON (Teams' `AuditData`) is planted
/// into as JSON too, one copy per inner leaf.
fn variants_of(record: &Value, counter: &mut usize, numbers: &[Planted]) -> Vec<Value> {
    let mut paths = Vec::new();
    leaves(record, &mut Vec::new(), &mut paths);
    let mut out = Vec::new();
    for path in paths {
        let k = *counter;
        *counter += 1;
        let p = &numbers[k % numbers.len()];
        let mut copy = record.clone();
        let leaf = leaf_mut(&mut copy, &path);
        match leaf.clone() {
            Value::String(s) => {
                if let Ok(inner @ Value::Object(_)) = serde_json::from_str::<Value>(&s) {
                    for v in variants_of(&inner, counter, numbers) {
                        let mut c = record.clone();
                        *leaf_mut(&mut c, &path) = Value::String(v.to_string());
                        out.push(c);
                    }
                }
                *leaf = Value::String(planted_value(&s, p, k));
            }
            Value::Number(_) if !p.is_interim() => {
                let n: u64 = if k.is_multiple_of(2) {
                    p.ten.parse().unwrap()
                } else {
                    format!("{}{}", p.century, p.ten).parse().unwrap()
                };
                *leaf = Value::from(n);
            }
            _ => *leaf = Value::String(p.form(k)),
        }
        make_unique(&mut copy, record, k);
        out.push(copy);
    }
    out
}

/// Writes the planted copy of one fixture file into `dir`, keeping its platform folder and
/// name.
fn plant_file(src: &Path, dir: &Path, counter: &mut usize, numbers: &[Planted]) -> usize {
    let data = std::fs::read_to_string(src).unwrap();
    let platform = src.parent().unwrap().file_name().unwrap();
    std::fs::create_dir_all(dir.join(platform)).unwrap();
    let dest = dir.join(platform).join(src.file_name().unwrap());
    let ext = src.extension().and_then(|e| e.to_str()).unwrap_or("");
    let mut copies = 0;
    match ext {
        "ndjson" => {
            let mut lines: Vec<String> = data.lines().map(str::to_string).collect();
            for line in data.lines() {
                let Ok(v) = serde_json::from_str::<Value>(line) else {
                    continue;
                };
                for c in variants_of(&v, counter, numbers) {
                    lines.push(c.to_string());
                    copies += 1;
                }
            }
            std::fs::write(&dest, lines.join("\n") + "\n").unwrap();
        }
        "json" => {
            // One document or several in a row (pages of an export).
            let mut out = String::new();
            let mut envelopes = String::new();
            for doc in serde_json::Deserializer::from_str(&data).into_iter::<Value>() {
                let mut doc = doc.unwrap();
                // The envelope's own fields (`@odata.nextLink`, `meta`) planted too, each with
                // another number, in a file of its own: a changed envelope may make the file
                // unknown, which must not cost the records above.
                if let Value::Object(m) = &doc {
                    let mut env = doc.clone();
                    let mut paths = Vec::new();
                    for (k, v) in m {
                        if !v.is_array() {
                            leaves(v, &mut vec![k.clone()], &mut paths);
                        }
                    }
                    for path in paths {
                        let k = *counter;
                        *counter += 1;
                        let p = &numbers[k % numbers.len()];
                        let leaf = leaf_mut(&mut env, &path);
                        *leaf = match leaf {
                            Value::String(s) => Value::String(planted_value(s, p, k)),
                            _ => Value::String(p.form(k)),
                        };
                        copies += 1;
                    }
                    envelopes.push_str(&serde_json::to_string_pretty(&env).unwrap());
                    envelopes.push('\n');
                }
                let records: &mut Vec<Value> = match &mut doc {
                    Value::Array(a) => a,
                    Value::Object(m) => m
                        .values_mut()
                        .find_map(|v| v.as_array_mut())
                        .expect("a document with a list of records"),
                    _ => panic!("{}: not a document", src.display()),
                };
                let originals = records.clone();
                for r in &originals {
                    let v = variants_of(r, counter, numbers);
                    copies += v.len();
                    records.extend(v);
                }
                out.push_str(&serde_json::to_string_pretty(&doc).unwrap());
                out.push('\n');
            }
            std::fs::write(&dest, out).unwrap();
            if !envelopes.is_empty() {
                std::fs::write(dest.with_extension("envelope.json"), envelopes).unwrap();
            }
        }
        "csv" => {
            let mut rd = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(data.as_bytes());
            let rows: Vec<Vec<String>> = rd
                .records()
                .map(|r| r.unwrap().iter().map(str::to_string).collect())
                .collect();
            let mut wr = csv::Writer::from_writer(Vec::new());
            for r in &rows {
                wr.write_record(r).unwrap();
            }
            let record_id = rows[0]
                .iter()
                .position(|h| h.trim_start_matches('\u{feff}') == "RecordId");
            for row in &rows[1..] {
                // Each cell as a JSON string leaf, the JSON cell's own leaves too.
                let as_json = Value::Array(row.iter().cloned().map(Value::String).collect());
                for mut v in variants_of(&as_json, counter, numbers) {
                    if let Some(i) = record_id
                        && v[i] == as_json[i]
                    {
                        v[i] = Value::String(unique(&row[i], *counter + copies));
                    }
                    let cells: Vec<String> = v
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|c| c.as_str().map_or_else(|| c.to_string(), str::to_string))
                        .collect();
                    wr.write_record(&cells).unwrap();
                    copies += 1;
                }
            }
            std::fs::write(&dest, wr.into_inner().unwrap()).unwrap();
        }
        _ => panic!("{}: unknown fixture kind", src.display()),
    }
    copies
}

fn fixtures() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sources");
    let mut out = Vec::new();
    for platform in std::fs::read_dir(&root).unwrap() {
        for f in std::fs::read_dir(platform.unwrap().path()).unwrap() {
            out.push(f.unwrap().path());
        }
    }
    out.sort();
    out
}

/// Where a planted number shows in `data`, with the digits around it masked (a failure must
/// print no number): up to five places.
fn planted_in(data: &[u8], numbers: &[Planted]) -> Vec<String> {
    let mut found = Vec::new();
    for (i, p) in numbers.iter().enumerate() {
        for form in p.shows() {
            let f = form.as_bytes();
            for at in memchr::memmem::find_iter(data, f) {
                let lo = at.saturating_sub(60);
                let hi = (at + f.len() + 60).min(data.len());
                let around: String = String::from_utf8_lossy(&data[lo..hi])
                    .chars()
                    .map(|c| if c.is_ascii_digit() { '#' } else { c })
                    .collect();
                found.push(format!("number #{i} at byte {at}: …{around}…"));
                if found.len() >= 5 {
                    return found;
                }
            }
        }
    }
    found
}

/// Every file under `dir`.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

struct Checked {
    numbers: Vec<Planted>,
    failures: Vec<String>,
}

impl Checked {
    fn bytes(&mut self, what: &str, data: &[u8]) {
        for l in planted_in(data, &self.numbers) {
            self.failures.push(format!("{what}: {l}"));
        }
        for l in leaks(data) {
            self.failures.push(format!("{what}: valid id {l}"));
        }
    }

    fn output(&mut self, what: &str, out: &std::process::Output) {
        self.bytes(&format!("{what} stdout"), &out.stdout);
        self.bytes(&format!("{what} stderr"), &out.stderr);
    }

    fn files(&mut self, dir: &Path, except: &Path) {
        for f in files_under(dir) {
            if f.starts_with(except) {
                continue;
            }
            let data = std::fs::read(&f).unwrap();
            self.bytes(&f.display().to_string(), &data);
        }
    }
}

fn run(args: &[&str]) -> std::process::Output {
    let out = motesvakt(args);
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "motesvakt {} exited {:?}",
        args.first().unwrap_or(&""),
        out.status.code()
    );
    out
}

fn status_json(cfg: &str) -> Option<Value> {
    let out = motesvakt(&["status", "--config", cfg, "--json"]);
    (out.status.code() == Some(0))
        .then(|| serde_json::from_slice(&out.stdout).ok())
        .flatten()
}

/// Runs the service over `input` until it has read every file and judged what is due, then
/// stops it with SIGTERM; returns its log.
fn service(cfg: &str, log: &Path) -> Vec<u8> {
    let err = std::fs::File::create(log).unwrap();
    let mut child: Child = service_command(Path::new(cfg))
        .stderr(err)
        .env("MOTESVAKT_LOG", "debug")
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        let s = status_json(cfg);
        let done = s.as_ref().is_some_and(|s| {
            let files = s["files"].as_array().cloned().unwrap_or_default();
            !files.is_empty()
                && s["pending_now"] == 0
                && files.iter().all(|f| match f["kind"].as_str() {
                    Some("document") => f["state"] == "done",
                    _ => f["offset"] == f["size"],
                })
        });
        if done || started.elapsed() > Duration::from_secs(30) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let caught_up = started.elapsed();
    // Then every alert delivered (to the webhook and the SIEM of the configuration).
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(30) {
        let out = motesvakt(&["alerts", "--pending", "--config", cfg]);
        if out.status.success() && out.stdout.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let t = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        caught_up < Duration::from_secs(30),
        "the service did not catch up within 30 s"
    );
    std::fs::read(log).unwrap()
}

#[test]
fn planted_numbers_leave_through_no_door() {
    let numbers = planted();
    let tmp = tempfile::tempdir().unwrap();
    // LEAKS_KEEP=DIR keeps the planted inputs and every output in DIR, to look at by hand
    // (with `shared/tools/pnr-leaks`, say).
    let kept = std::env::var_os("LEAKS_KEEP").map(PathBuf::from);
    if let Some(k) = &kept {
        let _ = std::fs::remove_dir_all(k);
        std::fs::create_dir_all(k).unwrap();
    }
    let root = kept.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    let dir = &root;
    let input = dir.join("input");
    std::fs::create_dir(&input).unwrap();
    let mut counter = 0;
    let mut copies = 0;
    for f in fixtures() {
        copies += plant_file(&f, &input, &mut counter, &numbers);
    }
    assert!(copies > 1000, "only {copies} planted copies");
    // The inputs do hold the numbers, in the forms looked for.
    let all_input: Vec<u8> = files_under(&input)
        .iter()
        .flat_map(|f| std::fs::read(f).unwrap())
        .collect();
    for (i, p) in numbers.iter().enumerate() {
        assert!(
            p.shows()
                .iter()
                .any(|f| memchr::memmem::find(&all_input, f.as_bytes()).is_some()),
            "number #{i} not planted"
        );
    }

    let state = dir.join("state");
    let cfg = dir.join("motesvakt.toml");
    // Alerts through every channel but mail (tests/alerts.rs checks mail's bytes): a webhook,
    // the SIEM's JSON lines (checked with every file written) and syslog over UDP.
    let hook = common::webhook::Hook::start(&[200]);
    let secret = dir.join("webhook.secret");
    std::fs::write(&secret, common::webhook::SECRET).unwrap();
    let syslog = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let syslog_port = syslog.local_addr().unwrap().port();
    // Read as they come (a full socket buffer would drop some unread).
    let syslog = std::thread::spawn(move || {
        syslog
            .set_read_timeout(Some(Duration::from_secs(300)))
            .unwrap();
        let mut got = Vec::new();
        let mut buf = vec![0u8; 65536];
        while let Ok(n) = syslog.recv(&mut buf) {
            if &buf[..n] == b"END" {
                break;
            }
            got.push(buf[..n].to_vec());
        }
        got
    });
    let body = format!(
        "internal_domains = [\"region.se\"]\nprofiles = [\"vgr-samsa\", \"halland\", \"kronoberg\", \"sas\", \"orebro\"]\nstate_dir = \"{}\"\n[service]\nrescan = \"200ms\"\nquiescence = \"300ms\"\n\n[[watch]]\npath = \"{}\"\n\n[webhook]\nurl = \"http://127.0.0.1:{}/hook\"\nsecret_file = {:?}\n\n[siem]\nfile = \"{}/siem.jsonl\"\nsyslog = \"udp://127.0.0.1:{}\"\n",
        state.display(),
        input.display(),
        hook.port,
        secret,
        dir.display(),
        syslog_port
    );
    std::fs::write(&cfg, &body).unwrap();
    // Every format switched off for detection: redaction must not follow.
    let off = dir.join("formats-off.toml");
    let switches = [
        "personnummer",
        "samordningsnummer",
        "space_separator",
        "interim",
        "reservnummer",
        "stockholm",
        "vgr",
        "carelink",
        "varmland",
        "orebro",
        "unknown_reserve",
        "icd10",
        "clinical_terms",
    ];
    let formats: String = switches.iter().map(|s| format!("{s} = false\n")).collect();
    std::fs::write(
        &off,
        format!(
            "internal_domains = [\"region.se\"]\nprofiles = [\"vgr-samsa\", \"halland\", \"orebro\"]\n[detect.formats]\n{formats}"
        ),
    )
    .unwrap();
    let (cfg_s, off_s, input_s) = (
        cfg.to_str().unwrap(),
        off.to_str().unwrap(),
        input.to_str().unwrap(),
    );
    let db = dir.join("scan.db");
    let db_s = db.to_str().unwrap();

    let mut check = Checked {
        numbers: numbers.clone(),
        failures: Vec::new(),
    };
    let json = run(&["scan", "--json", "--config", cfg_s, input_s]);
    check.output("scan --json", &json);
    let outputs: Vec<(&str, Vec<&str>)> = vec![
        ("scan", vec!["scan", "--config", cfg_s, input_s]),
        (
            "scan --db",
            vec!["scan", "--db", db_s, "--config", cfg_s, input_s],
        ),
        ("incidents", vec!["incidents", "--db", db_s]),
        (
            "incidents --json",
            vec!["incidents", "--db", db_s, "--json"],
        ),
        (
            "incidents --lang en",
            vec!["incidents", "--db", db_s, "--lang", "en"],
        ),
        (
            "scan --json, formats off",
            vec!["scan", "--json", "--config", off_s, input_s],
        ),
        ("check-config", vec!["check-config", "--config", cfg_s]),
        ("rules", vec!["rules", "--config", cfg_s]),
        (
            "rules --profile",
            vec!["rules", "--config", cfg_s, "--profile", "vgr-samsa"],
        ),
    ];
    for (what, args) in &outputs {
        check.output(what, &run(args));
    }
    // A scan that alerts: the same channels, from a scan.
    let alert_db = dir.join("alert.db");
    check.output(
        "scan --alert",
        &run(&[
            "scan",
            "--alert",
            "--db",
            alert_db.to_str().unwrap(),
            "--config",
            cfg_s,
            input_s,
        ]),
    );
    let log = service(cfg_s, &dir.join("service.log"));
    check.bytes("service log", &log);
    check.output("status", &run(&["status", "--config", cfg_s]));
    check.output(
        "status --json",
        &run(&["status", "--config", cfg_s, "--json"]),
    );
    let stored = run(&["incidents", "--config", cfg_s, "--json"]);
    check.output("incidents --config", &stored);
    assert!(
        !incidents(&stored).is_empty(),
        "the service stored no incident"
    );
    // Every file written: the scan's database, the service's state folder and log, the SIEM's
    // JSON lines.
    check.files(dir, &input);
    // Every byte the webhook and syslog got; and they did get alerts.
    let requests = hook.requests();
    assert!(requests.len() > 10, "only {} webhook calls", requests.len());
    for r in &requests {
        check.bytes("webhook request", &r.raw);
    }
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .send_to(b"END", ("127.0.0.1", syslog_port))
        .unwrap();
    let datagrams = syslog.join().unwrap();
    for d in &datagrams {
        check.bytes("syslog message", d);
    }
    assert!(
        datagrams.len() > 10,
        "only {} syslog messages",
        datagrams.len()
    );
    let siem = std::fs::read(dir.join("siem.jsonl")).unwrap_or_default();
    assert!(
        siem.iter().filter(|&&b| b == b'\n').count() > 10,
        "the SIEM file got too few lines"
    );

    // Not a test that passes because nothing was read: every format was read and mapped, and
    // the numbers were found where people see them.
    let summary = stderr(&json);
    for format in [
        "native",
        "teams-audit-csv",
        "teams-audit-json",
        "teams-graph",
        "zoom",
        "pexip",
        "webex",
    ] {
        let line = summary
            .lines()
            .find(|l| l.contains(&format!("format {format}")))
            .unwrap_or_else(|| panic!("format {format} was not read"));
        assert!(!line.contains(" 0 mapped"), "{format}: nothing mapped");
    }
    let rules: Vec<String> = incidents(&json)
        .iter()
        .map(|i| i["rule"].as_str().unwrap_or_default().to_string())
        .collect();
    for rule in [
        "chat-patient-data",
        "invitation-patient-data",
        "identifier-patient-data",
    ] {
        assert!(rules.iter().any(|r| r == rule), "no {rule} incident");
    }
    assert!(
        check.failures.is_empty(),
        "{} leak(s):\n{}",
        check.failures.len(),
        check.failures[..check.failures.len().min(40)].join("\n")
    );
}

/// Meetings, aliases, message ids and participants whose ids differ only in the number stay
/// apart after redaction, and events still pair up: grouping is on a keyed form of the
/// original id, the same for every event that carries it.
#[test]
fn redacted_ids_still_group_and_pair() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (
        person("19", "470312", "123", false),
        person("19", "580927", "456", false),
    );
    let room = |p: &Planted| format!("vmr.{}{}", p.century, p.ten);
    let thread = |p: &Planted| format!("19:meeting_{}@thread.v2", p.ten);
    let mut lines = Vec::new();
    for p in [&a, &b] {
        let (m, t) = (room(p), thread(p));
        let line = |minute: u32, meeting: &str, actor: &str, ty: &str, extra: Value| {
            let mut l: Value =
                serde_json::from_str(&ev(meeting, minute, actor, ty, extra)).unwrap();
            l["platform"] = "pexip".into();
            l.to_string()
        };
        let phone = format!("tel:{}{}", p.century, p.ten);
        lines.extend([
            line(0, &m, "anna.berg@region.se", "meeting_started", serde_json::json!({"aliases": [t]})),
            line(1, &m, "anna.berg@region.se", "participant_joined", serde_json::json!({"role": "organizer"})),
            line(2, &m, &phone, "participant_joined", serde_json::json!({"via_lobby": false})),
            line(3, &m, "karin.lund@kommun.se", "participant_joined", serde_json::json!({"via_lobby": true})),
            line(4, &m, "anna.berg@region.se", "participant_admitted", serde_json::json!({"target": {"id": "karin.lund@kommun.se"}})),
            line(10, &t, "karin.lund@kommun.se", "chat_message", serde_json::json!({"text": "Jag ska döda dig", "message_id": format!("msg-{}", p.ten)})),
            line(11, &t, "karin.lund@kommun.se", "chat_message_deleted", serde_json::json!({"message_id": format!("msg-{}", p.ten)})),
            line(30, &m, "anna.berg@region.se", "meeting_ended", serde_json::json!({"reason": "ended_by_host"})),
        ]);
    }
    let input = write(dir.path(), "meetings.ndjson", &lines);
    let cfg = config(dir.path(), &["halland", "vgr-samsa"]);
    let out = motesvakt_paths(
        &["scan", "--json", "--config", cfg.to_str().unwrap()],
        &[&input],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let found = incidents(&out);
    let mut check = Checked {
        numbers: vec![a.clone(), b.clone()],
        failures: Vec::new(),
    };
    check.output("scan --json", &out);
    assert!(check.failures.is_empty(), "{}", check.failures.join("\n"));
    // Two rooms, each redacted, each its own meeting.
    let mut rooms: Vec<String> = found
        .iter()
        .filter(|i| {
            i["rule"] == "identifier-patient-data" && i["actor"]["id"] == "anna.berg@region.se"
        })
        .map(|i| i["meeting"].as_str().unwrap().to_string())
        .collect();
    rooms.sort();
    rooms.dedup();
    assert_eq!(rooms.len(), 2, "{rooms:?}");
    assert!(
        rooms.iter().all(|r| r.starts_with("vmr.************~")),
        "{rooms:?}"
    );
    // The chat under each meeting's alias joined its meeting, and the deletion found its
    // message by the (redacted) message id: one threat and one deletion per meeting.
    for rule in ["chat-threat", "threat-deleted"] {
        let n = found
            .iter()
            .filter(|i| i["rule"] == rule && i["profile"] == "halland")
            .count();
        assert_eq!(n, 2, "{rule}");
    }
    // The two phone participants are two participants, each with its own display-name
    // incident (their id is what people see).
    let phones: std::collections::BTreeSet<String> = found
        .iter()
        .filter(|i| i["rule"] == "identifier-patient-data")
        .filter_map(|i| i["actor"]["id"].as_str())
        .filter(|id| id.starts_with("tel:"))
        .map(str::to_string)
        .collect();
    assert_eq!(phones.len(), 2, "{phones:?}");
}
