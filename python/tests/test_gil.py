"""The GIL is released while the engine works: another Python thread runs during a long call into
Rust (a fact about who runs, not a timing)."""

import threading

import numpy as np

import slicestream as ss


def python_runs_during(call):
    """How many times another Python thread ran a loop iteration while `call` ran."""
    started = threading.Event()
    done = threading.Event()
    counts = {"during": 0}

    def work():
        started.set()
        call()
        done.set()

    t = threading.Thread(target=work)
    t.start()
    started.wait()
    while not done.is_set():
        counts["during"] += 1
    t.join()
    return counts["during"]


def test_iteration_releases_the_gil():
    x = np.arange(300_000, dtype=np.int64)
    ds = ss.Dataset.from_tensor_slices(x).shuffle(10_000, seed=0).batch(1000)
    # Draining in Rust holds no Python object at all; a spinning Python thread must run meanwhile.
    assert python_runs_during(lambda: ds._drain_in_rust()) > 1000
    # The same while iterating from Python: each next() releases the GIL while the engine works.
    assert python_runs_during(lambda: sum(1 for _ in ds)) > 1000


def test_file_reading_releases_the_gil(data_dir):
    import os

    path = os.path.join(data_dir, "digits.tfrecord")
    features = {"image": ss.FixedLenFeature([], "string"), "label": ss.FixedLenFeature([], "int64")}
    ds = ss.Dataset.from_tfrecord_examples(path, features).repeat(5).batch(64)
    assert python_runs_during(lambda: ds._drain_in_rust()) > 1000
