//! A webhook for chat tools and SOAR: each incident that is news (new or raised) is POSTed as
//! JSON, signed the Standard Webhooks way (`webhook-id`, `webhook-timestamp`,
//! `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`). The id is the
//! outbox row's, the same on every retry; the timestamp is the attempt's.
//!
//! HTTP/1.1 with `hyper` over `tokio-rustls` (the system's certificates, as for SMTP, plus an
//! optional `ca_file`); plain `http://` only to this machine. 2xx is delivered; 429, 5xx, a
//! timeout or a connection that fails is tried again; any other answer (3xx, 4xx) is permanent.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{KeyInit, Mac};
use http_body_util::Full;
use hyper::body::Bytes;
use serde::Deserialize;

use super::smtp::{Failure, SendError};
use crate::incident::Severity;

/// `[webhook]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWebhook {
    pub url: String,
    pub secret_file: PathBuf,
    pub min_severity: Option<String>,
    pub timeout: Option<String>,
    pub ca_file: Option<PathBuf>,
}

/// `[webhook]`, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookSettings {
    pub url: String,
    pub secret_file: PathBuf,
    pub min_severity: Severity,
    pub timeout: Duration,
    pub ca_file: Option<PathBuf>,
}

/// Where the POST goes, from the url.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    tls: bool,
    host: String,
    port: u16,
    /// Path and query, `/` when the url has none.
    path: String,
}

fn target(url: &str) -> Result<Target, String> {
    let uri: hyper::Uri = url
        .parse()
        .map_err(|_| "not a url like https://host/path".to_string())?;
    let tls = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => return Err("expected an https:// url".into()),
    };
    let host = uri
        .host()
        .ok_or_else(|| "the url has no host".to_string())?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    if !tls && !is_loopback(&host) {
        return Err(
            "alerts are never sent in plain text over the network: use https:// (http:// only to this machine)"
                .into(),
        );
    }
    if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
        return Err("the url must not hold a user or password".into());
    }
    Ok(Target {
        tls,
        port: uri.port_u16().unwrap_or(if tls { 443 } else { 80 }),
        path: uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| "/".into()),
        host,
    })
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl WebhookSettings {
    /// Checks `[webhook]`; `default_min` is `[alerts] min_severity`.
    pub fn from_raw<E>(
        raw: Option<RawWebhook>,
        default_min: Severity,
        invalid: &dyn Fn(&str, String) -> E,
    ) -> Result<Option<WebhookSettings>, E> {
        let Some(w) = raw else {
            return Ok(None);
        };
        target(&w.url).map_err(|m| invalid("webhook.url", m))?;
        let min_severity = super::severity_setting(
            "webhook.min_severity",
            &w.min_severity,
            default_min,
            invalid,
        )?;
        let timeout = super::duration_setting(
            "webhook.timeout",
            &w.timeout,
            Duration::from_secs(15),
            invalid,
        )?;
        if timeout.is_zero() {
            return Err(invalid("webhook.timeout", "must be more than 0s".into()));
        }
        Ok(Some(WebhookSettings {
            url: w.url,
            secret_file: w.secret_file,
            min_severity,
            timeout,
            ca_file: w.ca_file,
        }))
    }
}

/// The key of a Standard Webhooks secret: `whsec_` and base64 (the prefix may be left out, as
/// the reference implementation allows), at least 24 bytes.
pub fn secret_key(secret: &str) -> Result<Vec<u8>, String> {
    let b64 = secret.trim();
    let b64 = b64.strip_prefix("whsec_").unwrap_or(b64);
    let key = B64
        .decode(b64)
        .map_err(|_| "the secret is not whsec_ followed by base64".to_string())?;
    if key.len() < 24 {
        return Err(format!(
            "the secret is {} bytes; Standard Webhooks asks for 24 to 64 random bytes",
            key.len()
        ));
    }
    Ok(key)
}

/// The `webhook-signature` value: `v1,` and the base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`.
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", B64.encode(mac.finalize().into_bytes()))
}

/// The configured webhook, ready to POST.
pub struct Webhook {
    target: Target,
    key: Vec<u8>,
    timeout: Duration,
    tls: Option<tokio_rustls::TlsConnector>,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("Webhook")
            .field("host", &self.target.host)
            .field("port", &self.target.port)
            .finish_non_exhaustive()
    }
}

impl Webhook {
    /// Reads the secret (a relative `secret_file` from `$CREDENTIALS_DIRECTORY` when systemd
    /// passed it as a credential) and sets up TLS.
    pub fn new(s: &WebhookSettings) -> Result<Webhook, SendError> {
        let setup = |m: String| SendError::Setup(format!("[webhook]: {m}"));
        let target = target(&s.url).map_err(setup)?;
        let file = super::smtp::credential_path(&s.secret_file);
        let secret = std::fs::read_to_string(&file)
            .map_err(|e| setup(format!("secret_file {}: {e}", file.display())))?;
        let key = secret_key(&secret)
            .map_err(|m| setup(format!("secret_file {}: {m}", file.display())))?;
        let tls = if target.tls {
            Some(tls_connector(s.ca_file.as_deref()).map_err(setup)?)
        } else {
            None
        };
        Ok(Webhook {
            target,
            key,
            timeout: s.timeout,
            tls,
        })
    }

    /// POSTs `body` with the Standard Webhooks headers; `id` is the same on every retry.
    pub async fn post(&self, id: &str, body: &[u8]) -> Result<(), Failure> {
        let timestamp = jiff::Timestamp::now().as_second();
        let signature = sign(&self.key, id, timestamp, body);
        let t = &self.target;
        let authority = if t.host.contains(':') {
            format!("[{}]:{}", t.host, t.port)
        } else {
            format!("{}:{}", t.host, t.port)
        };
        let request = hyper::Request::post(t.path.as_str())
            .header(hyper::header::HOST, authority)
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .header(hyper::header::USER_AGENT, "motesvakt")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(Full::new(Bytes::copy_from_slice(body)))
            .map_err(|_| Failure {
                message: "the request cannot be built".into(),
                permanent: true,
            })?;
        let attempt = async {
            let tcp = tokio::net::TcpStream::connect((t.host.as_str(), t.port))
                .await
                .map_err(|e| temporary(format!("cannot connect: {e}")))?;
            match &self.tls {
                None => send(tcp, request).await,
                Some(tls) => {
                    let name = rustls::pki_types::ServerName::try_from(t.host.clone())
                        .map_err(|_| permanent("the url's host is not a valid name".into()))?;
                    let stream = tls
                        .connect(name, tcp)
                        .await
                        .map_err(|e| temporary(format!("TLS: {e}")))?;
                    send(stream, request).await
                }
            }
        };
        let status = tokio::time::timeout(self.timeout, attempt)
            .await
            .map_err(|_| {
                temporary(format!("no answer within {} s", self.timeout.as_secs_f64()))
            })??;
        classify(status)
    }
}

fn temporary(message: String) -> Failure {
    Failure {
        message: crate::report::shown(&message),
        permanent: false,
    }
}

fn permanent(message: String) -> Failure {
    Failure {
        message: crate::report::shown(&message),
        permanent: true,
    }
}

/// What an HTTP status means for the alert.
pub fn classify(status: u16) -> Result<(), Failure> {
    match status {
        200..=299 => Ok(()),
        429 | 500..=599 => Err(temporary(format!("the webhook answered HTTP {status}"))),
        300..=399 => Err(permanent(format!(
            "the webhook answered HTTP {status} (a redirect): set [webhook] url to the address it moved to"
        ))),
        _ => Err(permanent(format!(
            "the webhook answered HTTP {status}: refused, not tried again"
        ))),
    }
}

/// One request on a new HTTP/1.1 connection; the answer's status.
async fn send<IO>(io: IO, request: hyper::Request<Full<Bytes>>) -> Result<u16, Failure>
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(io))
            .await
            .map_err(|e| temporary(format!("HTTP: {e}")))?;
    let conn = tokio::spawn(conn);
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| temporary(format!("HTTP: {e}")));
    conn.abort();
    Ok(response?.status().as_u16())
}

/// TLS with the system's certificates (and `ca_file`'s), ring as the provider, as for SMTP.
fn tls_connector(ca_file: Option<&std::path::Path>) -> Result<tokio_rustls::TlsConnector, String> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut extra: Vec<CertificateDer<'static>> = Vec::new();
    if let Some(ca) = ca_file {
        let certs = CertificateDer::pem_file_iter(ca)
            .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            .map_err(|e| format!("ca_file {}: {e}", ca.display()))?;
        if certs.is_empty() {
            return Err(format!("ca_file {}: no certificate in it", ca.display()));
        }
        extra = certs;
    }
    let verifier = if extra.is_empty() {
        rustls_platform_verifier::Verifier::new(provider.clone())
    } else {
        rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider.clone())
    }
    .map_err(|e| format!("TLS: {e}"))?;
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test vector of the Standard Webhooks reference libraries (the same secret, id,
    /// timestamp and payload give this signature in each of them).
    #[test]
    fn signing_matches_the_standard_webhooks_test_vector() {
        let key = secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            sign(
                &key,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265330,
                br#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        // The prefix may be left out; another body, id or time gives another signature.
        let bare = secret_key("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(bare, key);
        let base = sign(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b"{}");
        assert_ne!(base, sign(&key, "msg_other", 1614265330, b"{}"));
        assert_ne!(
            base,
            sign(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331, b"{}")
        );
    }

    #[test]
    fn a_weak_or_garbled_secret_is_refused_without_echoing_it() {
        let e = secret_key("whsec_c2hvcnQ=").unwrap_err();
        assert!(e.contains("5 bytes") && !e.contains("c2hvcnQ"), "{e}");
        let e = secret_key("whsec_not base64!").unwrap_err();
        assert!(!e.contains("not base64!"), "{e}");
    }

    #[test]
    fn urls_https_or_plain_to_this_machine_only() {
        let t = target("https://soar.region.se/hooks/motesvakt?x=1").unwrap();
        assert_eq!(
            t,
            Target {
                tls: true,
                host: "soar.region.se".into(),
                port: 443,
                path: "/hooks/motesvakt?x=1".into()
            }
        );
        let t = target("http://127.0.0.1:8080").unwrap();
        assert_eq!((t.tls, t.port, t.path.as_str()), (false, 8080, "/"));
        assert!(target("http://[::1]:9/x").is_ok());
        assert!(target("http://soar.region.se/x").is_err());
        assert!(target("ftp://soar.region.se/x").is_err());
        assert!(target("https://user:pw@soar.region.se/x").is_err());
        assert!(target("not a url").is_err());
    }

    #[test]
    fn statuses_retried_or_permanent() {
        assert!(classify(200).is_ok() && classify(204).is_ok());
        for s in [429, 500, 502, 503, 504] {
            assert!(!classify(s).unwrap_err().permanent, "{s}");
        }
        for s in [301, 400, 401, 404, 410, 413] {
            assert!(classify(s).unwrap_err().permanent, "{s}");
        }
    }
}
