"""The one exception the patch engine raises to hand a save to the openpyxl engine."""

from __future__ import annotations


class PatchUnsupported(Exception):
    """This package needs the openpyxl engine (the caller falls back)."""
