"""Network passes that a penalty differentiates twice run uncompiled.

R1, path length and the WGAN-GP gradient penalty take a gradient with
``create_graph=True`` and then backpropagate through it. torch.compile's
AOTAutograd backward cannot itself be differentiated: on the CPU it says so
("does not currently support double backward"); on an H200 with inductor
(torch 2.11) StyleGAN2's R1 through a compiled D ended in "element 0 of
tensors does not require grad" at 128 px and a donated-buffer error at 256 px.
So those passes run eagerly, with the same modules and parameters, and the
main phases keep the compiled networks. The cost: the lazy regularization
passes (one step in 16 for R1, 4 for path length) and WGAN-GP's penalty pass
run at eager speed.
"""

from __future__ import annotations

import contextlib

import torch


def twice_differentiable() -> contextlib.AbstractContextManager:
    """Inside, compiled modules run their eager forward."""
    return torch.compiler.set_stance("force_eager")
