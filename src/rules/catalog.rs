//! The rule catalog. Each rule is a function over one meeting in time order that proposes
//! candidates; the profiles decide whether and how seriously they count.

use super::{Candidate, EvidenceFinding, MeetingView, RuleContext, field_word, kind_word, who};
use crate::config::Language;
use crate::event::{ActorKind, EventKind, Media};
use crate::rules::Evidence;

/// A rule: its id and the function that checks a meeting.
pub struct RuleDef {
    pub id: &'static str,
    pub check: fn(&MeetingView, &RuleContext<'_>, &mut Vec<Candidate>),
}

/// Every rule, in the order of [`super::RULE_IDS`].
pub const RULES: &[RuleDef] = &[
    RuleDef {
        id: "chat-patient-data",
        check: chat_patient_data,
    },
    RuleDef {
        id: "recording-video",
        check: recording_video,
    },
    RuleDef {
        id: "control-external",
        check: control_external,
    },
];

/// `chat-patient-data`: a chat message holds a valid personnummer or samordningsnummer (at the
/// configured confidence).
fn chat_patient_data(m: &MeetingView, ctx: &RuleContext<'_>, out: &mut Vec<Candidate>) {
    for (index, obs) in m.observations.iter().enumerate() {
        if !matches!(obs.event.kind, EventKind::ChatMessage { .. }) {
            continue;
        }
        let findings: Vec<EvidenceFinding> = obs
            .findings_at_least(ctx.min_confidence)
            .map(EvidenceFinding::from)
            .collect();
        if findings.is_empty() {
            continue;
        }
        let mut kinds: Vec<&str> = findings.iter().map(|f| f.kind.as_str()).collect();
        kinds.dedup();
        let kinds = kinds.join(", ");
        let actor = who(&obs.event.actor);
        let summary = match ctx.language {
            Language::Sv => {
                format!("{actor} skrev en patientuppgift ({kinds}) i mötets chatt.")
            }
            Language::En => format!("{actor} wrote patient data ({kinds}) in the meeting chat."),
        };
        out.push(Candidate {
            rule: "chat-patient-data",
            index,
            sensitive: true,
            summary,
            evidence: Evidence {
                findings,
                ..Evidence::default()
            },
        });
    }
}

/// `recording-video`: a video recording was started. Whether it is a breach depends on the
/// profile: some forbid video recording outright, others when the meeting is sensitive, that
/// is when patient data was seen anywhere in it, before or after the recording started.
/// Audio-only recordings are not this rule.
fn recording_video(m: &MeetingView, ctx: &RuleContext<'_>, out: &mut Vec<Candidate>) {
    for (index, obs) in m.observations.iter().enumerate() {
        if obs.event.kind
            != (EventKind::RecordingStarted {
                media: Media::Video,
            })
        {
            continue;
        }
        let actor = who(&obs.event.actor);
        let summary = match (ctx.language, &m.sensitive) {
            (Language::Sv, Some(s)) => format!(
                "{actor} startade en videoinspelning av ett möte där patientuppgifter förekom ({} i {}).",
                s.kind,
                field_word(s.field, Language::Sv)
            ),
            (Language::Sv, None) => format!("{actor} startade en videoinspelning av mötet."),
            (Language::En, Some(s)) => format!(
                "{actor} started a video recording of a meeting where patient data appeared ({} in the {}).",
                s.kind,
                field_word(s.field, Language::En)
            ),
            (Language::En, None) => format!("{actor} started a video recording of the meeting."),
        };
        out.push(Candidate {
            rule: "recording-video",
            index,
            sensitive: m.sensitive.is_some(),
            summary,
            evidence: Evidence {
                media: Some(Media::Video),
                sensitive: m.sensitive.clone(),
                ..Evidence::default()
            },
        });
    }
}

/// `control-external`: control of a computer was handed to someone who is not internal.
fn control_external(m: &MeetingView, ctx: &RuleContext<'_>, out: &mut Vec<Candidate>) {
    for (index, obs) in m.observations.iter().enumerate() {
        let EventKind::ControlGranted { target } = &obs.event.kind else {
            continue;
        };
        let kind = ctx.classifier.kind(target);
        if kind == ActorKind::Internal {
            continue;
        }
        let mut target = target.clone();
        target.kind = Some(kind);
        let actor = who(&obs.event.actor);
        let to = who(&target);
        let summary = match ctx.language {
            Language::Sv => format!(
                "{actor} lämnade över kontrollen över sin dator till {to} ({}), som inte tillhör organisationen.",
                kind_word(kind, Language::Sv)
            ),
            Language::En => format!(
                "{actor} handed control of their computer to {to} ({}), who is outside the organisation.",
                kind_word(kind, Language::En)
            ),
        };
        out.push(Candidate {
            rule: "control-external",
            index,
            sensitive: false,
            summary,
            evidence: Evidence {
                target: Some(target),
                ..Evidence::default()
            },
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, Origin};
    use crate::detect::{DetectSettings, Detector, HashKey};
    use crate::event::{Actor, ActorKind, Event, EventKind, Media, Platform};
    use crate::rules::{Incident, Judge, MeetingKey, MeetingView, Observation, Severity};

    // A Skatteverket test personnummer.
    const PNR: &str = "19861208-2399";

    fn config(profiles: &str) -> Config {
        Config::parse(
            &format!("internal_domains = [\"region.se\"]\nprofiles = [{profiles}]\n"),
            Origin::BuiltIn,
        )
        .unwrap()
    }

    fn ev(minute: u32, actor: &str, kind: EventKind) -> Event {
        Event {
            time: format!("2024-05-02T10:{minute:02}:00Z").parse().unwrap(),
            platform: Platform::Teams,
            meeting: "m1".into(),
            actor: Actor::new(actor),
            kind,
        }
    }

    fn judge(config: &Config, events: Vec<Event>) -> Vec<Incident> {
        let d = Detector::new(&DetectSettings::default(), HashKey::from_bytes([1; 32])).unwrap();
        let obs = events
            .into_iter()
            .map(|e| Observation::from_event(e, &d, None))
            .collect();
        let key = MeetingKey {
            platform: Platform::Teams,
            id: "m1".into(),
        };
        let view = MeetingView::new(key, obs, d.min_confidence());
        Judge::new(config, d.min_confidence()).judge(&view)
    }

    fn chat(minute: u32, text: &str) -> Event {
        ev(
            minute,
            "anna@region.se",
            EventKind::ChatMessage { text: text.into() },
        )
    }

    fn video(minute: u32) -> Event {
        ev(
            minute,
            "anna@region.se",
            EventKind::RecordingStarted {
                media: Media::Video,
            },
        )
    }

    fn summary(incidents: &[Incident]) -> Vec<(String, Severity)> {
        incidents
            .iter()
            .map(|i| (i.rule.clone(), i.severity))
            .collect()
    }

    #[test]
    fn chat_with_personnummer_is_high_and_redacted() {
        let got = judge(
            &config("\"halland\""),
            vec![chat(1, &format!("pnr {PNR}")), chat(2, "hej")],
        );
        assert_eq!(
            summary(&got),
            [("chat-patient-data".to_string(), Severity::High)]
        );
        let json = serde_json::to_string(&got).unwrap();
        assert!(!json.contains("2399") && !json.contains("861208"), "{json}");
        assert_eq!(got[0].evidence.findings[0].redacted, "********-****");
        assert_eq!(got[0].routine.file, "region-halland-distansmoten.txt");
    }

    #[test]
    fn video_recording_depends_on_profile_and_late_evidence() {
        // Not sensitive: info under halland, high under vgr-samsa and orebro.
        for (profile, want) in [
            ("halland", Severity::Info),
            ("vgr-samsa", Severity::High),
            ("orebro", Severity::High),
        ] {
            let got = judge(&config(&format!("\"{profile}\"")), vec![video(0)]);
            assert_eq!(
                summary(&got),
                [("recording-video".to_string(), want)],
                "{profile}"
            );
        }
        // Patient data only after the recording started: high under halland too.
        let got = judge(
            &config("\"halland\""),
            vec![video(0), chat(20, &format!("patient {PNR}"))],
        );
        assert_eq!(got[0].rule, "recording-video");
        assert_eq!(got[0].severity, Severity::High);
        assert!(got[0].evidence.sensitive.is_some());
        // Audio only is not recording-video.
        let audio = ev(
            0,
            "anna@region.se",
            EventKind::RecordingStarted {
                media: Media::Audio,
            },
        );
        assert!(judge(&config("\"vgr-samsa\""), vec![audio]).is_empty());
    }

    #[test]
    fn highest_profile_wins_and_is_cited() {
        let got = judge(&config("\"halland\", \"orebro\""), vec![video(0)]);
        assert_eq!(got[0].severity, Severity::High);
        assert_eq!(got[0].profile, "orebro");
    }

    #[test]
    fn control_to_outsider_only() {
        let grant = |target: Actor| ev(5, "anna@region.se", EventKind::ControlGranted { target });
        let mut phone = Actor::new("+46701234567");
        phone.kind = Some(ActorKind::Phone);
        let got = judge(
            &config("\"halland\""),
            vec![
                grant(Actor::new("bo@region.se")),
                grant(Actor::new("eve@example.com")),
                grant(phone),
            ],
        );
        assert_eq!(
            summary(&got),
            [
                ("control-external".to_string(), Severity::High),
                ("control-external".to_string(), Severity::High)
            ]
        );
        let kinds: Vec<_> = got
            .iter()
            .map(|i| i.evidence.target.as_ref().unwrap().kind.unwrap())
            .collect();
        assert!(kinds.contains(&ActorKind::External) && kinds.contains(&ActorKind::Phone));
        assert_ne!(got[0].id, got[1].id);
    }

    #[test]
    fn rules_not_in_profile_or_disabled_do_not_fire() {
        assert!(judge(&config("\"sas\""), vec![video(0)]).is_empty());
        let off = Config::parse(
            "profiles = [\"vgr-samsa\"]\n[rules.recording-video]\nenabled = false\n",
            Origin::BuiltIn,
        )
        .unwrap();
        assert!(judge(&off, vec![video(0)]).is_empty());
        let lowered = Config::parse(
            "profiles = [\"vgr-samsa\"]\n[rules.recording-video]\nseverity = \"medium\"\n",
            Origin::BuiltIn,
        )
        .unwrap();
        assert_eq!(
            judge(&lowered, vec![video(0)])[0].severity,
            Severity::Medium
        );
    }

    #[test]
    fn ids_are_stable_whatever_the_order() {
        let c = config("\"halland\"");
        let a = judge(&c, vec![video(0), chat(20, PNR)]);
        let b = judge(&c, vec![chat(20, PNR), video(0)]);
        let ids = |v: &[Incident]| v.iter().map(|i| i.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&a), ids(&b));
        assert_eq!(a.len(), 2);
    }
}
