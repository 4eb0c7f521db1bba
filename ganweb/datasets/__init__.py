"""Datasets: upload, validate, inspect and reuse image datasets."""
