//! `cargo bench --bench scan`: throughput and peak memory of a whole batch scan.
//!
//! Generates native NDJSON files of two sizes (chat-heavy meetings, 1 in 1000 events a video
//! recording, 1 in 5000 chat messages holding a Skatteverket test personnummer), scans each in
//! a fresh child process with the built-in default configuration and no database, and prints
//! events/s, MB/s and the child's peak resident memory (VmHWM). Memory that does not grow with
//! input size is the point. Nothing is asserted: numbers are for the README.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use motesvakt::config::Config;
use motesvakt::detect::{Detector, HashKey};
use motesvakt::scan::{self, ScanOptions};
use motesvakt::store::Store;

fn generate(path: &Path, events: usize) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for i in 0..events {
        let meeting = format!("m{}", i % 500);
        let time = format!(
            "2024-05-02T{:02}:{:02}:{:02}Z",
            8 + (i / 100_000) % 10,
            (i / 1000) % 60,
            i % 60
        );
        let actor = format!("u{}@region.se", i % 37);
        let line = if i % 1000 == 0 {
            format!(
                r#"{{"time":"{time}","platform":"teams","meeting":"{meeting}","type":"recording_started","actor":{{"id":"{actor}"}},"media":"video"}}"#
            )
        } else if i % 5000 == 1 {
            format!(
                r#"{{"time":"{time}","platform":"teams","meeting":"{meeting}","type":"chat_message","actor":{{"id":"{actor}"}},"text":"Gäller patienten 19861208-2399, se remissen"}}"#
            )
        } else {
            format!(
                r#"{{"time":"{time}","platform":"teams","meeting":"{meeting}","type":"chat_message","actor":{{"id":"{actor}"}},"text":"Hej, vi ses 13:15 i rum 4, ring 070-123 45 67 vid frågor om ärendet"}}"#
            )
        };
        writeln!(out, "{line}").unwrap();
    }
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// In the child: scan `path` and print `events seconds peak_kib`.
fn child(path: &Path) {
    let config = Config::builtin();
    let detector = Detector::new(&config.detect, HashKey::from_bytes([1; 32])).unwrap();
    let store = Store::in_memory().unwrap();
    let options = ScanOptions {
        paths: vec![path.to_path_buf()],
        format: None,
        threads: motesvakt::work::default_threads(),
        progress: None,
    };
    let started = Instant::now();
    let stats = scan::run(
        &config,
        &detector,
        &store,
        &options,
        &mut |_| {},
        &mut |_| {},
    )
    .unwrap();
    let secs = started.elapsed().as_secs_f64();
    println!("{} {secs} {}", stats.events, peak_rss_kib());
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        child(Path::new(&args[i + 1]));
        return;
    }
    if args.iter().any(|a| a == "--list") {
        return; // `cargo bench -- --list` and `cargo test --benches` probes
    }
    let dir = tempfile::tempdir().unwrap();
    println!("scan benchmark: native NDJSON, default config, no --db, one process per size");
    for events in [200_000usize, 2_000_000] {
        let path: PathBuf = dir.path().join(format!("{events}.ndjson"));
        generate(&path, events);
        let bytes = std::fs::metadata(&path).unwrap().len() as f64;
        let out = Command::new(std::env::current_exe().unwrap())
            .arg("--child")
            .arg(&path)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let parts: Vec<f64> = text
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect();
        if parts.len() != 3 {
            eprintln!("child failed: {}", String::from_utf8_lossy(&out.stderr));
            continue;
        }
        let (n, secs, kib) = (parts[0], parts[1], parts[2]);
        println!(
            "{:>9} events {:>7.1} MB: {:>9.0} events/s {:>6.1} MB/s, peak RSS {:>6.1} MiB",
            n,
            bytes / 1e6,
            n / secs,
            bytes / 1e6 / secs,
            kib / 1024.0
        );
    }
}
