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
    /// The organisation's Microsoft 365 tenants, lower case: the configured `tenant_ids`, else
    /// those learned from the store's Teams audit records ([`Classifier::with_tenants`]).
    tenants: Vec<String>,
}

impl Classifier {
    pub fn new(domains: &[&str]) -> Classifier {
        Classifier::from_domains(domains.iter().map(|d| d.to_string()).collect())
    }

    /// From the configured domains, in any case.
    pub fn from_domains(domains: Vec<String>) -> Classifier {
        Classifier {
            domains: domains.iter().map(|d| d.to_ascii_lowercase()).collect(),
            tenants: Vec::new(),
        }
    }

    /// This classifier with `tenants` as the organisation's tenants (in any case, replacing
    /// those it had): an actor the source named only by its tenant ([`Actor::tenant`]) is
    /// internal when its tenant is one of them.
    pub fn with_tenants<S: AsRef<str>>(mut self, tenants: &[S]) -> Classifier {
        self.tenants = tenants
            .iter()
            .map(|t| t.as_ref().trim().to_ascii_lowercase())
            .filter(|t| !t.is_empty())
            .collect();
        self.tenants.sort();
        self.tenants.dedup();
        self
    }

    /// True when an organisation tenant is known (configured or learned).
    pub fn has_tenants(&self) -> bool {
        !self.tenants.is_empty()
    }

    /// True when no internal domain is configured, so every actor without an explicit kind
    /// counts as external.
    pub fn is_empty(&self) -> bool {
        self.domains.is_empty()
    }

    /// The actor's kind: the explicit one if the event gave it; a guest for Teams guest UPNs
    /// (`#EXT#`); internal when its tenant is one of the organisation's, or when the domain of
    /// its id is an internal domain or a subdomain of one; external otherwise.
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
        if let Some(t) = &actor.tenant
            && self
                .tenants
                .iter()
                .any(|o| o.as_bytes().eq_ignore_ascii_case(t.trim().as_bytes()))
        {
            return ActorKind::Internal;
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

    #[test]
    fn a_tenant_of_the_organisation_makes_an_actor_internal() {
        let own = "7C9A0F31-0000-4000-8000-00000000000A";
        let other = "11111111-2222-4333-8444-555555555555";
        let c = Classifier::new(&["region.se"]).with_tenants(&[own]);
        assert!(c.has_tenants());
        let in_tenant = |id: &str, t: &str| Actor {
            tenant: Some(t.into()),
            ..Actor::new(id)
        };
        assert_eq!(
            c.kind(&in_tenant("b2c1f0e4", &own.to_lowercase())),
            ActorKind::Internal
        );
        assert_eq!(c.kind(&in_tenant("b2c1f0e4", other)), ActorKind::External);
        // The domain still decides when the tenant is another's.
        assert_eq!(
            c.kind(&in_tenant("anna@region.se", other)),
            ActorKind::Internal
        );
        // An explicit kind and a guest UPN win over the tenant.
        let mut anonymous = in_tenant("x", own);
        anonymous.kind = Some(ActorKind::Anonymous);
        assert_eq!(c.kind(&anonymous), ActorKind::Anonymous);
        assert_eq!(
            c.kind(&in_tenant("eve_gmail.com#EXT#@region.se", own)),
            ActorKind::Guest
        );
        // Without tenants, a tenant alone classifies nothing.
        let none = Classifier::new(&["region.se"]);
        assert!(!none.has_tenants());
        assert_eq!(none.kind(&in_tenant("b2c1f0e4", own)), ActorKind::External);
    }
}
