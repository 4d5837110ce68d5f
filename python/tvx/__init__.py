"""tvx: TorchVision's native layer in C++20/CUDA.

Importing tvx loads libtvx, which registers its operators as ``torch.ops.tvx.*`` and the
C++ models as ``torch.classes.tvx.*``. The library is found through the ``TVX_LIBRARY``
environment variable (a path to libtvx.so), else inside this package (``tvx/lib``, where
the wheel and the Nix package put it), else next to it.
"""
from __future__ import annotations

import os
from pathlib import Path

import torch

__all__ = ["io", "ops", "transforms", "library_path", "program_path", "register_operators", "info", "variant",
           "verify", "__version__"]


def _find_library() -> Path:
    env = os.environ.get("TVX_LIBRARY")
    if env:
        path = Path(env)
        if not path.is_file():
            raise ImportError(f"tvx: TVX_LIBRARY={env} is not a file")
        return path
    here = Path(__file__).resolve().parent
    for path in (here / "lib" / "libtvx.so", here / "libtvx.so"):
        if path.is_file():
            return path
    raise ImportError("tvx: libtvx.so not found; set TVX_LIBRARY to its path or install tvx (pip install .)")


library_path = _find_library()
torch.ops.load_library(str(library_path))

from . import _meta  # noqa: E402  (fake kernels for torch.compile)
from . import io, ops, transforms  # noqa: E402
from ._program import info, program_path, variant, verify  # noqa: E402

__version__: str = torch.ops.tvx._version()


def register_operators(ns: str) -> None:
    """Register every tvx operator again under ``torch.ops.<ns>``: kernels, autograd and
    autocast (from libtvx) and the fake kernels torch.compile needs (from Python), so that
    ``torch.ops.<ns>.nms`` is tvx's nms in eager mode and under ``torch.compile``.
    Raises if ``ns`` was registered already."""
    torch.ops.tvx._register_operators(ns)
    _meta.register_fakes(ns)
