"""NumPy in and out without a copy, as facts: shared memory, data addresses, reference counts."""

import gc
import sys
import weakref

import numpy as np
import pytest

import slicestream as ss


def test_unshuffled_batches_are_views_of_the_callers_memory():
    x = np.arange(200 * 7, dtype=np.float32).reshape(200, 7)
    y = np.arange(200, dtype=np.int64)
    batches = list(ss.Dataset.from_tensor_slices((x, y)).batch(64))
    assert [b[0].shape for b in batches] == [(64, 7), (64, 7), (64, 7), (8, 7)]
    for i, (bx, by) in enumerate(batches):
        assert np.shares_memory(bx, x) and np.shares_memory(by, y)
        assert bx.ctypes.data == x[i * 64].ctypes.data
        np.testing.assert_array_equal(bx, x[i * 64 : (i + 1) * 64])
        # A view of a source is read-only: writing would change every later epoch.
        assert not bx.flags.writeable


def test_rows_of_an_unbatched_source_are_views_too():
    x = np.arange(12, dtype=np.int32).reshape(4, 3)
    rows = list(ss.Dataset.from_tensor_slices(x))
    assert all(np.shares_memory(r, x) for r in rows)
    assert rows[2].ctypes.data == x[2].ctypes.data


def test_shuffled_batches_own_the_engines_buffer():
    x = np.arange(1000 * 4, dtype=np.float64).reshape(1000, 4)
    (b,) = list(ss.Dataset.from_tensor_slices(x).shuffle(1000, seed=3).batch(1000))
    assert not np.shares_memory(b, x)
    assert b.flags.writeable and b.flags.c_contiguous
    # The array's base is the engine's buffer owner: NumPy made no copy of its own.
    assert type(b.base).__name__ == "BufferOwner"
    np.testing.assert_array_equal(np.sort(b[:, 0]), x[:, 0])
    b *= 2  # writeable: the batch is the caller's now


def test_the_source_outlives_the_callers_reference():
    x = np.arange(10_000, dtype=np.int64)
    ref = weakref.ref(x) if hasattr(x, "__weakref__") else None
    before = sys.getrefcount(x)
    ds = ss.Dataset.from_tensor_slices(x)
    assert sys.getrefcount(x) == before + 1  # the dataset holds the array itself, no copy
    address = x.ctypes.data
    del x
    gc.collect()
    (b,) = list(ds.batch(10_000))
    assert b.ctypes.data == address
    assert b.sum() == sum(range(10_000))
    del ds, b
    gc.collect()
    if ref is not None:
        assert ref() is None  # released when the dataset and its batches are gone


def test_batches_keep_their_buffer_after_the_dataset_is_gone():
    ds = ss.Dataset.range(1000).map(lambda v: v * 3).batch(100)
    batches = list(ds)
    del ds
    gc.collect()
    assert sum(int(b.sum()) for b in batches) == 3 * sum(range(1000))


def test_non_contiguous_and_byte_swapped_arrays_are_copied_once():
    base = np.arange(40, dtype=np.int32).reshape(10, 4)
    strided = base[:, ::2]
    assert not strided.flags.c_contiguous
    (b,) = list(ss.Dataset.from_tensor_slices(strided).batch(10))
    np.testing.assert_array_equal(b, strided)
    assert not np.shares_memory(b, base)
    swapped = np.arange(6, dtype=">i8")
    (c,) = list(ss.Dataset.from_tensor_slices(swapped).batch(6))
    assert c.dtype == np.dtype("int64") and c.dtype.isnative
    np.testing.assert_array_equal(c, np.arange(6))


@pytest.mark.parametrize(
    "dtype", ["bool", "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
)
def test_every_numeric_dtype_round_trips(dtype):
    x = (np.arange(24) % 7).astype(dtype).reshape(6, 4)
    (b,) = list(ss.Dataset.from_tensor_slices(x).batch(6))
    assert b.dtype == x.dtype
    np.testing.assert_array_equal(b, x)
    assert ss.Dataset.from_tensor_slices(x).element_spec == ss.TensorSpec((4,), dtype)


def test_strings_come_out_as_bytes_in_object_arrays():
    ds = ss.Dataset.from_tensor_slices(np.array(["a", "bé", ""]))
    assert list(ds) == [b"a", "bé".encode(), b""]
    (b,) = list(ds.batch(3))
    assert b.dtype == object and list(b) == [b"a", "bé".encode(), b""]
    assert ds.element_spec.dtype == "string"
    raw = ss.Dataset.from_tensor_slices([b"\x00\xff", b"z"])
    assert list(raw) == [b"\x00\xff", b"z"]


def test_python_values_convert_as_tensorflow_converts_them():
    assert ss.Dataset.from_tensor_slices([1, 2]).element_spec.dtype == "int32"
    assert ss.Dataset.from_tensor_slices([1, 2**40]).element_spec.dtype == "int64"
    assert ss.Dataset.from_tensor_slices([1.5]).element_spec.dtype == "float32"
    assert ss.Dataset.from_tensor_slices([True]).element_spec.dtype == "bool"
    assert ss.Dataset.from_tensors(3).element_spec == ss.TensorSpec((), "int32")
    with pytest.raises(TypeError):
        ss.Dataset.from_tensor_slices([1, "a"])


def test_structures_follow_tf_data():
    ds = ss.Dataset.from_tensor_slices({"a": np.arange(3), "b": (np.ones(3), np.zeros(3, np.int8))})
    first = next(iter(ds))
    assert isinstance(first, dict) and isinstance(first["b"], tuple)
    assert list(first) == ["a", "b"]
    spec = ds.element_spec
    assert spec["b"][1] == ss.TensorSpec((), "int8")
    scalar = next(iter(ss.Dataset.range(3)))
    assert isinstance(scalar, np.int64)


def test_torch_style_consumers_take_batches_without_a_copy():
    x = np.arange(64, dtype=np.float32).reshape(16, 4)
    b = next(iter(ss.Dataset.from_tensor_slices(x).shuffle(16, seed=0).batch(16)))
    # DLPack and the array interface see the same memory.
    assert np.from_dlpack(b).ctypes.data == b.ctypes.data
    assert np.asarray(b).ctypes.data == b.ctypes.data
