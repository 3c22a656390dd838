//! Precision and recall over labelled corpora, printed (run with `--nocapture` to see them):
//!
//! ```text
//! cargo test --test detect_eval -- --nocapture
//! ```
//!
//! 1. `own`: the negative chat corpus (`tests/data/detect/negative-chat.txt`) plus positives
//!    generated here: valid numbers (random dates and serials) in five written forms inside
//!    typical clinical chat lines, some with a keyword and some without.
//! 2. `chat-10k`: `../shared/testdata/synthetic/chat-10k.jsonl` (10,000 labelled lines), when
//!    present.
//!
//! A line counts as flagged when it has a non-weak finding at `min_confidence` (medium) or above
//! ("medium"), or when [`Detector::is_patient_data`] says so ("patient data").

#[path = "support/counts.rs"]
mod counts;

use counts::Counts;
use motesvakt::detect::{Confidence, Context, DetectSettings, Detector, HashKey};

const NEGATIVE: &str = include_str!("data/detect/negative-chat.txt");

/// Evaluates `items` (text, label); returns (medium rule, patient-data rule).
fn evaluate(d: &Detector, items: &[(String, bool)]) -> (Counts, Counts) {
    let mut medium = Counts::default();
    let mut patient = Counts::default();
    for (text, label) in items {
        let found = d.scan(text, &Context::default());
        let at_medium = found
            .iter()
            .any(|f| !f.is_weak_signal() && f.confidence >= d.min_confidence());
        medium.add(*label, at_medium);
        patient.add(*label, d.is_patient_data(&found));
    }
    (medium, patient)
}

fn detector() -> Detector {
    Detector::new(&DetectSettings::default(), HashKey::from_bytes([9; 32])).unwrap()
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A valid 12-digit personnummer (born 1930-2023) from `rng`.
fn valid_pnr(rng: &mut Rng) -> String {
    loop {
        let year = 1930 + rng.below(94);
        let month = 1 + rng.below(12);
        let day = 1 + rng.below(28);
        let serial = 1 + rng.below(999);
        let nine = format!("{:02}{month:02}{day:02}{serial:03}", year % 100);
        for c in 0..10u8 {
            let ten = format!("{nine}{c}");
            if luhn(&ten) {
                return format!("{}{ten}", year / 100);
            }
        }
    }
}

fn luhn(ten: &str) -> bool {
    let sum: u32 = ten
        .bytes()
        .enumerate()
        .map(|(i, b)| {
            let v = u32::from(b - b'0') * if i % 2 == 0 { 2 } else { 1 };
            if v > 9 { v - 9 } else { v }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn own_corpus() -> Vec<(String, bool)> {
    let templates = [
        "Kan någon kolla provsvar för {}?",
        "Pat {} har fått ny tid på mottagningen.",
        "Journalanteckning saknas för {}",
        "Personnummer: {}, inskriven avd 12",
        "Brukaren {} behöver ny genomförandeplan.",
        "Remiss skickad för {} i dag.",
        "{} ska ha Waran 2,5 mg, INR 2.3",
        "{}",
        "Kolla {} innan ronden",
        "Vet någon vem {} är? Han står i receptionen.",
    ];
    let mut rng = Rng(0x5EED_2024);
    let mut items: Vec<(String, bool)> = NEGATIVE
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| (l.to_string(), false))
        .collect();
    for i in 0..1000 {
        let p = valid_pnr(&mut rng);
        let form = match i % 5 {
            0 => p.clone(),
            1 => format!("{}-{}", &p[..8], &p[8..]),
            2 => format!("{}-{}", &p[2..8], &p[8..]),
            3 => p[2..].to_string(),
            _ => format!("{} {}", &p[2..8], &p[8..]),
        };
        let t = templates[(i / 5) % templates.len()];
        items.push((t.replace("{}", &form), true));
    }
    items
}

#[test]
fn precision_and_recall_on_own_corpus() {
    let d = detector();
    let (medium, patient) = evaluate(&d, &own_corpus());
    println!("{}", medium.line("own", "medium"));
    println!("{}", patient.line("own", "patient data"));
    assert_eq!(medium.fp, 0, "false positives at medium");
    assert_eq!(patient.fp, 0, "false positives as patient data");
    // The misses are bare 10-digit or space-separated numbers without any keyword: low by design.
    assert!(medium.recall() >= 0.8, "{}", medium.recall());
    assert!(patient.recall() >= medium.recall());
}

#[test]
fn precision_and_recall_on_chat_10k() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/testdata/synthetic/chat-10k.jsonl");
    let Ok(body) = std::fs::read_to_string(&path) else {
        println!("skipped: ../shared/testdata not found");
        return;
    };
    let items: Vec<(String, bool)> = body
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|v| {
            (
                v["text"].as_str().unwrap_or_default().to_string(),
                v["label"].as_u64() == Some(1),
            )
        })
        .collect();
    assert!(items.len() >= 10_000);
    let d = detector();
    let (medium, patient) = evaluate(&d, &items);
    println!("{}", medium.line("chat-10k", "medium"));
    println!("{}", patient.line("chat-10k", "patient data"));
    assert!(medium.precision() >= 0.99, "{}", medium.precision());
    assert!(patient.precision() >= 0.99, "{}", patient.precision());
    assert!(medium.recall() >= 0.75, "{}", medium.recall());

    // Any confidence: every labelled number is found (recall 1.0), which is what the conformance
    // tests check number by number.
    let mut any = Counts::default();
    for (text, label) in &items {
        let found = d.scan(text, &Context::default());
        any.add(
            *label,
            found
                .iter()
                .any(|f| f.kind.is_identity() && f.confidence >= Confidence::Low),
        );
    }
    println!("{}", any.line("chat-10k", "any (low+)"));
}
