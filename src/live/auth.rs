//! Authentication of pushes, over the raw request bytes, before anything is parsed:
//!
//! - Zoom: `x-zm-signature: v0=<hex HMAC-SHA256(secret, "v0:{x-zm-request-timestamp}:{body}")>`,
//!   the timestamp (Unix seconds) within `max_skew` of now; its `endpoint.url_validation`
//!   challenge is answered with `{"plainToken", "encryptedToken": hex HMAC-SHA256(secret,
//!   plainToken)}`.
//! - Webex: `X-Spark-Signature: <hex HMAC-SHA1(secret, body)>`.
//! - Pexip: HTTP Basic with the event sink's user and password.
//!
//! Every comparison is in constant time (the MACs' `verify_slice`; the Basic credentials
//! through a MAC of their own).

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;
type HmacSha1 = Hmac<Sha1>;

/// Why a push was refused (401). Never holds anything of the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("no {0} header")]
    Missing(&'static str),
    #[error("the signature does not match (wrong secret, or the body was changed)")]
    Signature,
    #[error("the request timestamp is not a number of seconds")]
    Timestamp,
    #[error("the request timestamp is too far from now (an old request replayed, or a clock off)")]
    Stale,
    #[error("wrong user or password")]
    Credentials,
}

fn hex(bytes: &[u8]) -> String {
    crate::detect::hex(bytes)
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    let t = text.trim().as_bytes();
    if !t.len().is_multiple_of(2) {
        return None;
    }
    t.chunks(2)
        .map(|p| {
            let d = |c: u8| (c as char).to_digit(16);
            Some((d(p[0])? * 16 + d(p[1])?) as u8)
        })
        .collect()
}

fn zoom_mac(secret: &[u8], timestamp: &str, body: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(b"v0:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    mac
}

/// Zoom's signature of `body` sent at `timestamp`: `v0=<hex>`.
pub fn zoom_signature(secret: &[u8], timestamp: &str, body: &[u8]) -> String {
    format!(
        "v0={}",
        hex(&zoom_mac(secret, timestamp, body).finalize().into_bytes())
    )
}

/// Checks a Zoom push: its signature and its timestamp (`now` in Unix seconds).
pub fn verify_zoom(
    secret: &[u8],
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: i64,
    max_skew: std::time::Duration,
) -> Result<(), Refused> {
    let ts = timestamp.ok_or(Refused::Missing("x-zm-request-timestamp"))?;
    let sig = signature.ok_or(Refused::Missing("x-zm-signature"))?;
    let tag = sig
        .trim()
        .strip_prefix("v0=")
        .and_then(unhex)
        .ok_or(Refused::Signature)?;
    zoom_mac(secret, ts, body)
        .verify_slice(&tag)
        .map_err(|_| Refused::Signature)?;
    // Checked after the signature, which covers it: a signed old request is a replay.
    let t: i64 = ts.trim().parse().map_err(|_| Refused::Timestamp)?;
    let skew = max_skew.as_secs().min(i64::MAX as u64) as i64;
    if t < 0 || (now - t).abs() > skew {
        return Err(Refused::Stale);
    }
    Ok(())
}

/// Zoom's answer to `endpoint.url_validation`: the JSON of `{plainToken, encryptedToken}`, when
/// `body` (already verified) is that challenge.
pub fn zoom_validation(secret: &[u8], body: &[u8]) -> Option<Vec<u8>> {
    #[derive(serde::Deserialize)]
    struct Challenge {
        event: String,
        payload: Payload,
    }
    #[derive(serde::Deserialize)]
    struct Payload {
        #[serde(rename = "plainToken")]
        plain_token: String,
    }
    let c: Challenge = serde_json::from_slice(body).ok()?;
    if c.event != "endpoint.url_validation" {
        return None;
    }
    Some(
        serde_json::to_vec(&serde_json::json!({
            "plainToken": c.payload.plain_token,
            "encryptedToken": zoom_encrypted_token(secret, &c.payload.plain_token),
        }))
        .expect("a JSON object serialises"),
    )
}

/// Hex HMAC-SHA256 of `plain_token` keyed with the secret token.
pub fn zoom_encrypted_token(secret: &[u8], plain_token: &str) -> String {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(plain_token.as_bytes());
    hex(&mac.finalize().into_bytes())
}

/// Webex's signature of `body`: hex HMAC-SHA1.
pub fn webex_signature(secret: &[u8], body: &[u8]) -> String {
    let mut mac = HmacSha1::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(body);
    hex(&mac.finalize().into_bytes())
}

/// Checks a Webex push's `X-Spark-Signature`.
pub fn verify_webex(secret: &[u8], signature: Option<&str>, body: &[u8]) -> Result<(), Refused> {
    let sig = signature.ok_or(Refused::Missing("x-spark-signature"))?;
    let tag = unhex(sig).ok_or(Refused::Signature)?;
    let mut mac = HmacSha1::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(body);
    mac.verify_slice(&tag).map_err(|_| Refused::Signature)
}

/// The expected HTTP Basic credentials, kept as a MAC so that they are compared in constant
/// time.
#[derive(Clone)]
pub struct Basic {
    tag: Vec<u8>,
}

const BASIC_KEY: &[u8] = b"motesvakt-basic-auth-compare-v1";

fn basic_mac(credentials: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(BASIC_KEY).expect("HMAC takes any key length");
    mac.update(credentials);
    mac
}

impl Basic {
    pub fn new(user: &str, password: &str) -> Basic {
        let creds = format!("{user}:{password}");
        Basic {
            tag: basic_mac(creds.as_bytes()).finalize().into_bytes().to_vec(),
        }
    }

    /// Checks an `Authorization` header.
    pub fn verify(&self, authorization: Option<&str>) -> Result<(), Refused> {
        use base64::Engine;
        let h = authorization.ok_or(Refused::Missing("authorization"))?;
        let (scheme, b64) = h.trim().split_once(' ').ok_or(Refused::Credentials)?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return Err(Refused::Credentials);
        }
        let creds = base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .map_err(|_| Refused::Credentials)?;
        basic_mac(&creds)
            .verify_slice(&self.tag)
            .map_err(|_| Refused::Credentials)
    }
}

impl std::fmt::Debug for Basic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Basic(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    // Test vectors from ../shared/research/next-capabilities.md §1.1 and §1.3, computed there
    // with Python's hmac from the documented algorithms.
    const SECRET: &[u8] = b"test_secret_token";
    const ZOOM_BODY: &[u8] = br#"{"event":"meeting.started","event_ts":1700000000000,"payload":{"account_id":"A","object":{"id":"1"}}}"#;

    #[test]
    fn zoom_vectors() {
        assert_eq!(
            zoom_encrypted_token(SECRET, "qgg8vlvZRS6UYooatFL8Aw"),
            "4efea922935c335d972476de138d2208a0d46ab28c79ee592d497a1b216419b8"
        );
        let sig = zoom_signature(SECRET, "1700000000", ZOOM_BODY);
        assert_eq!(
            sig,
            "v0=3c416b88fe54a3aa6e582db07166744ce633c92670773bd63c0ca6312d3e2d21"
        );
        let five = Duration::from_secs(300);
        let ok = |ts: Option<&str>, s: Option<&str>, body: &[u8], now| {
            verify_zoom(SECRET, ts, s, body, now, five)
        };
        assert_eq!(
            ok(Some("1700000000"), Some(&sig), ZOOM_BODY, 1700000100),
            Ok(())
        );
        assert_eq!(
            ok(Some("1700000000"), Some(&sig), ZOOM_BODY, 1700000400),
            Err(Refused::Stale)
        );
        assert_eq!(
            ok(Some("1700000001"), Some(&sig), ZOOM_BODY, 1700000000),
            Err(Refused::Signature),
            "the timestamp is signed"
        );
        assert_eq!(
            ok(Some("1700000000"), Some(&sig), b"{}", 1700000000),
            Err(Refused::Signature)
        );
        assert_eq!(
            ok(None, Some(&sig), ZOOM_BODY, 0),
            Err(Refused::Missing("x-zm-request-timestamp"))
        );
        assert_eq!(
            ok(Some("1"), None, ZOOM_BODY, 0),
            Err(Refused::Missing("x-zm-signature"))
        );
        assert_eq!(
            ok(Some("1700000000"), Some("v0=zz"), ZOOM_BODY, 0),
            Err(Refused::Signature)
        );
        let challenge =
            br#"{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1,"event":"endpoint.url_validation"}"#;
        let answer: serde_json::Value =
            serde_json::from_slice(&zoom_validation(SECRET, challenge).unwrap()).unwrap();
        assert_eq!(answer["plainToken"], "qgg8vlvZRS6UYooatFL8Aw");
        assert_eq!(
            answer["encryptedToken"],
            "4efea922935c335d972476de138d2208a0d46ab28c79ee592d497a1b216419b8"
        );
        assert_eq!(zoom_validation(SECRET, ZOOM_BODY), None);
    }

    #[test]
    fn webex_vector() {
        let body = br#"{"id":"W1","resource":"meetingParticipants","event":"joined","data":{"id":"P1","meetingId":"M1_I1","hostEmail":"host@example.org"}}"#;
        let sig = "e00df8512b1498af93f5a8477e7db42b87d5d905";
        assert_eq!(webex_signature(SECRET, body), sig);
        assert_eq!(verify_webex(SECRET, Some(sig), body), Ok(()));
        assert_eq!(
            verify_webex(SECRET, Some(&sig.to_uppercase()), body),
            Ok(())
        );
        assert_eq!(
            verify_webex(b"other", Some(sig), body),
            Err(Refused::Signature)
        );
        assert_eq!(
            verify_webex(SECRET, None, body),
            Err(Refused::Missing("x-spark-signature"))
        );
    }

    #[test]
    fn basic_credentials() {
        let b = Basic::new("pexip", "hemligt");
        // "pexip:hemligt"
        assert_eq!(b.verify(Some("Basic cGV4aXA6aGVtbGlndA==")), Ok(()));
        assert_eq!(b.verify(Some("basic cGV4aXA6aGVtbGlndA==")), Ok(()));
        assert_eq!(
            b.verify(Some("Basic cGV4aXA6ZmVs")),
            Err(Refused::Credentials)
        );
        assert_eq!(b.verify(Some("Bearer x")), Err(Refused::Credentials));
        assert_eq!(b.verify(Some("Basic !!")), Err(Refused::Credentials));
        assert_eq!(b.verify(None), Err(Refused::Missing("authorization")));
        assert_eq!(format!("{b:?}"), "Basic(…)");
    }
}
