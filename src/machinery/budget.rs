//! One byte budget for the transfer chunks in flight on this instance
//! (`TRANSFER_MEMORY_MB`), shared by every transfer: exports to the answer and to Blob,
//! imports from the body and from Blob.
//!
//! A chunk reserves its size before its bytes exist (before it is fetched from Anaplan or
//! read from Blob), and its bytes carry the reservation: it returns to the budget when the
//! last clone of those bytes is dropped (hyper has written them to the caller, the Blob
//! SDK has staged them, reqwest has sent them). Within a transfer the reservations are
//! taken in chunk order by the one stream that hands out the chunks ([`reserve_each`]),
//! never inside the concurrently polled fetches, so a transfer never holds a later
//! chunk's reservation while it waits for an earlier one's; with `buffered(window)` or
//! `buffer_unordered(window)` downstream it holds at most `TRANSFER_WINDOW` of them.
//!
//! A chunk larger than the whole budget takes all of it, so it waits for the others and
//! then runs alone: never a deadlock. tokio's semaphore is fair (first come, first
//! served), so a large reservation is not starved by small ones.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// What an export chunk of unknown size reserves: Anaplan's largest chunk (50 MB). Once
/// a transfer's first chunk has arrived, its size is the guess for the others (Anaplan's
/// chunks have one size but the last).
pub const FIRST_CHUNK_GUESS: usize = 50 * 1000 * 1000;

/// The instance's budget of chunk bytes in flight, in bytes.
#[derive(Debug)]
pub struct TransferBudget {
    sem: Arc<Semaphore>,
    total: usize,
}

impl TransferBudget {
    /// A budget of `bytes` (at least 1; at most `u32::MAX`, the most one reservation of
    /// tokio's semaphore can ask for).
    pub fn new(bytes: usize) -> Self {
        let total = bytes.clamp(1, u32::MAX as usize);
        TransferBudget { sem: Arc::new(Semaphore::new(total)), total }
    }

    /// The whole budget, in bytes.
    pub fn total(&self) -> usize {
        self.total
    }

    /// Bytes not reserved now.
    pub fn available(&self) -> usize {
        self.sem.available_permits()
    }

    /// Waits for `n` bytes (all of the budget when `n` is more than all of it).
    pub async fn reserve(&self, n: usize) -> Reservation {
        let want = n.min(self.total);
        let permit = if want == 0 {
            None
        } else {
            // The semaphore is never closed; were it, the chunk would go unbudgeted.
            self.sem.clone().acquire_many_owned(want as u32).await.ok()
        };
        Reservation { permit, sem: self.sem.clone(), total: self.total }
    }
}

/// Bytes reserved for one chunk; returned when dropped, or, after [`Reservation::hold`],
/// when the chunk's bytes are.
#[derive(Debug)]
pub struct Reservation {
    permit: Option<OwnedSemaphorePermit>,
    sem: Arc<Semaphore>,
    total: usize,
}

impl Reservation {
    /// The bytes reserved.
    pub fn bytes(&self) -> usize {
        self.permit.as_ref().map_or(0, OwnedSemaphorePermit::num_permits)
    }

    /// Fits the reservation to a chunk of `n` bytes, now that its size is known: any
    /// excess returns to the budget at once; a shortfall is taken from what is free now,
    /// and what is not free is an overdraft of this one chunk (waiting for it here could
    /// deadlock against the transfer's own chunks).
    pub fn fit(&mut self, n: usize) {
        let want = n.min(self.total);
        let held = self.bytes();
        if held > want {
            if let Some(permit) = self.permit.as_mut() {
                drop(permit.split(held - want));
            }
        } else if want > held {
            match self.sem.clone().try_acquire_many_owned((want - held) as u32) {
                Ok(more) => match self.permit.as_mut() {
                    Some(permit) => permit.merge(more),
                    None => self.permit = Some(more),
                },
                Err(_) => tracing::debug!(bytes = want - held, "chunk larger than reserved: over the transfer budget"),
            }
        }
    }

    /// The chunk's bytes, carrying this reservation (fitted to their size): it returns to
    /// the budget when the last clone of them is dropped.
    pub fn hold(mut self, bytes: Bytes) -> Bytes {
        self.fit(bytes.len());
        match self.permit.take() {
            Some(permit) if !bytes.is_empty() => Bytes::from_owner(Held { bytes, _permit: permit }),
            _ => bytes,
        }
    }
}

/// A chunk's bytes with the reservation they return when dropped.
struct Held {
    bytes: Bytes,
    _permit: OwnedSemaphorePermit,
}

impl AsRef<[u8]> for Held {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

/// The items of `items`, each with a reservation of `size(i)` bytes taken before item `i`
/// is pulled (pulling may be what creates its bytes, e.g. reading them from Blob), in
/// order: the next reservation is asked for only once this one's is granted and its item
/// handed on. Past the first `count` items nothing is reserved.
pub fn reserve_each<S, F>(
    budget: Arc<TransferBudget>,
    items: S,
    count: usize,
    size: F,
) -> impl Stream<Item = (Reservation, S::Item)> + Send
where
    S: Stream + Send + Unpin,
    F: FnMut(usize) -> usize + Send,
{
    futures_util::stream::unfold((budget, items, 0usize, size), move |(budget, mut items, i, mut size)| async move {
        let n = if i < count { size(i) } else { 0 };
        let reservation = budget.reserve(n).await;
        let item = items.next().await?;
        Some(((reservation, item), (budget, items, i + 1, size)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn many_tasks_reserving_random_sizes_never_exceed_the_total() {
        let budget = Arc::new(TransferBudget::new(1000));
        let (outstanding, high) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let mut tasks = Vec::new();
        for t in 0..64u64 {
            let (budget, outstanding, high) = (budget.clone(), outstanding.clone(), high.clone());
            tasks.push(tokio::spawn(async move {
                // A small xorshift per task: sizes from 1 to 400 bytes.
                let mut x = t.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
                for _ in 0..50 {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let n = (x % 400 + 1) as usize;
                    let r = budget.reserve(n).await;
                    assert_eq!(r.bytes(), n);
                    let now = outstanding.fetch_add(n, Ordering::SeqCst) + n;
                    high.fetch_max(now, Ordering::SeqCst);
                    tokio::task::yield_now().await;
                    outstanding.fetch_sub(n, Ordering::SeqCst);
                    drop(r);
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let high = high.load(Ordering::SeqCst);
        assert!(high <= 1000, "{high} bytes outstanding at once");
        assert_eq!(budget.available(), 1000);
    }

    #[tokio::test]
    async fn a_chunk_larger_than_the_budget_takes_all_of_it_and_completes() {
        let budget = Arc::new(TransferBudget::new(100));
        let small = budget.reserve(30).await;
        let big = {
            let budget = budget.clone();
            tokio::spawn(async move { budget.reserve(500).await })
        };
        tokio::task::yield_now().await;
        drop(small);
        let big = big.await.unwrap();
        assert_eq!(big.bytes(), 100);
        assert_eq!(budget.available(), 0);
        let held = big.hold(Bytes::from(vec![7u8; 500]));
        assert_eq!(held.len(), 500);
        drop(held);
        assert_eq!(budget.available(), 100);
    }

    #[tokio::test]
    async fn the_reservation_returns_when_the_last_clone_of_the_bytes_drops() {
        let budget = TransferBudget::new(100);
        let bytes = budget.reserve(40).await.hold(Bytes::from(vec![1u8; 40]));
        let (clone, slice) = (bytes.clone(), bytes.slice(10..20));
        drop(bytes);
        assert_eq!(budget.available(), 60);
        drop(clone);
        assert_eq!(budget.available(), 60);
        assert_eq!(&slice[..], &[1u8; 10]);
        drop(slice);
        assert_eq!(budget.available(), 100);
    }

    #[tokio::test]
    async fn excess_returns_as_soon_as_the_size_is_known() {
        let budget = TransferBudget::new(100);
        let mut r = budget.reserve(80).await;
        r.fit(25);
        assert_eq!((r.bytes(), budget.available()), (25, 75));
        // A shortfall is taken from what is free.
        r.fit(60);
        assert_eq!((r.bytes(), budget.available()), (60, 40));
        let bytes = r.hold(Bytes::from(vec![0u8; 10]));
        assert_eq!(budget.available(), 90);
        drop(bytes);
        assert_eq!(budget.available(), 100);
        // Nothing free: an overdraft of this chunk, not a wait.
        let all = budget.reserve(100).await;
        let mut r = budget.reserve(0).await;
        r.fit(10);
        assert_eq!(r.bytes(), 0);
        drop(all);
        // Empty bytes carry nothing.
        let bytes = budget.reserve(50).await.hold(Bytes::new());
        assert!(bytes.is_empty());
        assert_eq!(budget.available(), 100);
    }

    #[tokio::test]
    async fn reservations_are_taken_in_order_before_each_item_and_none_past_the_count() {
        let budget = Arc::new(TransferBudget::new(100));
        let items = futures_util::stream::iter([1, 2, 3, 4]);
        let mut s = std::pin::pin!(reserve_each(budget.clone(), items, 3, |i| 10 * (i + 1)));
        let mut got = Vec::new();
        while let Some((r, item)) = s.next().await {
            got.push((item, r.bytes()));
        }
        assert_eq!(got, [(1, 10), (2, 20), (3, 30), (4, 0)]);
        assert_eq!(budget.available(), 100);
    }
}
