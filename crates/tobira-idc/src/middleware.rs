//! Cross-cutting work as middleware, so handlers only do their protocol:
//! per-operation counters, injected latency and one-shot errors (answered in
//! the protocol's own error shape), the portal's rate limit, and the
//! deadline for a request's body and answer.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};

use crate::Idc;
use crate::wire::{self, Protocol};

/// Calls per operation, lock-free (counting must not cost a lock or a write).
#[derive(Debug)]
pub(crate) struct Counters(HashMap<&'static str, AtomicI64>);

impl Counters {
    pub(crate) fn new(operations: &[&'static str]) -> Counters {
        Counters(operations.iter().map(|o| (*o, AtomicI64::new(0))).collect())
    }

    fn add(&self, op: &str) {
        if let Some(c) = self.0.get(op) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn get(&self, op: &str) -> i64 {
        self.0.get(op).map_or(0, |c| c.load(Ordering::Relaxed))
    }

    /// Operations called at least once.
    pub(crate) fn snapshot(&self) -> BTreeMap<String, i64> {
        self.0.iter().map(|(k, v)| (k.to_string(), v.load(Ordering::Relaxed))).filter(|(_, v)| *v > 0).collect()
    }
}

/// What the middleware needs to know of a route.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Route {
    /// The operation, or `None` when it is named in the body (STS).
    pub operation: Option<&'static str>,
    pub protocol: Protocol,
    /// Subject to the portal's rate limit.
    pub portal: bool,
}

/// What to do to one call.
#[derive(Debug)]
pub(crate) struct Fault {
    pub latency_ms: u64,
    pub one_shot: Option<crate::settings::OneShot>,
    pub portal_rps_limit: Option<u32>,
}

/// Bodies the middleware reads to find an STS action are capped at this.
const MAX_QUERY_BODY: usize = 64 * 1024;

/// Counts the call, then applies latency, a one-shot error and the portal
/// rate limit, in that order.
pub(crate) async fn operations(State((idc, route)): State<(Idc, Route)>, req: Request, next: Next) -> Response {
    let mut protocol = route.protocol;
    let (req, operation) = match route.operation {
        Some(op) => (req, Some(op)),
        None if req.headers().contains_key("x-amz-target") => {
            protocol = Protocol::AwsJson;
            let op = crate::aws_admin::operation(req.headers());
            (req, op)
        }
        None => {
            let (parts, body) = req.into_parts();
            let Ok(bytes) = axum::body::to_bytes(body, MAX_QUERY_BODY).await else {
                return wire::error(route.protocol, 413, "RequestEntityTooLarge", "The request body is too large.");
            };
            let op = crate::sts::action(&bytes, parts.uri.query());
            (Request::from_parts(parts, Body::from(bytes)), op)
        }
    };
    let Some(op) = operation else { return next.run(req).await };
    idc.counter_set().add(op);
    let Fault { latency_ms, one_shot, portal_rps_limit: limit } = idc.take_fault(op);
    if latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(latency_ms)).await;
    }
    if let Some(o) = one_shot {
        return wire::error(protocol, o.status, &o.code, "injected fault");
    }
    if route.portal
        && let Some(limit) = limit
    {
        let now = idc.core().now();
        let over = {
            let mut w = idc.portal_window().lock().unwrap_or_else(|e| e.into_inner());
            if w.0 != now {
                *w = (now, 0);
            }
            w.1 += 1;
            w.1 > limit
        };
        if over {
            return wire::error(protocol, 429, "TooManyRequestsException", "Rate exceeded");
        }
    }
    next.run(req).await
}

/// A request whose body has not arrived and been answered within the
/// deadline gets 408 and its connection is closed (slow-body clients).
pub(crate) async fn deadline(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(r) => r,
        Err(_) => {
            let mut r = (StatusCode::REQUEST_TIMEOUT, "request timed out\n").into_response();
            r.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
            r
        }
    }
}
