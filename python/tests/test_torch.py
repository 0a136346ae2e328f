"""The torch adapter: DataLoader workers and torch.distributed ranks each take their shard, and
together see every element of the epoch once."""

import os
import socket
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import slicestream as ss

torch = pytest.importorskip("torch", reason="SKIPPED: torch is not installed (pip install torch)")
import slicestream.torch as sst  # noqa: E402


def labels_of(loader):
    seen = []
    for x, y in loader:
        assert isinstance(x, torch.Tensor) and x.dtype == torch.float32
        seen.extend(y.tolist())
    return seen


def dataset(n=1000):
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n, dtype=np.int64)
    return ss.Dataset.from_tensor_slices((x, y))


def test_in_process_loader_gets_tensors_without_a_copy():
    x = np.arange(32, dtype=np.float32).reshape(8, 4)
    ds = ss.Dataset.from_tensor_slices(x).shuffle(8, seed=1).batch(8)
    (t,) = list(torch.utils.data.DataLoader(sst.IterableDataset(ds), batch_size=None))
    assert t.shape == (8, 4)
    # Writeable batches (shuffled: the engine's own buffer) become tensors over the same memory.
    b = next(iter(ds))
    assert torch.from_numpy(b).data_ptr() == b.ctypes.data


def test_two_dataloader_workers_split_the_epoch():
    adapter = sst.IterableDataset(dataset().batch(10))
    loader = torch.utils.data.DataLoader(adapter, batch_size=None, num_workers=2)
    seen = labels_of(loader)
    assert sorted(seen) == list(range(1000))  # every element once, none twice


def test_len_is_the_shard_length():
    adapter = sst.IterableDataset(dataset(10), shard=True)
    assert len(adapter) == 10  # one process, no workers: the whole dataset


def test_two_distributed_ranks_split_the_epoch(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    script = tmp_path / "rank.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import sys, json
            import numpy as np, torch, torch.distributed as dist
            import slicestream as ss, slicestream.torch as sst
            rank = int(sys.argv[1])
            dist.init_process_group("gloo", init_method="tcp://127.0.0.1:{port}", rank=rank, world_size=2)
            x = np.arange(3000, dtype=np.float32).reshape(1000, 3)
            y = np.arange(1000, dtype=np.int64)
            ds = ss.Dataset.from_tensor_slices((x, y)).batch(10)
            loader = torch.utils.data.DataLoader(sst.IterableDataset(ds), batch_size=None, num_workers=2)
            seen = [v for _, yb in loader for v in yb.tolist()]
            counts = torch.tensor([len(seen)])
            dist.all_reduce(counts)
            print(json.dumps({{"rank": rank, "seen": seen, "total": int(counts[0])}}))
            dist.destroy_process_group()
            """
        )
    )
    procs = [
        subprocess.Popen([sys.executable, str(script), str(r)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for r in range(2)
    ]
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-2000:]
        outs.append(__import__("json").loads(out.strip().splitlines()[-1]))
    a, b = (set(o["seen"]) for o in outs)
    assert not a & b  # disjoint shares
    assert sorted(a | b) == list(range(1000))  # together, the epoch
    assert outs[0]["total"] == 1000
