//! `cargo bench --bench formats`: scan throughput and peak memory per export format.
//!
//! Generates a realistic export of every format with the benchmark generator
//! (`examples/gen/`, seed 1; `MOTESVAKT_BENCH_MB` megabytes each, default 20), reads it once
//! to warm the page cache, and runs the release `motesvakt` binary on it without and with
//! `--db` (a fresh database), printing MB/s, events/s, the `--db` / no-db ratio and the
//! process's peak RSS (VmHWM, polled). The full measurement, with rg as the reference, scaling
//! and Presidio, is `scripts/bench` (docs/benchmarks.md). Nothing is asserted.

#[path = "../examples/gen/mod.rs"]
#[allow(dead_code, clippy::all)]
mod generator;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
}

/// Runs the scan; returns (seconds, peak KiB, events).
fn scan(config: &Path, file: &Path, db: Option<&Path>) -> (f64, u64, u64) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_motesvakt"));
    cmd.arg("scan").arg("--config").arg(config);
    if let Some(db) = db {
        cmd.arg("--db").arg(db);
    }
    let started = Instant::now();
    let mut child = cmd
        .arg(file)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("motesvakt runs");
    let pid = child.id();
    let mut peak = 0;
    let stderr = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    loop {
        if let Some(k) = vm_hwm_kib(pid) {
            peak = peak.max(k);
        }
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let secs = started.elapsed().as_secs_f64();
    let err = reader.join().unwrap_or_default();
    let events = err
        .lines()
        .find(|l| l.contains(" meetings judged"))
        .and_then(|l| {
            let at = l.find(" events,")?;
            l[..at].split_whitespace().last()?.parse().ok()
        })
        .unwrap_or(0);
    (secs, peak, events)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` and `cargo test --benches` probes
    }
    let mb: u64 = std::env::var("MOTESVAKT_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("motesvakt.toml");
    std::fs::write(&config, generator::model::config_toml()).unwrap();
    println!(
        "formats benchmark: {mb} MB per format (MOTESVAKT_BENCH_MB), generator seed 1, warm cache"
    );
    println!(
        "{:<17} {:>9} {:>8} {:>10} {:>9} {:>8} {:>9} {:>9}",
        "format", "events", "MB/s", "events/s", "RSS MiB", "db MB/s", "db/no-db", "db RSS"
    );
    for f in generator::formats::ALL {
        let opts = generator::Options {
            format: f.name().into(),
            size: Some(mb * 1_000_000),
            out: dir.path().join("in"),
            seed: 1,
            ..generator::Options::default()
        };
        let stats = generator::run(&opts).expect("generated");
        let file = &stats[0].path;
        let bytes = std::fs::metadata(file).unwrap().len() as f64 / 1e6;
        let _ = std::fs::read(file);
        let (t0, rss0, events) = scan(&config, file, None);
        let db = dir.path().join("db");
        let _ = std::fs::remove_dir_all(&db);
        std::fs::create_dir_all(&db).unwrap();
        let (t1, rss1, _) = scan(&config, file, Some(&db.join("motesvakt.sqlite")));
        println!(
            "{:<17} {:>9} {:>8.1} {:>10.0} {:>9.1} {:>8.1} {:>9.2} {:>9.1}",
            f.name(),
            events,
            bytes / t0,
            events as f64 / t0,
            rss0 as f64 / 1024.0,
            bytes / t1,
            t1 / t0,
            rss1 as f64 / 1024.0
        );
        let _ = std::fs::remove_file(file);
        let _ = std::fs::remove_dir_all(&db);
    }
}
