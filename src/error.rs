//! The crate's one error type: an opaque [`Error`] with a [`ErrorKind`] and a [`Position`].

use std::fmt;
use std::path::PathBuf;

use crate::tensor::DType;

/// A `Result` whose error is this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong. New kinds may be added: match with a `_` arm.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// An argument to a source or transformation is out of its range (batch size 0, shard index too large, …).
    InvalidArgument(String),
    /// Shapes, dtypes or structures that cannot go together (first dimensions that differ, batching
    /// tensors of different shapes, concatenating incompatible datasets, …).
    Incompatible(String),
    /// A tensor was asked for as one dtype but holds another.
    DTypeMismatch {
        /// The dtype the caller asked for.
        expected: DType,
        /// The dtype the tensor holds.
        found: DType,
    },
    /// A component, column or file that does not exist.
    NotFound(String),
    /// A user closure panicked; the payload's message.
    Panic(String),
    /// A user closure returned an error of its own (kept as the source).
    User(String),
    /// A file's bytes do not follow its format (bad magic, bad CRC, truncated, …).
    Format(String),
    /// An I/O failure (kept as the source).
    Io,
    /// The pipeline's memory budget cannot hold what was asked.
    MemoryBudget(String),
    /// A worker thread of the pipeline went away without a result.
    Disconnected(String),
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::InvalidArgument(m) => write!(f, "invalid argument: {m}"),
            ErrorKind::Incompatible(m) => write!(f, "{m}"),
            ErrorKind::DTypeMismatch { expected, found } => {
                write!(f, "dtype mismatch: expected {expected}, found {found}")
            }
            ErrorKind::NotFound(m) => write!(f, "not found: {m}"),
            ErrorKind::Panic(m) => write!(f, "closure panicked: {m}"),
            ErrorKind::User(m) => write!(f, "{m}"),
            ErrorKind::Format(m) => write!(f, "bad format: {m}"),
            ErrorKind::Io => write!(f, "I/O error"),
            ErrorKind::MemoryBudget(m) => write!(f, "memory budget: {m}"),
            ErrorKind::Disconnected(m) => write!(f, "pipeline worker gone: {m}"),
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
    position: Position,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

/// The error of every fallible operation in slicestream: what went wrong ([`Error::kind`]) and where
/// ([`Error::position`]), with the underlying cause as [`std::error::Error::source`].
pub struct Error(Box<Inner>);

impl Error {
    /// An error of the given kind, with no position yet.
    pub fn new(kind: ErrorKind) -> Self {
        Error(Box::new(Inner {
            kind,
            position: Position::default(),
            source: None,
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
        let source = source.into();
        Self::new(ErrorKind::User(source.to_string())).with_source_boxed(source)
    }

    /// An I/O error on `file`, kept as the source.
    pub fn io(source: std::io::Error, file: impl Into<PathBuf>) -> Self {
        Self::new(ErrorKind::Io)
            .with_source_boxed(Box::new(source))
            .with_file(file)
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

    /// The message of the kind alone, without the position (TensorFlow's "core message").
    pub fn message(&self) -> String {
        self.0.kind.to_string()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.kind)?;
        if let (ErrorKind::Io, Some(source)) = (&self.0.kind, &self.0.source) {
            write!(f, ": {source}")?;
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
