"""scikit-build-core metadata provider: the wheel depends on the torch it is built against.

libtvx links LibTorch's C++ ABI, which changes between minor releases, so the wheel asks
for torch==<major>.<minor>.* of the torch in the building environment: the interpreter in
TVX_PYTHON, else the one running pip, asked with -I so that pip's build isolation (which
hides the environment's packages through PYTHONPATH) does not hide torch. cmake/TvxTorch.cmake
builds against the same interpreter's torch.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys


def torch_version() -> str:
    python = os.environ.get("TVX_PYTHON") or sys.executable
    out = subprocess.run([python, "-I", "-c", "import torch; print(torch.__version__)"], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"tvx: {python} cannot import torch; install torch first (a frontend that builds in a new "
                           f"environment, like python -m build, needs --no-isolation):\n{out.stderr}")
    return out.stdout.strip()


def dynamic_metadata(field: str, settings: dict | None = None) -> list[str]:
    if field != "dependencies":
        raise ValueError(f"tvx_metadata provides dependencies, not {field}")
    m = re.match(r"(\d+)\.(\d+)\.", torch_version())
    if not m:
        raise RuntimeError(f"tvx: cannot read torch's version {torch_version()!r}")
    return [f"torch=={m[1]}.{m[2]}.*"]
