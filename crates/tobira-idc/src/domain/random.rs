//! Randomness for every identifier and secret the server hands out.

use base64::Engine as _;

/// `n` random bytes.
pub(crate) fn bytes(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    fill(&mut buf);
    buf
}

/// `n` random bytes, base64url without padding.
pub(crate) fn token(n: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes(n))
}

/// `n` characters drawn uniformly from `alphabet` (rejection sampling, so an
/// alphabet whose size does not divide 256 has no bias).
pub(crate) fn from(alphabet: &[u8], n: usize) -> String {
    debug_assert!(!alphabet.is_empty() && alphabet.len() <= 256);
    let limit = 256 - 256 % alphabet.len();
    let mut out = String::with_capacity(n);
    while out.len() < n {
        for b in bytes(n * 2) {
            if usize::from(b) < limit && out.len() < n {
                out.push(alphabet[usize::from(b) % alphabet.len()] as char);
            }
        }
    }
    out
}

/// A unique id in the 8-4-4-4-12 hex form (`x-amzn-RequestId`, STS `RequestId`).
pub(crate) fn request_id() -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut raw = [0u8; 16];
    fill(&mut raw);
    let mut out = String::with_capacity(36);
    for (i, b) in raw.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 15)] as char);
    }
    out
}

/// Bytes from the OS generator, fetched 4 KiB at a time per thread so a
/// request costs no system call; each byte is handed out once.
fn fill(buf: &mut [u8]) {
    const POOL: usize = 4096;
    thread_local! {
        static POOLED: std::cell::RefCell<(Vec<u8>, usize)> = const { std::cell::RefCell::new((Vec::new(), 0)) };
    }
    if buf.len() > POOL / 4 {
        os_fill(buf);
        return;
    }
    POOLED.with(|p| {
        let mut p = p.borrow_mut();
        let (pool, used) = &mut *p;
        if pool.len() - *used < buf.len() {
            pool.resize(POOL, 0);
            os_fill(pool);
            *used = 0;
        }
        buf.copy_from_slice(&pool[*used..*used + buf.len()]);
        // Handed-out bytes are wiped from the pool.
        pool[*used..*used + buf.len()].fill(0);
        *used += buf.len();
    });
}

fn os_fill(buf: &mut [u8]) {
    #[allow(clippy::expect_used)] // no entropy source is not a state to recover from
    getrandom::fill(buf).expect("the OS random number generator is available");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pooled_bytes_are_never_handed_out_twice() {
        let a: Vec<Vec<u8>> = (0..2000).map(|_| bytes(16)).collect();
        let distinct: std::collections::HashSet<_> = a.iter().collect();
        assert_eq!(distinct.len(), a.len());
        assert!(a.iter().all(|x| x.iter().any(|b| *b != 0)));
        assert_eq!(from(b"AB", 64).len(), 64);
        assert_eq!(bytes(5000).len(), 5000, "large requests bypass the pool");
        let id = request_id();
        assert_eq!(id.split('-').map(str::len).collect::<Vec<_>>(), [8, 4, 4, 4, 12], "{id}");
        assert_ne!(id, request_id());
    }
}
