"""Keep torch's compiler stack unloaded in runs that do not compile.

torch.optim wraps ``Optimizer.add_param_group``, ``zero_grad``, ``state_dict``
and ``load_state_dict`` in ``torch._disable_dynamo``, which imports the whole
``torch._dynamo`` package on the first call (about 2 s and 100+ MB on this CPU)
only to learn how to *not* trace them. Outside a compiled region the disabled
function is the plain function, so when nothing in this process compiles we
hand each wrapper its plain function to cache; torch then never imports dynamo
for the optimizers. A process that compiles (``TrainConfig.compile``) skips
this, and so does one where dynamo is already loaded (nothing left to save).
"""

from __future__ import annotations

import sys

import torch

# torch._compile's wrapper caches the disabled function on the wrapped one.
_CACHE_ATTR = "__dynamo_disable"
_WRAPPED = ("add_param_group", "zero_grad", "state_dict", "load_state_dict")


def keep_dynamo_unloaded() -> bool:
    """Prime torch.optim's disable-dynamo wrappers; True when it did."""
    if "torch._dynamo" in sys.modules:
        return False
    for name in _WRAPPED:
        plain = getattr(getattr(torch.optim.Optimizer, name), "__wrapped__", None)
        if plain is not None and getattr(plain, _CACHE_ATTR, None) is None:
            setattr(plain, _CACHE_ATTR, plain)
    return True
