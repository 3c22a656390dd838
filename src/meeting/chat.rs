//! How much of a long chat the meeting state keeps.
//!
//! A chat message is kept only when something was found in it ([`Observation::worth_keeping`]);
//! of those, the rules need few. A message with no phrase signal matters to them by its
//! findings, its actor, the meeting id it was filed under and its time, so messages alike in
//! all but time form a group ([`Observation::is_weak_only_chat`] messages one per meeting id and
//! actor, whatever their findings):
//! - of weak-only messages (ICD codes, clinical terms) only the first of the group counts: the
//!   rules need no more than that the meeting has one, and when each actor first wrote one;
//! - of messages with patient data, the first [`CHAT_KEPT`] and the last: the first makes the
//!   incident and the meeting sensitive, the last says whether an actor wrote patient data while
//!   someone from outside was or had been in the meeting (that only grows with time), and the
//!   number kept is how many there were, up to [`CHAT_KEPT`] + 1 ("at least" beyond).
//!
//! What is kept is a function of the set of messages, "first" and "last" in time and source
//! key order, and keeping it of the union of two sets is keeping it of what was kept of each: so
//! a batch, the memory cache and the store can each keep only this much and the view of the
//! whole meeting is the same however the records were split. Memory and store then grow with
//! the number of actors in a chat, not with the number of its messages.

use super::{FastMap, FastSet, Observation, SourceKey};
use crate::detect::{Confidence, FindingKind, Lift};
use crate::event::TextField;

/// Of each group of chat messages with patient data, the number kept besides the last.
pub const CHAT_KEPT: usize = 100;

/// A finding as the rules tell findings apart: where, what, how sure, and how the subject
/// would raise it.
type Said<'a> = (TextField, &'a FindingKind, Confidence, Option<Lift>);

/// What makes two chat messages alike to the rules.
#[derive(PartialEq, Eq, Hash)]
struct Group<'a> {
    meeting: &'a str,
    actor: &'a str,
    /// `None` for weak-only messages.
    findings: Option<Vec<Said<'a>>>,
}

/// Whether `o` belongs to a group of chat messages.
fn grouped(o: &Observation) -> bool {
    matches!(o.event.kind, crate::event::EventKind::ChatMessage { .. })
        && o.signals.is_empty()
        && !o.findings.is_empty()
}

fn group(o: &Observation) -> Option<Group<'_>> {
    if !grouped(o) {
        return None;
    }
    let findings = (!o.is_weak_only_chat()).then(|| {
        let mut f: Vec<_> = o
            .findings
            .iter()
            .map(|f| {
                (
                    f.field,
                    &f.finding.kind,
                    f.finding.confidence,
                    f.finding.lift,
                )
            })
            .collect();
        f.sort_unstable_by(|a, b| {
            (a.0 as u8, a.1.as_str(), a.2, a.3.map(|l| l.confidence)).cmp(&(
                b.0 as u8,
                b.1.as_str(),
                b.2,
                b.3.map(|l| l.confidence),
            ))
        });
        f.dedup();
        f
    });
    Some(Group {
        meeting: &o.event.meeting,
        actor: &o.event.actor.id,
        findings,
    })
}

/// What [`surplus`] found.
#[derive(Debug, Default)]
pub struct Surplus {
    /// Messages not needed: every version of them may go.
    pub drop: FastSet<SourceKey>,
    /// The last message of each group of patient-data messages that has as many as are kept:
    /// there may have been more.
    pub full: FastSet<SourceKey>,
}

/// Of the observations `items` gives, the chat messages beyond what is kept (see the module
/// documentation). An event given more than once counts in its latest version (the last
/// given), as when the meeting is judged.
pub fn surplus<'a>(items: impl Iterator<Item = (SourceKey, &'a Observation)>) -> Surplus {
    surplus_keeping(items, CHAT_KEPT)
}

fn surplus_keeping<'a>(
    items: impl Iterator<Item = (SourceKey, &'a Observation)>,
    kept: usize,
) -> Surplus {
    let mut latest: FastMap<SourceKey, &Observation> = FastMap::default();
    for (key, o) in items {
        if grouped(o) {
            latest.insert(key, o);
        } else {
            // A later version that is not a chat message of a group: the key is not surplus.
            latest.remove(&key);
        }
    }
    if latest.len() <= 1 {
        return Surplus::default();
    }
    let mut groups: FastMap<Group<'_>, Vec<(jiff::Timestamp, SourceKey)>> = FastMap::default();
    for (key, o) in &latest {
        if let Some(g) = group(o) {
            groups.entry(g).or_default().push((o.event.time, *key));
        }
    }
    let mut out = Surplus::default();
    for (g, mut members) in groups {
        let weak = g.findings.is_none();
        let keep = if weak { 1 } else { kept + 1 };
        if !weak && members.len() >= keep {
            let last = members.iter().max().map(|m| m.1);
            out.full.extend(last);
        }
        if members.len() <= keep {
            continue;
        }
        members.sort_unstable();
        let tail = if weak {
            &members[1..]
        } else {
            &members[kept..members.len() - 1]
        };
        out.drop.extend(tail.iter().map(|m| m.1));
    }
    out
}

/// Leaves out of `observations` the chat messages beyond what is kept (every version of each:
/// every key dropped is one of theirs), and says what was found.
pub fn bound(observations: &mut Vec<Observation>) -> Surplus {
    let surplus = surplus(observations.iter().map(|o| (o.key, o)));
    if !surplus.drop.is_empty() {
        observations.retain(|o| !surplus.drop.contains(&o.key));
    }
    surplus
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Finding;
    use crate::event::{Actor, Event, EventKind, Platform};
    use crate::meeting::FieldFinding;
    use crate::sources::RecordKey;
    use proptest::prelude::*;

    /// Message `i` (its key) at second `n % 50`.
    fn chat(i: usize, n: u32, actor: &str, confidence: Confidence, weak: bool) -> Observation {
        let kind = if weak {
            FindingKind::Icd10
        } else {
            FindingKind::Personnummer
        };
        Observation {
            key: SourceKey::new(RecordKey::from_bytes([(i >> 8) as u8; 16]), i as u16),
            event: Event {
                time: jiff::Timestamp::from_second(1_700_000_000 + i64::from(n % 50)).unwrap(),
                platform: Platform::Teams,
                meeting: "m1".into(),
                actor: Actor::new(actor),
                kind: EventKind::ChatMessage {
                    text: String::new(),
                    message_id: None,
                },
            },
            findings: vec![FieldFinding {
                field: TextField::Chat,
                finding: Finding {
                    kind,
                    confidence,
                    span: 0..1,
                    redacted: "*".into(),
                    hash: "h".into(),
                    lift: None,
                },
            }],
            signals: Vec::new(),
            context: Default::default(),
        }
    }

    fn kept(all: &[Observation]) -> Vec<SourceKey> {
        let s = surplus_keeping(all.iter().map(|o| (o.key, o)), 3);
        let mut k: Vec<SourceKey> = all
            .iter()
            .map(|o| o.key)
            .filter(|k| !s.drop.contains(k))
            .collect();
        k.sort_unstable();
        k.dedup();
        k
    }

    #[test]
    fn keeps_the_first_and_the_last_of_each_group_and_one_weak_only_message() {
        let mut all: Vec<Observation> = (0..300)
            .map(|n| chat(n as usize, n, "a", Confidence::High, false))
            .collect();
        all.extend((300..310).map(|n| chat(n as usize, n, "a", Confidence::Medium, false)));
        all.extend((310..320).map(|n| chat(n as usize, n, "a", Confidence::High, true)));
        all.extend((320..330).map(|n| chat(n as usize, n, "b", Confidence::High, false)));
        let s = surplus(all.iter().map(|o| (o.key, o)));
        assert_eq!(all.len() - s.drop.len(), CHAT_KEPT + 1 + 10 + 1 + 10);
        assert_eq!(s.full.len(), 1, "only the group of 300 is full");
    }

    proptest! {
        /// Keeping what is kept of each part and then of the union keeps what is kept of the
        /// whole, whatever the split and the order: what makes batches, cache and store agree.
        #[test]
        fn what_is_kept_does_not_depend_on_the_split(
            specs in prop::collection::vec((0u32..400, 0usize..3, any::<bool>(), any::<bool>()), 0..200),
            cut in 0usize..200,
        ) {
            let actors = ["a", "b", "c"];
            let all: Vec<Observation> = specs
                .iter()
                .enumerate()
                .map(|(i, &(n, a, high, weak))| {
                    let c = if high { Confidence::High } else { Confidence::Medium };
                    chat(i, n, actors[a], c, weak)
                })
                .collect();
            let cut = cut.min(all.len());
            let (left, right) = all.split_at(cut);
            let keep_of = |part: &[Observation]| -> Vec<Observation> {
                let s = surplus_keeping(part.iter().map(|o| (o.key, o)), 3);
                part.iter().filter(|o| !s.drop.contains(&o.key)).cloned().collect()
            };
            let mut merged = keep_of(right);
            merged.extend(keep_of(left));
            prop_assert_eq!(kept(&keep_of(&merged)), kept(&all));
        }
    }
}
