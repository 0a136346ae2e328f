//! The crate's one error type: an opaque [`Error`] with a [`ErrorKind`] and a [`Position`].

use std::fmt;
use std::path::PathBuf;

use crate::tensor::DType;

/// A `Result` whose error is this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong: one kind per cause, with what a caller may match on. New kinds may be added:
/// match with a `_` arm. Where it happened is the error's [`Position`]; the underlying cause, if
/// any, its [`std::error::Error::source`] (never repeated in `Display`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// An argument to a source or transformation is out of its range (batch size 0, shard index too large, …).
    InvalidArgument(String),
    /// Datasets, specs or values that cannot go together for a reason the other kinds do not cover
    /// (concatenating datasets of different structures, a function's output of the wrong arity, …).
    Incompatible(String),
    /// A tensor's shape is not the one required (e.g. batching tensors of different shapes): the
    /// component is in the position.
    ShapeMismatch {
        /// The shape required (`None` where any size fits).
        expected: Vec<Option<usize>>,
        /// The shape found.
        found: Vec<usize>,
    },
    /// A tensor's dtype is not the one required: the component, where known, is in the position.
    DTypeMismatch {
        /// The dtype required.
        expected: DType,
        /// The dtype found.
        found: DType,
    },
    /// An element's nesting is not the one required (e.g. a map that returns a 2-tuple for some
    /// elements and a 3-tuple for others, then batched).
    StructureMismatch {
        /// The structure required, as tf.data prints it.
        expected: String,
        /// The structure found.
        found: String,
    },
    /// A component, column or file that does not exist.
    NotFound(String),
    /// A user closure panicked; the panic's message.
    Panic(String),
    /// A user closure returned an error of its own (the source).
    User,
    /// A file's bytes do not follow its format (bad magic, bad CRC, truncated, …); the file, record
    /// and byte offset are in the position.
    Format(String),
    /// An I/O failure (the source).
    Io,
    /// One element (or buffer) needs more bytes than the pipeline's whole memory budget.
    ExceedsMemoryBudget {
        /// The bytes it needs.
        bytes: usize,
        /// The budget.
        budget: usize,
    },
    /// A size from the input or an argument that cannot be allocated (or does not fit in memory
    /// arithmetic at all).
    TooLarge {
        /// The bytes asked for (`usize::MAX` when the size itself overflows).
        bytes: usize,
    },
    /// The pipeline's thread pool could not be started: the system's reason.
    PoolStart(String),
    /// A stage's thread could not be started (the source).
    ThreadSpawn,
    /// A worker thread panicked outside user code; the panic's message.
    WorkerPanicked(String),
    /// A stage's producer thread ended without finishing its input or reporting an error.
    ProducerGone,
    /// The pipeline is shutting down (its iterator was dropped) while this was waiting.
    Cancelled,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::InvalidArgument(m) => write!(f, "invalid argument: {m}"),
            ErrorKind::Incompatible(m) => write!(f, "{m}"),
            ErrorKind::ShapeMismatch { expected, found } => {
                let dims: Vec<String> = expected
                    .iter()
                    .map(|d| d.map_or("?".to_string(), |d| d.to_string()))
                    .collect();
                write!(f, "shape mismatch: expected [{}], found {found:?}", dims.join(","))
            }
            ErrorKind::DTypeMismatch { expected, found } => {
                write!(f, "dtype mismatch: expected {expected}, found {found}")
            }
            ErrorKind::StructureMismatch { expected, found } => {
                write!(f, "structure mismatch: expected {expected}, found {found}")
            }
            ErrorKind::NotFound(m) => write!(f, "not found: {m}"),
            ErrorKind::Panic(m) => write!(f, "closure panicked: {m}"),
            ErrorKind::User => write!(f, "the function failed"),
            ErrorKind::Format(m) => write!(f, "bad format: {m}"),
            ErrorKind::Io => write!(f, "I/O error"),
            ErrorKind::ExceedsMemoryBudget { bytes, budget } => write!(
                f,
                "memory budget: {bytes} bytes are more than the whole memory budget of {budget} bytes"
            ),
            ErrorKind::TooLarge { bytes } if *bytes == usize::MAX => {
                write!(f, "too large: the size overflows")
            }
            ErrorKind::TooLarge { bytes } => write!(f, "too large: cannot allocate {bytes} bytes"),
            ErrorKind::PoolStart(m) => write!(f, "cannot start the thread pool: {m}"),
            ErrorKind::ThreadSpawn => write!(f, "cannot start a stage's thread"),
            ErrorKind::WorkerPanicked(m) => write!(f, "a worker thread panicked: {m}"),
            ErrorKind::ProducerGone => {
                write!(f, "a stage's thread ended without finishing its input")
            }
            ErrorKind::Cancelled => write!(f, "the pipeline is shutting down"),
        }
    }
}

/// Where an error happened: every field that applies is set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Position {
    /// The transformation or source, e.g. `"map"` or `"batch"`.
    pub stage: Option<String>,
    /// The index of the element within the stage's input (0-based).
    pub element: Option<u64>,
    /// The component path, e.g. `"image"` or `"a/0"`.
    pub component: Option<String>,
    /// The file being read or written.
    pub file: Option<PathBuf>,
    /// The record (or row) index within the file.
    pub record: Option<u64>,
    /// The byte offset within the file.
    pub byte_offset: Option<u64>,
}

impl Position {
    fn is_empty(&self) -> bool {
        *self == Position::default()
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(s) = &self.stage {
            parts.push(format!("stage {s}"));
        }
        if let Some(e) = self.element {
            parts.push(format!("element {e}"));
        }
        if let Some(c) = &self.component {
            parts.push(format!("component {c:?}"));
        }
        if let Some(p) = &self.file {
            parts.push(format!("file {}", p.display()));
        }
        if let Some(r) = self.record {
            parts.push(format!("record {r}"));
        }
        if let Some(b) = self.byte_offset {
            parts.push(format!("byte offset {b}"));
        }
        f.write_str(&parts.join(", "))
    }
}

struct Inner {
    kind: ErrorKind,
    /// A sentence that says more than the kind (e.g. TensorFlow's message for a batch of tensors of
    /// different shapes), shown instead of the kind's own text.
    context: Option<String>,
    position: Position,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    /// Whether the stream that yielded it goes on after it (set by the stage where the element
    /// failed, cleared by any stage that ends after an error): what `ignore_errors` may skip.
    continues: bool,
}

/// The error of every fallible operation in slicestream: what went wrong ([`Error::kind`]) and where
/// ([`Error::position`]), with the underlying cause as [`std::error::Error::source`].
pub struct Error(Box<Inner>);

impl Error {
    /// An error of the given kind, with no position yet.
    pub fn new(kind: ErrorKind) -> Self {
        Error(Box::new(Inner {
            kind,
            context: None,
            position: Position::default(),
            source: None,
            continues: false,
        }))
    }

    /// Shorthand for [`ErrorKind::InvalidArgument`].
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidArgument(message.into()))
    }

    /// Shorthand for [`ErrorKind::Incompatible`].
    pub fn incompatible(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Incompatible(message.into()))
    }

    /// Shorthand for [`ErrorKind::Format`].
    pub fn format(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Format(message.into()))
    }

    /// Shorthand for [`ErrorKind::NotFound`].
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound(message.into()))
    }

    /// An error returned by user code, kept as the source.
    pub fn user(source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Self {
        Self::new(ErrorKind::User).with_source_boxed(source.into())
    }

    /// Shorthand for [`ErrorKind::TooLarge`]: `bytes` cannot be allocated (`None`: the size
    /// overflowed).
    pub fn too_large(bytes: Option<usize>) -> Self {
        Self::new(ErrorKind::TooLarge {
            bytes: bytes.unwrap_or(usize::MAX),
        })
    }

    /// Says more than the kind: `message` is shown instead of the kind's own text (the kind and its
    /// payload stay what a caller matches on).
    pub fn with_context(mut self, message: impl Into<String>) -> Self {
        self.0.context = Some(message.into());
        self
    }

    /// An I/O error on `file`, kept as the source.
    pub fn io(source: std::io::Error, file: impl Into<PathBuf>) -> Self {
        Self::new(ErrorKind::Io)
            .with_source_boxed(Box::new(source))
            .with_file(file)
    }

    /// Whether this is the failure of one element's computation (a function's error or panic, a
    /// value or shape it cannot take, a batch of elements that do not fit together) rather than of
    /// the pipeline itself (a file that cannot be read or is corrupt, a missing file, the budget,
    /// threads, cancellation): the errors `ignore_errors` skips.
    pub fn is_element_error(&self) -> bool {
        matches!(
            self.0.kind,
            ErrorKind::InvalidArgument(_)
                | ErrorKind::Incompatible(_)
                | ErrorKind::ShapeMismatch { .. }
                | ErrorKind::DTypeMismatch { .. }
                | ErrorKind::StructureMismatch { .. }
                | ErrorKind::Panic(_)
                | ErrorKind::User
                | ErrorKind::TooLarge { .. }
        )
    }

    /// Marks the error as one its stream goes on after (the next element can still be asked for).
    pub(crate) fn continuing(mut self) -> Self {
        self.0.continues = true;
        self
    }

    /// Marks the error as the end of its stream.
    pub(crate) fn ending(mut self) -> Self {
        self.0.continues = false;
        self
    }

    /// Whether the stream that yielded it goes on after it.
    pub(crate) fn continues(&self) -> bool {
        self.0.continues
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.0.kind
    }

    /// Where it went wrong.
    pub fn position(&self) -> &Position {
        &self.0.position
    }

    /// Attaches the cause.
    pub fn with_source(self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.with_source_boxed(Box::new(source))
    }

    fn with_source_boxed(
        mut self,
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    ) -> Self {
        self.0.source = Some(source);
        self
    }

    /// Sets the stage unless an inner stage already set it (the innermost stage is the one that failed).
    pub fn with_stage(mut self, stage: impl Into<String>) -> Self {
        if self.0.position.stage.is_none() {
            self.0.position.stage = Some(stage.into());
        }
        self
    }

    /// Sets the stage, replacing an inner one (for the outermost context, e.g. a pipeline file's op).
    pub fn set_stage(mut self, stage: impl Into<String>) -> Self {
        self.0.position.stage = Some(stage.into());
        self
    }

    /// Sets the element index unless already set.
    pub fn with_element(mut self, index: u64) -> Self {
        if self.0.position.element.is_none() {
            self.0.position.element = Some(index);
        }
        self
    }

    /// Sets the component path unless already set.
    pub fn with_component(mut self, path: impl Into<String>) -> Self {
        if self.0.position.component.is_none() {
            self.0.position.component = Some(path.into());
        }
        self
    }

    /// Sets the file unless already set.
    pub fn with_file(mut self, file: impl Into<PathBuf>) -> Self {
        if self.0.position.file.is_none() {
            self.0.position.file = Some(file.into());
        }
        self
    }

    /// Sets the record index unless already set.
    pub fn with_record(mut self, record: u64) -> Self {
        if self.0.position.record.is_none() {
            self.0.position.record = Some(record);
        }
        self
    }

    /// Sets the byte offset unless already set.
    pub fn with_byte_offset(mut self, offset: u64) -> Self {
        if self.0.position.byte_offset.is_none() {
            self.0.position.byte_offset = Some(offset);
        }
        self
    }

    /// The message without the position (TensorFlow's "core message"): the context if any, else
    /// the kind's text.
    pub fn message(&self) -> String {
        match &self.0.context {
            Some(c) => c.clone(),
            None => self.0.kind.to_string(),
        }
    }

    /// The message followed by each source's, `: `-separated (what a command line prints).
    pub fn chain(&self) -> String {
        let mut out = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(s) = source {
            out.push_str(": ");
            out.push_str(&s.to_string());
            source = s.source();
        }
        out
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0.context {
            Some(c) => f.write_str(c)?,
            None => write!(f, "{}", self.0.kind)?,
        }
        if !self.0.position.is_empty() {
            write!(f, " ({})", self.0.position)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.0.kind)
            .field("context", &self.0.context)
            .field("position", &self.0.position)
            .field("source", &self.0.source)
            .finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0
            .source
            .as_ref()
            .map(|s| s.as_ref() as &(dyn std::error::Error + 'static))
    }
}

/// Turns a panic payload into its message.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}

#[cfg(any(feature = "ipc", feature = "parquet", feature = "polars"))]
thread_local! {
    /// Set while a dependency's decoder runs under [`catch_foreign_panic`].
    static IN_FOREIGN_DECODER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f`, a call into a dependency's decoder (arrow-ipc, polars' C Data Interface import) that
/// may panic on malformed input instead of returning an error, and returns the panic's message
/// instead. The panic hook is quiet for these (the message becomes the error, printed once by whoever
/// reports it); every other panic prints as before: the hook installed once wraps the previous one.
#[cfg(any(feature = "ipc", feature = "parquet", feature = "polars"))]
pub(crate) fn catch_foreign_panic<T>(f: impl FnOnce() -> T) -> std::result::Result<T, String> {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !IN_FOREIGN_DECODER.with(|f| f.get()) {
                previous(info);
            }
        }));
    });
    let was = IN_FOREIGN_DECODER.with(|flag| flag.replace(true));
    let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    IN_FOREIGN_DECODER.with(|flag| flag.set(was));
    out.map_err(|payload| panic_message(payload.as_ref()))
}
