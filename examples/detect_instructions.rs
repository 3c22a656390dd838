//! `detect_instructions`: a fixed detector workload for counting instructions, which a loaded
//! machine does not disturb the way it disturbs `cargo bench --bench detect`'s timings.
//!
//! ```text
//! cargo build --release --locked --example detect_instructions
//! valgrind --tool=cachegrind --cache-sim=no target/release/examples/detect_instructions bench 1
//! valgrind --tool=cachegrind --cache-sim=no target/release/examples/detect_instructions bench 0
//! ```
//!
//! `bench` scans the corpus of `benches/detect.rs` (10,000 messages, one in 50 with an identity
//! number), `real` the labelled real-chat corpus of `tests/support/chat_corpus.rs`, `PASSES`
//! times (0 builds the corpus and the detector only: subtract it). Prints the number of
//! findings only.

#[path = "../tests/support/chat_corpus.rs"]
mod chat_corpus;

use chat_corpus::Rng;
use motesvakt::detect::{Context, DetectSettings, Detector, HashKey};

/// The messages of `benches/detect.rs`, made the same way (same seed, same lists).
fn bench_corpus() -> Vec<String> {
    const PNR: &[&str] = &[
        "198612082399",
        "200701012395",
        "191202119150",
        "197612042395",
    ];
    const PLAIN: &[&str] = &[
        "Hej! Kan någon ta över rond på avdelning 4 i eftermiddag? Jag har möte till 15.",
        "Tack för idag, bra diskussion om schemat och bemanningen. Vi ses på torsdag igen!",
        "Kan ni se min skärm nu? Annars delar jag presentationen igen från början.",
        "Jag skickar länken till dokumentet i mejlen efter mötet, kommentera senast onsdag.",
    ];
    const NUMBERS: &[&str] = &[
        "Mötet börjar 14:15, länk i kalendern. Ring 070-123 45 67 om ni inte kommer in.",
        "Fakturan med OCR 4670301592 är betald, belopp 12 450 kr inkl moms.",
        "Ärendenr 2024-1187 är stängt, ordernr 556677 skickades i fredags.",
        "Mötes-ID 345 678 901, kod 7200. Vi börjar 09:30 och slutar 10:15.",
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    (0..10_000)
        .map(|i| {
            if i % 50 == 0 {
                let p = rng.pick(PNR);
                format!(
                    "Pat {}-{} har fått ny tid, remiss skickad.",
                    &p[..8],
                    &p[8..]
                )
            } else if rng.below(2) == 0 {
                rng.pick(NUMBERS).to_string()
            } else {
                rng.pick(PLAIN).to_string()
            }
        })
        .collect()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_else(|| "bench".into());
    let passes: usize = args.next().and_then(|p| p.parse().ok()).unwrap_or(1);
    let msgs: Vec<String> = match which.as_str() {
        "real" => chat_corpus::default_corpus()
            .into_iter()
            .map(|m| m.text)
            .collect(),
        _ => bench_corpus(),
    };
    let d = Detector::new(&DetectSettings::default(), HashKey::from_bytes([7; 32]))
        .expect("default settings are valid");
    let subject = ["Vårdplanering avdelning 4"];
    let ctx = Context {
        related: &subject,
        time: None,
    };
    let mut found = 0;
    for _ in 0..passes {
        for m in &msgs {
            found += d.scan(std::hint::black_box(m), &ctx).len();
        }
    }
    println!("{} messages, {passes} passes, {found} findings", msgs.len());
}
