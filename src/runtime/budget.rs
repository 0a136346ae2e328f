//! [`MemoryBudget`]: the bytes a pipeline may hold in its buffers, shared by every stage.

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

    /// Reserves `bytes`, waiting while the budget is full. Errors when `bytes` exceeds the whole
    /// budget (it could never fit) or the pipeline is being shut down.
    pub fn reserve(self: &Arc<Self>, bytes: usize) -> Result<Reservation> {
        let mut state = self.lock();
        if let Some(limit) = self.limit {
            if bytes > limit {
                return Err(self.too_large(bytes, limit));
            }
            while state.used + bytes > limit {
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
        state.used += bytes;
        state.peak = state.peak.max(state.used);
        Ok(Reservation {
            budget: self.clone(),
            bytes,
        })
    }

    /// Reserves `bytes` if they fit now; `Ok(None)` when the budget is full; an error when `bytes`
    /// exceeds the whole budget.
    pub fn try_reserve(self: &Arc<Self>, bytes: usize) -> Result<Option<Reservation>> {
        let mut state = self.lock();
        if let Some(limit) = self.limit {
            if bytes > limit {
                return Err(self.too_large(bytes, limit));
            }
            if state.used + bytes > limit {
                return Ok(None);
            }
        }
        state.used += bytes;
        state.peak = state.peak.max(state.used);
        Ok(Some(Reservation {
            budget: self.clone(),
            bytes,
        }))
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
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.budget.release(self.bytes);
    }
}
