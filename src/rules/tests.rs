//! The judge's tests, and what every rule's tests use: a configuration, events, a meeting and
//! its judgement.

pub(crate) use crate::config::{Config, Origin};
pub(crate) use crate::detect::{DetectSettings, Detector, HashKey};
pub(crate) use crate::event::{Actor, ActorKind, Event, EventKind, Media, Platform, ShareScope};
pub(crate) use crate::incident::{Incident, Severity};
pub(crate) use crate::meeting::replay::replay;
pub(crate) use crate::meeting::{MeetingKey, MeetingView, Observation, SourceKey};
pub(crate) use crate::rules::Judge;
pub(crate) use crate::sources::RecordKey;

pub(crate) const PNR: &str = "19861208-2399";

pub(crate) fn config(extra: &str) -> Config {
    Config::parse(
        &format!("internal_domains = [\"region.se\"]\n{extra}\n"),
        Origin::BuiltIn,
    )
    .unwrap()
}

pub(crate) fn ev(minute: u32, actor: &str, kind: EventKind) -> Event {
    Event {
        time: format!("2020-05-04T10:{minute:02}:00Z").parse().unwrap(),
        platform: Platform::Teams,
        meeting: "m1".into(),
        actor: Actor::new(actor),
        kind,
    }
}

pub(crate) fn view(config: &Config, events: Vec<Event>) -> MeetingView {
    let d = Detector::new(&DetectSettings::default(), HashKey::from_bytes([1; 32])).unwrap();
    let obs = events
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            let key = SourceKey::new(RecordKey::new("test", &[&i.to_le_bytes()]), 0);
            Observation::from_event(key, e, &d, &config.signals)
        })
        .collect();
    let key = MeetingKey {
        platform: Platform::Teams,
        id: "m1".into(),
    };
    MeetingView::new(key, obs, d.min_confidence(), &config.sensitivity)
}

pub(crate) fn judge(config: &Config, events: Vec<Event>) -> Vec<Incident> {
    let v = view(config, events);
    let clock = v.observations.last().map(|o| o.event.time).unwrap();
    Judge::new(config, config.detect.min_confidence)
        .judge(&v, clock)
        .incidents
}

pub(crate) fn rules(incidents: &[Incident]) -> Vec<(String, Severity)> {
    incidents
        .iter()
        .map(|i| (i.rule.clone(), i.severity))
        .collect()
}

pub(crate) fn chat(minute: u32, actor: &str, text: &str) -> Event {
    ev(
        minute,
        actor,
        EventKind::ChatMessage {
            text: text.into(),
            message_id: None,
        },
    )
}

pub(crate) fn joined(minute: u32, actor: &str, via_lobby: Option<bool>) -> Event {
    ev(
        minute,
        actor,
        EventKind::ParticipantJoined {
            role: None,
            via_lobby,
        },
    )
}

#[test]
fn replay_tracks_lobby_presence_and_outsiders() {
    let c = config("profiles = [\"halland\"]");
    let admitted = ev(
        5,
        "anna@region.se",
        EventKind::ParticipantAdmitted {
            target: Actor::new("eve@example.com"),
        },
    );
    let v = view(
        &c,
        vec![
            joined(0, "anna@region.se", None),
            joined(1, "eve@example.com", Some(true)),
            admitted,
            ev(9, "eve@example.com", EventKind::ParticipantLeft),
        ],
    );
    let mut seen = Vec::new();
    replay(&v, &c.classifier, |_, _, s| {
        seen.push((
            s.unadmitted_present(),
            s.not_internal_present(),
            s.ever_not_internal,
        ));
    });
    assert_eq!(
        seen,
        [
            (false, false, false),
            (true, false, true),
            (false, true, true),
            (false, false, true)
        ]
    );
}

#[test]
fn profile_validity_is_honoured_per_event() {
    let c = config("profiles = [\"orebro\"]");
    let video = |year: u32| Event {
        time: format!("{year}-05-04T10:00:00Z").parse().unwrap(),
        ..ev(
            0,
            "anna@region.se",
            EventKind::RecordingStarted {
                media: Media::Video,
            },
        )
    };
    assert_eq!(judge(&c, vec![video(2020)]).len(), 1);
    assert!(judge(&c, vec![video(2021)]).is_empty());
    let today = jiff::civil::date(2026, 11, 22);
    assert_eq!(c.expired_profiles(today).len(), 1);
}

#[test]
fn exceptions_silence_a_rule_for_named_meetings_only() {
    let c = config(
        "profiles = [\"vgr-samsa\"]\n[[exceptions]]\nrule = \"recording-video\"\nmeetings = [\"m1\"]\nreason = \"Utbildningsrummet spelas in enligt beslut 2020-01-10\"",
    );
    let video = ev(
        0,
        "anna@region.se",
        EventKind::RecordingStarted {
            media: Media::Video,
        },
    );
    let v = view(&c, vec![video]);
    let j = Judge::new(&c, c.detect.min_confidence).judge(&v, v.observations[0].event.time);
    assert!(j.incidents.is_empty());
    assert_eq!(j.excepted, 1);
}

#[test]
fn profiles_can_be_chosen_per_platform_and_domain() {
    let c = config(
        "profiles = [\"halland\"]\n[[profile_for]]\nprofiles = [\"vgr-samsa\"]\nplatforms = [\"pexip\"]\ndomains = [\"vgregion.se\"]",
    );
    let ids = |p, o| {
        c.profiles_for(p, o)
            .iter()
            .map(|p| p.id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(Platform::Pexip, Some("a@sas.vgregion.se")),
        ["vgr-samsa"]
    );
    assert_eq!(ids(Platform::Teams, Some("a@vgregion.se")), ["halland"]);
    assert_eq!(ids(Platform::Pexip, Some("a@region.se")), ["halland"]);
    assert_eq!(ids(Platform::Pexip, None), ["halland"]);
}

/// The replay's running counts of who is in the meeting say what a walk over every
/// participant says, and whether an outsider was ever in it what classifying every event's
/// people says, after every event of many mixed meetings (joins through the lobby,
/// admissions, leaving, acting without joining; internal, external and anonymous people).
#[test]
fn replay_counts_agree_with_a_walk_over_the_participants() {
    let c = config("profiles = [\"halland\"]");
    let people = [
        "anna@region.se",
        "bo@region.se",
        "eve@example.com",
        "anon-1",
        "mallory@example.org",
    ];
    // One person is sometimes said by the source to be internal: the same id with another
    // kind is classified again, not taken from before.
    let actor = |i: u64| {
        let mut a = Actor::new(people[i as usize % people.len()]);
        if a.id.starts_with("anon") {
            a.kind = Some(ActorKind::Anonymous);
        }
        if a.id.starts_with("mallory") && (i / 8).is_multiple_of(2) {
            a.kind = Some(ActorKind::Internal);
        }
        a
    };
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut checked = 0;
    for _ in 0..300 {
        let n = 1 + next() % 30;
        let events: Vec<Event> = (0..n)
            .map(|i| {
                let who = actor(next());
                let kind = match next() % 5 {
                    0 => EventKind::ParticipantJoined {
                        role: None,
                        via_lobby: [None, Some(true), Some(false)][(next() % 3) as usize],
                    },
                    1 => EventKind::ParticipantLeft,
                    2 => EventKind::ParticipantAdmitted {
                        target: actor(next()),
                    },
                    3 => EventKind::ScreenShareStarted { scope: None },
                    _ => EventKind::ScreenShareStopped,
                };
                Event {
                    actor: who,
                    ..ev(i as u32, "x@region.se", kind)
                }
            })
            .collect();
        let v = view(&c, events);
        let mut ever = false;
        replay(&v, &c.classifier, |_, o, s| {
            ever |= c.classifier.kind(&o.event.actor) != ActorKind::Internal;
            if let EventKind::ParticipantAdmitted { target } = &o.event.kind {
                ever |= c.classifier.kind(target) != ActorKind::Internal;
            }
            assert_eq!(s.ever_not_internal, ever);
            let walk_outsider = s
                .participants
                .values()
                .any(|p| p.present && p.kind != ActorKind::Internal);
            let walk_unadmitted = s
                .participants
                .values()
                .any(|p| p.in_lobby || (p.present && p.kind == ActorKind::Anonymous));
            assert_eq!(s.not_internal_present(), walk_outsider);
            assert_eq!(s.unadmitted_present(), walk_unadmitted);
            checked += usize::from(walk_outsider) + usize::from(walk_unadmitted);
        });
    }
    // The meetings did have outsiders and people waiting, not only empty rooms.
    assert!(checked > 100, "{checked}");
}
