//! The accept loop: HTTP/1.1 with keep-alive, a deadline for every request
//! head (which also closes idle keep-alive connections and clients that
//! send headers slowly), a cap on connections served at once, and a
//! graceful stop.
//!
//! Beyond the cap, as many connections again wait (unread) for a slot, for
//! at most the head deadline, and as many again wait half a second for room;
//! beyond that, a new connection is closed (after at most 20 ms waiting for
//! room in that overflow). So one client cannot
//! exhaust file descriptors (at most three times the cap are open), and the
//! accept loop never stops draining the kernel's backlog, so a flood never
//! leaves other clients hanging in it.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How a new connection got in.
enum Admission {
    Now(OwnedSemaphorePermit),
    /// In the overflow: waits for admission.
    Later(OwnedSemaphorePermit),
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub header_read_timeout: Duration,
    pub max_connections: usize,
}

/// How long a new connection may wait for admission when the server is full.
const ADMISSION_WAIT: Duration = Duration::from_millis(500);

/// How long the accept loop waits for room in the overflow.
const OVERFLOW_WAIT: Duration = Duration::from_millis(20);

/// How long a stop waits for requests in flight.
const DRAIN: Duration = Duration::from_secs(5);

pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let max = limits.max_connections.max(1);
    let serving = Arc::new(Semaphore::new(max));
    let admitted = Arc::new(Semaphore::new(max.saturating_mul(2)));
    let overflow = Arc::new(Semaphore::new(max));
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout).keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of descriptors or a reset before accept: wait a moment, go on.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // A full house: the newcomer waits a moment for room in a bounded
        // overflow, else is turned away. The accept loop waits at most a
        // blink for the overflow, so the backlog keeps draining.
        let admission = match admitted.clone().try_acquire_owned() {
            Ok(a) => Admission::Now(a),
            Err(_) => match tokio::time::timeout(OVERFLOW_WAIT, overflow.clone().acquire_owned()).await {
                Ok(Ok(o)) => Admission::Later(o),
                _ => {
                    drop(stream);
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let (admitted, serving, builder, router, watcher) =
            (admitted.clone(), serving.clone(), builder.clone(), router.clone(), graceful.watcher());
        let wait = limits.header_read_timeout;
        tokio::spawn(async move {
            // Waiting connections whose client went away leave at once.
            let _admission = match admission {
                Admission::Now(a) => a,
                Admission::Later(o) => {
                    let Some(a) = wait_unless_gone(&stream, ADMISSION_WAIT, admitted.acquire_owned()).await else {
                        return;
                    };
                    drop(o);
                    a
                }
            };
            let Some(_slot) = wait_unless_gone(&stream, wait, serving.acquire_owned()).await else { return };
            let service = TowerToHyperService::new(router);
            let _ = watcher.watch(builder.serve_connection(TokioIo::new(stream), service)).await;
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(DRAIN, graceful.shutdown()).await;
    Ok(())
}

/// Waits for a permit for at most `limit`, giving up early if the client
/// closes the connection meanwhile.
async fn wait_unless_gone<E>(
    stream: &TcpStream,
    limit: Duration,
    permit: impl Future<Output = Result<OwnedSemaphorePermit, E>>,
) -> Option<OwnedSemaphorePermit> {
    tokio::select! {
        p = permit => p.ok(),
        () = gone(stream) => None,
        () = tokio::time::sleep(limit) => None,
    }
}

/// Completes when the peer has closed the connection (or it failed);
/// never, once it has sent data.
async fn gone(stream: &TcpStream) {
    let mut byte = [0u8; 1];
    loop {
        if stream.readable().await.is_err() {
            return;
        }
        match stream.peek(&mut byte).await {
            Ok(0) | Err(_) => return,
            Ok(_) => std::future::pending::<()>().await,
        }
    }
}
