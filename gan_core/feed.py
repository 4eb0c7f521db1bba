"""Training batches in a seeded, resumable order, from RAM, the GPU or a stream.

The order belongs to the feed: each epoch is a fresh permutation from the
feed's own generator (one per stream), so it does not depend on the model's use
of the global RNG, and its state is saved for exact resume. Where the rows come
from does not change the order: a tensor in RAM or on the GPU is indexed in
the training thread; a set streamed from the training cache is read ahead by a
background thread (pinned memory on CUDA), which draws from a copy of the
order, while the state saved is always that of the last batch handed out.
uint8 images move to the device and become float there. Under
torch.distributed every rank draws the same global order and keeps its rows
(gan_core.distributed.shard), so the order's state is the same on every rank.

With ``mirror`` each real image is flipped left-right with probability 1/2 as
it is drawn (stylegan2-ada-pytorch's ``--mirror`` doubles the set with x-flips
once; drawing the flip per batch gives the same distribution without storing
twice the images). The flips come from the feed's own generator, saved with
its state, and never touch labels; two-domain data flips each domain apart.
"""

from __future__ import annotations

import queue
import threading

import torch

from gan_core import distributed
from gan_core.data.types import Data, DomainData, PairData, PointData
from gan_core.recipe import Batch

GPU_DATA_BYTES = 2 << 30  # Datasets up to this size move to the GPU whole.
PREFETCH_BATCHES = 3  # Batches read ahead of the training thread when streaming.
FLIP_SEED_OFFSET = 104729  # The flip generator's seed is seed + this.


def mirror_batch(images: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """``images`` [N, C, H, W] with each one flipped left-right with p = 1/2.
    Under torch.distributed the flips are drawn for the global batch and this
    rank keeps its rows, like the images themselves: the same flips as one
    process, and the same generator state on every rank."""
    size = distributed.world().size
    flip = distributed.shard(torch.rand(images.shape[0] * size, generator=gen) < 0.5)
    flip = flip.to(images.device).view(-1, 1, 1, 1)
    return torch.where(flip, images.flip(3), images)


class IndexOrder:
    """Batches of row indices: an epoch's permutation, consumed in order."""

    def __init__(self, n: int, batch_size: int, gen: torch.Generator):
        self.n, self.batch_size, self.gen = n, batch_size, gen
        self.perm: torch.Tensor | None = None
        self.pos = 0

    def next(self) -> torch.Tensor:
        bs, n = self.batch_size, self.n
        if bs > n:  # tiny datasets: draw with replacement
            return torch.randint(n, (bs,), generator=self.gen)
        if self.perm is None or self.pos + bs > n:
            self.perm, self.pos = torch.randperm(n, generator=self.gen), 0
        idx = self.perm[self.pos : self.pos + bs]
        self.pos += bs
        return idx

    def state(self) -> tuple:
        # A new permutation is a new tensor (never changed in place): sharing it
        # between the reader's copy and the saved state is safe.
        return self.gen.get_state(), self.perm, self.pos

    def load(self, state: tuple) -> None:
        gen_state, self.perm, self.pos = state
        self.gen.set_state(gen_state)

    def copy(self) -> IndexOrder:
        twin = IndexOrder(self.n, self.batch_size, torch.Generator())
        twin.load(self.state())
        return twin


def _rows(source, idx: torch.Tensor) -> torch.Tensor:
    if isinstance(source, torch.Tensor):
        return source.index_select(0, idx.to(source.device))
    return source[idx]  # streamed (gan_core.data.streamed.StreamedImages)


def _gather(streams, orders: list[IndexOrder], pin: bool) -> list[list[torch.Tensor]]:
    """The rows of the next batch of every stream (one index draw per stream):
    under torch.distributed, this rank's share of the global batch."""
    batch = []
    for sources, order in zip(streams, orders, strict=True):
        idx = distributed.shard(order.next())
        rows = [_rows(s, idx) for s in sources]
        batch.append([r.pin_memory() for r in rows] if pin else rows)
    return batch


class _Reader(threading.Thread):
    """Reads the next batches of streamed sources ahead, in the feed's order."""

    def __init__(self, streams, orders: list[IndexOrder], pin: bool):
        super().__init__(name="data-prefetch", daemon=True)
        self.streams, self.orders, self.pin = streams, orders, pin
        self.out: queue.Queue = queue.Queue(maxsize=PREFETCH_BATCHES)
        self.stopping = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                batch = _gather(self.streams, self.orders, self.pin)
                self._put((batch, [o.state() for o in self.orders]))
        except BaseException as exc:  # handed to the training thread
            self._put(exc)

    def _put(self, item) -> None:
        while not self.stopping.is_set():
            try:
                self.out.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=5)


class DataFeed:
    """Batches on the device from a dataset, in the feed's seeded order."""

    def __init__(
        self,
        data: Data,
        batch_size: int,
        seed: int,
        device: torch.device,
        channels_last: bool,
        mirror: bool = False,
    ):
        self.batch_size, self.device = batch_size, device
        self.channels_last = channels_last
        self.mirror = mirror
        self.flip_gen = torch.Generator().manual_seed(seed + FLIP_SEED_OFFSET)
        if isinstance(data, PointData):
            streams = [[data.points]]
        elif isinstance(data, DomainData):
            streams = [[data.a], [data.b]]
        elif isinstance(data, PairData):  # one order for both: pairs stay pairs
            streams = [[data.a, data.b]]
        else:
            streams = [
                [data.images] + ([data.labels] if data.labels is not None else [])
            ]
        self.streams = [[self._place(t) for t in ts] for ts in streams]
        self.kind = data.kind
        self.gens = [torch.Generator().manual_seed(seed + i) for i in range(2)]
        self.orders = [
            IndexOrder(int(ts[0].shape[0]), batch_size, self.gens[i])
            for i, ts in enumerate(self.streams)
        ]
        self.streamed = any(
            not isinstance(s, torch.Tensor) for ts in self.streams for s in ts
        )
        self.reader: _Reader | None = None
        self.images_drawn = 0

    def _place(self, t):
        """On the GPU when it fits; else pinned (CUDA) or where it is."""
        on_gpu = self.device.type != "cpu"
        if not isinstance(t, torch.Tensor):  # streamed from the cache
            return (
                t.load_to(self.device) if on_gpu and t.nbytes <= GPU_DATA_BYTES else t
            )
        if on_gpu and t.numel() * t.element_size() <= GPU_DATA_BYTES:
            return t.to(self.device)
        return t.pin_memory() if self.device.type == "cuda" else t

    def _draw(self) -> list[list[torch.Tensor]]:
        """Rows of the next batch of every stream (still where they live)."""
        if not self.streamed:
            return _gather(self.streams, self.orders, pin=False)
        if self.reader is None:
            copies = [o.copy() for o in self.orders]
            self.reader = _Reader(self.streams, copies, self.device.type == "cuda")
            self.reader.start()
        item = self.reader.out.get()
        if isinstance(item, BaseException):
            self.close()
            raise item
        batch, states = item
        for order, state in zip(self.orders, states, strict=True):
            order.load(state)
        return batch

    def _finish(self, rows: list[torch.Tensor]) -> list[torch.Tensor]:
        if self.kind == "pairs":  # A and B side by side in channels: one flip
            c = int(rows[0].shape[1])
            both = self._finish_rows([torch.cat(rows, 1)])[0]
            return [both[:, :c], both[:, c:]]
        return self._finish_rows(rows)

    def _finish_rows(self, rows: list[torch.Tensor]) -> list[torch.Tensor]:
        out = [r.to(self.device, non_blocking=True) for r in rows]
        if out[0].dtype == torch.uint8:  # x / 127.5 - 1, on the device
            out[0] = out[0].float().div_(127.5).sub_(1.0)
        if out[0].dim() == 4 and self.mirror:
            out[0] = mirror_batch(out[0], self.flip_gen)
        if out[0].dim() == 4 and self.channels_last:
            out[0] = out[0].contiguous(memory_format=torch.channels_last)
        return out

    def next(self) -> Batch:
        """The next batch on the device."""
        self.images_drawn += self.batch_size
        taken = [self._finish(rows) for rows in self._draw()]
        if self.kind == "domains":
            return Batch((taken[0][0], taken[1][0]))
        if self.kind == "pairs":
            return Batch((taken[0][0], taken[0][1]))
        first = taken[0]
        return Batch(first[0], first[1] if len(first) > 1 else None)

    def state_dict(self) -> dict:
        states = [o.state() for o in self.orders]
        perms = [s[1] for s in states] + [None] * (2 - len(states))
        pos = [s[2] for s in states] + [0] * (2 - len(states))
        return {
            "gens": [g.get_state() for g in self.gens],
            "perms": [
                p if p is not None else torch.empty(0, dtype=torch.int64) for p in perms
            ],
            "pos": pos,
            "flip": self.flip_gen.get_state(),
        }

    def load_state_dict(self, state: dict) -> None:
        self.close()  # batches read ahead belong to the old order
        for g, s in zip(self.gens, state["gens"], strict=True):
            g.set_state(s)
        for i, order in enumerate(self.orders):
            perm = state["perms"][i]
            order.perm = perm if perm.numel() else None
            order.pos = int(state["pos"][i])
        if "flip" in state:  # checkpoints from before mirror have none
            self.flip_gen.set_state(state["flip"])

    def close(self) -> None:
        """Stop reading ahead (the feed starts again on the next batch)."""
        if self.reader is not None:
            self.reader.stop()
            self.reader = None
