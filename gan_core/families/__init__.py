"""Family recipes; every module here exports ``FAMILIES`` (see gan_core.registry)."""
