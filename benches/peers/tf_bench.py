#!/usr/bin/env python3
"""Peer baselines for the planned Rust streaming-dataset batcher.

Measures tf.data (TensorFlow), plain numpy, pyarrow and polars on the same
synthetic data: N = 200,000 elements, x: float32[784], y: int64 scalar,
batch size 256 (seeded, numpy default_rng(0)).

Every case runs in its own subprocess so that peak RSS (ru_maxrss) is per
case. Each subprocess prints ONE JSON object; the driver collects them into a
JSON list (first element = metadata) and writes it to --out.

Usage:
  python tf_bench.py                    # all in-memory cases
  python tf_bench.py --stream           # + 2 GiB streaming cases
  python tf_bench.py --only tf_batch np_copyto
  python tf_bench.py --case tf_batch    # one case, in-process
  python tf_bench.py --list

Timing: 1 warm-up pass, then --reps (default 5) timed passes; medians with
min/max are reported. GB = 1e9 bytes. "x GB/s" counts the bytes of x that the
consumer received (n_elements * 784 * 4) per second.
"""
import argparse
import datetime
import json
import os
import tempfile
import platform
import resource
import statistics
import subprocess
import sys
import threading
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

HERE = os.path.dirname(os.path.abspath(__file__))
N = 200_000
D = 784
B = 256
SEED = 0
STREAM_PATH = os.path.join(tempfile.gettempdir(), "peers_stream_2GiB.npy")
STREAM_ROWS = (2 * 1024**3) // (D * 4)  # 684,784 rows -> 2.147e9 bytes of data
# The TFRecord case (added for slicestream's cli/benches/formats.rs): 1 GiB of tf.train.Example records
# {x: float_list of 784 floats, y: int64_list of 1}. `cargo bench --bench formats` writes this file
# (with slicestream's writer) and keeps it, so that both read the same file; when it is missing,
# --prepare-tfrecord writes one of the same layout with TensorFlow's writer.
TFRECORD_PATH = os.environ.get(
    "SLICESTREAM_TFRECORD", os.path.join(tempfile.gettempdir(), "slicestream_examples_1GiB.tfrecord"))
TFRECORD_BYTES = 1024**3


# --------------------------------------------------------------------------
# memory helpers
# --------------------------------------------------------------------------
def proc_status():
    out = {}
    try:
        with open("/proc/self/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "RssAnon", "RssFile", "RssShmem", "VmHWM"):
                    out[k] = int(v.split()[0]) / 1024.0  # MiB
    except OSError:
        pass
    return out


def ru_maxrss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


class MemSampler:
    """Samples /proc/self/status to split peak RSS into anon vs file-backed."""

    def __init__(self, interval=0.05):
        self.interval = interval
        self.peak = {"VmRSS": 0.0, "RssAnon": 0.0, "RssFile": 0.0}
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            s = proc_status()
            for k in self.peak:
                if k in s and s[k] > self.peak[k]:
                    self.peak[k] = s[k]
            self._stop.wait(self.interval)

    def start(self):
        self._t.start()
        return self

    def stop(self):
        self._stop.set()
        self._t.join()
        return self.peak


# --------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------
def make_xy(n=N):
    import numpy as np

    rng = np.random.default_rng(SEED)
    x = rng.random((n, D), dtype=np.float32)
    y = rng.integers(0, 10, size=n, dtype=np.int64)
    return x, y


def make_seqs(n=100_000):
    import numpy as np

    rng = np.random.default_rng(SEED + 1)
    lens = rng.integers(1, 65, size=n)  # uniform 1..64
    vals = rng.integers(0, 1000, size=int(lens.sum()), dtype=np.int32)
    return lens, vals


# --------------------------------------------------------------------------
# timing
# --------------------------------------------------------------------------
class Pass:
    """Result of one TF pass: element count + seconds spent destroying the
    iterator. time_runs() excludes the teardown from the pass time and
    records it separately (TEARDOWNS): with tf.data autotuning on and the
    CPUs oversubscribed, deleting an iterator can block for seconds (it
    waits for the autotune thread's next wake-up, 10 ms * 2^k after start)."""

    def __init__(self, count, teardown_s):
        self.count = count
        self.teardown_s = teardown_s


TEARDOWNS = []


def tf_pass(ds, consume):
    it = iter(ds)
    n = 0
    for el in it:
        n += consume(el)
    del el
    t = time.perf_counter()
    del it  # last reference -> iterator destructor runs here
    return Pass(n, time.perf_counter() - t)


def time_runs(fn, reps, warmup=1):
    for _ in range(warmup):
        fn()
    times = []
    counts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        c = fn()
        dt = time.perf_counter() - t0
        if isinstance(c, Pass):
            dt -= c.teardown_s
            TEARDOWNS.append(c.teardown_s)
            c = c.count
        times.append(dt)
        counts.append(c)
    return times, counts


def stats(values):
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
    }


def derive(times, per_run_amount, scale=1.0):
    """Throughput stats from run times: amount/time (max time -> min rate)."""
    rates = [per_run_amount * scale / t for t in times]
    return stats(rates)


# --------------------------------------------------------------------------
# cases
# --------------------------------------------------------------------------
CASES = {}


def case(name, stream=False):
    def deco(f):
        CASES[name] = (f, stream)
        return f

    return deco


def _tf():
    import tensorflow as tf

    return tf


def _consume_pair(el):
    a, b = el
    a.numpy()
    b.numpy()
    return int(a.shape[0]) if a.shape.rank == 2 else 1


def _iter_pairs(ds):
    return tf_pass(ds, _consume_pair)


def _tf_xy_case(res, build, reps, n_elems, desc):
    res["rss_before_data_mib"] = proc_status().get("VmRSS")  # TF already imported
    x, y = make_xy()
    res["rss_after_data_mib"] = proc_status().get("VmRSS")
    t0 = time.perf_counter()
    ds = build(x, y)
    res["build_s"] = time.perf_counter() - t0
    res["rss_after_build_mib"] = proc_status().get("VmRSS")
    times, counts = time_runs(lambda: _iter_pairs(ds), reps)
    assert all(c == n_elems for c in counts), counts
    res.update(desc=desc, n_elements=n_elems, batch_size=B, times_s=times,
               seconds=stats(times),
               elements_per_s=derive(times, n_elems),
               x_gb_per_s=derive(times, n_elems * D * 4, 1e-9))


@case("tf_batch")
def c_tf_batch(res, reps):
    tf = _tf()
    _tf_xy_case(res, lambda x, y: tf.data.Dataset.from_tensor_slices((x, y)).batch(B),
                reps, N, "from_tensor_slices((x,y)).batch(256); .numpy() on both parts")


@case("tf_shuffle_batch_prefetch")
def c_tf_sbp(res, reps):
    tf = _tf()
    _tf_xy_case(
        res,
        lambda x, y: tf.data.Dataset.from_tensor_slices((x, y))
        .shuffle(10_000, seed=1).batch(B).prefetch(tf.data.AUTOTUNE),
        reps, N, "from_tensor_slices.shuffle(10000,seed=1).batch(256).prefetch(AUTOTUNE)")


def _map2(a, b):
    return a * 2.0, b


@case("tf_map_batch")
def c_tf_map_batch(res, reps):
    tf = _tf()
    _tf_xy_case(
        res,
        lambda x, y: tf.data.Dataset.from_tensor_slices((x, y))
        .map(_map2, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).batch(B),
        reps, N, "from_tensor_slices.map(a*2, AUTOTUNE, deterministic=True).batch(256)")


@case("tf_shuffle_map_batch_prefetch")
def c_tf_smbp(res, reps):
    tf = _tf()
    _tf_xy_case(
        res,
        lambda x, y: tf.data.Dataset.from_tensor_slices((x, y))
        .shuffle(10_000, seed=1)
        .map(_map2, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .batch(B).prefetch(tf.data.AUTOTUNE),
        reps, N, "from_tensor_slices.shuffle(10000,seed=1).map(a*2,AUTOTUNE,det).batch(256).prefetch(AUTOTUNE)")


@case("tf_per_element")
def c_tf_per_element(res, reps):
    tf = _tf()
    n = 100_000
    x, y = make_xy()
    x, y = x[:n], y[:n]
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    res["rss_after_build_mib"] = proc_status().get("VmRSS")

    def run():
        return tf_pass(ds, _consume_pair)

    times, counts = time_runs(run, reps)
    assert all(c == n for c in counts)
    res.update(desc="from_tensor_slices((x,y)) unbatched, 100k elements, .numpy() on both",
               n_elements=n, times_s=times, seconds=stats(times),
               us_per_element=stats([t / n * 1e6 for t in times]),
               elements_per_s=derive(times, n),
               x_gb_per_s=derive(times, n * D * 4, 1e-9))


def _consume_batch(b):
    b.numpy()
    return int(b.shape[0])


def _seq_case(res, reps, build, desc):
    lens, vals = make_seqs()
    n = len(lens)
    ds = build(lens, vals)
    res["element_spec"] = str(ds.element_spec)

    def run():
        return tf_pass(ds, _consume_batch)

    times, counts = time_runs(run, reps)
    assert all(c == n for c in counts), counts
    res.update(desc=desc, n_elements=n, batch_size=64, total_tokens=int(lens.sum()),
               times_s=times, seconds=stats(times), elements_per_s=derive(times, n))


@case("tf_padded_batch_generator")
def c_pb_gen(res, reps):
    tf = _tf()
    import numpy as np

    def build(lens, vals):
        offs = np.concatenate([[0], np.cumsum(lens)])

        def gen():
            for i in range(len(lens)):
                yield vals[offs[i]:offs[i + 1]]

        return tf.data.Dataset.from_generator(
            gen, output_signature=tf.TensorSpec([None], tf.int32)).padded_batch(64)

    _seq_case(res, reps, build,
              "from_generator(int32 seqs, len U[1,64]).padded_batch(64), 100k seqs")


@case("tf_padded_batch_ragged")
def c_pb_ragged(res, reps):
    tf = _tf()

    def build(lens, vals):
        rt = tf.RaggedTensor.from_row_lengths(vals, lens)
        # padded_batch rejects RaggedTensorSpec(ragged_rank=0) elements with a
        # TypeError; an identity map turns them into plain TensorSpec([None]).
        return (tf.data.Dataset.from_tensor_slices(rt)
                .map(tf.identity).padded_batch(64))

    _seq_case(res, reps, build,
              "from_tensor_slices(RaggedTensor).map(tf.identity).padded_batch(64), 100k seqs")


@case("tf_ragged_batch_to_tensor")
def c_rb(res, reps):
    tf = _tf()

    def build(lens, vals):
        rt = tf.RaggedTensor.from_row_lengths(vals, lens)
        return (tf.data.Dataset.from_tensor_slices(rt)
                .ragged_batch(64).map(lambda r: r.to_tensor()))

    _seq_case(res, reps, build,
              "from_tensor_slices(RaggedTensor).ragged_batch(64).map(to_tensor), 100k seqs")


@case("np_copyto")
def c_np_copyto(res, reps):
    import numpy as np

    n = (1024**3) // 4
    src = np.full(n, 1.5, dtype=np.float32)
    dst = np.zeros_like(src)  # zeros_like may be lazy -> warm-up touches pages

    def run():
        np.copyto(dst, src)
        return n

    times, _ = time_runs(run, reps)
    res.update(desc="np.copyto of a 1 GiB float32 array (pre-faulted dst); GB/s = bytes copied / s",
               bytes=n * 4, times_s=times, seconds=stats(times),
               gb_per_s=derive(times, n * 4, 1e-9))


@case("np_gather_shuffled")
def c_np_gather(res, reps):
    import numpy as np

    x, y = make_xy()
    perm = np.random.default_rng(1).permutation(N)

    def run():
        c = 0
        for i in range(0, N, B):
            idx = perm[i:i + B]
            xb = x[idx]
            yb = y[idx]
            c += len(xb)
        return c

    times, _ = time_runs(run, reps)
    res.update(desc="x[perm[i:i+256]], y[perm[i:i+256]] for all batches (fancy-index gather copies)",
               n_elements=N, batch_size=B, times_s=times, seconds=stats(times),
               elements_per_s=derive(times, N), x_gb_per_s=derive(times, N * D * 4, 1e-9),
               batches_per_s=derive(times, -(-N // B)))


@case("np_slice_views")
def c_np_views(res, reps):
    x, y = make_xy()

    def run():
        c = 0
        for i in range(0, N, B):
            xb = x[i:i + B]
            yb = y[i:i + B]
            c += len(xb)
        return c

    times, _ = time_runs(run, reps)
    res.update(desc="x[i:i+256], y[i:i+256] views (no copy)", n_elements=N, batch_size=B,
               times_s=times, seconds=stats(times),
               batches_per_s=derive(times, -(-N // B)), elements_per_s=derive(times, N))


@case("np_slice_copy")
def c_np_slice_copy(res, reps):
    x, y = make_xy()

    def run():
        c = 0
        for i in range(0, N, B):
            xb = x[i:i + B].copy()
            yb = y[i:i + B].copy()
            c += len(xb)
        return c

    times, _ = time_runs(run, reps)
    res.update(desc="x[i:i+256].copy() (contiguous batch materialisation)", n_elements=N,
               batch_size=B, times_s=times, seconds=stats(times),
               elements_per_s=derive(times, N), x_gb_per_s=derive(times, N * D * 4, 1e-9),
               batches_per_s=derive(times, -(-N // B)))


@case("np_double_batches")
def c_np_double_batches(res, reps):
    # Added for slicestream's map_batch_vectorized case: numpy's x*2 over the same batches.
    x, y = make_xy()

    def run():
        c = 0
        for i in range(0, N, B):
            xb = x[i:i + B] * 2.0
            yb = y[i:i + B]
            c += len(xb) + 0 * len(yb)
        return c

    times, _ = time_runs(run, reps)
    res.update(desc="x[i:i+256] * 2 for all batches (a new array per batch)", n_elements=N,
               batch_size=B, times_s=times, seconds=stats(times),
               elements_per_s=derive(times, N), x_gb_per_s=derive(times, N * D * 4, 1e-9),
               batches_per_s=derive(times, -(-N // B)))


@case("arrow_slices")
def c_arrow(res, reps):
    import numpy as np
    import pyarrow as pa

    x, y = make_xy()
    t0 = time.perf_counter()
    fsl = pa.FixedSizeListArray.from_arrays(pa.array(x.reshape(-1)), D)
    rb = pa.RecordBatch.from_arrays([fsl, pa.array(y)], names=["x", "y"])
    res["build_s"] = time.perf_counter() - t0
    res["build_zero_copy_from_numpy"] = bool(
        np.shares_memory(rb.column(0).flatten().to_numpy(zero_copy_only=True), x))
    res["rss_after_build_mib"] = proc_status().get("VmRSS")
    first = rb.slice(B, B).column(0).flatten().to_numpy(zero_copy_only=True).reshape(-1, D)
    res["slice_to_numpy_zero_copy"] = bool(np.shares_memory(first, x)) and bool(
        np.array_equal(first, x[B:2 * B]))

    def run():
        c = 0
        for i in range(0, N, B):
            s = rb.slice(i, B)
            xa = s.column(0).flatten().to_numpy(zero_copy_only=True).reshape(-1, D)
            ya = s.column(1).to_numpy(zero_copy_only=True)
            c += len(xa)
        return c

    times, counts = time_runs(run, reps)
    assert all(c == N for c in counts)
    res.update(desc="RecordBatch{x: FixedSizeList<float32,784>, y: int64}; slice(i,256); "
                    "x.flatten().to_numpy(zero_copy_only=True).reshape(-1,784), y.to_numpy",
               schema=str(rb.schema), n_elements=N, batch_size=B, times_s=times,
               seconds=stats(times), elements_per_s=derive(times, N),
               x_gb_per_s=derive(times, N * D * 4, 1e-9),
               batches_per_s=derive(times, -(-N // B)))


@case("polars_slices")
def c_polars(res, reps):
    import numpy as np
    import polars as pl

    x, y = make_xy()
    t0 = time.perf_counter()
    df = pl.DataFrame({"x": x, "y": y})
    res["build_s"] = time.perf_counter() - t0
    res["schema"] = str(df.schema)
    res["build_zero_copy_from_numpy"] = bool(np.shares_memory(df["x"].to_numpy(), x))
    res["rss_after_build_mib"] = proc_status().get("VmRSS")
    sl = df.slice(B, B)
    first = sl["x"].to_numpy()
    res["slice_to_numpy_zero_copy"] = bool(np.shares_memory(first, x)) and bool(
        np.array_equal(first, x[B:2 * B]))
    res["slice_to_numpy_writeable"] = bool(first.flags["WRITEABLE"])

    def run():
        c = 0
        for s in df.iter_slices(B):
            xa = s["x"].to_numpy()
            ya = s["y"].to_numpy()
            c += len(xa)
        return c

    times, counts = time_runs(run, reps)
    assert all(c == N for c in counts)
    res.update(desc="DataFrame{x: Array(Float32,784), y: Int64}; iter_slices(256); "
                    "s['x'].to_numpy(), s['y'].to_numpy()",
               n_elements=N, batch_size=B, times_s=times, seconds=stats(times),
               elements_per_s=derive(times, N), x_gb_per_s=derive(times, N * D * 4, 1e-9),
               batches_per_s=derive(times, -(-N // B)))


# ---------------------------- streaming (2 GiB) ---------------------------
def prepare_stream_file():
    import numpy as np
    from numpy.lib.format import open_memmap

    if os.path.exists(STREAM_PATH) and os.path.getsize(STREAM_PATH) >= STREAM_ROWS * D * 4:
        return
    mm = open_memmap(STREAM_PATH, mode="w+", dtype=np.float32, shape=(STREAM_ROWS, D))
    rng = np.random.default_rng(SEED + 2)
    step = 16384
    for i in range(0, STREAM_ROWS, step):
        j = min(i + step, STREAM_ROWS)
        mm[i:j] = rng.random((j - i, D), dtype=np.float32)
    mm.flush()
    del mm


def _stream_run(res, ds, reps, desc, extra=None):
    n = STREAM_ROWS

    def run():
        return tf_pass(ds, _consume_batch)

    times, counts = time_runs(run, reps)
    assert all(c == n for c in counts), counts
    res.update(desc=desc, file=STREAM_PATH, file_bytes=os.path.getsize(STREAM_PATH),
               n_elements=n, batch_size=B, times_s=times, seconds=stats(times),
               elements_per_s=derive(times, n), x_gb_per_s=derive(times, n * D * 4, 1e-9))
    if extra:
        res.update(extra)


@case("stream_gen_rows", stream=True)
def c_stream_gen_rows(res, reps):
    tf = _tf()
    import numpy as np

    mm = np.load(STREAM_PATH, mmap_mode="r")

    def gen():
        for i in range(mm.shape[0]):
            yield mm[i]

    ds = (tf.data.Dataset.from_generator(gen, output_signature=tf.TensorSpec((D,), tf.float32))
          .shuffle(10_000, seed=1).batch(B))
    res["rss_after_build_mib"] = proc_status()
    _stream_run(res, ds, reps,
                "np.load(mmap_mode='r') + from_generator(yield row).shuffle(10000,seed=1).batch(256)")


@case("stream_gen_chunks", stream=True)
def c_stream_gen_chunks(res, reps):
    tf = _tf()
    import numpy as np

    mm = np.load(STREAM_PATH, mmap_mode="r")

    def gen():
        for i in range(0, mm.shape[0], 1024):
            yield mm[i:i + 1024]

    ds = (tf.data.Dataset.from_generator(gen, output_signature=tf.TensorSpec((None, D), tf.float32))
          .unbatch().shuffle(10_000, seed=1).batch(B))
    res["rss_after_build_mib"] = proc_status()
    _stream_run(res, ds, reps,
                "np.load(mmap_mode='r') + from_generator(yield 1024-row chunk).unbatch()"
                ".shuffle(10000,seed=1).batch(256)")


@case("stream_fts_memmap", stream=True)
def c_stream_fts(res, reps):
    tf = _tf()
    import numpy as np

    mm = np.load(STREAM_PATH, mmap_mode="r")
    before = proc_status()
    t0 = time.perf_counter()
    ds = tf.data.Dataset.from_tensor_slices(mm).shuffle(10_000, seed=1).batch(B)
    build_s = time.perf_counter() - t0
    after = proc_status()
    res.update(rss_before_build_mib=before, rss_after_build_mib=after, build_s=build_s,
               build_anon_growth_mib=after.get("RssAnon", 0) - before.get("RssAnon", 0))
    _stream_run(res, ds, reps,
                "tf.data.Dataset.from_tensor_slices(np.load(mmap_mode='r')).shuffle(10000,seed=1).batch(256)")


# ------------------------- TFRecord + tf.train.Example (1 GiB) -----------------------
TFRECORD_CASES = set()


def prepare_tfrecord_file():
    if os.path.exists(TFRECORD_PATH) and os.path.getsize(TFRECORD_PATH) >= TFRECORD_BYTES:
        return
    tf = _tf()
    import numpy as np

    rng = np.random.default_rng(SEED + 3)
    written = 0
    i = 0
    with tf.io.TFRecordWriter(TFRECORD_PATH + ".tmp") as w:
        while written < TFRECORD_BYTES:
            xs = rng.random((1024, D), dtype=np.float32)
            for row in xs:
                ex = tf.train.Example(features=tf.train.Features(feature={
                    "x": tf.train.Feature(float_list=tf.train.FloatList(value=row)),
                    "y": tf.train.Feature(int64_list=tf.train.Int64List(value=[i % 10])),
                }))
                data = ex.SerializeToString()
                w.write(data)
                written += len(data) + 16
                i += 1
                if written >= TFRECORD_BYTES:
                    break
    os.replace(TFRECORD_PATH + ".tmp", TFRECORD_PATH)


def _tfrecord_features(tf):
    return {"x": tf.io.FixedLenFeature([D], tf.float32),
            "y": tf.io.FixedLenFeature([], tf.int64)}


def _count_records(tf):
    n = 0
    for _ in tf.data.TFRecordDataset(TFRECORD_PATH, buffer_size=8 << 20).batch(4096):
        n += int(_.shape[0])
    return n


def _tfrecord_run(res, ds, reps, desc):
    tf = _tf()
    n = _count_records(tf)
    size = os.path.getsize(TFRECORD_PATH)
    res["rss_after_build_mib"] = proc_status()

    def run():
        return tf_pass(ds, _consume_dict_batch)

    times, counts = time_runs(run, reps)
    assert all(c == n for c in counts), (counts, n)
    res.update(desc=desc, file=TFRECORD_PATH, file_bytes=size, n_records=n, batch_size=B,
               times_s=times, seconds=stats(times), records_per_s=derive(times, n),
               file_gb_per_s=derive(times, size, 1e-9))


def _consume_dict_batch(el):
    el["x"].numpy()
    el["y"].numpy()
    return int(el["y"].shape[0])


def tfrecord_case(name):
    def deco(f):
        CASES[name] = (f, True)
        TFRECORD_CASES.add(name)
        return f

    return deco


@tfrecord_case("tfrecord_parse_example")
def c_tfrecord_parse_example(res, reps):
    tf = _tf()
    feats = _tfrecord_features(tf)
    ds = (tf.data.TFRecordDataset(TFRECORD_PATH, buffer_size=8 << 20).batch(B)
          .map(lambda r: tf.io.parse_example(r, feats), num_parallel_calls=tf.data.AUTOTUNE)
          .prefetch(tf.data.AUTOTUNE))
    _tfrecord_run(res, ds, reps,
                  "TFRecordDataset(f, buffer_size=8MiB).batch(256).map(parse_example(x: f32[784], "
                  "y: i64), AUTOTUNE).prefetch(AUTOTUNE)")


@tfrecord_case("tfrecord_parse_single")
def c_tfrecord_parse_single(res, reps):
    tf = _tf()
    feats = _tfrecord_features(tf)
    ds = (tf.data.TFRecordDataset(TFRECORD_PATH, buffer_size=8 << 20)
          .map(lambda r: tf.io.parse_single_example(r, feats), num_parallel_calls=tf.data.AUTOTUNE)
          .batch(B).prefetch(tf.data.AUTOTUNE))
    _tfrecord_run(res, ds, reps,
                  "TFRecordDataset(f, buffer_size=8MiB).map(parse_single_example, AUTOTUNE)"
                  ".batch(256).prefetch(AUTOTUNE)")


# --------------------------------------------------------------------------
# driver
# --------------------------------------------------------------------------
def run_case_inprocess(name, reps):
    fn, _ = CASES[name]
    res = {"name": name, "reps": reps, "warmup": 1, "loadavg_start": os.getloadavg(),
           # Linux keeps the pre-exec parent's high-water mark in ru_maxrss, so this is
           # the floor inherited from the driver (kept small: the driver imports nothing heavy).
           "ru_maxrss_at_start_mib": ru_maxrss_mib()}
    sampler = MemSampler().start()
    t0 = time.perf_counter()
    try:
        fn(res, reps)
        res["ok"] = True
    except Exception as e:  # report, don't hide
        res["ok"] = False
        res["error"] = f"{type(e).__name__}: {e}"
    res["wall_s"] = time.perf_counter() - t0
    if TEARDOWNS:
        res["iterator_teardown_s"] = stats(TEARDOWNS)
        res["iterator_teardown_s_all"] = TEARDOWNS
        res["timing_note"] = "seconds/throughput exclude iterator teardown (see iterator_teardown_s)"
    peak = sampler.stop()
    res["loadavg_end"] = os.getloadavg()
    res["peak_rss_mib"] = ru_maxrss_mib()  # ru_maxrss (includes file-backed mmap pages)
    res["vmhwm_mib"] = proc_status().get("VmHWM")  # kernel high-water mark of this process image
    res["sampled_peak_mib"] = peak  # ~50 ms sampling of /proc/self/status (anon vs file split)
    print(json.dumps(res), flush=True)


def versions():
    v = {"python": platform.python_version()}
    for mod in ("tensorflow", "numpy", "pyarrow", "polars"):
        try:
            m = __import__(mod)
            v[mod] = m.__version__
        except Exception as e:  # pragma: no cover
            v[mod] = f"unavailable: {e}"
    return v


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--case", help="run one case in-process and print its JSON")
    ap.add_argument("--only", nargs="*", help="subset of cases for the driver")
    ap.add_argument("--stream", action="store_true", help="also run the 2 GiB streaming cases")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--stream-reps", type=int, default=5,
                    help="timed passes for the streaming cases (stream_gen_rows is ~40 s/pass)")
    ap.add_argument("--out", default=os.path.join(HERE, "results-tf-bench.json"))
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--append", action="store_true",
                    help="append this pass (new meta + records, tagged 'pass') to an existing --out")
    ap.add_argument("--keep-stream-file", action="store_true")
    ap.add_argument("--versions", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--prepare-stream", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--prepare-tfrecord", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.list:
        for k, (_, s) in CASES.items():
            print(k, "(stream)" if s else "")
        return
    if args.case:
        run_case_inprocess(args.case, args.reps)
        return
    if args.versions:
        print(json.dumps(versions()))
        return
    if args.prepare_tfrecord:
        t0 = time.perf_counter()
        prepare_tfrecord_file()
        print(json.dumps({"tfrecord_file_write_s": time.perf_counter() - t0,
                          "tfrecord_file": TFRECORD_PATH,
                          "tfrecord_file_bytes": os.path.getsize(TFRECORD_PATH)}))
        return
    if args.prepare_stream:
        t0 = time.perf_counter()
        prepare_stream_file()
        print(json.dumps({"stream_file_write_s": time.perf_counter() - t0,
                          "stream_file_bytes": os.path.getsize(STREAM_PATH)}))
        return

    def child(*extra):
        # heavy work always happens in children so the driver's RSS (which Linux
        # folds into the children's ru_maxrss across exec) stays small
        p = subprocess.run([sys.executable, os.path.abspath(__file__), *extra],
                           capture_output=True, text=True)
        js = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
        return (js[-1] if js else None), p

    names = args.only or [k for k, (_, s) in CASES.items()
                          if (not s or args.stream) and k not in TFRECORD_CASES]
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "")
    except OSError:
        pass
    meta = {
        "kind": "meta",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "versions": child("--versions")[0],
        "nproc": int(subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()),
        "cpu": cpu,
        "mem_total_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3, 1),
        "N": N, "D": D, "batch_size": B, "seed": SEED, "reps": args.reps,
        "stream_reps": args.stream_reps, "warmup": 1, "loadavg": os.getloadavg(),
        "units": "GB = 1e9 bytes; MiB = 2^20 bytes; peak_rss_mib = ru_maxrss of the case's own process",
    }
    results = [meta]
    previous = []
    if args.append and os.path.exists(args.out):
        with open(args.out) as f:
            previous = json.load(f)
    meta["pass"] = 1 + sum(1 for r in previous if r.get("kind") == "meta")
    need_stream = any(CASES[n][1] and n not in TFRECORD_CASES for n in names)
    if any(n in TFRECORD_CASES for n in names):
        info, _ = child("--prepare-tfrecord")
        meta.update(info or {"tfrecord_prepare": "failed"})
    if need_stream:
        info, _ = child("--prepare-stream")
        meta.update(info or {"stream_prepare": "failed"})
    try:
        for name in names:
            print(f"# running {name}", file=sys.stderr, flush=True)
            reps = args.stream_reps if CASES[name][1] else args.reps
            rec, p = child("--case", name, "--reps", str(reps))
            if rec is None:
                rec = {"name": name, "ok": False, "returncode": p.returncode,
                       "stderr_tail": p.stderr[-2000:]}
            rec["pass"] = meta["pass"]
            print(json.dumps(rec), flush=True)
            results.append(rec)
            with open(args.out, "w") as f:  # rewrite after each case
                json.dump(previous + results, f, indent=1)
    finally:
        if need_stream and not args.keep_stream_file and os.path.exists(STREAM_PATH):
            os.remove(STREAM_PATH)
            meta["stream_file_deleted"] = True
            with open(args.out, "w") as f:
                json.dump(previous + results, f, indent=1)


if __name__ == "__main__":
    main()
