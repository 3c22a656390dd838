//! The routine rules: judge a meeting's observations and raise incidents.
//!
//! A rule looks at one meeting in time order ([`MeetingView`]) and proposes [`Candidate`]s. The
//! [`Judge`] then applies the active routine profiles: a rule fires only under a profile that
//! lists it, with the severity that profile gives (the highest wins when several are active),
//! and the incident cites that profile's routine and section.
//!
//! Because a rule sees the whole meeting, late evidence is handled by judging again: a
//! recording started at 10:00 is judged with the knowledge that a personnummer appeared in the
//! chat at 10:20, whatever order the events arrived in. Incident ids depend only on the rule
//! and the triggering event, so judging again gives the same ids.

mod catalog;
#[cfg(test)]
mod tests;

use jiff::Timestamp;
use sha2::{Digest, Sha256};

use crate::config::Config;
pub use crate::config::profile::Qualifiers;
use crate::detect::{Confidence, hex};
use crate::event::{Actor, Media};
use crate::incident::{Evidence, Incident, Routine, Severity};
use crate::meeting::MeetingView;
use crate::org::Classifier;

pub use catalog::{RULES, RuleDef};

/// What an incident's id is made of, besides the rule and the meeting. Ids must not change
/// when more of the same meeting arrives later, from another file or another export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdScope {
    /// The triggering event: its time, actor, type and ordinal.
    Event,
    /// The triggering event's time and type and the recording's media, not who reported it:
    /// one recording reported by two sources (Teams audit bot, Graph system message) is one
    /// incident whichever arrived first.
    Recording(Media),
    /// The meeting alone: one incident per meeting, whichever event triggered it.
    Meeting,
    /// The meeting and the triggering event's actor: one incident per participant, whichever
    /// of their events triggered it.
    Actor,
    /// The meeting id the triggering event was filed under (a Teams meeting's chat thread,
    /// for Graph chat) and its actor: one incident per participant and chat, whichever of
    /// their messages came first, and the same whether or not the alias was known.
    FiledActor,
}

/// What a rule proposes; the [`Judge`] decides severity and citation from the profiles.
#[derive(Debug)]
pub struct Candidate {
    pub rule: &'static str,
    /// Index of the triggering observation in the [`MeetingView`].
    pub index: usize,
    /// Conditions under which profiles give a higher severity.
    pub qualifiers: Qualifiers,
    /// What the incident's id is made of.
    pub id_scope: IdScope,
    /// Who is responsible, when not the triggering event's actor.
    pub actor: Option<Actor>,
    pub evidence: Evidence,
}

impl Candidate {
    fn new(rule: &'static str, index: usize, evidence: Evidence) -> Candidate {
        Candidate {
            rule,
            index,
            qualifiers: Qualifiers::default(),
            id_scope: IdScope::Event,
            actor: None,
            evidence,
        }
    }
}

/// What rules may consult besides the meeting.
pub struct RuleContext<'a> {
    pub config: &'a Config,
    pub classifier: &'a Classifier,
    pub min_confidence: Confidence,
    /// "Now" for rules about time passing: in a batch, the latest event time in the input.
    pub clock: Timestamp,
}

/// What judging a meeting gave.
#[derive(Debug, Default)]
pub struct Judgement {
    pub incidents: Vec<Incident>,
    /// Candidates not raised because an `[[exceptions]]` entry covers them.
    pub excepted: u64,
    /// When the verdict may change with the clock alone (a meeting not ended within its
    /// timeout): judge the meeting again once the clock is past this, even without new events.
    pub revisit_at: Option<Timestamp>,
}

/// Applies the rules and the routine profiles to meetings.
pub struct Judge<'a> {
    config: &'a Config,
    min_confidence: Confidence,
    /// The configuration's classifier, with the tenants learned from the store when
    /// `tenant_ids` is not set ([`Judge::learn_tenants`]).
    classifier: Classifier,
}

impl<'a> Judge<'a> {
    pub fn new(config: &'a Config, min_confidence: Confidence) -> Judge<'a> {
        Judge {
            config,
            min_confidence,
            classifier: config.classifier.clone(),
        }
    }

    /// Classifies Teams users known only by tenant with `learned` (the tenants the store's
    /// audit records name as their own), unless `tenant_ids` is configured (it wins) or
    /// `learn_tenant = false`.
    pub fn learn_tenants<S: AsRef<str>>(&mut self, learned: &[S]) {
        if self.config.sources.tenant_ids.is_empty() && self.config.learn_tenant {
            self.classifier = self.config.classifier.clone().with_tenants(learned);
        }
    }

    /// Every incident the meeting gives under its profiles, in time order. `clock` is "now"
    /// for rules about time passing (a meeting never ended).
    pub fn judge(&self, meeting: &MeetingView, clock: Timestamp) -> Judgement {
        let ctx = RuleContext {
            config: self.config,
            classifier: &self.classifier,
            min_confidence: self.min_confidence,
            clock,
        };
        let mut candidates = Vec::new();
        let mut out = Judgement::default();
        for rule in catalog::RULES {
            if self.config.rule_enabled(rule.id) {
                (rule.check)(meeting, &ctx, &mut candidates);
                if let Some(due) = rule.revisit {
                    out.revisit_at = out.revisit_at.into_iter().chain(due(meeting, &ctx)).min();
                }
            }
        }
        for c in candidates {
            let actor = c
                .actor
                .as_ref()
                .unwrap_or(&meeting.observations[c.index].event.actor);
            if self
                .config
                .exceptions
                .iter()
                .any(|e| e.covers(c.rule, &meeting.key.id, &actor.id))
            {
                out.excepted += 1;
                continue;
            }
            if let Some(incident) = self.incident(meeting, c) {
                out.incidents.push(incident);
            }
        }
        out.incidents
            .sort_by(|a, b| a.time.cmp(&b.time).then(a.rule.cmp(&b.rule)));
        out
    }

    fn incident(&self, meeting: &MeetingView, c: Candidate) -> Option<Incident> {
        let obs = &meeting.observations[c.index];
        let override_severity = self.config.rule_severity(c.rule);
        let override_platforms = self
            .config
            .rules
            .get(c.rule)
            .and_then(|r| r.approved_platforms.as_ref());
        let profiles = self.config.profiles_for(
            meeting.key.platform,
            meeting.organizer.as_ref().map(|o| o.id.as_str()),
        );
        // The highest severity any profile in force gives; the first profile wins a tie.
        let (profile, how, severity) = profiles
            .into_iter()
            .filter(|p| p.valid_at(obs.event.time))
            .filter_map(|p| {
                let how = p.rule(c.rule)?;
                if c.rule == "platform-not-approved" {
                    let approved = override_platforms.or(how.approved_platforms.as_ref())?;
                    if approved.contains(&meeting.key.platform) {
                        return None;
                    }
                }
                let mut severity = how.severity_for(c.qualifiers);
                if let Some(o) = override_severity
                    && severity != Severity::Info
                {
                    severity = o;
                }
                Some((p, how, severity))
            })
            .reduce(|best, next| if next.2 > best.2 { next } else { best })?;
        let mut actor = c.actor.unwrap_or_else(|| obs.event.actor.clone());
        actor.kind = Some(self.classifier.kind(&actor));
        actor.tenant = None;
        let mut incident = Incident {
            id: incident_id(c.rule, meeting, c.index, c.id_scope),
            rule: c.rule.to_string(),
            severity,
            platform: meeting.key.platform,
            meeting: meeting.key.id.clone(),
            time: obs.event.time,
            actor,
            profile: profile.id.clone(),
            routine: Routine {
                file: profile.routine.clone(),
                section: how.section.clone(),
                profile_file: profile.file.clone(),
            },
            summary: String::new(),
            evidence: c.evidence,
        };
        incident.summary = crate::i18n::summary(&incident, self.config.language);
        Some(incident)
    }
}

/// `rule` + platform + meeting + what [`IdScope`] says. For the event scopes, the meeting is
/// the one the triggering event was filed under by its source (a Teams meeting's chat thread,
/// for Graph chat): the id is then the same whether or not the alias that joins the two was
/// known when the incident was first raised, and the incident moves with the alias.
fn incident_id(rule: &str, meeting: &MeetingView, index: usize, scope: IdScope) -> String {
    let obs = &meeting.observations[index];
    let filed = match scope {
        IdScope::Meeting | IdScope::Actor => &meeting.key.id,
        IdScope::Event | IdScope::Recording(_) | IdScope::FiledActor => &obs.event.meeting,
    };
    let mut parts = vec![
        "motesvakt-incident-v1".to_string(),
        rule.to_string(),
        meeting.key.platform.as_str().to_string(),
        filed.clone(),
    ];
    match scope {
        IdScope::Event => parts.extend([
            obs.event.time.to_string(),
            obs.event.actor.id.clone(),
            obs.event.kind.type_name().to_string(),
            meeting.ordinals[index].to_string(),
        ]),
        IdScope::Recording(media) => parts.extend([
            obs.event.time.to_string(),
            obs.event.kind.type_name().to_string(),
            format!("{media:?}"),
        ]),
        IdScope::Actor | IdScope::FiledActor => parts.push(obs.event.actor.id.clone()),
        IdScope::Meeting => {}
    }
    let mut h = Sha256::new();
    for part in parts {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    hex(&h.finalize()[..8])
}
