"""A run that does not compile never loads torch._dynamo while it starts."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHILD = r"""
import sys
sys.path.insert(0, sys.argv[1])
import torch
from gan_core.eager_optim import keep_dynamo_unloaded
primed = keep_dynamo_unloaded() if sys.argv[2] == "prime" else None
net = torch.nn.Linear(3, 2)
opt = torch.optim.Adam(net.parameters(), lr=0.1)
opt.zero_grad()
state = opt.state_dict()
opt.load_state_dict(state)
print(primed, "torch._dynamo" in sys.modules)
"""


def _child(mode: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", CHILD, str(ROOT), mode],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    ).stdout.split()


def test_optimizers_start_without_the_compiler_stack():
    assert _child("plain") == ["None", "True"]  # what torch alone does
    assert _child("prime") == ["True", "False"]


def test_nothing_to_prime_once_dynamo_is_loaded():
    import torch._dynamo  # noqa: F401

    from gan_core.eager_optim import keep_dynamo_unloaded

    assert keep_dynamo_unloaded() is False
