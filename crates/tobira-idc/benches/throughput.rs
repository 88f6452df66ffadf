//! Benchmark (not a test) of tobira-idc as a separate process, driven by
//! this binary as a load generator over raw HTTP/1.1 keep-alive connections,
//! next to a do-nothing keep-alive server (the floor) measured the same way in
//! the same run. Prints one table and a verdict line per target.
//!
//! Scenarios:
//! - floor: a do-nothing HTTP/1.1 keep-alive server (this binary re-executed
//!   with `--floor-server BYTES`) answering 200 with a body as large as a real
//!   GetRoleCredentials body;
//! - GetRoleCredentials on `tobira-idc serve` (in memory, no `--db`) after a
//!   device login over HTTP (`--auto-approve alice`): rate over the whole run,
//!   the first segment and the slowest / fastest segment, RSS of the server;
//! - STS GetCallerIdentity on tobira-idc (signed with bob's demo keys);
//! - device logins (register + start + token) in batches on a fresh server:
//!   first vs last batch logins/s, RSS growth per login;
//! - ListAccounts page time (one connection) for 10, 1,000 and 10,000
//!   accounts assigned to alice;
//! - moto's STS GetCallerIdentity when `TOBIRA_BENCH_MOTO_URL` is set.
//!
//! Run with `scripts/bench-idc` (builds in release, sets up and starts moto).
//! Environment: `TOBIRA_IDC_BIN` (the `tobira-idc` binary; default: next to
//! the directory holding this executable, i.e. `target/release/tobira-idc`),
//! `BENCH_REQUESTS` (floor and GetRoleCredentials, default 1,000,000),
//! `BENCH_CONNECTIONS` (default 64), `BENCH_STS_REQUESTS` (default 100,000),
//! `BENCH_LOGIN_BATCH` (default 2,000), `BENCH_LOGIN_BATCHES` (default 10),
//! `BENCH_LIST_REPEATS` (first / middle page repeats, default 20),
//! `BENCH_LIST_SECONDS` (time cap per directory size, default 120),
//! `TOBIRA_BENCH_MOTO_URL` and `BENCH_MOTO_REQUESTS` (default 5,000).
//! Only loopback addresses are used; every child process is killed when the
//! benchmark ends (also on panic).
// A benchmark binary: it reads its settings from the environment, prints its
// table, and fails loudly (panics) on set-up errors.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::disallowed_methods
)]

use std::collections::{HashSet, VecDeque};
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant, SystemTime};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Barrier;

/// bob's long-term keys in the demo directory.
const BOB_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
const BOB_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const START_URL: &str = "https://d-1234567890.awsapps.com/start";
const GET_CALLER_IDENTITY: &str = "Action=GetCallerIdentity&Version=2011-06-15";
const GRC_PATH: &str = "/federation/credentials?account_id=222222222222&role_name=ReadOnly";
/// No single request (or connect) may take longer than this.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// ListAccounts pages may be slow on large directories; they get this long.
const LIST_TIMEOUT: Duration = Duration::from_secs(120);
/// A response (head or body) larger than this is an error.
const MAX_RESPONSE: usize = 16 << 20;
/// A request head larger than this is refused by the floor server.
const MAX_REQUEST_HEAD: usize = 64 << 10;
/// Error examples kept per scenario.
const ERROR_SAMPLES: usize = 5;
/// A scenario stops issuing requests after this many errors.
const MAX_ERRORS: usize = 1_000;
/// How long a child server may take to print its URL.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
const FLOOR_FLAG: &str = "--floor-server";

// ---------------------------------------------------------------------------
// Latency histogram: exact below 128 µs, then 64 buckets per power of two
// (under 1.6% relative error), up to 2^36 µs (19 hours).

const SUB_BITS: u32 = 6;
const SUB: u64 = 1 << SUB_BITS;
const MAX_US: u64 = (1 << 36) - 1;
const BUCKETS: usize = (2 * SUB + (36 - (SUB_BITS as u64 + 1)) * SUB) as usize;

#[derive(Clone)]
struct Histogram {
    counts: Vec<u64>,
    total: u64,
    sum_us: u64,
    max_us: u64,
}

impl Histogram {
    fn new() -> Histogram {
        Histogram { counts: vec![0; BUCKETS], total: 0, sum_us: 0, max_us: 0 }
    }

    fn bucket(us: u64) -> usize {
        let v = us.min(MAX_US);
        if v < 2 * SUB {
            return v as usize;
        }
        let e = u64::from(63 - v.leading_zeros()); // >= SUB_BITS + 1
        let top = v >> (e - u64::from(SUB_BITS)); // in [SUB, 2 * SUB)
        (2 * SUB + (e - u64::from(SUB_BITS) - 1) * SUB + (top - SUB)) as usize
    }

    /// The values `[low, high)` that land in bucket `i`.
    fn range(i: usize) -> (u64, u64) {
        let i = i as u64;
        if i < 2 * SUB {
            return (i, i + 1);
        }
        let j = i - 2 * SUB;
        let shift = j / SUB + 1;
        let top = SUB + j % SUB;
        (top << shift, (top + 1) << shift)
    }

    fn record(&mut self, d: Duration) {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        self.counts[Self::bucket(us)] += 1;
        self.total += 1;
        self.sum_us = self.sum_us.saturating_add(us);
        self.max_us = self.max_us.max(us);
    }

    fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.total += other.total;
        self.sum_us = self.sum_us.saturating_add(other.sum_us);
        self.max_us = self.max_us.max(other.max_us);
    }

    /// Nearest-rank percentile (the middle of its bucket).
    fn percentile(&self, p: f64) -> Option<Duration> {
        if self.total == 0 {
            return None;
        }
        let rank = ((p / 100.0) * self.total as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                let (lo, hi) = Self::range(i);
                return Some(Duration::from_micros((lo + (hi - 1)) / 2));
            }
        }
        Some(Duration::from_micros(self.max_us))
    }

    fn mean(&self) -> Option<Duration> {
        (self.total > 0).then(|| Duration::from_micros(self.sum_us / self.total))
    }
}

// ---------------------------------------------------------------------------
// HTTP/1.1 client connection.

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// One client connection: reconnects (counted) when the server closed it.
struct Conn {
    addr: SocketAddr,
    stream: Option<TcpStream>,
    buf: Vec<u8>,
    /// Bytes of `buf` that belong to the last response.
    consumed: usize,
    /// Where the last response's body is in `buf` (or `dechunked`).
    body: (usize, usize),
    dechunked: Option<Vec<u8>>,
    connects: usize,
    closed_by_server: usize,
}

impl Conn {
    fn new(addr: SocketAddr) -> Conn {
        Conn {
            addr,
            stream: None,
            buf: Vec::with_capacity(16 << 10),
            consumed: 0,
            body: (0, 0),
            dechunked: None,
            connects: 0,
            closed_by_server: 0,
        }
    }

    async fn connect(&mut self) -> Result<(), String> {
        let s = TcpStream::connect(self.addr).await.map_err(|e| format!("connect: {e}"))?;
        s.set_nodelay(true).map_err(|e| format!("nodelay: {e}"))?;
        self.stream = Some(s);
        self.buf.clear();
        self.consumed = 0;
        self.connects += 1;
        Ok(())
    }

    fn reset(&mut self) {
        self.stream = None;
        self.buf.clear();
        self.consumed = 0;
        self.body = (0, 0);
        self.dechunked = None;
    }

    /// The body of the last response.
    fn body(&self) -> &[u8] {
        match &self.dechunked {
            Some(b) => b,
            None => &self.buf[self.body.0..self.body.1],
        }
    }

    fn body_text(&self, max: usize) -> String {
        String::from_utf8_lossy(self.body()).chars().take(max).collect()
    }

    /// Reads more bytes into `buf`; an error at the end of the stream.
    async fn fill(&mut self, what: &str) -> Result<(), String> {
        let stream = self.stream.as_mut().ok_or("not connected")?;
        self.buf.reserve(16 << 10);
        let n = stream.read_buf(&mut self.buf).await.map_err(|e| format!("read {what}: {e}"))?;
        if n == 0 {
            return Err(format!("connection closed while reading {what} ({} bytes buffered)", self.buf.len()));
        }
        Ok(())
    }

    /// Writes `request`, reads one response (framed by `Content-Length`,
    /// chunked, or by the server closing when it sent neither). Returns the
    /// status; the body is `self.body()` until the next call. The response
    /// head is returned by `roundtrip_head`.
    async fn roundtrip(&mut self, request: &[u8]) -> Result<u16, String> {
        self.roundtrip_head(request).await.map(|(status, _)| status)
    }

    async fn roundtrip_head(&mut self, request: &[u8]) -> Result<(u16, usize), String> {
        self.buf.drain(..self.consumed);
        self.consumed = 0;
        self.body = (0, 0);
        self.dechunked = None;
        if self.stream.is_none() {
            self.connect().await?;
        }
        let stream = self.stream.as_mut().expect("connected above");
        stream.write_all(request).await.map_err(|e| format!("write: {e}"))?;
        let mut scanned = 0;
        let head_end = loop {
            if let Some(i) = find(&self.buf[scanned..], b"\r\n\r\n") {
                break scanned + i + 4;
            }
            scanned = self.buf.len().saturating_sub(3);
            if self.buf.len() > MAX_RESPONSE {
                return Err("response head too large".into());
            }
            self.fill("the response head").await?;
        };
        let head = std::str::from_utf8(&self.buf[..head_end]).map_err(|_| "response head is not UTF-8")?;
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or("");
        let status = status_line
            .strip_prefix("HTTP/1.")
            .and_then(|s| s.get(2..5))
            .and_then(|s| s.parse::<u16>().ok())
            .ok_or_else(|| format!("bad status line {status_line:?}"))?;
        let (mut length, mut close, mut chunked) = (None, false, false);
        for line in lines {
            let Some((k, v)) = line.split_once(':') else { continue };
            let v = v.trim();
            if k.eq_ignore_ascii_case("content-length") {
                length = Some(v.parse::<usize>().map_err(|_| format!("bad Content-Length {v:?}"))?);
            } else if k.eq_ignore_ascii_case("connection") {
                close = v.split(',').any(|t| t.trim().eq_ignore_ascii_case("close"));
            } else if k.eq_ignore_ascii_case("transfer-encoding") {
                chunked = v.to_ascii_lowercase().ends_with("chunked");
                if !chunked {
                    return Err(format!("unsupported Transfer-Encoding {v:?}"));
                }
            }
        }
        if chunked {
            self.read_chunked(head_end).await?;
        } else {
            match length {
                Some(len) => {
                    if len > MAX_RESPONSE {
                        return Err(format!("response body of {len} bytes"));
                    }
                    while self.buf.len() < head_end + len {
                        self.fill("the body").await?;
                    }
                    self.body = (head_end, head_end + len);
                    self.consumed = head_end + len;
                }
                None if close => {
                    loop {
                        let stream = self.stream.as_mut().expect("connected");
                        self.buf.reserve(16 << 10);
                        let n = stream.read_buf(&mut self.buf).await.map_err(|e| format!("read body: {e}"))?;
                        if n == 0 {
                            break;
                        }
                        if self.buf.len() > MAX_RESPONSE {
                            return Err("response body too large".into());
                        }
                    }
                    self.body = (head_end, self.buf.len());
                    self.consumed = self.buf.len();
                }
                None => return Err("response without Content-Length on a kept-alive connection".into()),
            }
        }
        if close {
            self.closed_by_server += 1;
            self.stream = None;
        }
        Ok((status, head_end))
    }

    /// Decodes a chunked body starting at `start` into `dechunked`.
    async fn read_chunked(&mut self, start: usize) -> Result<(), String> {
        let mut out = Vec::new();
        let mut at = start;
        loop {
            let line_end = loop {
                if let Some(i) = find(&self.buf[at..], b"\r\n") {
                    break at + i;
                }
                self.fill("a chunk size").await?;
            };
            let line = std::str::from_utf8(&self.buf[at..line_end]).map_err(|_| "bad chunk size line")?;
            let size_hex = line.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size_hex, 16).map_err(|_| format!("bad chunk size {line:?}"))?;
            at = line_end + 2;
            if size == 0 {
                // Trailers (usually none), then an empty line.
                loop {
                    let end = loop {
                        if let Some(i) = find(&self.buf[at..], b"\r\n") {
                            break at + i;
                        }
                        self.fill("the trailers").await?;
                    };
                    let empty = end == at;
                    at = end + 2;
                    if empty {
                        break;
                    }
                }
                break;
            }
            if out.len() + size > MAX_RESPONSE {
                return Err("chunked body too large".into());
            }
            while self.buf.len() < at + size + 2 {
                self.fill("a chunk").await?;
            }
            out.extend_from_slice(&self.buf[at..at + size]);
            at += size + 2;
        }
        self.consumed = at;
        self.dechunked = Some(out);
        Ok(())
    }
}

/// A request with a JSON body (or none when `body` is empty).
fn request(method: &str, host: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Vec<u8> {
    let mut r = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\n");
    for (k, v) in headers {
        r.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        r.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()));
    }
    r.push_str("\r\n");
    r.push_str(body);
    r.into_bytes()
}

/// A POST with a JSON body whose 200 response is JSON.
async fn post_json(conn: &mut Conn, host: &str, path: &str, body: &str) -> Result<serde_json::Value, String> {
    let status = conn.roundtrip(&request("POST", host, path, &[], body)).await?;
    if status != 200 {
        return Err(format!("POST {path}: status {status}: {}", conn.body_text(300)));
    }
    serde_json::from_slice(conn.body()).map_err(|e| format!("POST {path}: not JSON ({e}): {}", conn.body_text(300)))
}

fn str_field<'a>(v: &'a serde_json::Value, name: &str, what: &str) -> Result<&'a str, String> {
    v[name].as_str().ok_or_else(|| format!("{what}: no string `{name}` in {v}"))
}

/// A device login over HTTP (the server approves it at once, `--auto-approve`):
/// RegisterClient, StartDeviceAuthorization, CreateToken → the access token.
/// Counts the HTTP requests it made in `http`.
async fn device_login(conn: &mut Conn, host: &str, http: &mut usize) -> Result<String, String> {
    *http += 1;
    let reg = post_json(
        conn,
        host,
        "/client/register",
        r#"{"clientName":"bench","clientType":"public","scopes":["sso:account:access"]}"#,
    )
    .await?;
    let id = str_field(&reg, "clientId", "RegisterClient")?;
    let secret = str_field(&reg, "clientSecret", "RegisterClient")?;
    let start = serde_json::json!({ "clientId": id, "clientSecret": secret, "startUrl": START_URL }).to_string();
    *http += 1;
    let auth = post_json(conn, host, "/device_authorization", &start).await?;
    let device_code = str_field(&auth, "deviceCode", "StartDeviceAuthorization")?;
    let token = serde_json::json!({
        "clientId": id,
        "clientSecret": secret,
        "grantType": "urn:ietf:params:oauth:grant-type:device_code",
        "deviceCode": device_code,
    })
    .to_string();
    *http += 1;
    let tok = post_json(conn, host, "/token", &token).await?;
    Ok(str_field(&tok, "accessToken", "CreateToken")?.to_string())
}

/// A GetCallerIdentity POST for `addr`, signed now with bob's keys by the
/// SDK's SigV4 signer (valid for 15 minutes, so it can be replayed).
fn signed_get_caller_identity(addr: SocketAddr) -> Vec<u8> {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    let host = addr.to_string();
    let identity: aws_smithy_runtime_api::client::identity::Identity =
        aws_credential_types::Credentials::new(BOB_KEY, BOB_SECRET, None, None, "bench").into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("sts")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let base = [("content-type", "application/x-www-form-urlencoded; charset=utf-8"), ("host", host.as_str())];
    let body = GET_CALLER_IDENTITY.as_bytes();
    let signable =
        SignableRequest::new("POST", format!("http://{host}/"), base.iter().copied(), SignableBody::Bytes(body))
            .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut req = String::from("POST / HTTP/1.1\r\n");
    for (k, v) in base.iter().copied().chain(instructions.headers()) {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!("content-length: {}\r\n\r\n{GET_CALLER_IDENTITY}", body.len()));
    req.into_bytes()
}

// ---------------------------------------------------------------------------
// Load generation.

/// What each unit of work is.
enum Job {
    /// One fixed request, replayed; every 200 body must contain `marker`.
    Replay { request: Vec<u8>, marker: Vec<u8> },
    /// One whole device login (3 requests).
    Login { host: String },
}

impl Job {
    async fn run(&self, conn: &mut Conn, http: &mut usize) -> Result<(), String> {
        match self {
            Job::Replay { request, marker } => {
                *http += 1;
                let status = conn.roundtrip(request).await?;
                if status == 200 && find(conn.body(), marker).is_some() {
                    Ok(())
                } else {
                    Err(format!("status {status}: {}", conn.body_text(300)))
                }
            }
            Job::Login { host } => device_login(conn, host, http).await.map(|_| ()),
        }
    }
}

/// The result of driving one job.
struct Run {
    /// Units (requests or logins) attempted.
    units: usize,
    /// HTTP requests sent.
    http: usize,
    elapsed: Duration,
    /// Latencies of the successful units.
    hist: Histogram,
    errors: usize,
    error_samples: Vec<String>,
    /// TCP connections opened while measuring, beyond the initial ones.
    reconnects: usize,
    /// Responses that carried `Connection: close`.
    closed_by_server: usize,
    /// (units completed, time since start) at every `segment` units.
    marks: Vec<(usize, Duration)>,
}

impl Run {
    fn rate(&self) -> f64 {
        self.units as f64 / self.elapsed.as_secs_f64()
    }

    /// Units per second in each segment between marks.
    fn segment_rates(&self) -> Vec<f64> {
        let mut prev = (0usize, Duration::ZERO);
        let mut out = Vec::new();
        for &(n, t) in &self.marks {
            let dt = (t - prev.1).as_secs_f64();
            if dt > 0.0 {
                out.push((n - prev.0) as f64 / dt);
            }
            prev = (n, t);
        }
        out
    }
}

struct WorkerResult {
    hist: Histogram,
    units: usize,
    http: usize,
    errors: usize,
    error_samples: Vec<String>,
    connects_after_start: usize,
    closed_by_server: usize,
}

/// Drives `job` over `connections` connections to `addr` until `total`
/// units are done (or `MAX_ERRORS` errors happened); marks the time every
/// `segment` units (0 = no marks).
async fn drive(addr: SocketAddr, job: Arc<Job>, connections: usize, total: usize, segment: usize) -> Run {
    let next = Arc::new(AtomicUsize::new(0));
    let completed = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let marks = Arc::new(Mutex::new(Vec::new()));
    let start = Arc::new(OnceLock::<Instant>::new());
    let barrier = Arc::new(Barrier::new(connections + 1));
    let mut workers = Vec::with_capacity(connections);
    for _ in 0..connections {
        let (job, next, completed, failures, stop, marks, start, barrier) = (
            Arc::clone(&job),
            Arc::clone(&next),
            Arc::clone(&completed),
            Arc::clone(&failures),
            Arc::clone(&stop),
            Arc::clone(&marks),
            Arc::clone(&start),
            Arc::clone(&barrier),
        );
        workers.push(tokio::spawn(async move {
            let mut conn = Conn::new(addr);
            // Connect before the clock starts; a failure here is retried
            // (and counted) by the first request.
            let _ = tokio::time::timeout(REQUEST_TIMEOUT, conn.connect()).await;
            let initial = conn.connects;
            barrier.wait().await;
            let start = *start.get_or_init(Instant::now);
            let mut r = WorkerResult {
                hist: Histogram::new(),
                units: 0,
                http: 0,
                errors: 0,
                error_samples: Vec::new(),
                connects_after_start: 0,
                closed_by_server: 0,
            };
            while !stop.load(Ordering::Relaxed) && next.fetch_add(1, Ordering::Relaxed) < total {
                r.units += 1;
                let t0 = Instant::now();
                let outcome = match tokio::time::timeout(REQUEST_TIMEOUT, job.run(&mut conn, &mut r.http)).await {
                    Ok(o) => o,
                    Err(_) => Err(format!("no response within {REQUEST_TIMEOUT:?}")),
                };
                match outcome {
                    Ok(()) => r.hist.record(t0.elapsed()),
                    Err(e) => {
                        conn.reset();
                        r.errors += 1;
                        if r.error_samples.len() < ERROR_SAMPLES {
                            r.error_samples.push(e);
                        }
                        if failures.fetch_add(1, Ordering::Relaxed) + 1 >= MAX_ERRORS {
                            stop.store(true, Ordering::Relaxed);
                        }
                    }
                }
                let done = completed.fetch_add(1, Ordering::Relaxed) + 1;
                if segment > 0 && done.is_multiple_of(segment) {
                    marks.lock().unwrap().push((done, start.elapsed()));
                }
            }
            r.connects_after_start = conn.connects - initial;
            r.closed_by_server = conn.closed_by_server;
            r
        }));
    }
    barrier.wait().await;
    let t0 = *start.get_or_init(Instant::now);
    let mut out = Run {
        units: 0,
        http: 0,
        elapsed: Duration::ZERO,
        hist: Histogram::new(),
        errors: 0,
        error_samples: Vec::new(),
        reconnects: 0,
        closed_by_server: 0,
        marks: Vec::new(),
    };
    for w in workers {
        let r = w.await.expect("a load worker panicked");
        out.units += r.units;
        out.http += r.http;
        out.hist.merge(&r.hist);
        out.errors += r.errors;
        out.reconnects += r.connects_after_start;
        out.closed_by_server += r.closed_by_server;
        for s in r.error_samples {
            if out.error_samples.len() < ERROR_SAMPLES {
                out.error_samples.push(s);
            }
        }
    }
    out.elapsed = t0.elapsed();
    let mut marks = std::mem::take(&mut *marks.lock().unwrap());
    marks.sort_unstable();
    out.marks = marks;
    out
}

// ---------------------------------------------------------------------------
// Child servers.

/// Every child server, for the signal handler (see `stop_children_on_signal`).
static CHILDREN: Mutex<Vec<Weak<Mutex<Child>>>> = Mutex::new(Vec::new());

/// Kills every child server still running.
fn kill_children() {
    for child in CHILDREN.lock().unwrap_or_else(std::sync::PoisonError::into_inner).drain(..) {
        if let Some(child) = child.upgrade() {
            let mut child = child.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// SIGINT, SIGTERM or SIGHUP: stop the child servers, then exit (Rust's
/// default would exit without running any `Drop`).
fn stop_children_on_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut hup = signal(SignalKind::hangup()).expect("SIGHUP handler");
    tokio::spawn(async move {
        let code = tokio::select! {
            _ = int.recv() => 130,
            _ = term.recv() => 143,
            _ = hup.recv() => 129,
        };
        kill_children();
        eprintln!("bench: interrupted; the child servers are stopped");
        std::process::exit(code);
    });
}

/// A command for a child server. With util-linux's `setpriv` at hand the
/// child also gets SIGKILL if this process dies without cleaning up (killed
/// with SIGKILL): `--pdeathsig` fires when the spawning thread ends, and
/// every server is started from the main thread.
fn child_command(program: &std::path::Path) -> Command {
    let setpriv = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("setpriv"))
        .find(|p| p.is_file());
    match setpriv {
        Some(setpriv) => {
            let mut cmd = Command::new(setpriv);
            cmd.args(["--pdeathsig", "KILL", "--"]).arg(program);
            cmd
        }
        None => Command::new(program),
    }
}

/// A server in a child process, killed when dropped (also on panic).
struct Server {
    name: String,
    child: Arc<Mutex<Child>>,
    pid: u32,
    /// Held so that a child watching its stdin sees EOF when we go away.
    _stdin: Option<ChildStdin>,
    addr: SocketAddr,
    /// The last lines it printed (stdout and stderr).
    log: Arc<Mutex<VecDeque<String>>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let mut child = self.child.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let _ = child.kill();
        let _ = child.wait();
    }
}

fn keep_line(log: &Mutex<VecDeque<String>>, line: String) {
    let mut log = log.lock().unwrap();
    if log.len() >= 40 {
        log.pop_front();
    }
    log.push_back(line);
}

/// The port of the first `http://127.0.0.1:PORT` on a line that says `listening`.
fn listening_port(line: &str) -> Option<u16> {
    if !line.contains("listening") {
        return None;
    }
    let rest = &line[line.find("http://127.0.0.1:")? + "http://127.0.0.1:".len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok().filter(|p| *p != 0)
}

impl Server {
    /// Starts `cmd` and waits until it prints the URL it listens on.
    fn start(name: &str, mut cmd: Command) -> Server {
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {name} ({cmd:?}): {e}"));
        let stdout = child.stdout.take().expect("piped");
        let stderr = child.stderr.take().expect("piped");
        let stdin = child.stdin.take();
        let log = Arc::new(Mutex::new(VecDeque::new()));
        let (tx, rx) = std::sync::mpsc::channel::<u16>();
        {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                let mut sent = false;
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if !sent && let Some(port) = listening_port(&line) {
                        sent = tx.send(port).is_ok();
                    }
                    keep_line(&log, line);
                }
            });
        }
        {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    keep_line(&log, format!("stderr: {line}"));
                }
            });
        }
        // The guard exists before any wait, so a failure below kills the child.
        let pid = child.id();
        let child = Arc::new(Mutex::new(child));
        CHILDREN.lock().unwrap().push(Arc::downgrade(&child));
        let mut server = Server {
            name: name.to_string(),
            child,
            pid,
            _stdin: stdin,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            log,
        };
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(port) => {
                    server.addr = SocketAddr::from(([127, 0, 0, 1], port));
                    return server;
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    std::thread::sleep(Duration::from_millis(200));
                    panic!(
                        "{name} closed its stdout without a `listening on http://127.0.0.1:PORT` line:\n{}",
                        server.log_tail()
                    );
                }
            }
            if let Some(status) = server.exited() {
                std::thread::sleep(Duration::from_millis(200));
                panic!("{name} exited ({status}) before listening:\n{}", server.log_tail());
            }
            if Instant::now() > deadline {
                panic!("{name} printed no URL within {STARTUP_TIMEOUT:?}:\n{}", server.log_tail());
            }
        }
    }

    fn host(&self) -> String {
        self.addr.to_string()
    }

    fn log_tail(&self) -> String {
        self.log.lock().unwrap().iter().map(|l| format!("    {l}\n")).collect()
    }

    /// Resident set size (VmRSS) in MB.
    fn rss_mb(&self) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        let kb: f64 = line.trim_start_matches("VmRSS:").trim().trim_end_matches("kB").trim().parse().ok()?;
        Some(kb / 1024.0)
    }

    fn exited(&self) -> Option<std::process::ExitStatus> {
        self.child.lock().unwrap().try_wait().ok().flatten()
    }

    /// Fails loudly if the server died.
    fn check_alive(&self) {
        if let Some(status) = self.exited() {
            panic!("{} exited ({status}):\n{}", self.name, self.log_tail());
        }
    }
}

fn idc_command(bin: &std::path::Path, extra: &[&str]) -> Command {
    let mut cmd = child_command(bin);
    cmd.args(["serve", "--port", "0", "--auto-approve", "alice"]).args(extra);
    cmd
}

// ---------------------------------------------------------------------------
// The floor: a do-nothing HTTP/1.1 keep-alive server.

/// The raw floor's fixed response, rebuilt once a second for its `date` header.
struct FloorResponse {
    body_bytes: usize,
    generation: AtomicU64,
    current: Mutex<Arc<[u8]>>,
}

impl FloorResponse {
    /// `{"pad":"xxx…"}` of exactly `body_bytes` bytes.
    fn body(body_bytes: usize) -> String {
        if body_bytes >= 10 {
            format!("{{\"pad\":\"{}\"}}", "x".repeat(body_bytes - 10))
        } else {
            "x".repeat(body_bytes)
        }
    }

    fn build(body_bytes: usize) -> Arc<[u8]> {
        let date = jiff::fmt::rfc2822::DateTimePrinter::new()
            .timestamp_to_rfc9110_string(&jiff::Timestamp::now())
            .unwrap_or_default();
        let body = Self::body(body_bytes);
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\ndate: {date}\r\n\r\n",
            body.len()
        );
        [head.as_bytes(), body.as_bytes()].concat().into()
    }

    fn get(&self) -> (u64, Arc<[u8]>) {
        let current = self.current.lock().unwrap();
        (self.generation.load(Ordering::Acquire), Arc::clone(&current))
    }
}

enum Parsed {
    /// A whole request of this many bytes; `close` when the client asked for it.
    Complete {
        len: usize,
        close: bool,
    },
    Partial,
    Bad(&'static str),
}

/// Parses one request at the start of `b` (head, then a `Content-Length` body).
fn parse_request(b: &[u8]) -> Parsed {
    let Some(i) = find(b, b"\r\n\r\n") else {
        return if b.len() > MAX_REQUEST_HEAD {
            Parsed::Bad("431 Request Header Fields Too Large")
        } else {
            Parsed::Partial
        };
    };
    let head_len = i + 4;
    let Ok(head) = std::str::from_utf8(&b[..i]) else { return Parsed::Bad("400 Bad Request") };
    let mut lines = head.split("\r\n");
    let mut parts = lines.next().unwrap_or("").split(' ');
    let (Some(_method), Some(_target), Some(version), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Parsed::Bad("400 Bad Request");
    };
    let mut close = match version {
        "HTTP/1.1" => false,
        "HTTP/1.0" => true,
        _ => return Parsed::Bad("505 HTTP Version Not Supported"),
    };
    let mut length = 0usize;
    for line in lines {
        let Some((k, v)) = line.split_once(':') else { return Parsed::Bad("400 Bad Request") };
        let v = v.trim();
        if k.eq_ignore_ascii_case("content-length") {
            match v.parse() {
                Ok(n) => length = n,
                Err(_) => return Parsed::Bad("400 Bad Request"),
            }
        } else if k.eq_ignore_ascii_case("transfer-encoding") {
            return Parsed::Bad("501 Not Implemented");
        } else if k.eq_ignore_ascii_case("connection") {
            for t in v.split(',').map(str::trim) {
                if t.eq_ignore_ascii_case("close") {
                    close = true;
                } else if t.eq_ignore_ascii_case("keep-alive") {
                    close = false;
                }
            }
        }
    }
    if length > MAX_RESPONSE {
        return Parsed::Bad("413 Content Too Large");
    }
    if b.len() < head_len + length { Parsed::Partial } else { Parsed::Complete { len: head_len + length, close } }
}

async fn floor_connection(mut s: TcpStream, shared: Arc<FloorResponse>) {
    let _ = s.set_nodelay(true);
    let mut buf: Vec<u8> = Vec::with_capacity(16 << 10);
    let mut out: Vec<u8> = Vec::with_capacity(16 << 10);
    let (mut generation, mut response) = shared.get();
    loop {
        // Answer every whole request buffered (pipelining is allowed).
        let (mut at, mut close) = (0, false);
        loop {
            match parse_request(&buf[at..]) {
                Parsed::Complete { len, close: c } => {
                    if shared.generation.load(Ordering::Acquire) != generation {
                        (generation, response) = shared.get();
                    }
                    out.extend_from_slice(&response);
                    at += len;
                    if c {
                        close = true;
                        break;
                    }
                }
                Parsed::Partial => break,
                Parsed::Bad(status) => {
                    out.extend_from_slice(
                        format!("HTTP/1.1 {status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n").as_bytes(),
                    );
                    close = true;
                    break;
                }
            }
        }
        buf.drain(..at);
        if !out.is_empty() {
            if s.write_all(&out).await.is_err() {
                return;
            }
            out.clear();
        }
        if close {
            let _ = s.shutdown().await;
            return;
        }
        buf.reserve(16 << 10);
        match s.read_buf(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

/// A body sent in one frame with an exact size (so hyper sets
/// `content-length`, as it does for tobira-idc's responses).
struct FixedBody(Option<hyper::body::Bytes>);

impl hyper::body::Body for FixedBody {
    type Data = hyper::body::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        std::task::Poll::Ready(self.0.take().map(|b| Ok(hyper::body::Frame::data(b))))
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_none()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        hyper::body::SizeHint::with_exact(self.0.as_ref().map_or(0, |b| b.len() as u64))
    }
}

/// The hyper floor: hyper's HTTP/1.1 server (keep-alive, `date` header), a
/// service that answers every request with the fixed JSON body.
async fn hyper_floor_connection(s: TcpStream, body: hyper::body::Bytes) {
    let _ = s.set_nodelay(true);
    let service = hyper::service::service_fn(move |_req: hyper::Request<hyper::body::Incoming>| {
        let body = body.clone();
        async move {
            let mut resp = hyper::Response::new(FixedBody(Some(body)));
            resp.headers_mut()
                .insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static("application/json"));
            Ok::<_, std::convert::Infallible>(resp)
        }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(hyper_util::rt::TokioIo::new(s), service)
        .await;
}

/// `--floor-server BYTES hyper|raw`: serves the fixed response on 127.0.0.1
/// until killed or until its stdin closes (the load generator went away).
fn floor_server(body_bytes: usize, kind: &str) -> ExitCode {
    std::thread::spawn(|| {
        let mut sink = [0u8; 64];
        let mut stdin = std::io::stdin();
        loop {
            if matches!(stdin.read(&mut sink), Ok(0) | Err(_)) {
                std::process::exit(0);
            }
        }
    });
    let raw = match kind {
        "raw" => true,
        "hyper" => false,
        _ => panic!("{FLOOR_FLAG} BYTES hyper|raw"),
    };
    // The same runtime tobira-idc uses: multi-threaded, one worker per CPU.
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    runtime.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        let shared = Arc::new(FloorResponse {
            body_bytes,
            generation: AtomicU64::new(0),
            current: Mutex::new(FloorResponse::build(body_bytes)),
        });
        let body = hyper::body::Bytes::from(FloorResponse::body(body_bytes));
        if raw {
            let shared = Arc::clone(&shared);
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs(1));
                loop {
                    tick.tick().await;
                    let fresh = FloorResponse::build(shared.body_bytes);
                    let mut current = shared.current.lock().unwrap();
                    *current = fresh;
                    shared.generation.fetch_add(1, Ordering::Release);
                }
            });
        }
        println!("{kind} floor server listening on http://{}", listener.local_addr().unwrap());
        let _ = std::io::stdout().flush();
        loop {
            match listener.accept().await {
                Ok((s, _)) if raw => {
                    tokio::spawn(floor_connection(s, Arc::clone(&shared)));
                }
                Ok((s, _)) => {
                    tokio::spawn(hyper_floor_connection(s, body.clone()));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    })
}

// ---------------------------------------------------------------------------
// Scenarios and the report.

struct Config {
    connections: usize,
    requests: usize,
    sts_requests: usize,
    moto_requests: usize,
    login_batch: usize,
    login_batches: usize,
    list_repeats: usize,
    list_seconds: u64,
    idc_bin: PathBuf,
    moto: Result<SocketAddr, String>,
}

fn env_usize(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => match v.trim().replace('_', "").parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => panic!("{name}={v}: expected a positive integer"),
        },
        _ => default,
    }
}

/// `http://127.0.0.1:PORT[/]` → its address; anything not on loopback is refused.
fn loopback_addr(url: &str) -> Result<SocketAddr, String> {
    let authority = url.strip_prefix("http://").ok_or("not an http:// URL")?.trim_end_matches('/');
    let addr: SocketAddr = authority.parse().map_err(|_| format!("`{authority}` is not IP:PORT"))?;
    if !addr.ip().is_loopback() {
        return Err(format!("{} is not a loopback address", addr.ip()));
    }
    Ok(addr)
}

impl Config {
    fn from_env() -> Config {
        let idc_bin = match std::env::var("TOBIRA_IDC_BIN") {
            Ok(p) if !p.is_empty() => PathBuf::from(p),
            // target/release/deps/throughput-HASH → target/release/tobira-idc
            _ => {
                let exe = std::env::current_exe().expect("current_exe");
                exe.parent().and_then(|d| d.parent()).expect("target/release/deps").join("tobira-idc")
            }
        };
        assert!(
            idc_bin.is_file(),
            "{} does not exist: build it (`cargo build --release -p tobira-idc`) or set TOBIRA_IDC_BIN",
            idc_bin.display()
        );
        let moto = match std::env::var("TOBIRA_BENCH_MOTO_URL") {
            Ok(url) if !url.is_empty() => loopback_addr(&url).map_err(|e| format!("TOBIRA_BENCH_MOTO_URL={url}: {e}")),
            _ => Err("TOBIRA_BENCH_MOTO_URL is not set (scripts/bench-idc starts moto and sets it)".to_string()),
        };
        Config {
            connections: env_usize("BENCH_CONNECTIONS", 64),
            requests: env_usize("BENCH_REQUESTS", 1_000_000),
            sts_requests: env_usize("BENCH_STS_REQUESTS", 100_000),
            moto_requests: env_usize("BENCH_MOTO_REQUESTS", 5_000),
            login_batch: env_usize("BENCH_LOGIN_BATCH", 2_000),
            login_batches: env_usize("BENCH_LOGIN_BATCHES", 10),
            list_repeats: env_usize("BENCH_LIST_REPEATS", 20),
            list_seconds: env_usize("BENCH_LIST_SECONDS", 120) as u64,
            idc_bin,
            moto,
        }
    }

    /// Unmeasured requests before a replay scenario.
    fn warmup(&self, requests: usize) -> usize {
        (requests / 50).clamp(self.connections, 5_000)
    }
}

/// One line of the table.
struct Row {
    name: String,
    /// Requests (or pages, or logins: see `unit`).
    count: usize,
    rate: f64,
    p50: Option<Duration>,
    p99: Option<Duration>,
    errors: usize,
    ratio: Option<f64>,
    rss_before: Option<f64>,
    rss_after: Option<f64>,
    note: String,
}

/// Everything measured, for the table and the verdicts.
#[derive(Default)]
struct Report {
    rows: Vec<Row>,
    /// Lines printed under the table (rates per segment or batch).
    details: Vec<String>,
    problems: Vec<String>,
    floor_rate: Option<f64>,
    grc: Option<(f64, Option<Duration>, Option<f64>, usize)>,
    login: Option<(f64, f64, Option<f64>)>,
    list_mean_ms: Vec<(usize, Option<f64>)>,
}

impl Report {
    fn problems_of(&mut self, name: &str, run: &Run) {
        if run.errors > 0 {
            let mut p = format!("{name}: {} of {} failed, e.g.:", run.errors, run.units);
            for s in &run.error_samples {
                p.push_str(&format!("\n    {s}"));
            }
            self.problems.push(p);
        }
        if run.closed_by_server > 0 || run.reconnects > 0 {
            self.problems.push(format!(
                "{name}: {} responses said `Connection: close`; {} connections were opened while measuring \
                 (their connect time is in the latencies)",
                run.closed_by_server, run.reconnects
            ));
        }
    }

    fn replay_row(&mut self, name: &str, run: &Run, rss: (Option<f64>, Option<f64>), note: String) {
        self.problems_of(name, run);
        self.rows.push(Row {
            name: name.to_string(),
            count: run.units,
            rate: run.rate(),
            p50: run.hist.percentile(50.0),
            p99: run.hist.percentile(99.0),
            errors: run.errors,
            ratio: self.floor_rate.map(|f| run.rate() / f),
            rss_before: rss.0,
            rss_after: rss.1,
            note,
        });
    }
}

fn ms(d: Option<Duration>) -> String {
    d.map_or("-".to_string(), |d| format!("{:.2}", d.as_secs_f64() * 1000.0))
}

fn mb(v: Option<f64>) -> String {
    v.map_or("-".to_string(), |v| format!("{v:.1}"))
}

fn k(n: usize) -> String {
    if n >= 1_000 && n.is_multiple_of(1_000) { format!("{}k", n / 1_000) } else { n.to_string() }
}

/// Runs a warm-up and then `requests` replays of `request` on `server`.
async fn replay(
    cfg: &Config,
    addr: SocketAddr,
    request: Vec<u8>,
    marker: &str,
    requests: usize,
    segment: usize,
) -> Run {
    let job = Arc::new(Job::Replay { request, marker: marker.as_bytes().to_vec() });
    let _ = drive(addr, Arc::clone(&job), cfg.connections, cfg.warmup(requests), 0).await;
    drive(addr, job, cfg.connections, requests, segment).await
}

/// One request on a fresh connection, for set-up: (status, head bytes, body).
async fn probe(addr: SocketAddr, request: &[u8]) -> (u16, usize, Vec<u8>) {
    let mut c = Conn::new(addr);
    let (status, head) = tokio::time::timeout(REQUEST_TIMEOUT, c.roundtrip_head(request))
        .await
        .expect("set-up request timed out")
        .unwrap_or_else(|e| panic!("set-up request to {addr}: {e}"));
    (status, head, c.body().to_vec())
}

async fn login_once(server: &Server) -> String {
    let mut conn = Conn::new(server.addr);
    let mut http = 0;
    tokio::time::timeout(REQUEST_TIMEOUT * 3, device_login(&mut conn, &server.host(), &mut http))
        .await
        .expect("device login timed out")
        .unwrap_or_else(|e| panic!("device login on {}: {e}\n{}", server.name, server.log_tail()))
}

fn grc_request(host: &str, token: &str) -> Vec<u8> {
    request("GET", host, GRC_PATH, &[("x-amz-sso_bearer_token", token)], "")
}

/// Floor, GetRoleCredentials and GetCallerIdentity.
async fn scenario_replays(cfg: &Config, report: &mut Report) {
    let idc = Server::start("tobira-idc", idc_command(&cfg.idc_bin, &[]));
    let host = idc.host();
    let token = login_once(&idc).await;
    let grc = grc_request(&host, &token);
    let (status, grc_head, grc_body) = probe(idc.addr, &grc).await;
    assert_eq!(status, 200, "GetRoleCredentials: {}", String::from_utf8_lossy(&grc_body));
    assert!(find(&grc_body, b"\"roleCredentials\"").is_some(), "GetRoleCredentials body without roleCredentials");

    // The floors, with a body of the same size, each in its own process:
    // hyper (the HTTP stack under tobira-idc) is the floor the targets are
    // relative to; a raw tokio loop shows what this generator can drive.
    let n = cfg.requests;
    let segment = if n >= 1_000_000 { 100_000 } else { (n / 10).max(1) };
    for kind in ["raw", "hyper"] {
        let exe = std::env::current_exe().expect("current_exe");
        let mut cmd = child_command(&exe);
        cmd.args([FLOOR_FLAG, &grc_body.len().to_string(), kind]);
        let floor = Server::start(&format!("{kind} floor server"), cmd);
        let floor_req = request("GET", &floor.host(), GRC_PATH, &[("x-amz-sso_bearer_token", &token)], "");
        let (status, floor_head, floor_body) = probe(floor.addr, &floor_req).await;
        assert_eq!(status, 200);
        assert_eq!(floor_body.len(), grc_body.len());
        eprintln!(
            "response sizes: GetRoleCredentials head {grc_head} + body {} bytes; {kind} floor head {floor_head} + body {} bytes",
            grc_body.len(),
            floor_body.len()
        );
        eprintln!("{kind} floor: {n} requests …");
        let before = floor.rss_mb();
        let run = replay(cfg, floor.addr, floor_req, "\"pad\"", n, 0).await;
        floor.check_alive();
        let after = floor.rss_mb();
        let (name, note) = if kind == "hyper" {
            report.details.push(format!(
                "response bytes (head + body): GetRoleCredentials {grc_head} + {}, hyper floor {floor_head} + {}",
                grc_body.len(),
                floor_body.len()
            ));
            report.floor_rate = Some(run.rate());
            ("floor: hyper do-nothing server", format!("THE floor; body {} B like GetRoleCredentials", grc_body.len()))
        } else {
            ("raw tokio do-nothing server", "not a floor: this generator's ceiling".to_string())
        };
        report.replay_row(name, &run, (before, after), note);
    }
    // The raw row came before the floor was known.
    if let (Some(row), Some(floor)) = (report.rows.first_mut(), report.floor_rate) {
        row.ratio = Some(row.rate / floor);
    }

    eprintln!("tobira-idc GetRoleCredentials: {n} requests …");
    let before = idc.rss_mb();
    let run = replay(cfg, idc.addr, grc, "\"roleCredentials\"", n, segment).await;
    idc.check_alive();
    let after = idc.rss_mb();
    let segs = run.segment_rates();
    let note = if segs.is_empty() {
        String::new()
    } else {
        let min = segs.iter().copied().fold(f64::INFINITY, f64::min);
        let max = segs.iter().copied().fold(0.0, f64::max);
        format!(
            "first {}: {:.0}/s; per {}: min {:.0}/s max {:.0}/s last {:.0}/s",
            k(segment),
            segs[0],
            k(segment),
            min,
            max,
            segs[segs.len() - 1]
        )
    };
    if !segs.is_empty() {
        let list: Vec<String> = segs.iter().map(|r| format!("{r:.0}")).collect();
        report.details.push(format!("GetRoleCredentials req/s per {} requests: {}", k(segment), list.join(" ")));
    }
    let growth = before.zip(after).map(|(b, a)| a - b);
    report.grc = Some((run.rate(), run.hist.percentile(99.0), growth, run.units));
    report.replay_row("tobira-idc GetRoleCredentials", &run, (before, after), note);

    let n = cfg.sts_requests;
    eprintln!("tobira-idc GetCallerIdentity: {n} requests …");
    let before = idc.rss_mb();
    let run = replay(
        cfg,
        idc.addr,
        signed_get_caller_identity(idc.addr),
        "<Arn>arn:aws:iam::123456789012:user/bob</Arn>",
        n,
        0,
    )
    .await;
    idc.check_alive();
    let after = idc.rss_mb();
    report.replay_row("tobira-idc STS GetCallerIdentity", &run, (before, after), String::new());
}

/// Device logins in batches on a fresh server.
async fn scenario_logins(cfg: &Config, report: &mut Report) {
    let idc = Server::start("tobira-idc (logins)", idc_command(&cfg.idc_bin, &[]));
    let job = Arc::new(Job::Login { host: idc.host() });
    let rss0 = idc.rss_mb();
    let mut batches = Vec::new();
    for b in 1..=cfg.login_batches {
        let before = idc.rss_mb();
        let run = drive(idc.addr, Arc::clone(&job), cfg.connections, cfg.login_batch, 0).await;
        idc.check_alive();
        let after = idc.rss_mb();
        eprintln!("login batch {b}/{}: {:.0} logins/s", cfg.login_batches, run.rate());
        batches.push((run, before, after));
    }
    let rss_end = idc.rss_mb();
    let logins: usize = batches.iter().map(|(r, _, _)| r.units).sum();
    let per_login_kb = rss0.zip(rss_end).map(|(a, b)| (b - a) * 1024.0 / logins as f64);
    let rates: Vec<f64> = batches.iter().map(|(r, _, _)| r.rate()).collect();
    let (min, max) = (rates.iter().copied().fold(f64::INFINITY, f64::min), rates.iter().copied().fold(0.0, f64::max));
    let last = batches.len() - 1;
    let list: Vec<String> = rates.iter().map(|r| format!("{r:.0}")).collect();
    report.details.push(format!("logins/s per batch of {}: {}", cfg.login_batch, list.join(" ")));
    for (i, (run, before, after)) in batches.iter().enumerate() {
        let name = format!("login batch {}/{} (logins)", i + 1, batches.len());
        report.problems_of(&name, run);
        if i != 0 && i != last {
            continue;
        }
        let note = if i == 0 {
            format!("{} HTTP requests: {:.0} req/s", run.http, run.http as f64 / run.elapsed.as_secs_f64())
        } else {
            format!(
                "all {} batches: min {min:.0} max {max:.0} logins/s; RSS {} KB/login",
                batches.len(),
                per_login_kb.map_or("-".to_string(), |v| format!("{v:.2}"))
            )
        };
        report.rows.push(Row {
            name,
            count: run.units,
            rate: run.rate(),
            p50: run.hist.percentile(50.0),
            p99: run.hist.percentile(99.0),
            errors: run.errors,
            ratio: None,
            rss_before: *before,
            rss_after: *after,
            note,
        });
    }
    report.login = Some((rates[0], rates[last], per_login_kb));
}

/// A directory with `n` accounts, all visible to alice: ReadOnly through her
/// group on every account, FullAccess directly on every other account (so
/// some accounts are reached twice and must be listed once).
fn directory_toml(n: usize) -> String {
    let mut t = format!(
        "[instance]\nstart_url = \"{START_URL}\"\nregion = \"us-east-1\"\n\n\
         [[users]]\nname = \"alice\"\nemail = \"alice@example.com\"\ndisplay_name = \"Alice Example\"\ngroups = [\"engineers\"]\n\n\
         [[groups]]\nname = \"engineers\"\n\n\
         [[permission_sets]]\nname = \"ReadOnly\"\nsession_hours = 1\npolicies = [\"ReadOnlyAccess\"]\n\n\
         [[permission_sets]]\nname = \"FullAccess\"\nsession_hours = 1\npolicies = [\"AdministratorAccess\"]\n\n"
    );
    for i in 0..n {
        let id = 100_000_000_000 + i;
        t.push_str(&format!(
            "[[accounts]]\nid = \"{id:012}\"\nname = \"Account {i}\"\nemail = \"account{i}@example.com\"\n\n"
        ));
    }
    for i in 0..n {
        let id = 100_000_000_000 + i;
        t.push_str(&format!(
            "[[assignments]]\nprincipal = \"group:engineers\"\naccount = \"{id:012}\"\npermission_set = \"ReadOnly\"\n\n"
        ));
        if i % 2 == 0 {
            t.push_str(&format!(
                "[[assignments]]\nprincipal = \"user:alice\"\naccount = \"{id:012}\"\npermission_set = \"FullAccess\"\n\n"
            ));
        }
    }
    t
}

/// Percent-encodes a query value.
fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Errors of a sequential scenario.
#[derive(Default)]
struct ErrorLog {
    count: usize,
    samples: Vec<String>,
}

impl ErrorLog {
    fn note(&mut self, e: String, conn: &mut Conn) {
        conn.reset();
        self.count += 1;
        if self.samples.len() < ERROR_SAMPLES {
            self.samples.push(e);
        }
    }
}

/// One ListAccounts page of 100: (its time, the JSON).
async fn list_page(
    conn: &mut Conn,
    host: &str,
    token: &str,
    next: Option<&str>,
) -> Result<(Duration, serde_json::Value), String> {
    let path = match next {
        Some(t) => format!("/assignment/accounts?max_result=100&next_token={}", query_escape(t)),
        None => "/assignment/accounts?max_result=100".to_string(),
    };
    let req = request("GET", host, &path, &[("x-amz-sso_bearer_token", token)], "");
    let t0 = Instant::now();
    let status = tokio::time::timeout(LIST_TIMEOUT, conn.roundtrip(&req))
        .await
        .map_err(|_| format!("no response within {LIST_TIMEOUT:?}"))??;
    let took = t0.elapsed();
    if status != 200 {
        return Err(format!("status {status}: {}", conn.body_text(300)));
    }
    let v: serde_json::Value = serde_json::from_slice(conn.body()).map_err(|e| format!("not JSON: {e}"))?;
    Ok((took, v))
}

/// ListAccounts page times for directories of several sizes (one connection).
async fn scenario_list_accounts(cfg: &Config, report: &mut Report) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut means = Vec::new();
    for n in [10usize, 1_000, 10_000] {
        let path = dir.path().join(format!("accounts-{n}.toml"));
        std::fs::write(&path, directory_toml(n)).expect("write directory");
        let idc = Server::start(
            &format!("tobira-idc ({n} accounts)"),
            idc_command(&cfg.idc_bin, &["--directory", path.to_str().expect("UTF-8 temp path")]),
        );
        let host = idc.host();
        let token = login_once(&idc).await;
        let rss_before = idc.rss_mb();
        let mut conn = Conn::new(idc.addr);
        let started = Instant::now();
        // The walk gets two thirds of the time cap, the repeats the rest.
        let walk_deadline = started + Duration::from_secs(cfg.list_seconds) * 2 / 3;
        let deadline = started + Duration::from_secs(cfg.list_seconds);
        let (mut all, mut first, mut middle) = (Histogram::new(), Histogram::new(), Histogram::new());
        let mut errs = ErrorLog::default();
        // Every page once (following nextToken), remembering the token of
        // the middle one.
        let expected_pages = n.div_ceil(100);
        let middle_index = (expected_pages > 1).then_some(expected_pages / 2);
        let (mut ids, mut listed, mut walked, mut complete) = (HashSet::new(), 0usize, 0usize, false);
        let mut middle_token: Option<String> = None;
        let mut next: Option<String> = None;
        while walked == 0 || Instant::now() < walk_deadline {
            let is_middle = Some(walked) == middle_index;
            if is_middle {
                middle_token.clone_from(&next);
            }
            match list_page(&mut conn, &host, &token, next.as_deref()).await {
                Ok((t, v)) => {
                    all.record(t);
                    if walked == 0 {
                        first.record(t);
                    } else if is_middle {
                        middle.record(t);
                    }
                    walked += 1;
                    for a in v["accountList"].as_array().map(Vec::as_slice).unwrap_or_default() {
                        listed += 1;
                        ids.insert(a["accountId"].as_str().unwrap_or("").to_string());
                    }
                    next = v["nextToken"].as_str().filter(|t| !t.is_empty()).map(str::to_string);
                    if next.is_none() {
                        complete = true;
                        break;
                    }
                }
                Err(e) => {
                    errs.note(e, &mut conn);
                    break;
                }
            }
        }
        if complete && (ids.len() != n || listed != n) {
            errs.count += 1;
            errs.samples.push(format!("{n} accounts: the pages listed {listed} accounts, {} distinct", ids.len()));
        }
        // The first and the middle page again, in turn, each at least once
        // more (even past the time cap).
        for round in 0..cfg.list_repeats {
            if round > 0 && Instant::now() > deadline {
                break;
            }
            let mut pages: Vec<(Option<&str>, &mut Histogram)> = vec![(None, &mut first)];
            if let Some(t) = middle_token.as_deref() {
                pages.push((Some(t), &mut middle));
            }
            for (page_token, hist) in pages {
                match list_page(&mut conn, &host, &token, page_token).await {
                    Ok((t, _)) => {
                        hist.record(t);
                        all.record(t);
                    }
                    Err(e) => errs.note(e, &mut conn),
                }
            }
        }
        idc.check_alive();
        let rss_after = idc.rss_mb();
        let mean_ms = all.mean().map(|d| d.as_secs_f64() * 1000.0);
        means.push((n, mean_ms));
        let name = format!("ListAccounts page, {n} accounts (pages)");
        if errs.count > 0 {
            let mut p = format!("{name}: {} errors, e.g.:", errs.count);
            for s in &errs.samples {
                p.push_str(&format!("\n    {s}"));
            }
            report.problems.push(p);
        }
        let total_s = all.sum_us as f64 / 1e6;
        report.rows.push(Row {
            name,
            count: all.total as usize,
            rate: if total_s > 0.0 { all.total as f64 / total_s } else { 0.0 },
            p50: all.percentile(50.0),
            p99: all.percentile(99.0),
            errors: errs.count,
            ratio: None,
            rss_before,
            rss_after,
            note: format!(
                "mean {} ms; first page mean {} ms, middle {} ms; walked {walked}/{expected_pages} pages{}",
                ms(all.mean()),
                ms(first.mean()),
                ms(middle.mean()),
                if complete { "" } else { " (time cap hit)" }
            ),
        });
        eprintln!("ListAccounts with {n} accounts: mean page {} ms", ms(all.mean()));
    }
    report.list_mean_ms = means;
}

async fn scenario_moto(cfg: &Config, report: &mut Report) {
    let Ok(addr) = cfg.moto else { return };
    let n = cfg.moto_requests;
    eprintln!("moto GetCallerIdentity: {n} requests …");
    let run = replay(cfg, addr, signed_get_caller_identity(addr), "<GetCallerIdentityResult>", n, 0).await;
    report.replay_row("moto STS GetCallerIdentity", &run, (None, None), String::new());
}

fn print_report(cfg: &Config, report: &Report) {
    println!();
    println!(
        "{} connections (ListAccounts: 1); {} CPUs shared by this load generator and the server under test \
         (separate processes); tobira-idc in memory (no --db)",
        cfg.connections,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );
    println!();
    println!(
        "{:<40} {:>9} {:>9} {:>8} {:>8} {:>7} {:>7} {:>8} {:>8}  notes",
        "scenario", "count", "per s", "p50 ms", "p99 ms", "errors", "/floor", "RSS0 MB", "RSS1 MB"
    );
    for r in &report.rows {
        println!(
            "{:<40} {:>9} {:>9.0} {:>8} {:>8} {:>7} {:>7} {:>8} {:>8}  {}",
            r.name,
            r.count,
            r.rate,
            ms(r.p50),
            ms(r.p99),
            r.errors,
            r.ratio.map_or("-".to_string(), |v| format!("{:.0}%", v * 100.0)),
            mb(r.rss_before),
            mb(r.rss_after),
            r.note
        );
    }
    if let Err(why) = &cfg.moto {
        println!("{:<40} skipped: {why}", "moto STS GetCallerIdentity");
    }
    println!();
    for d in &report.details {
        println!("{d}");
    }
    if !report.details.is_empty() {
        println!();
    }
    let verdict = |ok: bool| if ok { "PASS" } else { "FAIL" };
    if let (Some((rate, p99, growth, n)), Some(floor)) = (report.grc, report.floor_rate) {
        let ratio = rate / floor;
        println!(
            "{}  GetRoleCredentials {rate:.0} req/s = {:.0}% of the floor's {floor:.0} req/s (target >= 50%)",
            verdict(ratio >= 0.5),
            ratio * 100.0
        );
        let p99_ms = p99.map_or(f64::INFINITY, |d| d.as_secs_f64() * 1000.0);
        println!("{}  GetRoleCredentials p99 {p99_ms:.2} ms (target < 5 ms)", verdict(p99_ms < 5.0));
        let scope = if n < 1_000_000 { " (the target is for 1,000,000; this run is shorter)" } else { "" };
        match growth {
            Some(g) => println!(
                "{}  tobira-idc RSS growth over {n} GetRoleCredentials: {g:.1} MB (target < 20 MB){scope}",
                verdict(g < 20.0)
            ),
            None => println!("-     tobira-idc RSS growth: not measurable (no /proc)"),
        }
    }
    if let Some((first, last, per_login)) = report.login {
        let r = last / first;
        println!(
            "{}  login throughput last/first batch {r:.2} ({last:.0} vs {first:.0} logins/s; flat = >= 0.80); \
             RSS {} KB per login",
            verdict(r >= 0.8),
            per_login.map_or("-".to_string(), |v| format!("{v:.2}"))
        );
    }
    let mean = |n: usize| report.list_mean_ms.iter().find(|(m, _)| *m == n).and_then(|(_, v)| *v);
    if let (Some(small), Some(mid), Some(large)) = (mean(10), mean(1_000), mean(10_000)) {
        let r = large / small;
        println!(
            "{}  ListAccounts mean page time 10,000 / 10 accounts {r:.2} ({large:.2} vs {small:.2} ms; \
             10,000 / 1,000: {:.2}; flat = <= 2)",
            verdict(r <= 2.0),
            large / mid
        );
    }
    if !report.problems.is_empty() {
        println!();
        for p in &report.problems {
            println!("note: {p}");
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == FLOOR_FLAG) {
        let bytes = args.get(i + 1).and_then(|b| b.parse().ok()).expect("--floor-server BODY_BYTES hyper|raw");
        return floor_server(bytes, args.get(i + 2).map_or("hyper", String::as_str));
    }
    let cfg = Config::from_env();
    eprintln!(
        "tobira-idc: {}; {} connections; {} requests (floor, GetRoleCredentials), {} STS, {} × {} logins",
        cfg.idc_bin.display(),
        cfg.connections,
        cfg.requests,
        cfg.sts_requests,
        cfg.login_batches,
        cfg.login_batch
    );
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    let report = runtime.block_on(async {
        stop_children_on_signal();
        let mut report = Report::default();
        scenario_replays(&cfg, &mut report).await;
        scenario_logins(&cfg, &mut report).await;
        scenario_list_accounts(&cfg, &mut report).await;
        scenario_moto(&cfg, &mut report).await;
        report
    });
    print_report(&cfg, &report);
    let failed = report.rows.iter().any(|r| r.errors > 0);
    if failed {
        println!("NOT VALID: a run with failed requests measures nothing");
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
