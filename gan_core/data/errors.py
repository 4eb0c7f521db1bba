"""The one error every data loader raises (a leaf module: nothing to import)."""


class DataError(ValueError):
    """The data cannot be used: missing, empty, unreadable or the wrong kind."""
