"""A slicestream dataset as a ``torch.utils.data.IterableDataset``.

``torch`` is imported when an adapter is made, not when slicestream is. Each DataLoader worker and
each ``torch.distributed`` rank iterates its own shard (``Dataset.shard(num_shards, index)`` with
``num_shards = world_size * num_workers``), so together they see every element once per epoch.
Batches become tensors with ``torch.from_numpy``: no copy (a read-only view of a source is copied
once, since torch tensors are writeable).

    loader = torch.utils.data.DataLoader(
        slicestream.torch.IterableDataset(ds.batch(256)), batch_size=None, num_workers=2)
"""

import warnings

import numpy as np

__all__ = ["IterableDataset", "shard_for"]


def _torch():
    import torch  # imported lazily: slicestream does not need torch

    return torch


def shard_for(rank=None, world_size=None, worker_id=None, num_workers=None):
    """(num_shards, index) of this process and DataLoader worker: ranks from ``torch.distributed``
    when it is initialized (else 0 of 1), workers from ``torch.utils.data.get_worker_info()``."""
    torch = _torch()
    if rank is None or world_size is None:
        dist = torch.distributed
        if dist.is_available() and dist.is_initialized():
            rank, world_size = dist.get_rank(), dist.get_world_size()
        else:
            rank, world_size = 0, 1
    if worker_id is None or num_workers is None:
        info = torch.utils.data.get_worker_info()
        worker_id, num_workers = (info.id, info.num_workers) if info is not None else (0, 1)
    return world_size * num_workers, rank * num_workers + worker_id


def _to_torch(value, torch):
    if isinstance(value, tuple):
        return tuple(_to_torch(v, torch) for v in value)
    if isinstance(value, dict):
        return {k: _to_torch(v, torch) for k, v in value.items()}
    if isinstance(value, np.ndarray) and value.dtype != object:
        if not value.flags.writeable:
            value = value.copy()  # torch tensors are writeable; a view of a source is not
        return torch.from_numpy(value)
    if isinstance(value, np.generic) and not isinstance(value, (np.bytes_, np.str_)):
        return torch.as_tensor(value)
    return value  # bytes and object arrays of bytes stay as they are


def _iterable_base():
    return _torch().utils.data.IterableDataset


class _Adapter:
    """The methods of the adapter; the class itself derives from torch's IterableDataset."""

    def __init__(self, dataset, shard=True, to_tensors=True):
        self.dataset = dataset
        self.shard = shard
        self.to_tensors = to_tensors

    def __iter__(self):
        torch = _torch()
        ds = self.dataset
        if self.shard:
            num_shards, index = shard_for()
            if num_shards > 1:
                ds = ds.shard(num_shards, index)
        for element in ds:
            yield _to_torch(element, torch) if self.to_tensors else element

    def __len__(self):
        n = len(self.dataset)
        if not self.shard:
            return n
        num_shards, index = shard_for()
        return n // num_shards + (1 if index < n % num_shards else 0)


def IterableDataset(dataset, shard=True, to_tensors=True):
    """A ``torch.utils.data.IterableDataset`` over ``dataset``: each DataLoader worker and each
    distributed rank takes its shard (``shard=False``: every one iterates all of it); elements
    come as torch tensors (``to_tensors=False``: as NumPy). Use ``DataLoader(..., batch_size=None)``
    over a batched dataset: slicestream batches, torch only moves the batches."""
    cls = type("IterableDataset", (_Adapter, _iterable_base()), {"__module__": __name__})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cls(dataset, shard=shard, to_tensors=to_tensors)
