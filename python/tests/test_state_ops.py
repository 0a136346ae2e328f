"""unique, scan, reduce, get_single_element and counter (issue 13), each run through slicestream
and through tf.data itself in this interpreter, which must agree element for element (values,
dtypes, shapes). Without TensorFlow the comparisons are SKIPPED (CI installs it); the expected
values written here are checked either way."""

import numpy as np
import pytest

import slicestream as ss


@pytest.fixture(scope="module")
def tf():
    try:
        import tensorflow as tf  # noqa: PLC0415

        return tf
    except ImportError:
        print("SKIPPED: TensorFlow is not installed: tf.data is not run beside slicestream")
        pytest.skip("SKIPPED: tensorflow is not installed (pip install tensorflow-cpu)")


def values(ds):
    return [np.asarray(e) for e in ds]


def same(ours, theirs):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        a, b = np.asarray(a), np.asarray(b)
        assert a.dtype == b.dtype and a.shape == b.shape, (a, b)
        assert np.array_equal(a, b), (a, b)


def tf_values(ds):
    return [np.asarray(e) for e in ds.as_numpy_iterator()]


def test_unique_matches_tf_data(tf):
    data = np.array([3, 1, 3, 2, 1, 9], np.int64)
    ours = values(ss.Dataset.from_tensor_slices(data).unique())
    same(ours, tf_values(tf.data.Dataset.from_tensor_slices(data).unique()))
    assert [int(v) for v in ours] == [3, 1, 2, 9]
    words = np.array([b"b", b"a", b"b"], object)
    same(values(ss.Dataset.from_tensor_slices(words).unique()),
         tf_values(tf.data.Dataset.from_tensor_slices(words).unique()))


def test_unique_refuses_floats_as_tf_data_does(tf):
    with pytest.raises(ValueError, match="float32"):
        ss.Dataset.from_tensor_slices(np.ones(3, np.float32)).unique()
    with pytest.raises((TypeError, ValueError)):
        tf.data.Dataset.from_tensor_slices(np.ones(3, np.float32)).unique()


def test_scan_matches_tf_data(tf):
    init = np.int64(10)
    ours = values(ss.Dataset.range(6).scan(init, lambda s, x: (s + x, s * 2)))
    theirs = tf_values(tf.data.Dataset.range(6).scan(tf.constant(init), lambda s, x: (s + x, s * 2)))
    same(ours, theirs)
    pairs = values(ss.Dataset.range(3).scan(np.int64(0), lambda s, x: (s + 1, (s, x))))
    assert [tuple(int(v) for v in p) for p in pairs] == [(0, 0), (1, 1), (2, 2)]


def test_reduce_and_get_single_element_match_tf_data(tf):
    ours = ss.Dataset.range(101).reduce(np.int64(0), lambda s, x: s + x)
    theirs = tf.data.Dataset.range(101).reduce(tf.constant(0, tf.int64), lambda s, x: s + x).numpy()
    same([ours], [theirs])
    assert int(ours) == 5050
    assert int(ss.Dataset.range(0).reduce(np.int64(42), lambda s, x: s + x)) == 42
    same([ss.Dataset.range(7, 8).get_single_element()],
         [tf.data.Dataset.range(7, 8).get_single_element().numpy()])
    with pytest.raises(ss.Error, match="more than one"):
        ss.Dataset.range(2).get_single_element()


def test_counter_matches_tf_data(tf):
    same(values(ss.Dataset.counter(5, -2).take(4)), tf_values(tf.data.Dataset.counter(5, -2).take(4)))
    same(values(ss.Dataset.counter(1, 3, dtype=np.int32).take(3)),
         tf_values(tf.data.Dataset.counter(1, 3, dtype=tf.int32).take(3)))
    assert ss.Dataset.counter().cardinality() == -1


def test_choose_from_datasets_matches_tf_data(tf):
    choice = np.array([1, 1, 1, 0, 1, 0, 0, 1], np.int64)
    for stop in (True, False):
        ours = ss.Dataset.choose_from_datasets(
            [ss.Dataset.range(3), ss.Dataset.range(10, 12)],
            ss.Dataset.from_tensor_slices(choice),
            stop_on_empty_dataset=stop,
        )
        theirs = tf.data.Dataset.choose_from_datasets(
            [tf.data.Dataset.range(3), tf.data.Dataset.range(10, 12)],
            tf.data.Dataset.from_tensor_slices(choice),
            stop_on_empty_dataset=stop,
        )
        same(values(ours), tf_values(theirs))


def test_sample_from_datasets_is_seeded_and_weighted():
    inputs = [ss.Dataset.range(0, 1000), ss.Dataset.range(1000, 2000)]
    ds = ss.Dataset.sample_from_datasets(inputs, weights=[0.25, 0.75], seed=5, rerandomize_each_iteration=False)
    first = [int(v) for v in ds]
    assert first == [int(v) for v in ds]  # the same seed and no rerandomizing: the same order
    assert sorted(first) == list(range(2000))  # every element once
    head = first[:400]
    assert 50 < sum(v < 1000 for v in head) < 150  # about a quarter from the first
    with pytest.raises(ValueError):
        ss.Dataset.sample_from_datasets(inputs, weights=[1.0])
