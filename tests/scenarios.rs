//! Golden scenario tests: `tests/scenarios/<rule>/<case>.ndjson` holds meetings in motesvakt
//! NDJSON, and `<case>.toml` beside it the incidents expected under each profile:
//!
//! ```toml
//! description = "what the case shows"
//! config = "extra configuration lines, appended after internal_domains and profiles"
//! [expect]
//! halland = [["recording-video", "m1", "high"]]   # rule, meeting, severity; every incident
//! vgr-samsa = []                                   # nothing at all under this profile
//! ```
//!
//! A meeting id whose number is redacted is written with `~KEY` for its keyed hash
//! (`vmr.************~KEY`).
//!
//! Every case runs the real binary once per profile named in `[expect]`, with
//! `internal_domains = ["region.se"]` and that profile alone, and compares the full list of
//! incidents (sorted), so near misses are checked as strictly as hits.
//!
//! The same runs check the wording: each incident's summary, in Swedish as the binary printed
//! it and in English as rendered again from the incident it printed (what `incidents --lang en`
//! does with a stored one), must equal its line in `tests/scenarios/summaries.txt`. After a
//! deliberate change of wording, or a new case, write that file again with
//! `MOTESVAKT_BLESS=1 cargo test --test scenarios` and read its diff.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use common::*;
use motesvakt::i18n::{Language, render_summary};
use motesvakt::incident::Incident;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    description: String,
    #[serde(default)]
    config: String,
    expect: BTreeMap<String, Vec<(String, String, String)>>,
}

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    let mut out = Vec::new();
    for rule in std::fs::read_dir(&root).unwrap() {
        let rule = rule.unwrap().path();
        if !rule.is_dir() {
            continue;
        }
        for case in std::fs::read_dir(&rule).unwrap() {
            let case = case.unwrap().path();
            if case.extension().is_some_and(|e| e == "ndjson") {
                out.push(case);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_scenario_gives_exactly_the_expected_incidents() {
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    let mut runs = 0;
    let all = cases();
    assert!(!all.is_empty(), "no scenarios found");
    let mut summaries = BTreeSet::new();
    for events in &all {
        let name = events
            .strip_prefix(Path::new(env!("CARGO_MANIFEST_DIR")))
            .unwrap()
            .display()
            .to_string();
        let spec = events.with_extension("toml");
        let text = std::fs::read_to_string(&spec)
            .unwrap_or_else(|e| panic!("{name}: no expectations beside it ({e})"));
        let case: Case =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", spec.display()));
        assert!(
            !case.description.trim().is_empty(),
            "{name}: no description"
        );
        assert!(!case.expect.is_empty(), "{name}: no profile in [expect]");
        for (profile, expected) in &case.expect {
            let cfg = dir.path().join(format!("{profile}.toml"));
            std::fs::write(
                &cfg,
                format!(
                    "internal_domains = [\"region.se\"]\nprofiles = [\"{profile}\"]\n{}\n",
                    case.config
                ),
            )
            .unwrap();
            let out = motesvakt_paths(
                &["scan", "--json", "--config", cfg.to_str().unwrap()],
                &[events],
            );
            runs += 1;
            if out.status.code() != Some(0) {
                failures.push(format!(
                    "{name} [{profile}]: exit {:?}: {}",
                    out.status.code(),
                    stderr(&out)
                ));
                continue;
            }
            let err = stderr(&out);
            if err.lines().any(|l| l.contains(".ndjson:")) {
                failures.push(format!("{name} [{profile}]: bad input lines: {err}"));
            }
            let mut want = expected.clone();
            want.sort();
            let mut got: Vec<_> = triples(&incidents(&out))
                .into_iter()
                .map(|(r, m, s)| (r, keyed(&m), s))
                .collect();
            got.sort();
            for value in incidents(&out) {
                let inc: Incident = serde_json::from_value(value)
                    .unwrap_or_else(|e| panic!("{name} [{profile}]: not an incident ({e})"));
                let sv = render_summary(&inc, Language::Sv);
                if sv.as_deref() != Some(inc.summary.as_str()) {
                    failures.push(format!(
                        "{name} [{profile}]: the summary does not render again from the incident:\n    printed  {}\n    rendered {sv:?}",
                        inc.summary
                    ));
                }
                let en = render_summary(&inc, Language::En).unwrap_or_default();
                for (lang, text) in [("sv", &inc.summary), ("en", &en)] {
                    summaries.insert(format!(
                        "{name} {} {} {lang}: {}",
                        inc.rule,
                        keyed(&inc.meeting),
                        keyed(text)
                    ));
                }
            }
            if got != want {
                failures.push(format!(
                    "{name} [{profile}] ({}):\n    expected {want:?}\n    got      {got:?}",
                    case.description.trim()
                ));
            }
            assert_no_leaks(None, &[&out.stdout, &out.stderr]);
        }
    }
    println!("{} scenarios, {runs} profile runs", all.len());
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios/summaries.txt");
    let text: String = summaries.iter().map(|l| format!("{l}\n")).collect();
    if std::env::var_os("MOTESVAKT_BLESS").is_some_and(|v| v != "0") {
        std::fs::write(&golden, &text).unwrap();
    }
    let want = std::fs::read_to_string(&golden).unwrap_or_default();
    if text != want {
        let (got, want): (BTreeSet<&str>, BTreeSet<&str>) =
            (text.lines().collect(), want.lines().collect());
        let mut diff: Vec<String> = want.difference(&got).map(|l| format!("-{l}")).collect();
        diff.extend(got.difference(&want).map(|l| format!("+{l}")));
        failures.push(format!(
            "the summaries differ from {} (MOTESVAKT_BLESS=1 writes them):\n{}",
            golden.display(),
            diff.join("\n")
        ));
    }
    assert!(
        failures.is_empty(),
        "{} of {runs} runs failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A meeting id with each keyed hash of a redacted number (`~` and 8 hex digits, which depend
/// on the run's random key) written `~KEY`, as the expectations write it.
fn keyed(id: &str) -> String {
    let mut out = String::new();
    let mut rest = id;
    while let Some(i) = rest.find('~') {
        out.push_str(&rest[..i]);
        let tail = &rest[i + 1..];
        let hex = tail.len() >= 8 && tail.as_bytes()[..8].iter().all(u8::is_ascii_hexdigit);
        if hex {
            out.push_str("~KEY");
            rest = &tail[8..];
        } else {
            out.push('~');
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn every_rule_has_scenarios_under_every_profile_that_uses_it() {
    use motesvakt::config::Profile;
    use motesvakt::incident::RULE_IDS;
    let mut covered: BTreeMap<(String, String), bool> = BTreeMap::new();
    for events in cases() {
        let rule = events
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let case: Case =
            toml::from_str(&std::fs::read_to_string(events.with_extension("toml")).unwrap())
                .unwrap();
        for (profile, expected) in case.expect {
            let fires = expected.iter().any(|(r, _, _)| *r == rule);
            let e = covered.entry((rule.clone(), profile)).or_insert(false);
            *e |= fires;
            covered
                .entry((format!("{rule}#miss"), String::new()))
                .or_insert(false);
            if !fires {
                covered.insert((format!("{rule}#miss"), String::new()), true);
            }
        }
    }
    let mut missing = Vec::new();
    for rule in RULE_IDS {
        for id in Profile::BUILTIN_IDS {
            let p = Profile::builtin(id).unwrap();
            if p.rule(rule).is_some()
                && !covered
                    .get(&(rule.to_string(), id.to_string()))
                    .copied()
                    .unwrap_or(false)
            {
                missing.push(format!("{rule} never fires in a scenario under {id}"));
            }
        }
        if !covered
            .get(&(format!("{rule}#miss"), String::new()))
            .copied()
            .unwrap_or(false)
        {
            missing.push(format!("{rule} has no near-miss scenario"));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}
