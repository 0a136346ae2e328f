"""Type specifications: :class:`TensorSpec` (as ``tf.TensorSpec``) and the features of
``tf.train.Example`` parsing (as ``tf.io.FixedLenFeature`` / ``tf.io.VarLenFeature``)."""

from typing import Any, NamedTuple, Optional, Sequence, Tuple

__all__ = ["TensorSpec", "FixedLenFeature", "VarLenFeature"]

_NUMPY_NAMES = {"str": "string", "str_": "string", "bytes": "bytes", "bytes_": "bytes", "object": "bytes"}


def _dtype_name(dtype: Any) -> str:
    """The TensorFlow-style name of a dtype given as a name, a NumPy dtype or type, or a tf.DType."""
    if isinstance(dtype, str):
        return _NUMPY_NAMES.get(dtype, dtype)
    if hasattr(dtype, "as_numpy_dtype"):  # tf.DType
        return dtype.name
    import numpy as np

    d = np.dtype(dtype)
    if d.kind == "U":
        return "string"
    if d.kind in "SO":
        return "bytes"
    return d.name


class TensorSpec:
    """The spec of one tensor: a shape (ints, ``None`` where unknown) and a dtype.

    ``dtype`` is TensorFlow's name (``"int64"``, ``"float32"``, ``"string"``, ...); it compares
    equal to ``tf.int64`` and friends. ``numpy_dtype`` is the NumPy dtype values come out as.
    """

    __slots__ = ("_shape", "_dtype", "_name")

    def __init__(self, shape: Sequence[Optional[int]], dtype: Any = "float32", name: Optional[str] = None):
        self._shape = tuple(None if d is None else int(d) for d in shape)
        self._dtype = _dtype_name(dtype)
        self._name = name

    @property
    def shape(self) -> Tuple[Optional[int], ...]:
        """The shape, ``None`` in unknown dimensions."""
        return self._shape

    @property
    def dtype(self) -> str:
        """The dtype's TensorFlow name."""
        return self._dtype

    @property
    def name(self) -> Optional[str]:
        """An optional name (kept for tf.TensorSpec's signature)."""
        return self._name

    @property
    def numpy_dtype(self):
        """The NumPy dtype of values of this spec (``object`` for strings and bytes)."""
        import numpy as np

        return np.dtype(object) if self._dtype in ("string", "bytes") else np.dtype(self._dtype)

    def is_compatible_with(self, other: Any) -> bool:
        """Whether a value or spec fits: same dtype, same rank, equal where both are known."""
        shape = tuple(getattr(other, "shape", ()))
        dtype = _dtype_name(getattr(other, "dtype", self._dtype))
        if dtype != self._dtype or len(shape) != len(self._shape):
            return False
        return all(a is None or b is None or a == b for a, b in zip(self._shape, shape))

    def __eq__(self, other: Any) -> bool:
        if not hasattr(other, "shape") or not hasattr(other, "dtype"):
            return NotImplemented
        try:
            shape = tuple(other.shape.as_list()) if hasattr(other.shape, "as_list") else tuple(other.shape)
            return shape == self._shape and _dtype_name(other.dtype) == self._dtype
        except (TypeError, ValueError):
            return False

    def __hash__(self) -> int:
        return hash((self._shape, self._dtype))

    def __repr__(self) -> str:
        shape = "(" + ", ".join("None" if d is None else str(d) for d in self._shape)
        shape += ",)" if len(self._shape) == 1 else ")"
        return f"TensorSpec(shape={shape}, dtype={self._dtype}, name={self._name!r})"


class FixedLenFeature(NamedTuple):
    """A feature of fixed shape in a ``tf.train.Example`` (``tf.io.FixedLenFeature``)."""

    shape: Sequence[int]
    dtype: Any
    default_value: Any = None


class VarLenFeature(NamedTuple):
    """A feature of any length in a ``tf.train.Example``, read dense (``tf.io.VarLenFeature``)."""

    dtype: Any
