from . import errors as errors
from ._slicestream import (
    AUTOTUNE as AUTOTUNE,
    INFINITE_CARDINALITY as INFINITE_CARDINALITY,
    UNKNOWN_CARDINALITY as UNKNOWN_CARDINALITY,
    ArrowBatch as ArrowBatch,
    Dataset as Dataset,
    Options as Options,
    __version__ as __version__,
)
from .errors import Error as Error
from .spec import FixedLenFeature as FixedLenFeature, TensorSpec as TensorSpec, VarLenFeature as VarLenFeature

def TFRecordDataset(filenames, compression_type=None, buffer_size=None, num_parallel_reads=None, name=None) -> Dataset: ...
