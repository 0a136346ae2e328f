//! `slicestream.Options`: pipeline-wide settings (`Dataset.with_options`).

use pyo3::prelude::*;
use slicestream::runtime::Options;

/// Pipeline-wide options: `memory_budget` (bytes buffered in the pipeline: shuffle buffers,
/// prefetch queues, parallel map queues; producers wait when it is full), `num_threads` (the
/// pipeline's own pool; default: the number of cores) and `stage_timing`.
#[pyclass(module = "slicestream", name = "Options", get_all, set_all)]
#[derive(Clone, Default)]
pub struct PyOptions {
    /// Bytes the pipeline may buffer, or None for no cap.
    pub memory_budget: Option<usize>,
    /// Threads of the pipeline's pool, or None for the number of cores.
    pub num_threads: Option<usize>,
    /// Whether every stage times itself (see `Iterator.stats()`).
    pub stage_timing: bool,
}

impl PyOptions {
    /// The Python form of the core's options.
    pub fn from_core(options: &Options) -> Self {
        PyOptions {
            memory_budget: options.memory_budget(),
            num_threads: options.num_threads(),
            stage_timing: options.stage_timing(),
        }
    }

    fn to_core(&self) -> Options {
        let mut options = Options::default().with_stage_timing(self.stage_timing);
        if let Some(b) = self.memory_budget {
            options = options.with_memory_budget(b);
        }
        if let Some(t) = self.num_threads {
            options = options.with_num_threads(t);
        }
        options
    }
}

#[pymethods]
impl PyOptions {
    #[new]
    #[pyo3(signature = (memory_budget=None, num_threads=None, stage_timing=false))]
    fn py_new(
        memory_budget: Option<usize>,
        num_threads: Option<usize>,
        stage_timing: bool,
    ) -> Self {
        PyOptions {
            memory_budget,
            num_threads,
            stage_timing,
        }
    }

    fn __repr__(&self) -> String {
        let show = |v: Option<usize>| v.map_or("None".to_string(), |v| v.to_string());
        format!(
            "Options(memory_budget={}, num_threads={}, stage_timing={})",
            show(self.memory_budget),
            show(self.num_threads),
            if self.stage_timing { "True" } else { "False" }
        )
    }
}

/// The core's options from a `slicestream.Options` or a `tf.data.Options` (whose
/// `threading.private_threadpool_size` sets the pool size; 0 means the default).
pub fn options_from_py(obj: &Bound<'_, PyAny>) -> PyResult<Options> {
    if let Ok(o) = obj.cast::<PyOptions>() {
        return Ok(o.borrow().to_core());
    }
    if let Ok(threading) = obj.getattr("threading") {
        let mut options = Options::default();
        if let Ok(size) = threading.getattr("private_threadpool_size") {
            if let Ok(Some(n)) = size.extract::<Option<usize>>() {
                if n > 0 {
                    options = options.with_num_threads(n);
                }
            }
        }
        return Ok(options);
    }
    Err(pyo3::exceptions::PyTypeError::new_err(format!(
        "with_options takes a slicestream.Options (or a tf.data.Options), not {}",
        obj.get_type().name()?
    )))
}
