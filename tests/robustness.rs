//! Bad input never panics: arbitrary bytes, and real records cut and corrupted at random, are
//! fed to every adapter and through the whole pipeline (detector, rules, store). Each case must
//! finish, and every record read must be mapped, counted as unmapped or rejected.

mod common;

use std::path::PathBuf;

use motesvakt::config::Config;
use motesvakt::detect::{Detector, HashKey};
use motesvakt::scan::{self, ScanOptions};
use motesvakt::sources::{Format, SourceSettings};
use motesvakt::store::Store;
use proptest::prelude::*;

/// Every fixture file, as the seeds for mutation.
fn seeds() -> Vec<Vec<u8>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for dir in ["tests/fixtures/sources", "examples/exports"] {
        let mut stack = vec![root.join(dir)];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    out.push(std::fs::read(&p).unwrap());
                }
            }
        }
    }
    out.sort();
    out
}

/// A seed with a few bytes overwritten, a span deleted and a span duplicated.
fn mutate(seed: &[u8], edits: &[(usize, u8)], cut: (usize, usize), dup: (usize, usize)) -> Vec<u8> {
    let mut v = seed.to_vec();
    if v.is_empty() {
        return v;
    }
    for &(at, byte) in edits {
        let i = at % v.len();
        v[i] = byte;
    }
    let (a, n) = (cut.0 % v.len(), cut.1 % 64);
    let b = (a + n).min(v.len());
    v.drain(a..b);
    if !v.is_empty() {
        let (a, n) = (dup.0 % v.len(), dup.1 % 256);
        let b = (a + n).min(v.len());
        let copy = v[a..b].to_vec();
        v.splice(a..a, copy);
    }
    v
}

fn run_adapters(data: &[u8]) {
    let settings = SourceSettings {
        internal_networks: vec!["10.0.0.0/8".parse().unwrap()],
        ..SourceSettings::default()
    };
    for &format in Format::ALL {
        let adapter = format.adapter(&settings);
        let mut input = std::io::BufReader::with_capacity(13, data);
        let _ = adapter.read(&mut input, &mut |_| std::ops::ControlFlow::Continue(()));
    }
}

fn run_pipeline(data: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("input");
    std::fs::write(&path, data).unwrap();
    let config = Config::parse(
        "internal_domains = [\"region.se\"]\nprofiles = [\"halland\", \"vgr-samsa\", \"kronoberg\", \"sas\", \"orebro\"]\n",
        motesvakt::config::Origin::BuiltIn,
    )
    .unwrap();
    let detector = Detector::new(&config.detect, HashKey::from_bytes([3; 32])).unwrap();
    let store = Store::in_memory().unwrap();
    let options = ScanOptions {
        paths: vec![path],
        format: None,
        threads: motesvakt::work::default_threads(),
        progress: None,
    };
    let stats = scan::run(
        &config,
        &detector,
        &store,
        &options,
        &mut |_| {},
        &mut |_| {},
    )
    .unwrap();
    // Nothing vanishes: every record read is mapped, counted as unmapped, or rejected.
    for (format, c) in &stats.formats {
        assert_eq!(
            c.read,
            c.mapped + c.unmapped + c.rejected,
            "{}: {c:?}",
            format.name()
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
        run_adapters(&data);
        run_pipeline(&data);
    }

    #[test]
    fn corrupted_real_records_never_panic(
        seed in any::<prop::sample::Index>(),
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..8),
        cut in (any::<usize>(), any::<usize>()),
        dup in (any::<usize>(), any::<usize>()),
    ) {
        let seeds = seeds();
        let data = mutate(&seeds[seed.index(seeds.len())], &edits, cut, dup);
        run_adapters(&data);
        run_pipeline(&data);
    }
}
