"""Arrow PyCapsule export: pyarrow and Polars take batches and datasets without a copy."""

import numpy as np
import pytest

import slicestream as ss

pa = pytest.importorskip("pyarrow", reason="SKIPPED: pyarrow is not installed")
pl = pytest.importorskip("polars", reason="SKIPPED: polars is not installed")


def dataset():
    x = np.arange(10 * 3, dtype=np.float32).reshape(10, 3)
    y = np.arange(10, dtype=np.int64)
    return x, y, ss.Dataset.from_tensor_slices({"x": x, "y": y})


def test_record_batches_are_the_callers_buffers():
    x, y, ds = dataset()
    batches = [pa.record_batch(b) for b in ds.batch(4).as_arrow_iterator()]
    assert [b.num_rows for b in batches] == [4, 4, 2]
    first = batches[0]
    assert first.schema.names == ["x", "y"]
    # The label column's values buffer is the caller's memory: no copy on the way to pyarrow.
    assert first.column("y").buffers()[1].address == y.ctypes.data
    values = first.column("x").storage.values if hasattr(first.column("x"), "storage") else first.column("x").values
    assert values.buffers()[1].address == x.ctypes.data
    np.testing.assert_array_equal(first.column("y").to_numpy(), y[:4])


def test_a_dataset_is_an_arrow_stream():
    x, y, ds = dataset()
    table = pa.table(ds.batch(4))
    assert table.num_rows == 10
    np.testing.assert_array_equal(table.column("y").to_numpy(), y)
    reader = pa.RecordBatchReader.from_stream(ds.batch(5))
    assert [b.num_rows for b in reader] == [5, 5]


def test_polars_reads_batches_and_datasets():
    x, y, ds = dataset()
    df = pl.DataFrame(ds.batch(10))
    assert df.shape == (10, 2)
    assert df["y"].to_list() == list(range(10))
    one = next(iter(ds.batch(3).as_arrow_iterator()))
    df1 = pl.DataFrame(one)
    assert df1["y"].to_list() == [0, 1, 2]
    df2 = pl.from_arrow(pa.record_batch(one))
    assert df2.shape == (3, 2)


def test_python_functions_run_while_arrow_reads_the_stream():
    ds = ss.Dataset.range(100).map(lambda v: v * 2, num_parallel_calls=2).batch(10)
    table = pa.table(ds)
    assert table.column(0).to_pylist() == [v * 2 for v in range(100)]


def test_an_error_in_the_stream_reaches_pyarrow():
    def f(v):
        if v == 7:
            raise ValueError("seven")
        return v

    with pytest.raises(Exception, match="seven"):
        pa.table(ss.Dataset.range(20).map(f).batch(5))


def test_polars_columns_are_the_callers_memory():
    x, y, ds = dataset()
    one = next(iter(ds.batch(10).as_arrow_iterator()))
    assert pl.DataFrame(one)["y"].to_numpy().ctypes.data == y.ctypes.data
    assert pl.DataFrame(ds.batch(10))["y"].to_numpy().ctypes.data == y.ctypes.data
    # pl.from_arrow reads the batch as one struct column; its fields are the columns.
    assert pl.from_arrow(one).struct.unnest().shape == (10, 2)
