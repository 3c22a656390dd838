//! Live feeds: the service's HTTP(S) receiver of Zoom and Webex webhooks and of Pexip's event
//! sink (`[listen]`).
//!
//! ```text
//! POST /zoom|/webex|/pexip ──▶ limits (connections, rate per address, size, timeouts)
//!      ──▶ authentication over the raw bytes (401, logged without the body)
//!      ──▶ bounded queue ──▶ inbox writer: one transaction per group of bodies, INSERT …
//!          ON CONFLICT (source, key) DO NOTHING, synchronous = FULL ──▶ 200
//!      ──▶ the ingest loop is woken and reads the inbox like a file, with the same adapters
//! ```
//!
//! The receiver runs on a tokio runtime of its own thread, the inbox writer on another thread
//! with its own connection to the database; the queue between them is bounded, so a flood
//! is answered 503 (the platforms retry) instead of growing memory, and neither the ingest
//! of files nor the alert sender waits for it. A body is answered 2xx only once committed,
//! so a crash loses nothing that was acknowledged; a crash before the answer gets a
//! redelivery, which the inbox's unique key absorbs.

pub mod auth;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::sync::{mpsc, oneshot};
use tracing::{error, info, warn};

use crate::config::listen::ListenSettings;
use crate::sources::RecordKey;
use crate::store::Store;

/// How long one connection may be kept alive before it is asked to close (a client that
/// holds a connection forever would hold a slot forever).
const MAX_CONNECTION_LIFE: Duration = Duration::from_secs(300);

/// Bodies written in one inbox transaction, at most.
const WRITE_GROUP: usize = 256;

/// Rate-limit entries kept before idle ones are forgotten.
const MAX_ADDRESSES: usize = 10_000;

/// Why the receiver could not start.
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    #[error("[listen] {which}: cannot read {path}: {source}")]
    Secret {
        which: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("[listen] {which}: {path} is empty")]
    EmptySecret { which: &'static str, path: PathBuf },
    #[error("[listen] TLS: {0}")]
    Tls(String),
    #[error("[listen] cannot listen on {address}: {source}")]
    Bind {
        address: SocketAddr,
        source: std::io::Error,
    },
    #[error("[listen] {0}")]
    Start(String),
}

/// A feed's source, as named in the inbox, the adapters and `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    Zoom,
    Webex,
    Pexip,
}

impl Source {
    pub fn name(self) -> &'static str {
        match self {
            Source::Zoom => "zoom",
            Source::Webex => "webex",
            Source::Pexip => "pexip",
        }
    }

    fn from_path(path: &str) -> Option<Source> {
        match path.trim_end_matches('/') {
            "/zoom" => Some(Source::Zoom),
            "/webex" => Some(Source::Webex),
            "/pexip" => Some(Source::Pexip),
            _ => None,
        }
    }
}

/// The secrets the endpoints check.
struct Secrets {
    zoom: Option<(Vec<u8>, Duration)>,
    webex: Option<Vec<u8>>,
    pexip: Option<auth::Basic>,
}

/// A secret file's content without its line end. A relative name is looked for in systemd's
/// `$CREDENTIALS_DIRECTORY` first.
fn read_secret(which: &'static str, file: &Path) -> Result<Vec<u8>, ListenError> {
    let path = crate::alert::smtp::credential_path(file);
    let mut s = std::fs::read(&path).map_err(|source| ListenError::Secret {
        which,
        path: path.clone(),
        source,
    })?;
    while s.last().is_some_and(|b| matches!(b, b'\n' | b'\r')) {
        s.pop();
    }
    if s.is_empty() {
        return Err(ListenError::EmptySecret { which, path });
    }
    Ok(s)
}

fn secrets(s: &ListenSettings) -> Result<Secrets, ListenError> {
    Ok(Secrets {
        zoom: s
            .zoom
            .as_ref()
            .map(|f| Ok::<_, ListenError>((read_secret("zoom", &f.secret_file)?, f.max_skew)))
            .transpose()?,
        webex: s
            .webex
            .as_ref()
            .map(|f| read_secret("webex", &f.secret_file))
            .transpose()?,
        pexip: s
            .pexip
            .as_ref()
            .map(|f| {
                let p = read_secret("pexip", &f.secret_file)?;
                let p = String::from_utf8(p).map_err(|_| ListenError::Secret {
                    which: "pexip",
                    path: f.secret_file.clone(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        "the password is not UTF-8 text",
                    ),
                })?;
                Ok::<_, ListenError>(auth::Basic::new(&f.user, &p))
            })
            .transpose()?,
    })
}

fn tls_acceptor(cert: &Path, key: &Path) -> Result<tokio_rustls::TlsAcceptor, ListenError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|i| i.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            ListenError::Tls(format!(
                "cannot read the certificates in {}: {e}",
                cert.display()
            ))
        })?;
    if certs.is_empty() {
        return Err(ListenError::Tls(format!(
            "{} holds no PEM certificate",
            cert.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| ListenError::Tls(format!("cannot read the key in {}: {e}", key.display())))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ListenError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            ListenError::Tls(format!("the certificate and key do not go together: {e}"))
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// One verified body on its way to the inbox.
struct Job {
    source: Source,
    body: Bytes,
    received_us: i64,
    done: oneshot::Sender<Result<bool, ()>>,
}

/// Counters of the receiver since it started (for the log).
#[derive(Default)]
struct Counters {
    refused: AtomicU64,
    limited: AtomicU64,
    busy: AtomicU64,
}

struct Shared {
    settings: ListenSettings,
    secrets: Secrets,
    queue: mpsc::Sender<Job>,
    rates: Mutex<HashMap<IpAddr, (f64, Instant)>>,
    counters: Counters,
    /// When a refusal was last logged, so that a flood of bad requests is one line a second.
    last_logged: Mutex<Option<Instant>>,
}

/// The running receiver; dropped or [`Listener::stop`]ped, it stops taking requests and the
/// inbox writer finishes what was queued.
pub struct Listener {
    pub address: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    server: Option<std::thread::JoinHandle<()>>,
    writer: Option<std::thread::JoinHandle<()>>,
}

impl Listener {
    /// Starts listening as `settings` say, writing into the database `db` (already created
    /// and migrated); `wake` is called after each inbox commit that stored something new.
    pub fn start(
        settings: &ListenSettings,
        db: &Path,
        wake: Box<dyn Fn() + Send>,
    ) -> Result<Listener, ListenError> {
        let secrets = secrets(settings)?;
        let tls = settings
            .tls
            .as_ref()
            .map(|(c, k)| tls_acceptor(c, k))
            .transpose()?;
        let std_listener =
            std::net::TcpListener::bind(settings.address).map_err(|source| ListenError::Bind {
                address: settings.address,
                source,
            })?;
        let address = std_listener
            .local_addr()
            .map_err(|e| ListenError::Start(e.to_string()))?;
        std_listener
            .set_nonblocking(true)
            .map_err(|e| ListenError::Start(e.to_string()))?;
        let store = Store::open_inbox_writer(db).map_err(|e| ListenError::Start(e.to_string()))?;
        let (queue, rx) = mpsc::channel(settings.queue as usize);
        let writer = std::thread::Builder::new()
            .name("inbox-writer".into())
            .spawn(move || write_inbox(store, rx, wake))
            .map_err(|e| ListenError::Start(e.to_string()))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| ListenError::Start(e.to_string()))?;
        let shared = Arc::new(Shared {
            settings: settings.clone(),
            secrets,
            queue,
            rates: Mutex::new(HashMap::new()),
            counters: Counters::default(),
            last_logged: Mutex::new(None),
        });
        let (stop_tx, stop_rx) = oneshot::channel();
        let server = std::thread::Builder::new()
            .name("listen".into())
            .spawn(move || {
                let result = runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(std_listener)?;
                    serve(listener, shared, tls, stop_rx).await;
                    Ok::<_, std::io::Error>(())
                });
                if let Err(e) = result {
                    error!("[listen] the receiver stopped: {e}");
                }
                runtime.shutdown_timeout(Duration::from_secs(2));
            })
            .map_err(|e| ListenError::Start(e.to_string()))?;
        let feeds: Vec<&str> = settings.feeds().map(|(n, _)| n).collect();
        info!(
            "listening on {address} ({}) for {}",
            if settings.tls.is_some() {
                "HTTPS"
            } else {
                "plain HTTP, this machine only"
            },
            feeds
                .iter()
                .map(|n| format!("/{n}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        Ok(Listener {
            address,
            stop: Some(stop_tx),
            server: Some(server),
            writer: Some(writer),
        })
    }

    /// Stops taking requests; what was queued is written.
    pub fn stop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(h) = self.server.take() {
            let _ = h.join();
        }
        if let Some(h) = self.writer.take() {
            let _ = h.join();
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn serve(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    mut stop: oneshot::Receiver<()>,
) {
    let slots = Arc::new(tokio::sync::Semaphore::new(
        shared.settings.max_connections as usize,
    ));
    loop {
        // A slot first: when all are taken, new connections wait in the kernel's backlog.
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => return,
            },
            _ = &mut stop => return,
        };
        let (tcp, peer) = tokio::select! {
            a = listener.accept() => match a {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors, say: wait a little rather than spin.
                    warn!("[listen] cannot accept a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut stop => return,
        };
        let _ = tcp.set_nodelay(true);
        let shared = shared.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let timeout = shared.settings.timeout;
            match tls {
                Some(acceptor) => match tokio::time::timeout(timeout, acceptor.accept(tcp)).await {
                    Ok(Ok(stream)) => connection(TokioIo::new(stream), peer, shared).await,
                    Ok(Err(e)) => tracing::debug!("[listen] TLS handshake failed: {e}"),
                    Err(_) => tracing::debug!("[listen] TLS handshake timed out"),
                },
                None => connection(TokioIo::new(tcp), peer, shared).await,
            }
            drop(permit);
        });
    }
}

async fn connection<I>(io: I, peer: SocketAddr, shared: Arc<Shared>)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let timeout = shared.settings.timeout;
    let svc = hyper::service::service_fn(move |req| {
        let shared = shared.clone();
        async move { Ok::<_, std::convert::Infallible>(handle(req, peer.ip(), &shared).await) }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(timeout)
        .max_buf_size(64 * 1024)
        .serve_connection(io, svc);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = tokio::time::sleep(MAX_CONNECTION_LIFE) => {
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(timeout, conn).await;
        }
    }
}

fn answer(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *r.status_mut() = status;
    if !body.is_empty() {
        r.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
        );
    }
    r
}

fn retry_later(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut r = answer(status, body);
    r.headers_mut().insert(
        hyper::header::RETRY_AFTER,
        hyper::header::HeaderValue::from_static("1"),
    );
    r
}

impl Shared {
    /// Whether `ip` may send one more request now (a token bucket per address).
    fn allow(&self, ip: IpAddr) -> bool {
        let rate = f64::from(self.settings.rate_per_second);
        let burst = f64::from(self.settings.rate_burst);
        let now = Instant::now();
        let mut rates = self.rates.lock().unwrap_or_else(|p| p.into_inner());
        if rates.len() >= MAX_ADDRESSES && !rates.contains_key(&ip) {
            // Forget the addresses whose buckets are full again: they cost nothing to remake.
            rates.retain(|_, (tokens, at)| {
                *tokens + now.duration_since(*at).as_secs_f64() * rate < burst
            });
            if rates.len() >= MAX_ADDRESSES {
                return false;
            }
        }
        let (tokens, at) = rates.entry(ip).or_insert((burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * rate).min(burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Logs a refusal, at most one line a second (the others are counted in the next one).
    fn log_refused(&self, source: Source, ip: IpAddr, why: &dyn std::fmt::Display) {
        let n = self.counters.refused.fetch_add(1, Ordering::Relaxed) + 1;
        let mut last = self.last_logged.lock().unwrap_or_else(|p| p.into_inner());
        if last.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
            *last = Some(Instant::now());
            warn!(
                "[listen] /{}: refused a request from {ip} (401): {why}; {n} refused since the start",
                source.name()
            );
        }
    }
}

fn header<'a>(req: &'a Request<Incoming>, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

async fn handle(req: Request<Incoming>, ip: IpAddr, shared: &Shared) -> Response<Full<Bytes>> {
    let Some(source) = Source::from_path(req.uri().path()) else {
        return answer(StatusCode::NOT_FOUND, "no such endpoint\n");
    };
    let enabled = match source {
        Source::Zoom => shared.secrets.zoom.is_some(),
        Source::Webex => shared.secrets.webex.is_some(),
        Source::Pexip => shared.secrets.pexip.is_some(),
    };
    if !enabled {
        return answer(StatusCode::NOT_FOUND, "no such endpoint\n");
    }
    if req.method() != hyper::Method::POST {
        let mut r = answer(StatusCode::METHOD_NOT_ALLOWED, "POST only\n");
        r.headers_mut().insert(
            hyper::header::ALLOW,
            hyper::header::HeaderValue::from_static("POST"),
        );
        return r;
    }
    if !shared.allow(ip) {
        let n = shared.counters.limited.fetch_add(1, Ordering::Relaxed);
        if n.is_power_of_two() {
            warn!(
                "[listen] /{}: too many requests from {ip} (429; {} so far)",
                source.name(),
                n + 1
            );
        }
        return retry_later(StatusCode::TOO_MANY_REQUESTS, "too many requests\n");
    }
    let max = shared.settings.max_body_bytes;
    let declared = header(&req, "content-length").and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > max) {
        return answer(StatusCode::PAYLOAD_TOO_LARGE, "body too large\n");
    }
    // Pexip's credentials are in the head: checked before the body is read.
    if let Some(basic) = shared
        .secrets
        .pexip
        .as_ref()
        .filter(|_| source == Source::Pexip)
        && let Err(why) = basic.verify(header(&req, "authorization"))
    {
        shared.log_refused(source, ip, &why);
        let mut r = answer(StatusCode::UNAUTHORIZED, "unauthorized\n");
        r.headers_mut().insert(
            hyper::header::WWW_AUTHENTICATE,
            hyper::header::HeaderValue::from_static("Basic realm=\"motesvakt\""),
        );
        return r;
    }
    let (head, body) = req.into_parts();
    let limited = Limited::new(body, max as usize);
    let body = match tokio::time::timeout(shared.settings.timeout, limited.collect()).await {
        Err(_) => return answer(StatusCode::REQUEST_TIMEOUT, "body too slow\n"),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
            return answer(StatusCode::PAYLOAD_TOO_LARGE, "body too large\n");
        }
        Ok(Err(_)) => return answer(StatusCode::BAD_REQUEST, "body not read\n"),
        Ok(Ok(b)) => b.to_bytes(),
    };
    let h = |name: &str| head.headers.get(name).and_then(|v| v.to_str().ok());
    let now = jiff::Timestamp::now();
    let verified = match source {
        Source::Zoom => {
            let (secret, skew) = shared.secrets.zoom.as_ref().expect("enabled");
            auth::verify_zoom(
                secret,
                h("x-zm-request-timestamp"),
                h("x-zm-signature"),
                &body,
                now.as_second(),
                *skew,
            )
        }
        Source::Webex => {
            let secret = shared.secrets.webex.as_ref().expect("enabled");
            auth::verify_webex(secret, h("x-spark-signature"), &body)
        }
        Source::Pexip => Ok(()),
    };
    if let Err(why) = verified {
        shared.log_refused(source, ip, &why);
        return answer(StatusCode::UNAUTHORIZED, "unauthorized\n");
    }
    if source == Source::Zoom {
        let (secret, _) = shared.secrets.zoom.as_ref().expect("enabled");
        if let Some(json) = auth::zoom_validation(secret, &body) {
            info!("[listen] /zoom: answered Zoom's URL validation");
            let mut r = Response::new(Full::new(Bytes::from(json)));
            r.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_static("application/json"),
            );
            return r;
        }
    }
    let (done, written) = oneshot::channel();
    let job = Job {
        source,
        body,
        received_us: now.as_microsecond(),
        done,
    };
    if shared.queue.try_send(job).is_err() {
        let n = shared.counters.busy.fetch_add(1, Ordering::Relaxed);
        if n.is_power_of_two() {
            warn!(
                "[listen] the inbox queue is full: answered 503 so that the platform sends again ({} so far)",
                n + 1
            );
        }
        return retry_later(StatusCode::SERVICE_UNAVAILABLE, "busy, send again\n");
    }
    match written.await {
        Ok(Ok(_)) => answer(StatusCode::OK, ""),
        _ => retry_later(StatusCode::SERVICE_UNAVAILABLE, "not stored, send again\n"),
    }
}

/// What the inbox needs to know of a body besides the body: its key, the time of its event,
/// and (Pexip) the `seq` of each event in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Described {
    pub key: [u8; 16],
    pub event_us: Option<i64>,
    /// `(node, seq, started)`: `started` for `eventsink_started`.
    pub seqs: Vec<(String, i64, bool)>,
}

fn num(v: &serde_json::Value) -> Option<f64> {
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

/// The inbox key and what else the feed state needs, from a verified body. Zoom: a hash of
/// the body (its JSON without blanks outside strings: a redelivery is the same event); Webex:
/// the envelope's `id`; Pexip: node, seq and time of a single event (`seq` restarts with the
/// sink, the time tells those apart), a hash of a bulk body. A body that is not JSON gets a
/// hash too: it is stored, and the adapter reports it as unreadable.
pub fn describe(source: Source, body: &[u8]) -> Described {
    let hashed = || *RecordKey::of_json(&format!("inbox-{}", source.name()), body).as_bytes();
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Described {
            key: hashed(),
            event_us: None,
            seqs: Vec::new(),
        };
    };
    match source {
        Source::Zoom => Described {
            key: hashed(),
            event_us: v
                .get("event_ts")
                .and_then(num)
                .map(|ms| (ms * 1000.0) as i64),
            seqs: Vec::new(),
        },
        Source::Webex => Described {
            key: match v.get("id").and_then(|i| i.as_str()) {
                Some(id) => *RecordKey::new("inbox-webex", &[id.as_bytes()]).as_bytes(),
                None => hashed(),
            },
            event_us: v
                .get("created")
                .and_then(|c| c.as_str())
                .and_then(|c| c.parse::<jiff::Timestamp>().ok())
                .map(|t| t.as_microsecond()),
            seqs: Vec::new(),
        },
        Source::Pexip => {
            let one = |e: &serde_json::Value| -> Option<(String, i64, bool, Option<f64>)> {
                let node = e.get("node")?.as_str()?.to_string();
                let seq = num(e.get("seq")?)? as i64;
                let started = e.get("event").and_then(|x| x.as_str()) == Some("eventsink_started");
                Some((node, seq, started, e.get("time").and_then(num)))
            };
            let bulk = v.get("event").and_then(|e| e.as_str()) == Some("eventsink_bulk");
            let events: Vec<_> = if bulk {
                v.get("data")
                    .and_then(|d| d.as_array())
                    .map(|a| a.iter().filter_map(one).collect())
                    .unwrap_or_default()
            } else {
                one(&v).into_iter().collect()
            };
            let latest = events
                .iter()
                .filter_map(|e| e.3)
                .fold(None, |m: Option<f64>, t| Some(m.map_or(t, |m| m.max(t))));
            let key = match (&events[..], bulk) {
                ([(node, seq, _, time)], false) => *RecordKey::new(
                    "inbox-pexip",
                    &[
                        node.as_bytes(),
                        &seq.to_le_bytes(),
                        time.map(|t| t.to_string()).unwrap_or_default().as_bytes(),
                    ],
                )
                .as_bytes(),
                _ => hashed(),
            };
            Described {
                key,
                event_us: latest.map(|s| (s * 1_000_000.0) as i64),
                seqs: events.into_iter().map(|(n, s, st, _)| (n, s, st)).collect(),
            }
        }
    }
}

/// The inbox writer: takes what is queued, writes it in one transaction, answers each.
fn write_inbox(store: Store, mut rx: mpsc::Receiver<Job>, wake: Box<dyn Fn() + Send>) {
    let mut last_error = String::new();
    while let Some(first) = rx.blocking_recv() {
        let mut jobs = vec![first];
        while jobs.len() < WRITE_GROUP {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        let described: Vec<Described> = jobs.iter().map(|j| describe(j.source, &j.body)).collect();
        let write = || -> Result<(Vec<bool>, u64), crate::store::StoreError> {
            let tx = store.transaction()?;
            let mut news = Vec::with_capacity(jobs.len());
            let mut missing = 0;
            for (j, d) in jobs.iter().zip(&described) {
                let new =
                    tx.inbox_put(j.source.name(), &d.key, &j.body, j.received_us, d.event_us)?;
                if new {
                    for (node, seq, started) in &d.seqs {
                        missing += tx.pexip_seq(node, *seq, *started, j.received_us)?;
                    }
                }
                news.push(new);
            }
            tx.commit()?;
            Ok((news, missing))
        };
        match write() {
            Ok((news, missing)) => {
                if missing > 0 {
                    warn!(
                        "[listen] /pexip: {missing} event(s) missing in the event sink's seq (see `motesvakt status`; fill the gap from Pexip's history API)"
                    );
                }
                let any = news.iter().any(|n| *n);
                for (j, new) in jobs.into_iter().zip(news) {
                    let _ = j.done.send(Ok(new));
                }
                if any {
                    wake();
                }
                last_error.clear();
            }
            Err(e) => {
                let e = e.to_string();
                if e != last_error {
                    error!("[listen] cannot write to the inbox: {e}; answered 503");
                    last_error = e;
                }
                for j in jobs {
                    let _ = j.done.send(Err(()));
                }
            }
        }
    }
}

/// The incident of motesvakt's own that tells IT security a live feed has been silent since
/// `since` for longer than `expect_every` ([`crate::incident::FEED_SILENT`], medium): one per
/// silence (its id is the source and the start of the silence), filed under the meeting
/// `feed/<source>`.
pub fn silent_incident(
    source: &str,
    since: jiff::Timestamp,
    expect_every: Duration,
    now: jiff::Timestamp,
    lang: crate::i18n::Language,
) -> crate::incident::Incident {
    use crate::event::Platform;
    use crate::incident::{Evidence, FEED_SILENT, Incident, Severity, Silence};
    let since_text = since.as_microsecond().to_string();
    let mut incident = Incident {
        platform: match source {
            "zoom" => Platform::Zoom,
            "webex" => Platform::Webex,
            "pexip" => Platform::Pexip,
            _ => Platform::Other,
        },
        meeting: format!("feed/{source}"),
        ..Incident::own(
            crate::alert::short_hash(&["motesvakt-feed-silent-v1", source, &since_text])[..16]
                .to_string(),
            FEED_SILENT,
            Severity::Medium,
            "motesvakt",
            now,
            Evidence {
                silence: Some(Silence {
                    source: source.to_string(),
                    since,
                    expect_minutes: expect_every.as_secs().div_ceil(60),
                }),
                ..Evidence::default()
            },
        )
    };
    incident.summary = crate::i18n::summary(&incident, lang);
    incident
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_silent_feed_is_told_in_both_languages() {
        let since: jiff::Timestamp = "2024-05-07T06:00:00Z".parse().unwrap();
        let now: jiff::Timestamp = "2024-05-07T09:00:00Z".parse().unwrap();
        let i = silent_incident(
            "pexip",
            since,
            Duration::from_secs(3600),
            now,
            crate::i18n::Language::Sv,
        );
        assert_eq!(i.rule, "feed-silent");
        assert!(
            i.summary.contains("Pexip sedan 2024-05-07 08:00"),
            "{}",
            i.summary
        );
        let en = crate::i18n::summary(&i, crate::i18n::Language::En);
        assert!(en.contains("every 60 minutes"), "{en}");
        let again = silent_incident(
            "pexip",
            since,
            Duration::from_secs(60),
            now,
            crate::i18n::Language::En,
        );
        assert_eq!(i.id, again.id, "one incident per silence");
    }

    #[test]
    fn keys_of_each_source() {
        let w1 = describe(
            Source::Webex,
            br#"{"id":"W1","created":"2024-05-02T08:00:00Z","data":{}}"#,
        );
        let w2 = describe(Source::Webex, br#"{"id":"W1","data":{"x":1}}"#);
        assert_eq!(w1.key, w2.key, "Webex: the envelope id");
        assert_eq!(w1.event_us, Some(1_714_636_800_000_000));
        let z1 = describe(Source::Zoom, br#"{"event":"a","event_ts":1000}"#);
        let z2 = describe(Source::Zoom, b"{ \"event\": \"a\", \"event_ts\": 1000 }");
        assert_eq!(z1.key, z2.key, "Zoom: the body, blanks aside");
        assert_eq!(z1.event_us, Some(1_000_000));
        let p = describe(
            Source::Pexip,
            br#"{"node":"n1","seq":4,"time":10.5,"event":"participant_connected","data":{}}"#,
        );
        assert_eq!(p.seqs, [("n1".to_string(), 4, false)]);
        assert_eq!(p.event_us, Some(10_500_000));
        let restarted = describe(
            Source::Pexip,
            br#"{"node":"n1","seq":4,"time":99.0,"event":"participant_connected","data":{}}"#,
        );
        assert_ne!(
            p.key, restarted.key,
            "seq restarts: the time tells them apart"
        );
        let bulk = describe(
            Source::Pexip,
            br#"{"event":"eventsink_bulk","node":"127.0.0.1","seq":0,"data":[{"node":"n1","seq":1,"time":1,"event":"eventsink_started","data":{}},{"node":"n1","seq":2,"time":2,"event":"x","data":{}}]}"#,
        );
        assert_eq!(
            bulk.seqs,
            [("n1".to_string(), 1, true), ("n1".to_string(), 2, false)]
        );
        let junk = describe(Source::Pexip, b"not json");
        assert!(junk.seqs.is_empty());
    }
}
