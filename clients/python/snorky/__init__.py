"""Snorky client-side libraries. The backend connector is :mod:`snorky.backend`."""

import pkgutil as _pkgutil

# The repository's VERSION file (a link to it here, a copy once packaged);
# pkgutil reads it from a wheel imported as a zip too.
__version__ = (_pkgutil.get_data(__name__, "VERSION") or b"").decode("ascii").strip()
