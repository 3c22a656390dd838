//! Detector throughput on a generated corpus of short Swedish chat messages (about 80 bytes), one
//! in 50 holding an identity number.
//!
//! ```text
//! cargo bench --bench detect
//! ```
//!
//! Criterion reports messages/s (`elements`) for `chat/messages` and bytes/s for `chat/bytes`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use motesvakt::detect::{Context, DetectSettings, Detector, HashKey};

/// Small deterministic generator (xorshift64*), so every run scans the same corpus.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// Skatteverket test personnummer (testpersonnummer.csv), 12-digit form.
const TEST_PNR: &[&str] = &[
    "198612082399",
    "200701012395",
    "191202119150",
    "200002202398",
    "199204022389",
    "197612042395",
    "198008042395",
    "199209092387",
];

const PLAIN: &[&str] = &[
    "Hej! Kan någon ta över rond på avdelning 4 i eftermiddag? Jag har möte till 15.",
    "Tack för idag, bra diskussion om schemat och bemanningen. Vi ses på torsdag igen!",
    "Jag är sen, kommer om fem minuter. Börja utan mig så länge, jag läser protokollet.",
    "Kan ni se min skärm nu? Annars delar jag presentationen igen från början.",
    "Glöm inte att fylla i tidrapporten innan fredag, och semesterönskemålen, tack alla.",
    "Någon som vet om kaffeautomaten på plan två är lagad än? Annars tar jag med termos.",
    "Jag skickar länken till dokumentet i mejlen efter mötet, kommentera senast onsdag.",
    "Ljudet hackar lite för mig, kan du prata lite närmare mikrofonen?",
];

const WITH_NUMBERS: &[&str] = &[
    "Mötet börjar 14:15, länk i kalendern. Ring 070-123 45 67 om ni inte kommer in.",
    "Fakturan med OCR 4670301592 är betald, belopp 12 450 kr inkl moms.",
    "Ny tid för APT: 2024-06-11 kl 13.30 i stora konferensrummet på plan 3.",
    "Ärendenr 2024-1187 är stängt, ordernr 556677 skickades i fredags.",
    "Växeln har nummer 08-123 456 78, min mobil är 0701234567 om det brådskar.",
    "Postnummer 413 45, leverans vecka 23. Kostnad ca 3 200 kr för hela avdelningen.",
    "Version 2024.11.5 är ute, starta om klienten efter kl 17:00 idag.",
    "Mötes-ID 345 678 901, kod 7200. Vi börjar 09:30 och slutar 10:15.",
];

fn with_id(rng: &mut Rng) -> String {
    let p = rng.pick(TEST_PNR);
    let id = match rng.below(5) {
        0 => p.to_string(),
        1 => format!("{}-{}", &p[..8], &p[8..]),
        2 => format!("{}-{}", &p[2..8], &p[8..]),
        3 => p[2..].to_string(),
        _ => format!("{} {}", &p[2..8], &p[8..]),
    };
    let templates = [
        "Kan någon kolla provsvar för {}? Hon väntar på mottagningen.",
        "Pat {} har fått ny tid på mottagningen, remiss skickad igår.",
        "Journalanteckning saknas för {}, kan du fixa innan lunch?",
        "{} ska ha Waran 2,5 mg ikväll, INR var 2.3 i morse enligt labbet.",
    ];
    rng.pick(&templates).replace("{}", &id)
}

/// `n` messages, one in 50 with an identity number, half of the rest with other digits.
fn corpus(n: usize) -> Vec<String> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    (0..n)
        .map(|i| {
            if i % 50 == 0 {
                with_id(&mut rng)
            } else if rng.below(2) == 0 {
                rng.pick(WITH_NUMBERS).to_string()
            } else {
                rng.pick(PLAIN).to_string()
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let detector = Detector::new(&DetectSettings::default(), HashKey::from_bytes([7; 32]))
        .expect("default settings are valid");
    let msgs = corpus(10_000);
    let bytes: usize = msgs.iter().map(String::len).sum();
    let subject = ["Vårdplanering avdelning 4"];
    let ctx = Context {
        related: &subject,
        time: None,
    };
    eprintln!(
        "corpus: {} messages, {} bytes, {:.1} bytes/message",
        msgs.len(),
        bytes,
        bytes as f64 / msgs.len() as f64
    );

    let run = |msgs: &[String]| {
        let mut found = 0;
        for m in msgs {
            found += detector.scan(black_box(m), &ctx).len();
        }
        found
    };

    let mut g = c.benchmark_group("chat");
    g.throughput(Throughput::Elements(msgs.len() as u64));
    g.bench_function("messages", |b| b.iter(|| run(&msgs)));
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("bytes", |b| b.iter(|| run(&msgs)));
    g.finish();

    let plain: Vec<String> = msgs
        .iter()
        .filter(|m| !m.bytes().any(|b| b.is_ascii_digit()))
        .cloned()
        .collect();
    let mut g = c.benchmark_group("no_digits");
    g.throughput(Throughput::Elements(plain.len() as u64));
    g.bench_function("messages", |b| b.iter(|| run(&plain)));
    g.finish();

    let ids: Vec<String> = {
        let mut rng = Rng(7);
        (0..1000).map(|_| with_id(&mut rng)).collect()
    };
    let mut g = c.benchmark_group("all_with_id");
    g.throughput(Throughput::Elements(ids.len() as u64));
    g.bench_function("messages", |b| b.iter(|| run(&ids)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
