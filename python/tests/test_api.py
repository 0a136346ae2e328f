"""tf.data's Python API beyond the golden cases: sources, keyword names and defaults, run beside
tf.data where TensorFlow is installed (deterministic pipelines only: seeded shuffles differ)."""

import inspect

import numpy as np
import pytest

import slicestream as ss

try:
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf
except ImportError:  # pragma: no cover - CI installs it
    tf = None
    print("SKIPPED: TensorFlow is not installed: the API is not compared with tf.data")

needs_tf = pytest.mark.skipif(tf is None, reason="SKIPPED: tensorflow is not installed")


def values(ds):
    def plain(v):
        if isinstance(v, tuple):
            return tuple(plain(x) for x in v)
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        return np.asarray(v).tolist()

    return [plain(v) for v in ds.as_numpy_iterator()]


def pipelines(D, spec):
    """The same code for both libraries: D is tf.data.Dataset or slicestream.Dataset."""

    def gen(n):
        for i in range(n):
            yield i, [i] * 2

    return {
        "generator_args": D.from_generator(gen, args=(4,), output_signature=(spec((), "int64"), spec((2,), "int32"))),
        "interleave": D.range(1, 4).interleave(lambda v: D.range(v * 10, v * 10 + 3), cycle_length=2, block_length=2),
        "flat_map_fn": D.range(3).flat_map(lambda v: D.from_tensor_slices([v, v])),
        "zip_dict": D.zip({"a": D.range(3), "b": D.range(3).map(lambda v: v * 2)}),
        "zip_nested": D.zip((D.range(2), (D.range(2), D.range(2)))),
        "enumerate": D.from_tensor_slices(np.array([5, 6, 7])).enumerate(start=10),
        "prefetch_repeat_take": D.range(3).repeat().take(7).prefetch(2),
        "window_shift_stride": D.range(10).window(3, shift=2, stride=2, drop_remainder=True).flat_map(lambda w: w.batch(3)),
        "window_tuple": D.zip((D.range(7), D.range(7).map(lambda v: v * 2)))
        .window(3)
        .flat_map(lambda a, b: D.zip((a.batch(3), b.batch(3)))),
        "window_dict": D.zip({"a": D.range(5), "b": D.range(5)})
        .window(2, drop_remainder=True)
        .flat_map(lambda d: D.zip({"a": d["a"].batch(2), "b": d["b"].batch(2)})),
        "padded_tuple": D.range(1, 5).map(lambda v: (np.full([v], v) if D is ss.Dataset else tf.fill([v], v), v)).padded_batch(
            2, padded_shapes=([None], []), padding_values=(np.int64(-1), np.int64(0))
        ),
        "rebatch_list": D.range(8).batch(4).rebatch([3, 1]),
        "shard_skip": D.range(20).shard(3, 1).skip(2),
        "take_while": D.range(10).take_while(lambda v: v < 4),
        "filter_map_parallel": D.range(50).filter(lambda v: v % 3 == 0).map(lambda v: v + 1, num_parallel_calls=4, deterministic=True),
        "batch_drop": D.range(10).batch(4, drop_remainder=True),
        "unbatch": D.from_tensors(np.arange(6).reshape(3, 2)).unbatch(),
        "concatenate": D.range(2).concatenate(D.range(5, 7)),
    }


@needs_tf
@pytest.mark.parametrize("name", sorted(pipelines(ss.Dataset, ss.TensorSpec)))
def test_same_elements_as_tf_data(name):
    ours = pipelines(ss.Dataset, ss.TensorSpec)[name]
    theirs = pipelines(tf.data.Dataset, tf.TensorSpec)[name]
    assert values(ours) == values(theirs)
    assert ours.cardinality() == int(theirs.cardinality())


def test_global_shuffle_is_a_seeded_permutation():
    ds = ss.Dataset.range(1000).global_shuffle(seed=7)
    a, b = values(ds), values(ds)
    assert sorted(a) == list(range(1000)) and a != b  # reshuffled each iteration
    fixed = ss.Dataset.range(1000).global_shuffle(seed=7, reshuffle_each_iteration=False)
    assert values(fixed) == values(fixed)


def test_shuffle_is_seeded_and_complete():
    ds = ss.Dataset.range(100).shuffle(10, seed=3, reshuffle_each_iteration=False)
    assert values(ds) == values(ds) and sorted(values(ds)) == list(range(100))


def test_options():
    opts = ss.Options(memory_budget=1 << 20, num_threads=2)
    ds = ss.Dataset.range(10).with_options(opts)
    assert ds.options().memory_budget == 1 << 20 and ds.options().num_threads == 2
    assert values(ds) == list(range(10))
    if tf is not None:
        tf_opts = tf.data.Options()
        tf_opts.threading.private_threadpool_size = 3
        assert ss.Dataset.range(3).with_options(tf_opts).options().num_threads == 3


@needs_tf
@pytest.mark.parametrize(
    "method",
    [
        "from_tensor_slices", "from_tensors", "from_generator", "zip", "batch", "padded_batch", "unbatch",
        "rebatch", "shuffle", "map", "filter", "take", "skip", "repeat", "shard", "concatenate",
        "enumerate", "window", "flat_map", "take_while", "interleave", "prefetch", "with_options",
        "group_by_window", "bucket_by_sequence_length", "ignore_errors", "cache", "save", "load", "random",
    ],
)
def test_keyword_names_and_defaults_are_tf_datas(method):
    ours = getattr(ss.Dataset, method).__text_signature__
    theirs = inspect.signature(getattr(tf.data.Dataset, method))
    params = [p for p in theirs.parameters.values() if p.name not in ("self",)]
    for p in params:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        assert p.name in ours, f"{method}: no {p.name} in {ours}"
        if p.default is not inspect.Parameter.empty and p.default is not None and not callable(p.default):
            assert f"{p.name}={p.default!r}" in ours, f"{method}: {p.name}={p.default!r} vs {ours}"
    names = [p.name for p in params if p.kind == p.POSITIONAL_OR_KEYWORD]
    parts = [n.strip() for n in ours.strip("()").split(",")]
    ours_names = [n.split("=")[0].strip("$") for n in parts if n and not n.startswith("*") and n not in ("$self", "/")]
    assert ours_names[: len(names)] == names, (ours_names, names)


def test_iterator_stats_count_what_each_stage_yielded():
    ds = ss.Dataset.range(100).batch(10).prefetch(2).with_options(ss.Options(memory_budget=1 << 20))
    it = iter(ds)
    for _ in range(3):
        next(it)
    stats = it.stats()
    names = [s["name"] for s in stats["stages"]]
    assert names[0] == "range" and "batch" in names and "prefetch" in names
    batch = next(s for s in stats["stages"] if s["name"] == "batch")
    assert batch["elements"] >= 3 and batch["bytes"] >= 3 * 10 * 8
    assert stats["memory_budget"] == 1 << 20 and stats["wall_s"] >= 0
    list(it)
    assert it.stats() is None  # the epoch has ended
