//! Benchmark (not a test): request throughput and latency of tobira-idc's
//! GetRoleCredentials (SSO portal) and STS GetCallerIdentity at 64
//! concurrent HTTP/1.1 keep-alive connections, and moto's STS
//! GetCallerIdentity in the same run. Prints a table.
//!
//! Run with `scripts/bench-idc` (it sets up the pinned moto and starts it).
//! Environment: `TOBIRA_BENCH_MOTO_URL` (`http://127.0.0.1:PORT` of a running
//! moto server; absent = moto skipped), `BENCH_REQUESTS` (per target, default
//! 20000), `BENCH_SECONDS` (time cap per target, default 5),
//! `BENCH_CONNECTIONS` (default 64). Only loopback addresses are ever used.
// A benchmark binary: it reads its settings from the environment, prints its
// table, and fails loudly (panics) on set-up errors.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::disallowed_methods
)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use tobira_idc::{Idc, Settings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Barrier;

/// bob's long-term keys in the demo directory.
const BOB_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
const BOB_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const START_URL: &str = "https://d-1234567890.awsapps.com/start";
const GET_CALLER_IDENTITY: &str = "Action=GetCallerIdentity&Version=2011-06-15";
/// No single request (or connect) may take longer than this.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// A response head larger than this is an error, not a reason to buffer on.
const MAX_RESPONSE: usize = 1 << 20;
/// Error examples kept per target.
const ERROR_SAMPLES: usize = 5;

/// One HTTP/1.1 response.
struct Response {
    status: u16,
    body: Vec<u8>,
    /// The server said `Connection: close` (or framed the body by closing).
    close: bool,
}

/// One client connection: reconnects (counted) when the server closed it.
struct Conn {
    addr: SocketAddr,
    stream: Option<TcpStream>,
    buf: Vec<u8>,
    connects: usize,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

impl Conn {
    fn new(addr: SocketAddr) -> Conn {
        Conn { addr, stream: None, buf: Vec::with_capacity(4096), connects: 0 }
    }

    async fn connect(&mut self) -> Result<(), String> {
        let s = TcpStream::connect(self.addr).await.map_err(|e| format!("connect: {e}"))?;
        s.set_nodelay(true).map_err(|e| format!("nodelay: {e}"))?;
        self.stream = Some(s);
        self.buf.clear();
        self.connects += 1;
        Ok(())
    }

    fn reset(&mut self) {
        self.stream = None;
        self.buf.clear();
    }

    /// Writes `request`, reads one response (framed by `Content-Length`, or
    /// by the server closing when it sent none).
    async fn roundtrip(&mut self, request: &[u8]) -> Result<Response, String> {
        if self.stream.is_none() {
            self.connect().await?;
        }
        let stream = self.stream.as_mut().expect("connected above");
        stream.write_all(request).await.map_err(|e| format!("write: {e}"))?;
        let mut chunk = [0u8; 8192];
        let head_end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i + 4;
            }
            if self.buf.len() > MAX_RESPONSE {
                return Err("response head too large".into());
            }
            let n = stream.read(&mut chunk).await.map_err(|e| format!("read: {e}"))?;
            if n == 0 {
                return Err(format!("connection closed before a response ({} bytes read)", self.buf.len()));
            }
            self.buf.extend_from_slice(&chunk[..n]);
        };
        let head = std::str::from_utf8(&self.buf[..head_end]).map_err(|_| "response head is not UTF-8")?;
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or("");
        let status = status_line
            .strip_prefix("HTTP/1.1 ")
            .and_then(|s| s.get(..3))
            .and_then(|s| s.parse::<u16>().ok())
            .ok_or_else(|| format!("bad status line {status_line:?}"))?;
        let (mut length, mut close) = (None, false);
        for line in lines {
            let Some((k, v)) = line.split_once(':') else { continue };
            let v = v.trim();
            if k.eq_ignore_ascii_case("content-length") {
                length = Some(v.parse::<usize>().map_err(|_| format!("bad Content-Length {v:?}"))?);
            } else if k.eq_ignore_ascii_case("connection") {
                close = v.eq_ignore_ascii_case("close");
            } else if k.eq_ignore_ascii_case("transfer-encoding") {
                return Err(format!("unsupported Transfer-Encoding {v:?}"));
            }
        }
        let body = match length {
            Some(len) => {
                if len > MAX_RESPONSE {
                    return Err(format!("response body of {len} bytes"));
                }
                while self.buf.len() < head_end + len {
                    let n = stream.read(&mut chunk).await.map_err(|e| format!("read body: {e}"))?;
                    if n == 0 {
                        return Err("connection closed inside the body".into());
                    }
                    self.buf.extend_from_slice(&chunk[..n]);
                }
                let body = self.buf[head_end..head_end + len].to_vec();
                self.buf.drain(..head_end + len);
                body
            }
            None if close => {
                loop {
                    let n = stream.read(&mut chunk).await.map_err(|e| format!("read body: {e}"))?;
                    if n == 0 {
                        break;
                    }
                    if self.buf.len() > MAX_RESPONSE {
                        return Err("response body too large".into());
                    }
                    self.buf.extend_from_slice(&chunk[..n]);
                }
                let body = self.buf[head_end..].to_vec();
                self.buf.clear();
                body
            }
            None => return Err("response without Content-Length on a kept-alive connection".into()),
        };
        if close {
            self.reset();
        }
        Ok(Response { status, body, close })
    }
}

/// What is measured: one fixed request, replayed.
struct Target {
    name: String,
    addr: SocketAddr,
    request: Vec<u8>,
    /// Every 200 body must contain this.
    marker: &'static str,
}

/// The result of driving one target.
struct Outcome {
    requests: usize,
    elapsed: Duration,
    /// Latencies of the successful requests, sorted.
    latencies: Vec<Duration>,
    errors: usize,
    error_samples: Vec<String>,
    /// TCP connections opened while measuring, beyond the initial ones.
    reconnects: usize,
    /// Responses that carried `Connection: close`.
    closed_by_server: usize,
}

#[derive(Default)]
struct WorkerResult {
    latencies: Vec<Duration>,
    errors: usize,
    error_samples: Vec<String>,
    connects_after_start: usize,
    closed_by_server: usize,
    requests: usize,
}

/// Drives `target` over `connections` connections until `max_requests` are
/// sent or `max_time` has passed (plus at most one request timeout).
async fn drive(target: &Arc<Target>, connections: usize, max_requests: usize, max_time: Duration) -> Outcome {
    let next = Arc::new(AtomicUsize::new(0));
    let barrier = Arc::new(Barrier::new(connections + 1));
    let mut workers = Vec::with_capacity(connections);
    for _ in 0..connections {
        let (target, next, barrier) = (Arc::clone(target), Arc::clone(&next), Arc::clone(&barrier));
        workers.push(tokio::spawn(async move {
            let mut conn = Conn::new(target.addr);
            // Connect before the clock starts; a failure here is retried
            // (and counted) by the first request.
            let _ = tokio::time::timeout(REQUEST_TIMEOUT, conn.connect()).await;
            let initial = conn.connects;
            barrier.wait().await;
            let deadline = Instant::now() + max_time;
            let mut r = WorkerResult::default();
            while Instant::now() < deadline && next.fetch_add(1, Ordering::Relaxed) < max_requests {
                r.requests += 1;
                let t0 = Instant::now();
                let problem = match tokio::time::timeout(REQUEST_TIMEOUT, conn.roundtrip(&target.request)).await {
                    Ok(Ok(resp)) => {
                        r.closed_by_server += usize::from(resp.close);
                        let text = String::from_utf8_lossy(&resp.body);
                        if resp.status == 200 && text.contains(target.marker) {
                            r.latencies.push(t0.elapsed());
                            None
                        } else {
                            Some(format!("status {}: {}", resp.status, text.chars().take(300).collect::<String>()))
                        }
                    }
                    Ok(Err(e)) => {
                        conn.reset();
                        Some(e)
                    }
                    Err(_) => {
                        conn.reset();
                        Some(format!("no response within {REQUEST_TIMEOUT:?}"))
                    }
                };
                if let Some(p) = problem {
                    r.errors += 1;
                    if r.error_samples.len() < ERROR_SAMPLES {
                        r.error_samples.push(p);
                    }
                }
            }
            r.connects_after_start = conn.connects - initial;
            r
        }));
    }
    barrier.wait().await;
    let start = Instant::now();
    let mut out = Outcome {
        requests: 0,
        elapsed: Duration::ZERO,
        latencies: Vec::new(),
        errors: 0,
        error_samples: Vec::new(),
        reconnects: 0,
        closed_by_server: 0,
    };
    for w in workers {
        let r = w.await.expect("a load worker panicked");
        out.requests += r.requests;
        out.latencies.extend(r.latencies);
        out.errors += r.errors;
        out.reconnects += r.connects_after_start;
        out.closed_by_server += r.closed_by_server;
        for s in r.error_samples {
            if out.error_samples.len() < ERROR_SAMPLES {
                out.error_samples.push(s);
            }
        }
    }
    out.elapsed = start.elapsed();
    out.latencies.sort_unstable();
    out
}

/// Nearest-rank percentile of sorted latencies.
fn percentile(sorted: &[Duration], p: f64) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// A plain request to set things up (not measured).
async fn call(addr: SocketAddr, method: &str, path: &str, body: &str) -> Response {
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut c = Conn::new(addr);
    tokio::time::timeout(REQUEST_TIMEOUT, c.roundtrip(req.as_bytes())).await.expect("set-up request timed out").unwrap()
}

fn json(resp: &Response, what: &str) -> serde_json::Value {
    assert_eq!(resp.status, 200, "{what}: {}", String::from_utf8_lossy(&resp.body));
    serde_json::from_slice(&resp.body).unwrap()
}

/// Device authorization approved as `user` (Idc::approve_device): the SSO access token.
async fn device_login(idc: &Idc, addr: SocketAddr, user: &str) -> String {
    let reg = json(
        &call(
            addr,
            "POST",
            "/client/register",
            r#"{"clientName":"bench","clientType":"public","scopes":["sso:account:access"]}"#,
        )
        .await,
        "RegisterClient",
    );
    let (id, secret) = (reg["clientId"].as_str().unwrap(), reg["clientSecret"].as_str().unwrap());
    let auth = serde_json::json!({ "clientId": id, "clientSecret": secret, "startUrl": START_URL }).to_string();
    let auth = json(&call(addr, "POST", "/device_authorization", &auth).await, "StartDeviceAuthorization");
    idc.approve_device(auth["userCode"].as_str().unwrap(), user).unwrap();
    let tok = serde_json::json!({
        "clientId": id,
        "clientSecret": secret,
        "grantType": "urn:ietf:params:oauth:grant-type:device_code",
        "deviceCode": auth["deviceCode"],
    })
    .to_string();
    let tok = json(&call(addr, "POST", "/token", &tok).await, "CreateToken");
    tok["accessToken"].as_str().unwrap().to_string()
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

/// `http://127.0.0.1:PORT[/]` → its address; anything not on loopback is refused.
fn loopback_addr(url: &str) -> Result<SocketAddr, String> {
    let authority = url.strip_prefix("http://").ok_or("not an http:// URL")?.trim_end_matches('/');
    let addr: SocketAddr = authority.parse().map_err(|_| format!("`{authority}` is not IP:PORT"))?;
    if !addr.ip().is_loopback() {
        return Err(format!("{} is not a loopback address", addr.ip()));
    }
    Ok(addr)
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).filter(|v| *v > 0).unwrap_or(default)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let connections = env_usize("BENCH_CONNECTIONS", 64);
    let max_requests = env_usize("BENCH_REQUESTS", 20_000);
    let max_time = Duration::from_secs(env_usize("BENCH_SECONDS", 5) as u64);
    let warmup = (max_requests / 10).clamp(connections, 2_000);
    let moto = match std::env::var("TOBIRA_BENCH_MOTO_URL") {
        Ok(url) if !url.is_empty() => loopback_addr(&url).map_err(|e| format!("TOBIRA_BENCH_MOTO_URL={url}: {e}")),
        _ => Err("TOBIRA_BENCH_MOTO_URL is not set (scripts/bench-idc starts moto and sets it)".to_string()),
    };

    // tobira-idc in this process, on loopback, stopped at the end.
    let idc = Idc::new(Settings::default()).expect("start tobira-idc");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(idc.clone().serve(listener, async move {
        let _ = stopped.await;
    }));

    let token = device_login(&idc, addr, "alice").await;
    let mut targets = vec![
        Target {
            name: "tobira-idc GetRoleCredentials".into(),
            addr,
            request: format!(
                "GET /federation/credentials?role_name=ReadOnly&account_id=111111111111 HTTP/1.1\r\nHost: {addr}\r\nx-amz-sso_bearer_token: {token}\r\n\r\n"
            )
            .into_bytes(),
            marker: "\"roleCredentials\"",
        },
        Target {
            name: "tobira-idc GetCallerIdentity".into(),
            addr,
            request: signed_get_caller_identity(addr),
            marker: "<Arn>arn:aws:iam::123456789012:user/bob</Arn>",
        },
    ];
    if let Ok(moto) = moto {
        targets.push(Target {
            name: "moto GetCallerIdentity".into(),
            addr: moto,
            request: signed_get_caller_identity(moto),
            marker: "<GetCallerIdentityResult>",
        });
    }

    println!(
        "{connections} connections, up to {max_requests} requests or {}s per target (after {warmup} warm-up requests); \
         {} CPUs shared by the load generator and tobira-idc (same process, {} tokio workers)",
        max_time.as_secs(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        tokio::runtime::Handle::current().metrics().num_workers(),
    );
    let mut rows = Vec::new();
    for t in targets {
        let t = Arc::new(t);
        let _ = drive(&t, connections, warmup, max_time).await;
        let o = drive(&t, connections, max_requests, max_time).await;
        rows.push((t, o));
    }
    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(5), server).await;

    println!();
    println!(
        "{:<30} {:>9} {:>8} {:>9} {:>8} {:>8} {:>7}",
        "target", "requests", "seconds", "req/s", "p50 ms", "p99 ms", "errors"
    );
    let ms = |d: Option<Duration>| d.map_or("-".to_string(), |d| format!("{:.2}", d.as_secs_f64() * 1000.0));
    for (t, o) in &rows {
        let secs = o.elapsed.as_secs_f64();
        println!(
            "{:<30} {:>9} {:>8.2} {:>9.0} {:>8} {:>8} {:>7}",
            t.name,
            o.requests,
            secs,
            o.requests as f64 / secs,
            ms(percentile(&o.latencies, 50.0)),
            ms(percentile(&o.latencies, 99.0)),
            o.errors
        );
    }
    if let Err(why) = &moto {
        println!("{:<30} skipped: {why}", "moto GetCallerIdentity");
    }
    println!();
    let mut invalid = false;
    for (t, o) in &rows {
        if o.closed_by_server > 0 || o.reconnects > 0 {
            println!(
                "note: {}: {} responses said `Connection: close`; {} new connections were opened while measuring \
                 (their connect time is in the latencies)",
                t.name, o.closed_by_server, o.reconnects
            );
        }
        if o.errors > 0 {
            invalid = true;
            println!("{}: {} of {} requests failed, e.g.:", t.name, o.errors, o.requests);
            for s in &o.error_samples {
                println!("    {s}");
            }
        }
    }
    if invalid {
        println!("NOT VALID: a run with failed requests measures nothing");
        std::process::exit(1);
    }
}
