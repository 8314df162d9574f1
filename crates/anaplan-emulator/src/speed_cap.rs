//! A per-connection speed cap: with a cap of N bytes/s, every accepted TCP connection reads
//! at most N bytes/s of what its client sends (request heads and bodies) and writes at most
//! N bytes/s of answers, each direction on its own, like a link of that speed per
//! connection. A client that opens several connections gets several times the rate, as it
//! would from a server that limits each connection.
//!
//! Set it with `anaplan-functions emulator --speed-cap BYTES_PER_SEC`,
//! [`EmulatorConfig::speed_cap`](super::EmulatorConfig::speed_cap),
//! [`Emulator::set_speed_cap`] or `POST /_emulator/speed-cap?bytesPerSecond=N` (204; 0 turns
//! it off). A change applies at once to open connections too. Off, a connection is the bare
//! `TcpStream` behind one atomic load per read or write.
//!
//! Each direction is a token bucket kept in virtual time: the instant at which everything
//! granted so far will have passed at the rate. A read or write takes what the bucket holds
//! (at most [`burst`] after an idle spell) and waits on a timer only when it holds less
//! than [`MIN_GRANT`] bytes; a timer that wakes late finds more in the bucket, so the rate
//! stays exact however coarse the timer, and bytes the socket did not take go back.

use super::util::api_error;
use super::{Emulator, Inner};
use axum::extract::{Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// Smallest grant worth waiting for (less only when less was asked for): 8 KiB.
const MIN_GRANT: u64 = 8 * 1024;

/// Largest single read while capped.
const READ_SCRATCH: usize = 64 * 1024;

/// The cap in bytes per second per connection and direction (0 = off), shared by the
/// listener, its connections and the controls.
#[derive(Clone, Debug, Default)]
pub struct SpeedCap(Arc<AtomicU64>);

impl SpeedCap {
    pub fn new(bytes_per_second: u64) -> SpeedCap {
        SpeedCap(Arc::new(AtomicU64::new(bytes_per_second)))
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    pub fn set(&self, bytes_per_second: u64) {
        self.0.store(bytes_per_second, Ordering::Relaxed);
    }
}

/// How long `bytes` take at `rate` bytes/s (rounded up to the nanosecond, so a cap is
/// never exceeded by rounding).
pub fn duration_for(bytes: u64, rate: u64) -> Duration {
    let rate = u128::from(rate.max(1));
    let nanos = (u128::from(bytes) * 1_000_000_000).div_ceil(rate);
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

/// Whole bytes that pass in `d` at `rate` bytes/s.
fn bytes_in(d: Duration, rate: u64) -> u64 {
    u64::try_from(d.as_nanos() * u128::from(rate) / 1_000_000_000).unwrap_or(u64::MAX)
}

/// Most a connection may send at once after an idle spell: 10 ms at the rate, at least
/// [`MIN_GRANT`] (a burst smaller than the smallest grant would never fill).
pub fn burst(rate: u64) -> u64 {
    (rate / 100).max(MIN_GRANT)
}

/// One direction's token bucket, in virtual time (see the module).
#[derive(Debug, Default)]
pub struct Bucket {
    /// When everything granted so far will have passed; `None` before the first grant.
    free_at: Option<Instant>,
}

impl Bucket {
    /// How many of `want` bytes (> 0) may pass at `now` at `rate`: `Ok(n)` with
    /// 1 ≤ n ≤ want (taken from the bucket), or `Err(t)`: wait until `t`, when at least
    /// `min(want, MIN_GRANT)` will be there.
    pub fn grant(&mut self, now: Instant, rate: u64, want: usize) -> Result<usize, Instant> {
        let full = duration_for(burst(rate), rate);
        // A bucket holds at most a burst: idle time beyond it is not saved up.
        let floor = now.checked_sub(full).unwrap_or(now);
        let free_at = self.free_at.map_or(floor, |f| f.max(floor));
        let available = now.checked_duration_since(free_at).map_or(0, |d| bytes_in(d, rate));
        let unit = (want as u64).min(MIN_GRANT);
        if available < unit {
            return Err(free_at + duration_for(unit, rate));
        }
        let n = available.min(want as u64);
        self.free_at = Some(free_at + duration_for(n, rate));
        Ok(n as usize)
    }

    /// Gives back `bytes` of the last grant that did not pass (the socket took fewer).
    pub fn refund(&mut self, bytes: usize, rate: u64) {
        if bytes == 0 {
            return;
        }
        if let Some(f) = self.free_at {
            self.free_at = Some(f.checked_sub(duration_for(bytes as u64, rate)).unwrap_or(f));
        }
    }
}

/// A bucket and the timer a connection waits on when it is empty.
#[derive(Default)]
struct Direction {
    bucket: Bucket,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Direction {
    /// Waits until some of `want` bytes may pass, and grants them.
    fn poll_grant(&mut self, cx: &mut Context<'_>, rate: u64, want: usize) -> Poll<usize> {
        loop {
            if let Some(sleep) = self.sleep.as_mut() {
                ready!(sleep.as_mut().poll(cx));
                self.sleep = None;
            }
            match self.bucket.grant(Instant::now(), rate, want) {
                Ok(n) => return Poll::Ready(n),
                Err(until) => self.sleep = Some(Box::pin(tokio::time::sleep_until(until.into()))),
            }
        }
    }
}

/// A listener whose connections obey the cap.
pub struct CappedListener {
    inner: TcpListener,
    cap: SpeedCap,
}

impl CappedListener {
    pub fn new(inner: TcpListener, cap: SpeedCap) -> CappedListener {
        CappedListener { inner, cap }
    }
}

impl axum::serve::Listener for CappedListener {
    type Io = CappedIo;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (io, addr) = axum::serve::Listener::accept(&mut self.inner).await;
        let io = CappedIo {
            inner: io,
            cap: self.cap.clone(),
            read: Direction::default(),
            write: Direction::default(),
            scratch: Vec::new(),
        };
        (io, addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// One accepted connection under the cap.
pub struct CappedIo {
    inner: TcpStream,
    cap: SpeedCap,
    read: Direction,
    write: Direction,
    /// Where a capped read lands before it is handed on (at most what was granted).
    scratch: Vec<u8>,
}

impl CappedIo {
    /// Writes a granted prefix of `buf`, giving back what the socket did not take.
    fn poll_write_capped(&mut self, cx: &mut Context<'_>, rate: u64, buf: &[u8]) -> Poll<io::Result<usize>> {
        let n = ready!(self.write.poll_grant(cx, rate, buf.len()));
        let out = Pin::new(&mut self.inner).poll_write(cx, &buf[..n]);
        let taken = match &out {
            Poll::Ready(Ok(k)) => *k,
            _ => 0,
        };
        self.write.bucket.refund(n - taken, rate);
        out
    }
}

impl AsyncRead for CappedIo {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let rate = this.cap.get();
        if rate == 0 {
            return Pin::new(&mut this.inner).poll_read(cx, buf);
        }
        let want = buf.remaining().min(READ_SCRATCH);
        if want == 0 {
            return Poll::Ready(Ok(()));
        }
        let n = ready!(this.read.poll_grant(cx, rate, want));
        this.scratch.resize(n, 0);
        let mut part = ReadBuf::new(&mut this.scratch[..n]);
        let out = Pin::new(&mut this.inner).poll_read(cx, &mut part);
        let got = match &out {
            Poll::Ready(Ok(())) => part.filled().len(),
            _ => 0,
        };
        buf.put_slice(&part.filled()[..got]);
        this.read.bucket.refund(n - got, rate);
        out
    }
}

impl AsyncWrite for CappedIo {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let rate = this.cap.get();
        if rate == 0 || buf.is_empty() {
            return Pin::new(&mut this.inner).poll_write(cx, buf);
        }
        this.poll_write_capped(cx, rate, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let rate = this.cap.get();
        if rate == 0 {
            return Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        }
        // Capped, a prefix of the first non-empty slice is written: a valid vectored write.
        match bufs.iter().find(|b| !b.is_empty()) {
            Some(first) => this.poll_write_capped(cx, rate, first),
            None => Poll::Ready(Ok(0)),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

impl Emulator {
    /// From now on, every connection (open ones too) reads and writes at most
    /// `bytes_per_second` bytes/s in each direction; 0 turns the cap off.
    pub fn set_speed_cap(&self, bytes_per_second: u64) {
        self.inner.speed_cap.set(bytes_per_second);
    }

    /// The per-connection cap in bytes/s (0: off).
    pub fn speed_cap(&self) -> u64 {
        self.inner.speed_cap.get()
    }
}

/// `POST /_emulator/speed-cap?bytesPerSecond=N` → 204 (0 = off); a missing or malformed
/// number → 400.
pub async fn http_speed_cap(
    State(inner): State<Arc<Inner>>,
    uri: Uri,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    const NAME: &str = "bytesPerSecond";
    match q.get(NAME).map(|v| (v, v.parse::<u64>())) {
        Some((_, Ok(n))) => {
            inner.speed_cap.set(n);
            StatusCode::NO_CONTENT.into_response()
        }
        Some((v, Err(_))) => {
            api_error(StatusCode::BAD_REQUEST, &format!("Invalid value for parameter [{NAME}]: {v}"), uri.path())
        }
        None => api_error(StatusCode::BAD_REQUEST, &format!("Missing parameter [{NAME}]"), uri.path()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn n_bytes_at_rate_r_take_n_over_r() {
        assert_eq!(duration_for(40_000_000, 40_000_000), Duration::from_secs(1));
        assert_eq!(duration_for(10 * 1024 * 1024, 40_000_000), Duration::from_nanos(262_144_000));
        assert_eq!(duration_for(1, 3), Duration::from_nanos(333_333_334), "rounded up, never faster");
        assert_eq!(bytes_in(Duration::from_millis(250), 40_000_000), 10_000_000);
    }

    #[test]
    fn a_fresh_bucket_grants_one_burst_then_asks_to_wait_for_the_rest() {
        let (rate, t0) = (40_000_000, Instant::now());
        let mut b = Bucket::default();
        assert_eq!(b.grant(t0, rate, 10_000_000), Ok(burst(rate) as usize));
        let wait = b.grant(t0, rate, 10_000_000).expect_err("empty");
        assert_eq!(wait - t0, duration_for(MIN_GRANT, rate));
        // Half a millisecond later, half a millisecond's bytes.
        assert_eq!(b.grant(t0 + Duration::from_micros(500), rate, 10_000_000), Ok(20_000));
    }

    #[test]
    fn a_greedy_sender_gets_the_rate_over_any_stretch_whatever_its_timer_does() {
        let rate = 40_000_000;
        let t0 = Instant::now();
        let mut b = Bucket::default();
        let mut now = t0;
        let mut sent: u64 = 0;
        // Wakes 1 ms late every time it waits, refunds a third of every other grant.
        for i in 0..20_000 {
            match b.grant(now, rate, 1 << 20) {
                Ok(n) => {
                    let refunded = if i % 2 == 0 { n / 3 } else { 0 };
                    b.refund(refunded, rate);
                    sent += (n - refunded) as u64;
                }
                Err(until) => now = until + Duration::from_millis(1),
            }
            let elapsed = now - t0;
            assert!(sent <= burst(rate) + bytes_in(elapsed, rate) + 1, "over the cap after {elapsed:?}: {sent}");
        }
        let elapsed = now - t0;
        assert!(elapsed > Duration::from_secs(1), "the loop covered {elapsed:?}");
        assert!(sent + 2 * burst(rate) >= bytes_in(elapsed, rate), "under the cap: {sent} in {elapsed:?}");
    }

    #[test]
    fn idle_time_is_not_saved_up_beyond_one_burst() {
        let (rate, t0) = (1_000_000, Instant::now());
        let mut b = Bucket::default();
        assert_eq!(b.grant(t0, rate, 1), Ok(1));
        let later = t0 + Duration::from_secs(60);
        assert_eq!(b.grant(later, rate, usize::MAX), Ok(burst(rate) as usize));
    }

    #[test]
    fn small_writes_wait_only_for_themselves() {
        let (rate, t0) = (1_000_000, Instant::now());
        let mut b = Bucket::default();
        assert_eq!(b.grant(t0, rate, 1 << 20), Ok(burst(rate) as usize));
        let wait = b.grant(t0, rate, 100).expect_err("empty");
        assert_eq!(wait - t0, duration_for(100, rate));
        assert_eq!(b.grant(wait, rate, 100), Ok(100));
    }
}
