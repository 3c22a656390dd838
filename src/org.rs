//! Who belongs to the organisation: the configured internal domains decide for actors whose
//! source did not say.

use crate::event::{Actor, ActorKind};

/// True when `domain` is `parent` or a subdomain of it (both lower case).
pub fn domain_in(domain: &str, parent: &str) -> bool {
    domain == parent
        || (domain.len() > parent.len()
            && domain.ends_with(parent)
            && domain.as_bytes()[domain.len() - parent.len() - 1] == b'.')
}

/// [`domain_in`] with `domain` in any case (`parent` is lower case).
fn domain_in_ignoring_case(domain: &str, parent: &str) -> bool {
    let (d, p) = (domain.as_bytes(), parent.as_bytes());
    d.len() >= p.len()
        && d[d.len() - p.len()..].eq_ignore_ascii_case(p)
        && (d.len() == p.len() || d[d.len() - p.len() - 1] == b'.')
}

/// Decides whether an actor is inside the organisation.
#[derive(Debug, Clone, Default)]
pub struct Classifier {
    domains: Vec<String>,
}

impl Classifier {
    pub fn new(domains: &[&str]) -> Classifier {
        Classifier::from_domains(domains.iter().map(|d| d.to_string()).collect())
    }

    /// From the configured domains, in any case.
    pub fn from_domains(domains: Vec<String>) -> Classifier {
        Classifier {
            domains: domains.iter().map(|d| d.to_ascii_lowercase()).collect(),
        }
    }

    /// True when no internal domain is configured, so every actor without an explicit kind
    /// counts as external.
    pub fn is_empty(&self) -> bool {
        self.domains.is_empty()
    }

    /// The actor's kind: the explicit one if the event gave it; a guest for Teams guest UPNs
    /// (`#EXT#`); internal when the domain of its id is an internal domain or a subdomain of
    /// one; external otherwise.
    pub fn kind(&self, actor: &Actor) -> ActorKind {
        if let Some(kind) = actor.kind {
            return kind;
        }
        let id = actor.id.trim();
        if memchr::memchr(b'#', id.as_bytes()).is_some()
            && id
                .as_bytes()
                .windows(5)
                .any(|w| w.eq_ignore_ascii_case(b"#ext#"))
        {
            return ActorKind::Guest;
        }
        let Some((_, domain)) = id.rsplit_once('@') else {
            return ActorKind::External;
        };
        let domain = domain.trim_end_matches('.');
        let internal = self
            .domains
            .iter()
            .any(|d| domain_in_ignoring_case(domain, d));
        if internal {
            ActorKind::Internal
        } else {
            ActorKind::External
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifier_uses_explicit_kind_then_domain() {
        let c = Classifier::new(&["region.se"]);
        let kind = |id: &str| c.kind(&Actor::new(id));
        assert_eq!(kind("anna@region.se"), ActorKind::Internal);
        assert_eq!(kind("Anna@Vard.Region.SE"), ActorKind::Internal);
        assert_eq!(kind("eve@notregion.se"), ActorKind::External);
        assert_eq!(kind("eve@region.se.evil.com"), ActorKind::External);
        assert_eq!(kind("participant-42"), ActorKind::External);
        assert_eq!(kind("eve_gmail.com#EXT#@region.se"), ActorKind::Guest);
        let mut explicit = Actor::new("bob@region.se");
        explicit.kind = Some(ActorKind::Phone);
        assert_eq!(c.kind(&explicit), ActorKind::Phone);
    }
}
