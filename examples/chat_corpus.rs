//! `chat_corpus`: writes the labelled real-chat corpus of issue 14 as JSON lines, for measuring
//! other detectors (Presidio, `scripts/presidio-corpus`) on the same messages.
//!
//! ```text
//! cargo run --locked --example chat_corpus -- [--out FILE] [--n N] [--seed S]
//! ```
//!
//! Default: 6,000 messages, seed 14 (the corpus `tests/detect_corpus.rs` measures), to
//! `target/chat-corpus/corpus.jsonl`. One object a line: `text`, `time` (RFC 3339), `label`
//! (true when the message holds an identity number), `span` (its byte range, or null) and
//! `kind`. The identity numbers are random valid numbers: the file stays under `target/`, is
//! never committed, and nothing of its content is printed.

#[path = "../tests/support/chat_corpus.rs"]
mod chat_corpus;

use std::io::Write;

use anyhow::{Context as _, bail};

fn main() -> anyhow::Result<()> {
    let mut out = String::from("target/chat-corpus/corpus.jsonl");
    let mut n = 6000usize;
    let mut seed = 14u64;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "--out" => out = value()?,
            "--n" => n = value()?.parse().context("--n: not a number")?,
            "--seed" => seed = value()?.parse().context("--seed: not a number")?,
            _ => bail!("unknown option (use --out FILE, --n N, --seed S)"),
        }
    }
    let corpus = chat_corpus::generate(n, seed);
    if let Some(dir) = std::path::Path::new(&out).parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let file = std::fs::File::create(&out).with_context(|| format!("cannot write {out}"))?;
    let mut w = std::io::BufWriter::new(file);
    for m in &corpus {
        let line = serde_json::json!({
            "text": m.text,
            "time": m.time.to_string(),
            "label": m.id.is_some(),
            "span": m.id.as_ref().map(|s| [s.start, s.end]),
            "kind": m.kind,
        });
        writeln!(w, "{line}").with_context(|| format!("cannot write {out}"))?;
    }
    w.flush().with_context(|| format!("cannot write {out}"))?;
    let positives = corpus.iter().filter(|m| m.id.is_some()).count();
    eprintln!(
        "chat_corpus: {} messages ({positives} with an identity number) written to {out}",
        corpus.len()
    );
    Ok(())
}
