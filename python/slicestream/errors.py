"""The exceptions slicestream raises.

Every error of the library is a :class:`Error`, and also the built-in exception that matches its
kind (``ValueError``, ``TypeError``, ``OSError``, ``MemoryError``, ``RuntimeError``, ...), so code
written against built-ins keeps working. Each carries where it happened: ``stage`` (e.g.
``"batch"``), ``element`` (the index within the stage's input), ``component`` (e.g. ``"image"``),
``file``, ``record`` and ``offset`` (bytes), each ``None`` where it does not apply, and
``message`` (the text without the position).

An exception raised by a function of the pipeline (a ``map``, ``filter`` or generator function)
is not wrapped: it comes out as itself, with its own type and traceback, and a note saying where in
the pipeline it happened.
"""

__all__ = [
    "Error",
    "InvalidArgumentError",
    "IncompatibleError",
    "ShapeMismatchError",
    "DTypeMismatchError",
    "StructureMismatchError",
    "NotFoundError",
    "MissingFileError",
    "FormatError",
    "IoError",
    "MemoryBudgetError",
    "TooLargeError",
    "PanicError",
    "UserFunctionError",
    "CancelledError",
    "PipelineError",
]


class Error(Exception):
    """The base of every slicestream error."""

    message = None
    stage = None
    element = None
    component = None
    file = None
    record = None
    offset = None


class InvalidArgumentError(Error, ValueError):
    """An argument out of its range (a batch size of 0, a shard index too large, ...)."""


class IncompatibleError(Error, ValueError):
    """Datasets, specs or values that cannot go together."""


class ShapeMismatchError(Error, ValueError):
    """A tensor's shape is not the one required (e.g. batching tensors of different shapes)."""


class DTypeMismatchError(Error, TypeError):
    """A tensor's dtype is not the one required."""


class StructureMismatchError(Error, TypeError):
    """An element's nesting is not the one required."""


class NotFoundError(Error, LookupError):
    """A component, column or file that does not exist."""


class MissingFileError(NotFoundError, FileNotFoundError):
    """A file that does not exist."""


class FormatError(Error, ValueError):
    """A file's bytes do not follow its format (bad magic, bad CRC, truncated, ...)."""


class IoError(Error, OSError):
    """An I/O failure."""


class MemoryBudgetError(Error, MemoryError):
    """One element needs more bytes than the pipeline's whole memory budget."""


class TooLargeError(Error, MemoryError):
    """A size from the input or an argument that cannot be allocated."""


class PanicError(Error, RuntimeError):
    """A function of the pipeline panicked (a bug: please report it)."""


class UserFunctionError(Error, RuntimeError):
    """A function of the pipeline failed without a Python exception."""


class CancelledError(Error, RuntimeError):
    """The pipeline is shutting down."""


class PipelineError(Error, RuntimeError):
    """The pipeline's threads failed (a thread could not start, a worker died)."""
