"""group_by_window, bucket_by_sequence_length, ignore_errors, cache, save/load and random
(issue 13) through the Python API, each run beside tf.data itself in this interpreter where the
semantics are TensorFlow's (values, dtypes, shapes must agree). Without TensorFlow those
comparisons are SKIPPED (CI installs it); the expected values written here are checked either
way."""

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


def tf_values(ds):
    return [np.asarray(e) for e in ds.as_numpy_iterator()]


def same(ours, theirs):
    assert len(ours) == len(theirs), (ours, theirs)
    for a, b in zip(ours, theirs):
        a, b = np.asarray(a), np.asarray(b)
        assert a.dtype == b.dtype and a.shape == b.shape, (a, b)
        assert np.array_equal(a, b), (a, b)


def both(tf, build):
    """`build(D)` with D = slicestream.Dataset and D = tf.data.Dataset: the same code."""
    return values(build(ss.Dataset)), tf_values(build(tf.data.Dataset))


def test_group_by_window_matches_tf_data(tf):
    data = np.array([5, 4, 3, 2, 1, 0, 8], np.int64)

    def build(D):
        return D.from_tensor_slices(data).group_by_window(
            key_func=lambda x: x % 3, reduce_func=lambda key, w: w.batch(5), window_size=5)

    ours, theirs = both(tf, build)
    same(ours, theirs)
    assert [v.tolist() for v in ours] == [[3, 0], [4, 1], [5, 2, 8]]

    def by_key(D):
        return D.range(10).group_by_window(
            lambda x: x % 2, lambda key, w: w.batch(4),
            window_size_func=lambda key: key + 2)

    same(*both(tf, by_key))


def test_group_by_window_arguments(tf):
    ds = ss.Dataset.range(4)
    with pytest.raises(ValueError, match="window_size"):
        ds.group_by_window(lambda x: x % 2, lambda k, w: w.batch(2))
    with pytest.raises(TypeError, match="key_func"):
        list(ds.group_by_window(lambda x: 1.5, lambda k, w: w.batch(2), window_size=2))
    with pytest.raises(TypeError, match="slicestream.Dataset"):
        list(ds.group_by_window(lambda x: x % 2, lambda k, w: 3, window_size=2))


def test_bucket_by_sequence_length_matches_tf_data(tf):
    def seqs(D):
        return D.range(1, 9).map(lambda x: np.full([x], x) if D is ss.Dataset else tf.fill([x], x))

    for kwargs in [dict(), dict(pad_to_bucket_boundary=True), dict(drop_remainder=True),
                   dict(padding_values=np.int64(-1))]:
        bounds = [3, 5, 10] if kwargs.get("pad_to_bucket_boundary") else [3, 5]
        sizes = [2] * (len(bounds) + 1)

        def build(D, kwargs=kwargs, bounds=bounds, sizes=sizes):
            length = (lambda x: len(x)) if D is ss.Dataset else (lambda x: tf.shape(x)[0])
            return seqs(D).bucket_by_sequence_length(length, bounds, sizes, **kwargs)

        same(*both(tf, build))
    with pytest.raises(ValueError, match="bucket_batch_sizes"):
        seqs(ss.Dataset).bucket_by_sequence_length(len, [3, 5], [2, 2])


def test_ignore_errors_matches_tf_data(tf):
    words = np.array([b"1", b"x", b"2.5", b"", b"7"], object)

    def to_number(x):
        return np.float32(float(x))

    ours = values(ss.Dataset.from_tensor_slices(words).map(to_number).ignore_errors())
    theirs = tf_values(tf.data.Dataset.from_tensor_slices(words)
                       .map(tf.strings.to_number).ignore_errors())
    same(ours, theirs)
    assert [float(v) for v in ours] == [1.0, 2.5, 7.0]
    with pytest.raises(ValueError):
        list(ss.Dataset.from_tensor_slices(words).map(to_number))


def test_cache_reads_the_first_pass(tmp_path):
    calls = []

    def gen():
        for i in range(4):
            calls.append(i)
            yield np.int64(i)

    ds = ss.Dataset.from_generator(
        gen, output_signature=ss.TensorSpec(shape=(), dtype=np.int64)).cache()
    assert [int(v) for v in ds.repeat(3)] == [0, 1, 2, 3] * 3
    assert calls == [0, 1, 2, 3]
    path = tmp_path / "c.elements"
    on_disk = ss.Dataset.range(5).map(lambda x: x * 2).cache(str(path))
    assert [int(v) for v in on_disk] == [0, 2, 4, 6, 8]
    assert path.exists()
    assert [int(v) for v in on_disk] == [0, 2, 4, 6, 8]


def test_save_and_load_round_trip(tmp_path):
    ds = ss.Dataset.from_tensor_slices(
        {"x": np.arange(12, dtype=np.float32).reshape(6, 2),
         "w": np.array([b"a", b"bb", b"", b"c", b"dd", b"e"], object)})
    path = tmp_path / "saved"
    ds.save(str(path))
    back = ss.Dataset.load(str(path))
    assert len(back) == 6
    for a, b in zip(back, ds):
        assert a.keys() == b.keys()
        for k in a:
            assert np.array_equal(a[k], b[k]) and type(a[k]) is type(b[k])
    with pytest.raises(ValueError, match="exists"):
        ds.save(str(path))
    with pytest.raises(FileNotFoundError):
        ss.Dataset.load(str(tmp_path / "nothing"))


def test_random_is_seeded():
    a = [int(v) for v in ss.Dataset.random(seed=5).take(8)]
    b = [int(v) for v in ss.Dataset.random(seed=5).take(8)]
    c = [int(v) for v in ss.Dataset.random(seed=6).take(8)]
    assert a == b and a != c
    assert ss.Dataset.random(seed=1).cardinality() == ss.INFINITE_CARDINALITY


def test_parallel_interleave_keeps_tf_datas_order(tf):
    def build(D):
        return D.range(1, 6).interleave(
            lambda x: D.range(x * 10, x * 10 + x), cycle_length=3, block_length=2,
            num_parallel_calls=ss.AUTOTUNE if D is ss.Dataset else tf.data.AUTOTUNE,
            deterministic=True)

    same(*both(tf, build))
