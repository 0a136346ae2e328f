//! [`MemoryBudget`]: the bytes a pipeline may hold in its buffers, shared by every stage.
//!
//! An element moving from one buffer to the next keeps its bytes: the stage that yields it hands its
//! reservation on ([`hand_on`]) and the stage that pulls it on the same thread takes what was handed
//! on during its pull ([`take_handed_on`]) and resizes it to what it keeps. Only new bytes (a source's
//! elements, a map's growth) wait for room. Were each stage to release and then reserve again, the
//! stages upstream could take every freed byte to refill their own buffers, and a stage downstream
//! would wait for bytes that only its own pulling could free: a deadlock.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use crate::error::{Error, ErrorKind, Result};

#[derive(Debug, Default)]
struct State {
    used: usize,
    peak: usize,
}

/// The bytes in flight in one pipeline run, with an optional cap. Stages reserve bytes for what
/// they hold and release them when they hand it on; a reservation that does not fit waits (or, with
/// [`MemoryBudget::try_reserve`], is refused) until another stage releases.
#[derive(Debug)]
pub struct MemoryBudget {
    limit: Option<usize>,
    state: Mutex<State>,
    freed: Condvar,
    cancelled: AtomicBool,
}

impl MemoryBudget {
    /// A budget of `limit` bytes (`None`: unlimited, only counted).
    pub fn new(limit: Option<usize>) -> Self {
        MemoryBudget {
            limit,
            state: Mutex::new(State::default()),
            freed: Condvar::new(),
            cancelled: AtomicBool::new(false),
        }
    }

    /// The cap, if any.
    pub fn limit(&self) -> Option<usize> {
        self.limit
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave the counters inconsistent: recover the guard.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn too_large(&self, bytes: usize, limit: usize) -> Error {
        let _ = self;
        Error::new(ErrorKind::MemoryBudget(format!(
            "an element of {bytes} bytes is larger than the whole memory budget of {limit} bytes"
        )))
    }

    /// A reservation of no bytes, to [`Reservation::resize`].
    pub fn empty(self: &Arc<Self>) -> Reservation {
        Reservation {
            budget: self.clone(),
            bytes: 0,
        }
    }

    /// Reserves `bytes`, waiting while the budget is full. Errors when `bytes` exceeds the whole
    /// budget (it could never fit) or the pipeline is being shut down.
    pub fn reserve(self: &Arc<Self>, bytes: usize) -> Result<Reservation> {
        let mut r = self.empty();
        r.resize(bytes)?;
        Ok(r)
    }

    /// Reserves `bytes` if they fit now; `Ok(None)` when the budget is full; an error when `bytes`
    /// exceeds the whole budget.
    pub fn try_reserve(self: &Arc<Self>, bytes: usize) -> Result<Option<Reservation>> {
        let mut r = self.empty();
        Ok(r.try_resize(bytes)?.then_some(r))
    }

    /// Grows `r` to `bytes`; with `wait`, waits while the budget is full, else returns `false`.
    fn grow(&self, r: &mut Reservation, bytes: usize, wait: bool) -> Result<bool> {
        let mut state = self.lock();
        if bytes <= r.bytes {
            state.used = state.used.saturating_sub(r.bytes - bytes);
            drop(state);
            r.bytes = bytes;
            self.freed.notify_all();
            return Ok(true);
        }
        let extra = bytes - r.bytes;
        if let Some(limit) = self.limit {
            if bytes > limit {
                return Err(self.too_large(bytes, limit));
            }
            while state.used + extra > limit {
                if !wait {
                    return Ok(false);
                }
                if self.cancelled.load(Ordering::Acquire) {
                    return Err(Error::new(ErrorKind::Disconnected(
                        "the pipeline is shutting down".into(),
                    )));
                }
                state = self
                    .freed
                    .wait_timeout(state, std::time::Duration::from_millis(50))
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
            }
        }
        state.used += extra;
        state.peak = state.peak.max(state.used);
        r.bytes = bytes;
        Ok(true)
    }

    fn release(&self, bytes: usize) {
        let mut state = self.lock();
        state.used = state.used.saturating_sub(bytes);
        drop(state);
        self.freed.notify_all();
    }

    /// Bytes reserved now.
    pub fn in_flight(&self) -> usize {
        self.lock().used
    }

    /// The most bytes reserved at once so far.
    pub fn peak(&self) -> usize {
        self.lock().peak
    }

    /// Wakes every waiter with an error: the pipeline is shutting down.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Release);
        self.freed.notify_all();
    }
}

/// Bytes held in a [`MemoryBudget`], released on drop.
#[derive(Debug)]
pub struct Reservation {
    budget: Arc<MemoryBudget>,
    bytes: usize,
}

impl Reservation {
    /// The bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Holds exactly `bytes`: releases a surplus at once, reserves a shortfall, waiting while the
    /// budget is full. Errors (holding what it held) when `bytes` exceeds the whole budget or the
    /// pipeline is being shut down.
    pub fn resize(&mut self, bytes: usize) -> Result<()> {
        let budget = self.budget.clone();
        budget.grow(self, bytes, true).map(|_| ())
    }

    /// [`Reservation::resize`] without waiting: `Ok(false)` (holding what it held) when the
    /// shortfall does not fit now.
    pub fn try_resize(&mut self, bytes: usize) -> Result<bool> {
        let budget = self.budget.clone();
        budget.grow(self, bytes, false)
    }

    /// Adds `other`'s bytes to this reservation (released instead when it is of another budget).
    pub(crate) fn merge(&mut self, mut other: Reservation) {
        if Arc::ptr_eq(&self.budget, &other.budget) {
            self.bytes += std::mem::take(&mut other.bytes);
        }
    }

    /// Splits off `bytes` of this reservation (at most what it holds) as a reservation of its own.
    pub(crate) fn split(&mut self, bytes: usize) -> Reservation {
        let bytes = bytes.min(self.bytes);
        self.bytes -= bytes;
        Reservation {
            budget: self.budget.clone(),
            bytes,
        }
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if self.bytes > 0 {
            self.budget.release(self.bytes);
        }
    }
}

thread_local! {
    /// Reservations handed on with elements on this thread, newest last.
    static HANDED_ON: RefCell<Vec<Reservation>> = const { RefCell::new(Vec::new()) };
}

/// Hands `reservation` on with the element it covers, to the stage that pulls that element on this
/// thread (see the module's notes). Under a budget without a limit nothing ever waits, so the bytes
/// are released at once.
pub(crate) fn hand_on(reservation: Reservation) {
    if reservation.budget.limit.is_some() && reservation.bytes > 0 {
        HANDED_ON.with(|h| h.borrow_mut().push(reservation));
    }
}

/// Where the hand-offs of this thread stand: what is handed on after this mark came with the next
/// pull.
pub(crate) fn hand_on_mark() -> usize {
    HANDED_ON.with(|h| h.borrow().len())
}

/// The bytes of `budget` handed on on this thread since `mark` (during a pull), as one reservation;
/// hand-offs of other budgets since then are released.
pub(crate) fn take_handed_on(budget: &Arc<MemoryBudget>, mark: usize) -> Reservation {
    let mut credit = budget.empty();
    let taken = HANDED_ON.with(|h| {
        let mut h = h.borrow_mut();
        let mark = mark.min(h.len());
        h.split_off(mark)
    });
    for r in taken {
        credit.merge(r);
    }
    credit
}
