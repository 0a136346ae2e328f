//! The Python iterator of one epoch: each `__next__` runs the pipeline with the GIL released and
//! converts the element to NumPy values; dropping it stops the pipeline and joins its threads.

use std::sync::{Arc, Mutex, Weak};

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use slicestream::DatasetIter;

use crate::errors::to_py_err;
use crate::structure::element_to_py;

/// An iterator over one epoch of a `Dataset`, yielding NumPy values. Dropping it (or the end of
/// a `for` loop, also by an exception) stops the pipeline's threads.
#[pyclass(frozen, module = "slicestream", name = "Iterator")]
pub struct PyIterator {
    inner: Slot,
    may_hold_gil: bool,
    pace: Mutex<Pace>,
}

impl PyIterator {
    /// Wraps an epoch; `may_hold_gil` when no stage calls Python and the last is `prefetch`.
    pub fn new(inner: DatasetIter, may_hold_gil: bool) -> Self {
        PyIterator {
            inner: register(inner),
            may_hold_gil,
            pace: Mutex::new(Pace::default()),
        }
    }
}

/// How the consumer keeps up, for a plan that ends in `prefetch`: when it comes back after more
/// than [`AWAY`] to a full queue (the producer had stopped for room: the Python thread was busy,
/// or another Python thread held the GIL, which it keeps for CPython's 5 ms switch interval at a
/// time), the queue is let run further ahead: up to [`READ_AHEAD_BYTES`] and 1024 elements (the
/// memory budget, if any, still bounds it).
#[derive(Default)]
struct Pace {
    last_return: Option<std::time::Instant>,
    extra: usize,
}

/// Away longer than this, the consumer is not keeping up with the prefetch.
const AWAY: std::time::Duration = std::time::Duration::from_millis(1);

/// The most bytes of batches the iterator lets the pipeline read ahead beyond its `prefetch`.
pub const READ_AHEAD_BYTES: usize = 64 << 20;

impl Pace {
    /// Before taking an element: lets the queue grow if the consumer was away while it was full.
    fn arrive(&mut self, it: &DatasetIter) {
        let away = self.last_return.is_some_and(|t| t.elapsed() > AWAY);
        if away && it.is_output_full() {
            // At once to the cap (which `leave` works out from the element size): a Python
            // thread holding the GIL keeps it for 5 ms, some 70 batches of the pipeline.
            self.extra = 1024;
        }
    }

    /// After taking `element`: keeps the extra room within the byte cap and tells the queue.
    fn leave(&mut self, it: &DatasetIter, element: &slicestream::Element) {
        let per = element.nbytes().max(1);
        let most = (READ_AHEAD_BYTES / per).min(1024);
        let extra = self.extra.min(most);
        if extra != it.read_ahead_extra() {
            it.read_ahead(extra);
        }
        self.extra = extra;
        self.last_return = Some(std::time::Instant::now());
    }
}

/// How long `next` waits for a prefetched element with the GIL held before it lets go of it.
const HOLD_GIL_FOR: std::time::Duration = std::time::Duration::from_millis(1);

/// An epoch shared by its Python object and the registry of live epochs.
pub type Slot = Arc<Mutex<Option<DatasetIter>>>;

/// Every epoch still running, so that interpreter exit can stop them first: a pipeline thread
/// that calls into Python after finalization has begun would be killed mid-call.
static LIVE: Mutex<Vec<Weak<Mutex<Option<DatasetIter>>>>> = Mutex::new(Vec::new());

/// Keeps `epoch` in a slot known to [`shutdown`].
pub fn register(epoch: DatasetIter) -> Slot {
    let slot = Arc::new(Mutex::new(Some(epoch)));
    let mut live = LIVE.lock().unwrap_or_else(|p| p.into_inner());
    live.retain(|w| w.strong_count() > 0);
    live.push(Arc::downgrade(&slot));
    slot
}

/// Stops every running epoch and waits for its threads to end (`atexit`, before the interpreter
/// finalizes).
/// An epoch another thread is advancing right now is left to that thread.
#[pyfunction]
pub fn _shutdown(py: Python<'_>) {
    let slots: Vec<Slot> = {
        let mut live = LIVE.lock().unwrap_or_else(|p| p.into_inner());
        live.drain(..).filter_map(|w| w.upgrade()).collect()
    };
    for slot in slots {
        let taken = match slot.try_lock() {
            Ok(mut guard) => guard.take(),
            Err(_) => None,
        };
        py.detach(move || drop(taken));
    }
    // Pool threads end after the task in hand (a Python call, perhaps): wait for them, a while.
    py.detach(|| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while slicestream::runtime::live_workers() > 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    });
}

/// The next element of `slot`, or `None` at the end (which drops the epoch). The engine runs with
/// the GIL released; but when `may_hold_gil` (no stage calls Python, the last is `prefetch`) an
/// element already waiting, or arriving within [`HOLD_GIL_FOR`], is taken with the GIL held: each
/// release costs a wait of up to CPython's switch interval (5 ms) to get it back while another
/// Python thread runs, one batch per 5 ms.
pub fn next_element(
    py: Python<'_>,
    slot: &Mutex<Option<DatasetIter>>,
    may_hold_gil: bool,
) -> PyResult<Option<slicestream::Element>> {
    next_paced(py, slot, may_hold_gil, None)
}

/// [`next_element`], letting a prefetching plan read further ahead when `pace` says the consumer
/// falls behind.
fn next_paced(
    py: Python<'_>,
    slot: &Mutex<Option<DatasetIter>>,
    may_hold_gil: bool,
    mut pace: Option<&mut Pace>,
) -> PyResult<Option<slicestream::Element>> {
    let mut guard = slot.try_lock().map_err(|_| {
        PyRuntimeError::new_err("this iterator is already being advanced by another thread")
    })?;
    let Some(it) = guard.as_mut() else {
        return Ok(None);
    };
    if let Some(p) = pace.as_deref_mut() {
        p.arrive(it);
    }
    let next = if may_hold_gil && it.wait_ready(HOLD_GIL_FOR) {
        it.next()
    } else {
        py.detach(|| it.next())
    };
    if let (Some(p), Some(Ok(element))) = (pace, &next) {
        p.leave(it, element);
    }
    match next {
        Some(Ok(element)) => Ok(Some(element)),
        Some(Err(err)) => {
            let done = guard.take();
            py.detach(move || drop(done));
            Err(to_py_err(py, err))
        }
        None => {
            let done = guard.take();
            py.detach(move || drop(done));
            Ok(None)
        }
    }
}

#[pymethods]
impl PyIterator {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        // (try_lock: a second thread must not block here holding the GIL.)
        let mut pace = self.pace.try_lock().map_err(|_| {
            PyRuntimeError::new_err("this iterator is already being advanced by another thread")
        })?;
        let pace = self.may_hold_gil.then_some(&mut *pace);
        match next_paced(py, &self.inner, self.may_hold_gil, pace)? {
            Some(element) => Ok(Some(element_to_py(py, element)?)),
            None => Ok(None),
        }
    }

    /// Stops the pipeline now (its threads are joined); later calls of `next` end at once.
    fn close(&self, py: Python<'_>) {
        let taken = match self.inner.lock() {
            Ok(mut guard) => guard.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        py.detach(move || drop(taken));
    }

    /// What each stage has done so far in this epoch: a dict with `stages` (per stage, sources
    /// first: `name`, `elements`, `bytes`, `busy_s`, `waiting_s`; the times are 0 unless
    /// `Options(stage_timing=True)`), `peak_bytes_in_flight`, `memory_budget` and `wall_s`;
    /// `None` once the epoch has ended.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let guard = self.inner.try_lock().map_err(|_| {
            PyRuntimeError::new_err("this iterator is being advanced by another thread")
        })?;
        let Some(stats) = guard.as_ref().map(DatasetIter::stats) else {
            return Ok(None);
        };
        let stages = PyList::empty(py);
        for stage in &stats.stages {
            let d = PyDict::new(py);
            d.set_item("name", &stage.name)?;
            d.set_item("elements", stage.elements)?;
            d.set_item("bytes", stage.bytes)?;
            d.set_item("busy_s", stage.busy.as_secs_f64())?;
            d.set_item("waiting_s", stage.waiting.as_secs_f64())?;
            stages.append(d)?;
        }
        let out = PyDict::new(py);
        out.set_item("stages", stages)?;
        out.set_item("peak_bytes_in_flight", stats.peak_bytes_in_flight)?;
        out.set_item("memory_budget", stats.memory_budget)?;
        out.set_item("wall_s", stats.wall.as_secs_f64())?;
        Ok(Some(out))
    }
}

impl Drop for PyIterator {
    fn drop(&mut self) {
        let taken = match self.inner.lock() {
            Ok(mut slot) => slot.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        if taken.is_some() {
            // Joining the pipeline's threads must not hold the GIL: a worker may be waiting for it.
            Python::attach(|py| py.detach(move || drop(taken)));
        }
    }
}
