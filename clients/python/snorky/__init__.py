"""Snorky client-side libraries. The backend connector is :mod:`snorky.backend`."""

__version__ = "0.1.0"
