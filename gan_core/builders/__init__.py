"""How each family builds its recipe (networks, loss, optimizers): torch.

``gan_core.families`` declares the families (names, settings, presets) without
importing torch, so the web can list and validate them; a family's ``build``
imports its module here only when a run starts.
"""
