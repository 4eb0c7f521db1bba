"""Datasets: in-memory containers (types), loaders (loading) and built-in sets."""
