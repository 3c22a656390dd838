//! Helpers shared by the integration tests: run the real binary on files the test writes, and
//! check any output for leaked identity numbers.
#![allow(dead_code, unused_imports)]

mod sources;
pub use sources::*;
pub mod webhook;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

/// Skatteverket test personnummer (fictitious, published for testing).
pub const PNR: &str = "19861208-2399";
pub const PNR2: &str = "199308042382";

/// Runs `motesvakt ARGS...` and returns its output.
pub fn motesvakt(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_motesvakt"))
        .args(args)
        .output()
        .expect("the motesvakt binary runs")
}

/// `motesvakt run --config CFG --log-format text`, its stdout discarded, outside systemd (no
/// notify socket, no watchdog): the caller sets stderr, the log level and spawns it.
pub fn service_command(cfg: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_motesvakt"));
    cmd.arg("run")
        .arg("--config")
        .arg(cfg)
        .args(["--log-format", "text"])
        .stdout(std::process::Stdio::null())
        .env_remove("NOTIFY_SOCKET")
        .env_remove("WATCHDOG_USEC");
    cmd
}

/// Like [`motesvakt`], with paths as arguments.
pub fn motesvakt_paths(args: &[&str], paths: &[&Path]) -> Output {
    let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    all.extend(paths.iter().map(|p| p.display().to_string()));
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    motesvakt(&refs)
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The incidents of a `--json` run.
pub fn incidents(o: &Output) -> Vec<Value> {
    stdout(o)
        .lines()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("stdout line is not JSON ({e})"))
        })
        .collect()
}

/// `(rule, meeting, severity)` of each incident, sorted.
pub fn triples(incidents: &[Value]) -> Vec<(String, String, String)> {
    let mut v: Vec<_> = incidents
        .iter()
        .map(|i| {
            (
                i["rule"].as_str().unwrap().to_string(),
                i["meeting"].as_str().unwrap().to_string(),
                i["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

pub fn t(rule: &str, meeting: &str, severity: &str) -> (String, String, String) {
    (rule.into(), meeting.into(), severity.into())
}

/// One native event line on 2020-05-04 (inside every profile's validity, orebro's included);
/// `minute` is minutes after 10:00 local (+02:00).
pub fn ev(meeting: &str, minute: u32, actor: &str, ty: &str, extra: Value) -> String {
    let mut v = json!({
        "time": format!("2020-05-04T{:02}:{:02}:00+02:00", 10 + minute / 60, minute % 60),
        "platform": "teams",
        "meeting": meeting,
        "type": ty,
        "actor": {"id": actor},
    });
    if let (Some(obj), Value::Object(extra)) = (v.as_object_mut(), extra) {
        obj.extend(extra);
    }
    v.to_string()
}

/// Writes `lines` to `dir/name` (creating folders) and returns the path.
pub fn write(dir: &Path, name: &str, lines: &[String]) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

/// A config file with `internal_domains = ["region.se"]` and the given profiles.
pub fn config(dir: &Path, profiles: &[&str]) -> PathBuf {
    let list: Vec<String> = profiles.iter().map(|p| format!("\"{p}\"")).collect();
    let path = dir.join(format!("config-{}.toml", profiles.join("-")));
    std::fs::write(
        &path,
        format!(
            "internal_domains = [\"region.se\"]\nprofiles = [{}]\n",
            list.join(", ")
        ),
    )
    .unwrap();
    path
}

/// Valid Swedish identity numbers in `data`, found the way `shared/tools/pnr-leaks` finds them:
/// 10 or 12 digits (optional `-`, `+` or space before the last four) not touching other letters
/// or digits, with a real date (day + 60 allowed) and a valid Luhn digit. Written independently
/// of the detector under test. Returns masked matches, so a failing test prints no number.
pub fn leaks(data: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    let n = data.len();
    let alnum = |b: u8| b.is_ascii_alphanumeric();
    let mut i = 0;
    while i < n {
        if !data[i].is_ascii_digit() || (i > 0 && alnum(data[i - 1])) {
            i += 1;
            continue;
        }
        for date_len in [8usize, 6] {
            let date_end = i + date_len;
            if date_end > n || !data[i..date_end].iter().all(u8::is_ascii_digit) {
                continue;
            }
            let mut j = date_end;
            if j < n && matches!(data[j], b'-' | b'+' | b' ') {
                j += 1;
            }
            if j + 4 > n || !data[j..j + 4].iter().all(u8::is_ascii_digit) {
                continue;
            }
            if j + 4 < n && alnum(data[j + 4]) {
                continue;
            }
            let mut ten: Vec<u8> = data[date_end - 6..date_end].to_vec();
            ten.extend_from_slice(&data[j..j + 4]);
            let ten: Vec<u32> = ten.iter().map(|b| u32::from(b - b'0')).collect();
            let luhn: u32 = ten
                .iter()
                .enumerate()
                .map(|(k, d)| {
                    let v = d * if k % 2 == 0 { 2 } else { 1 };
                    if v > 9 { v - 9 } else { v }
                })
                .sum();
            let (mm, mut dd) = (ten[2] * 10 + ten[3], ten[4] * 10 + ten[5]);
            if dd > 60 {
                dd -= 60;
            }
            let yy = ten[0] * 10 + ten[1];
            let years: Vec<u32> = if date_len == 8 {
                vec![u32::from(data[i] - b'0') * 1000 + u32::from(data[i + 1] - b'0') * 100 + yy]
            } else {
                vec![1900 + yy, 2000 + yy]
            };
            let date_ok = years.iter().any(|&y| {
                let leap = (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400);
                let days = match mm {
                    1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
                    4 | 6 | 9 | 11 => 30,
                    2 if leap => 29,
                    2 => 28,
                    _ => 0,
                };
                (1..=days).contains(&dd)
            });
            if date_ok && luhn.is_multiple_of(10) {
                found.push(format!("{}…(masked) at byte {i}", &"******"[..2]));
            }
        }
        i += 1;
    }
    found
}

/// Asserts that no file under `dir` (recursively) and none of `outputs` holds a valid id.
pub fn assert_no_leaks(dir: Option<&Path>, outputs: &[&[u8]]) {
    for (k, out) in outputs.iter().enumerate() {
        let l = leaks(out);
        assert!(l.is_empty(), "output #{k} leaks {} id(s): {l:?}", l.len());
    }
    if let Some(dir) = dir {
        for entry in walk(dir) {
            let data = std::fs::read(&entry).unwrap();
            let l = leaks(&data);
            assert!(l.is_empty(), "{} leaks {} id(s)", entry.display(), l.len());
        }
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// A recording of a meeting with a planted personnummer in its chat: two high incidents.
pub fn breach(meeting: &str, actor: &str) -> Vec<String> {
    vec![
        ev(
            meeting,
            0,
            actor,
            "recording_started",
            json!({"media": "video"}),
        ),
        ev(
            meeting,
            3,
            actor,
            "chat_message",
            json!({"text": format!("pnr {PNR} inför remissen")}),
        ),
    ]
}

/// `motesvakt scan --json --alert` with a database, its output checked for leaks.
pub fn scan_alert(cfg: &Path, db: &Path, input: &Path) -> Output {
    let out = motesvakt(&[
        "scan",
        "--json",
        "--alert",
        "--config",
        cfg.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
        input.to_str().unwrap(),
    ]);
    assert_no_leaks(None, &[&out.stdout, &out.stderr]);
    out
}

/// `(id, rule, severity)` of the incidents a JSON listing gives, sorted.
pub fn incident_ids(out: &Output) -> Vec<(String, String, String)> {
    let mut v: Vec<_> = incidents(out)
        .iter()
        .map(|i| {
            (
                i["id"].as_str().unwrap().to_string(),
                i["rule"].as_str().unwrap().to_string(),
                i["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

/// The incidents in the store of the configuration `cfg` (`motesvakt incidents --json`).
pub fn store_incidents(cfg: &Path) -> Vec<(String, String, String)> {
    let out = motesvakt(&["incidents", "--config", cfg.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    incident_ids(&out)
}

/// The incidents `motesvakt scan --json` with the configuration `cfg` reports over `inputs`.
pub fn scan_incidents(cfg: &Path, inputs: &[&Path]) -> Vec<(String, String, String)> {
    let mut args = vec!["scan", "--json", "--config", cfg.to_str().unwrap()];
    let paths: Vec<String> = inputs.iter().map(|p| p.display().to_string()).collect();
    args.extend(paths.iter().map(String::as_str));
    let out = motesvakt(&args);
    assert!(out.status.code().unwrap_or(99) <= 1, "{}", stderr(&out));
    incident_ids(&out)
}

/// The `pnr-leaks` tool over the files, when `../shared/tools` is there.
pub fn pnr_leaks(paths: &[&Path]) {
    let tool = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/tools/pnr-leaks");
    if !tool.is_file() {
        eprintln!(
            "skipped: {} is missing (it comes with ../shared)",
            tool.display()
        );
        return;
    }
    let o = std::process::Command::new("python3")
        .arg(&tool)
        .args(paths)
        .output()
        .expect("python3 runs");
    assert!(o.status.success(), "pnr-leaks found ids: {}", stdout(&o));
}
