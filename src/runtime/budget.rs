//! [`MemoryBudget`]: the bytes a pipeline may hold in its buffers, shared by every stage.
//!
//! A buffered element holds a [`Reservation`] of the budget, and the reservation travels with it
//! inside its [`Item`](crate::dataset::Item) from stage to stage until the consumer takes the
//! element: a stage that buffers an item resizes the reservation the item already has to the
//! item's size, so that only new bytes (a source's elements, a map's growth) wait for room. Were
//! each stage to release and then reserve again, the stages upstream could take every freed byte to
//! refill their own buffers, and a stage downstream would wait for bytes that only its own pulling
//! could free: a deadlock.
//!
//! A reservation that does not fit waits on a condition variable that every release and the
//! pipeline's cancellation wake: no polling.

use std::sync::{Arc, Condvar, Mutex};

use crate::error::{Error, ErrorKind, Result};

#[derive(Debug, Default)]
struct State {
    used: usize,
    peak: usize,
    cancelled: bool,
}

/// The bytes in flight in one pipeline run, with an optional cap. Stages reserve bytes for what
/// they hold; a reservation that does not fit waits (or, with [`Reservation::try_resize`], is
/// refused) until another stage releases.
#[derive(Debug)]
pub(crate) struct MemoryBudget {
    limit: Option<usize>,
    state: Mutex<State>,
    freed: Condvar,
}

impl MemoryBudget {
    /// A budget of `limit` bytes (`None`: unlimited, only counted).
    pub(crate) fn new(limit: Option<usize>) -> Self {
        MemoryBudget {
            limit,
            state: Mutex::new(State::default()),
            freed: Condvar::new(),
        }
    }

    /// The cap, if any.
    pub(crate) fn limit(&self) -> Option<usize> {
        self.limit
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave the counters inconsistent: recover the guard.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A reservation of no bytes, to [`Reservation::resize`].
    pub(crate) fn empty(self: &Arc<Self>) -> Reservation {
        Reservation {
            budget: self.clone(),
            bytes: 0,
        }
    }

    /// Grows or shrinks `r` to `bytes`; with `wait`, waits while the budget is full, else returns
    /// `false` (holding what it held).
    fn resize(&self, r: &mut Reservation, bytes: usize, wait: bool) -> Result<bool> {
        let mut state = self.lock();
        if bytes <= r.bytes {
            state.used -= r.bytes - bytes;
            drop(state);
            r.bytes = bytes;
            self.freed.notify_all();
            return Ok(true);
        }
        let extra = bytes - r.bytes;
        if let Some(limit) = self.limit {
            if bytes > limit {
                return Err(Error::new(ErrorKind::ExceedsMemoryBudget {
                    bytes,
                    budget: limit,
                }));
            }
            // `extra <= limit` here, so `limit - extra` cannot underflow.
            while state.used > limit - extra {
                if !wait {
                    return Ok(false);
                }
                if state.cancelled {
                    return Err(Error::new(ErrorKind::Cancelled));
                }
                state = self.freed.wait(state).unwrap_or_else(|p| p.into_inner());
            }
        }
        state.used += extra;
        state.peak = state.peak.max(state.used);
        r.bytes = bytes;
        Ok(true)
    }

    fn release(&self, bytes: usize) {
        let mut state = self.lock();
        state.used -= bytes;
        drop(state);
        self.freed.notify_all();
    }

    /// Bytes reserved now.
    pub(crate) fn in_flight(&self) -> usize {
        self.lock().used
    }

    /// The most bytes reserved at once so far.
    pub(crate) fn peak(&self) -> usize {
        self.lock().peak
    }

    /// Wakes every waiter with [`ErrorKind::Cancelled`]: the pipeline is shutting down. (Set under
    /// the lock, so that a waiter cannot miss it between its check and its wait.)
    pub(crate) fn cancel(&self) {
        self.lock().cancelled = true;
        self.freed.notify_all();
    }
}

/// Bytes held in a [`MemoryBudget`], released on drop.
#[derive(Debug)]
pub(crate) struct Reservation {
    budget: Arc<MemoryBudget>,
    bytes: usize,
}

impl Reservation {
    /// Holds exactly `bytes`: releases a surplus at once, reserves a shortfall, waiting while the
    /// budget is full. Errors (holding what it held) when `bytes` exceeds the whole budget or the
    /// pipeline is being shut down.
    pub(crate) fn resize(&mut self, bytes: usize) -> Result<()> {
        let budget = self.budget.clone();
        budget.resize(self, bytes, true).map(|_| ())
    }

    /// [`Reservation::resize`] without waiting: `Ok(false)` (holding what it held) when the
    /// shortfall does not fit now.
    pub(crate) fn try_resize(&mut self, bytes: usize) -> Result<bool> {
        let budget = self.budget.clone();
        budget.resize(self, bytes, false)
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

/// Adds `r` (if any) to the reservation held in `held` (making it the held one when there is none).
pub(crate) fn merge_into(held: &mut Option<Reservation>, r: Option<Reservation>) {
    match (held.as_mut(), r) {
        (Some(h), Some(r)) => h.merge(r),
        (None, r) => *held = r,
        (Some(_), None) => {}
    }
}
