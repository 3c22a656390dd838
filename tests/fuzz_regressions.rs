//! Replays the fuzzers' seed corpus (`fuzz/corpus/<target>/`) and every input a fuzzer found
//! a bug with (`fuzz/regressions/<target>/`) through the same entry points the fuzz targets
//! call ([`motesvakt::fuzzing`]), so that stable `cargo test` keeps them fixed without nightly
//! or cargo-fuzz. A regression input is added by copying the crash file the fuzzer wrote
//! (`fuzz/artifacts/<target>/crash-...`) to `fuzz/regressions/<target>/` with a name that says
//! what it was.

use std::path::{Path, PathBuf};

use motesvakt::fuzzing;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The files of `dir`, sorted; none when it does not exist.
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .map(|e| e.expect("a readable folder").path())
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    out
}

#[test]
fn every_target_has_a_fuzz_target_file_and_a_seed_corpus() {
    for (name, _) in fuzzing::TARGETS {
        let target = root().join("fuzz_targets").join(format!("{name}.rs"));
        let text = std::fs::read_to_string(&target)
            .unwrap_or_else(|e| panic!("{}: {e}", target.display()));
        assert!(
            text.contains(&format!("motesvakt::fuzzing::{name}(")),
            "{} does not call motesvakt::fuzzing::{name}",
            target.display()
        );
        let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "fuzz/Cargo.toml has no [[bin]] {name}"
        );
        assert!(
            !files(&root().join("corpus").join(name)).is_empty(),
            "fuzz/corpus/{name} holds no seed"
        );
    }
}

#[test]
fn corpus_and_regression_folders_name_known_targets() {
    // A folder with a misspelt name would never be replayed.
    for dir in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root().join(dir)) else {
            continue;
        };
        for e in entries {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            assert!(
                fuzzing::target(&name).is_some(),
                "fuzz/{dir}/{name} is not a fuzz target"
            );
        }
    }
}

#[test]
fn corpus_and_regressions_replay_without_failure() {
    let mut replayed = 0;
    for (name, run) in fuzzing::TARGETS {
        for dir in ["corpus", "regressions"] {
            for file in files(&root().join(dir).join(name)) {
                let data = std::fs::read(&file).unwrap();
                // The file's name only: inputs may hold anything.
                let shown = file.file_name().unwrap().to_string_lossy().into_owned();
                let r = std::panic::catch_unwind(|| run(&data));
                assert!(r.is_ok(), "fuzz/{dir}/{name}/{shown} fails");
                replayed += 1;
            }
        }
    }
    assert!(replayed >= fuzzing::TARGETS.len());
}
