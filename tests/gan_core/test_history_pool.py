"""The CycleGAN history pool of generated images (Shrivastava 2017, Zhu 2017)."""

import torch

from gan_core.history_pool import HistoryPool


def ids(n, start):
    """n one-pixel images whose value is their id, so returns can be traced."""
    return torch.arange(start, start + n, dtype=torch.float32).reshape(n, 1, 1, 1)


def test_until_full_the_pool_returns_what_it_is_given_and_stores_it():
    pool = HistoryPool(50)
    batch = ids(30, 0)
    assert torch.equal(pool.query(batch), batch)
    assert torch.equal(pool.query(ids(20, 30)), ids(20, 30))
    assert len(pool) == 50


def test_once_full_the_pool_returns_stored_images_with_probability_one_half():
    pool = HistoryPool(50, generator=torch.Generator().manual_seed(0))
    pool.query(ids(50, 0))
    stored_returns, total = 0, 0
    for k in range(100):
        batch = ids(40, 1000 + 40 * k)
        out = pool.query(batch)
        stored_returns += int((out != batch).sum())
        total += batch.shape[0]
    # 4,000 fair coin flips: standard error 0.8 percentage points.
    assert abs(stored_returns / total - 0.5) < 0.03
    assert len(pool) == 50


def test_a_returned_stored_image_is_replaced_by_the_new_one():
    pool = HistoryPool(4, generator=torch.Generator().manual_seed(1))
    pool.query(ids(4, 0))
    for step in range(20):
        new = ids(1, 100 + step)
        before = {float(x) for x in pool.images}
        out = float(pool.query(new))
        after = {float(x) for x in pool.images}
        if out != 100 + step:  # Swapped: the old image left, the new one came in.
            assert out in before and out not in after and 100 + step in after
        else:
            assert after == before


def test_returned_images_carry_no_gradient_and_size_zero_disables_the_pool():
    x = torch.randn(3, 3, 4, 4, requires_grad=True)
    assert not HistoryPool(50).query(x * 2).requires_grad
    off = HistoryPool(0)
    assert torch.equal(off.query(x), x.detach()) and len(off) == 0


def test_pool_state_round_trips():
    pool = HistoryPool(5)
    pool.query(ids(3, 0))
    restored = HistoryPool(5)
    restored.load_state_dict(pool.state_dict())
    assert [float(x) for x in restored.images] == [0.0, 1.0, 2.0]
