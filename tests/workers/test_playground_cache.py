"""The light worker's generator cache: bounded, least-recently-used, fresh."""

from __future__ import annotations

import os
import shutil

import torch

from ganweb.playground.rendering import GeneratorCache
from tests.ganweb.playground.tiny_models import tiny_checkpoint


def copies(tmp_path, n: int):
    source = tiny_checkpoint("dcgan")
    paths = []
    for i in range(n):
        path = tmp_path / f"m{i}.pt"
        shutil.copyfile(source, path)
        paths.append(path)
    return paths


def test_cache_keeps_at_most_its_size_and_evicts_the_least_recently_used(tmp_path):
    a, b, c = copies(tmp_path, 3)
    cache = GeneratorCache(size=2)
    first = cache.get(a)
    cache.get(b)
    assert cache.get(a) is first  # a is now the most recently used
    cache.get(c)  # evicts b
    assert [key[0] for key in cache.keys()] == [str(a), str(c)]
    assert cache.loads == 3
    cache.get(b)
    assert cache.loads == 4 and len(cache.keys()) == 2


def test_a_rewritten_checkpoint_is_loaded_again(tmp_path):
    (path,) = copies(tmp_path, 1)
    cache = GeneratorCache(size=4)
    old = cache.get(path)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert cache.get(path) is not old
    assert cache.loads == 2


def test_raw_generator_has_the_trained_weights_not_the_average(tmp_path):
    (path,) = copies(tmp_path, 1)
    cache = GeneratorCache(size=4)
    ema, raw = cache.get(path, "ema"), cache.get(path, "raw")
    assert ema.has_ema and raw.has_ema
    payload = torch.load(path, weights_only=True)
    raw_state = raw.handle.net.state_dict()
    ema_state = ema.handle.net.state_dict()
    name = next(k for k, v in raw_state.items() if v.is_floating_point())
    assert torch.equal(raw_state[name], payload["nets"]["G"][name]) or any(
        torch.equal(raw_state[name], weights.get(name, torch.empty(0)))
        for weights in payload["nets"].values()
    )
    assert torch.equal(ema_state[name], payload["ema"][name])
