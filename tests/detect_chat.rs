//! Ordinary work chat must not be reported: the negative corpus `tests/data/detect/negative-chat.txt`
//! (hand-written and generated Swedish work chat with phone numbers, dates, times, amounts, case,
//! order and OCR numbers; see `make_negative_chat.py` beside it) gives no finding at medium or
//! above, and no line counts as patient data. Also runs on the public SweFAQ texts (health and
//! authority FAQ, `../shared/testdata/swefaq`) when they are there.

use motesvakt::detect::{Confidence, Context, DetectSettings, Detector, HashKey};

const NEGATIVE: &str = include_str!("data/detect/negative-chat.txt");

fn detector() -> Detector {
    Detector::new(&DetectSettings::default(), HashKey::from_bytes([5; 32])).unwrap()
}

fn redact(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_digit() { '*' } else { c })
        .collect()
}

#[test]
fn negative_chat_corpus_has_no_findings_at_medium() {
    let d = detector();
    let lines: Vec<&str> = NEGATIVE.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(lines.len() >= 300, "corpus has {} lines", lines.len());
    let mut low = 0;
    let mut bad = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let found = d.scan(line, &Context::default());
        low += found.len();
        if found.iter().any(|f| f.confidence >= Confidence::Medium) || d.is_patient_data(&found) {
            bad.push(format!("line {}: {}", i + 1, redact(line)));
        }
    }
    println!("{} lines, {low} low-confidence findings", lines.len());
    assert!(bad.is_empty(), "reported:\n{}", bad.join("\n"));

    // Without the negative keywords some of these lines would be reported: the corpus does
    // exercise the negative rule.
    let mut s = DetectSettings::default();
    s.keywords.negative = Some(Vec::new());
    s.keywords.phone = Some(Vec::new());
    let no_negatives = Detector::new(&s, HashKey::from_bytes([5; 32])).unwrap();
    let rescued = lines
        .iter()
        .filter(|l| !no_negatives.scan(l, &Context::default()).is_empty())
        .count();
    println!("{rescued} lines hold a valid-looking number that only context rules out");
    assert!(rescued >= 3, "{rescued}");
}

#[test]
fn negative_chat_with_a_clinical_subject() {
    // A patient-related meeting subject raises numbers, but phone and order numbers next to a
    // negative keyword stay below medium.
    let d = detector();
    let subject = ["Vårdplanering patient avd 4"];
    let ctx = Context {
        related: &subject,
        time: None,
    };
    for line in NEGATIVE.lines() {
        let lower = line.to_lowercase();
        let has_negative = ["ring", "tel", "mobil", "order", "ocr", "faktura", "ref"]
            .iter()
            .any(|k| lower.contains(k));
        if !has_negative {
            continue;
        }
        let found = d.scan(line, &ctx);
        assert!(
            found.iter().all(|f| f.confidence < Confidence::Medium),
            "{}",
            redact(line)
        );
    }
}

#[test]
fn swefaq_texts_are_not_patient_data() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/testdata/swefaq");
    if !dir.is_dir() {
        println!("skipped: ../shared/testdata not found");
        return;
    }
    let d = detector();
    let mut texts = 0;
    for file in ["swefaq_dev.jsonl", "swefaq_test.jsonl"] {
        let Ok(body) = std::fs::read_to_string(dir.join(file)) else {
            continue;
        };
        for line in body.lines() {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            let mut strings = Vec::new();
            collect_strings(&v, &mut strings);
            for s in strings {
                texts += 1;
                let found = d.scan(&s, &Context::default());
                assert!(
                    found.iter().all(|f| f.confidence < Confidence::Medium),
                    "{file}: a text gave a finding at medium or above"
                );
            }
        }
    }
    println!("{texts} SweFAQ texts scanned");
}

fn collect_strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        serde_json::Value::Object(o) => o.values().for_each(|x| collect_strings(x, out)),
        _ => {}
    }
}
