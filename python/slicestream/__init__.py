"""slicestream: tf.data's ``Dataset`` on a Rust engine.

``slicestream.Dataset`` has ``tf.data.Dataset``'s methods, argument names and defaults, and
yields NumPy values (what ``as_numpy_iterator()`` yields in TensorFlow). NumPy arrays given to
``from_tensor_slices`` are used in place; unshuffled batches of them come back as views of the
caller's memory, every other batch as an array that owns the engine's buffer (no second copy).
Batches and datasets export to Arrow (``as_arrow_iterator()``, ``__arrow_c_stream__``) and so to
pyarrow and Polars without a copy; ``slicestream.torch`` adapts a dataset for PyTorch.

    >>> import numpy as np, slicestream as ss
    >>> ds = ss.Dataset.from_tensor_slices((np.arange(6.0), np.arange(6))).batch(4)
    >>> [len(y) for x, y in ds]
    [4, 2]
"""

import atexit as _atexit

from . import errors
from ._slicestream import _shutdown
from ._slicestream import (
    AUTOTUNE,
    INFINITE_CARDINALITY,
    UNKNOWN_CARDINALITY,
    ArrowBatch,
    Dataset,
    Options,
    __version__,
)
from .errors import Error
from .spec import FixedLenFeature, TensorSpec, VarLenFeature

__all__ = [
    "AUTOTUNE",
    "INFINITE_CARDINALITY",
    "UNKNOWN_CARDINALITY",
    "ArrowBatch",
    "Dataset",
    "Error",
    "FixedLenFeature",
    "Options",
    "TensorSpec",
    "TFRecordDataset",
    "VarLenFeature",
    "errors",
    "__version__",
]

# Stop running pipelines before the interpreter finalizes: their threads may call into Python.
_atexit.register(_shutdown)


def TFRecordDataset(filenames, compression_type=None, buffer_size=None, num_parallel_reads=None, name=None):
    """The records of TFRecord files as scalar ``bytes`` (``tf.data.TFRecordDataset``).

    ``buffer_size`` and ``num_parallel_reads`` are accepted for TensorFlow's signature; the files
    are read one after the other, memory-mapped where uncompressed.
    """
    del buffer_size, num_parallel_reads, name
    return Dataset.from_tfrecord(filenames, compression_type=compression_type)
