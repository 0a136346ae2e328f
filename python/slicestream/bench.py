"""The Python benchmark: slicestream beside tf.data and torch's DataLoader in one process.

    python -m slicestream.bench [--rows 200000] [--reps 3] [--json out.json] [--only CASE ...]

The peer benchmark's work: ``x: float32[rows, 784]``, ``y: int64[rows]``, batches of 256 as NumPy.
Each case runs each loader for the same number of batches (best of ``--reps``) and reports
batches/s, GB/s of ``x`` and ``y`` delivered, and the ratio to slicestream. The cases:

- ``shuffle``: ``shuffle(10000).batch(256).prefetch(2)``: slicestream, tf.data, torch
  ``DataLoader(TensorDataset, shuffle=True)`` with ``num_workers`` 0 and 2 (best kept), and the same
  slicestream pipeline drained in Rust (no NumPy conversion): the "Rust figure";
- ``batch``: ``from_tensor_slices((x, y)).batch(256)``: the cost per batch, in µs;
- ``map``: ``map(lambda x, y: (x * 2, y), num_parallel_calls=AUTOTUNE).batch(256)`` beside tf.data's
  (traced to a graph), and the vectorized form ``batch(256).map(lambda x, y: (x * 2, y))``;
- ``gil``: the shuffled pipeline alone and while another Python thread spins.

TensorFlow and torch are optional: a missing one is reported as SKIPPED.
"""

import argparse
import json
import os
import sys
import threading
import time

import numpy as np

import slicestream as ss

BATCH = 256


def make_data(rows, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((rows, 784), dtype=np.float32)
    y = rng.integers(0, 10, rows, dtype=np.int64)
    return x, y


def timed(make_iter, batches, reps):
    """Best time of `reps` runs, each taking `batches` batches from a fresh iterator."""
    best = float("inf")
    for _ in range(reps):
        it = make_iter()
        start = time.perf_counter()
        n = 0
        for _ in it:
            n += 1
            if n == batches:
                break
        elapsed = time.perf_counter() - start
        if n < batches:
            raise RuntimeError(f"the loader gave {n} batches, not {batches}")
        best = min(best, elapsed)
        del it
    return best


def row(name, seconds, batches, bytes_per_batch):
    return {
        "loader": name,
        "seconds": seconds,
        "batches_per_s": batches / seconds,
        "gb_per_s": batches * bytes_per_batch / seconds / 1e9,
        "us_per_batch": seconds / batches * 1e6,
    }


def tensorflow():
    try:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import tensorflow as tf

        return tf
    except ImportError:
        print("SKIPPED: tensorflow is not installed: tf.data is not measured", file=sys.stderr)
        return None


def torch_module():
    try:
        import torch

        return torch
    except ImportError:
        print("SKIPPED: torch is not installed: DataLoader is not measured", file=sys.stderr)
        return None


def case_shuffle(x, y, reps, batches):
    per = BATCH * (784 * 4 + 8)
    out = []
    ds = ss.Dataset.from_tensor_slices((x, y)).shuffle(10000, seed=1).batch(BATCH).prefetch(2)
    # Python and the Rust drain alternate, so that the machine's drift falls on both alike.
    python_times, rust_times = [], []
    for _ in range(reps):
        python_times.append(timed(lambda: iter(ds), batches, 1))
        rust_times.append(ds.take(batches)._drain_in_rust())
    out.append(row("slicestream", min(python_times), batches, per))
    out.append(row("slicestream (drained in Rust)", min(rust_times), batches, per))
    tf = tensorflow()
    if tf is not None:
        tds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(10000, seed=1).batch(BATCH).prefetch(2)
        out.append(row("tf.data", timed(lambda: tds.as_numpy_iterator(), batches, reps), batches, per))
    torch = torch_module()
    if torch is not None:
        tdata = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
        best = None
        for workers in (0, 2):
            loader = torch.utils.data.DataLoader(tdata, batch_size=BATCH, shuffle=True, num_workers=workers)
            t = timed(lambda: iter(loader), batches, reps)
            r = row(f"torch DataLoader (num_workers={workers})", t, batches, per)
            out.append(r)
            best = r if best is None or r["seconds"] < best["seconds"] else best
    return out


def case_batch(x, y, reps, batches):
    per = BATCH * (784 * 4 + 8)
    ds = ss.Dataset.from_tensor_slices((x, y)).batch(BATCH)
    batches = min(batches, len(ds))
    out = [row("slicestream", timed(lambda: iter(ds), batches, reps), batches, per)]
    tf = tensorflow()
    if tf is not None:
        tds = tf.data.Dataset.from_tensor_slices((x, y)).batch(BATCH)
        out.append(row("tf.data", timed(lambda: tds.as_numpy_iterator(), batches, reps), batches, per))
    return out


def case_map(x, y, reps, batches):
    per = BATCH * (784 * 4 + 8)
    out = []
    ds = ss.Dataset.from_tensor_slices((x, y)).map(lambda a, b: (a * 2, b), num_parallel_calls=ss.AUTOTUNE).batch(BATCH)
    out.append(row("slicestream map (per element)", timed(lambda: iter(ds), batches, reps), batches, per))
    vec = ss.Dataset.from_tensor_slices((x, y)).batch(BATCH).map(lambda a, b: (a * 2, b))
    out.append(row("slicestream batch+map (vectorized)", timed(lambda: iter(vec), batches, reps), batches, per))
    tf = tensorflow()
    if tf is not None:
        tds = (
            tf.data.Dataset.from_tensor_slices((x, y))
            .map(lambda a, b: (a * 2, b), num_parallel_calls=tf.data.AUTOTUNE)
            .batch(BATCH)
        )
        out.append(row("tf.data map (per element)", timed(lambda: tds.as_numpy_iterator(), batches, reps), batches, per))
    return out


def beside_a_spinning_thread(make_iter, batches, reps):
    """The time of `make_iter`'s batches while another Python thread runs pure Python code."""
    stop = threading.Event()
    spins = [0]

    def spin():
        while not stop.is_set():
            spins[0] += 1

    t = threading.Thread(target=spin)
    t.start()
    try:
        return timed(make_iter, batches, reps)
    finally:
        stop.set()
        t.join()


def _spin_until(stop):
    while not stop.is_set():
        pass


def beside_a_spinning_process(make_iter, batches, reps):
    """The time of `make_iter`'s batches while another process keeps a core busy: the machine's
    own limit, with no GIL in play (the spinning thread takes a core only while it holds the GIL)."""
    import multiprocessing  # noqa: PLC0415

    stop = multiprocessing.Event()
    p = multiprocessing.Process(target=_spin_until, args=(stop,))
    p.start()
    try:
        return timed(make_iter, batches, reps)
    finally:
        stop.set()
        p.join()


def case_gil(x, y, reps, batches):
    per = BATCH * (784 * 4 + 8)
    ds = ss.Dataset.from_tensor_slices((x, y)).shuffle(10000, seed=1).batch(BATCH).prefetch(2)
    out = [
        row("slicestream alone", timed(lambda: iter(ds), batches, reps), batches, per),
        row("slicestream + a spinning Python thread", beside_a_spinning_thread(lambda: iter(ds), batches, reps), batches, per),
        row("slicestream + a spinning process (no GIL)", beside_a_spinning_process(lambda: iter(ds), batches, reps), batches, per),
    ]
    tf = tensorflow()
    if tf is not None:
        tds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(10000, seed=1).batch(BATCH).prefetch(2)
        out.append(row("tf.data alone", timed(lambda: tds.as_numpy_iterator(), batches, reps), batches, per))
        spun = beside_a_spinning_thread(lambda: tds.as_numpy_iterator(), batches, reps)
        out.append(row("tf.data + a spinning Python thread", spun, batches, per))
    return out


CASES = {"shuffle": case_shuffle, "batch": case_batch, "map": case_map, "gil": case_gil}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=200_000)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--batches", type=int, default=300, help="batches per run (at most an epoch for 'batch')")
    p.add_argument("--only", nargs="*", choices=sorted(CASES), default=None)
    p.add_argument("--json", help="write the results here")
    args = p.parse_args(argv)
    x, y = make_data(args.rows)
    results = {}
    for name in args.only or list(CASES):
        rows = CASES[name](x, y, args.reps, args.batches)
        base = rows[0]["batches_per_s"]
        print(f"\n{name}: {args.batches} batches of {BATCH}, best of {args.reps}")
        for r in rows:
            r["ratio_to_first"] = r["batches_per_s"] / base
            print(
                f"  {r['loader']:<42} {r['batches_per_s']:>10.1f} batches/s  {r['gb_per_s']:>7.2f} GB/s"
                f"  {r['us_per_batch']:>9.2f} µs/batch  x{base / r['batches_per_s']:.2f} (slicestream / this)"
            )
        results[name] = rows
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": args.rows, "batch": BATCH, "results": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
