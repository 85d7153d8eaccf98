"""Packages whose names load on first use (PEP 562): a module is imported when one of its names
is first asked for, not with the package (gensim, pandas: seconds at every CLI start).

Example:
    >>> __getattr__, __dir__ = attach("rnnkit.timeseries", {"mae": "metrics"})
    >>> __getattr__("mae").__name__, "mae" in __dir__()
    ('mae', True)
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any


def attach(package: str, names: dict[str, str]
           ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``, which gives each name of ``names``
    from the submodule named beside it (``{"mae": "metrics"}``: ``package.metrics.mae``)."""

    def __getattr__(name: str) -> Any:
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{names[name]}"), name)

    def __dir__() -> list[str]:  # for dir() and tab completion: loaded or not
        return sorted(set(vars(sys.modules[package])) | set(names))

    return __getattr__, __dir__
