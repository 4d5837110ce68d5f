"""scikit-build-core metadata provider: the wheel depends on the torch it is built against
and, for a CUDA variant, on PyPI's nvJPEG (libtvx loads it for GPU JPEG through its RUNPATH).

libtvx links LibTorch's C++ ABI, which changes between minor releases, so the wheel asks
for torch==<major>.<minor>.* of the torch in the building environment: the interpreter in
TVX_PYTHON, else the one running pip, asked with -E so that pip's build isolation (which
hides the environment's packages through PYTHONPATH and PYTHONNOUSERSITE) does not hide torch,
wherever it is installed (the user's site-packages too). cmake/TvxTorch.cmake builds against
the same interpreter's torch.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path


def torch_version() -> str:
    python = os.environ.get("TVX_PYTHON") or sys.executable
    out = subprocess.run([python, "-E", "-c", "import torch; print(torch.__version__)"], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"tvx: {python} cannot import torch; install torch first (a frontend that builds in a new "
                           f"environment, like python -m build, needs --no-isolation):\n{out.stderr}")
    return out.stdout.strip()


def is_cuda_variant() -> bool:
    """Whether TVX_PRESET (default dev, as pyproject.toml passes it to CMake) compiles CUDA."""
    name = os.environ.get("TVX_PRESET") or "dev"
    table = tomllib.loads((Path(__file__).resolve().parents[1] / "variants.toml").read_text())
    rows = {**table.get("local", {}), **{r["name"]: r for r in table["variant"]}}
    if name not in rows:
        raise RuntimeError(f"tvx: TVX_PRESET={name} is not a preset; the presets are: {', '.join(rows)}")
    return bool(rows[name]["cuda_archs"])


def dynamic_metadata(field: str, settings: dict | None = None) -> list[str]:
    if field != "dependencies":
        raise ValueError(f"tvx_metadata provides dependencies, not {field}")
    version = torch_version()
    m = re.match(r"(\d+)\.(\d+)\.", version)
    if not m:
        raise RuntimeError(f"tvx: cannot read torch's version {version!r}")
    deps = [f"torch=={m[1]}.{m[2]}.*"]
    if is_cuda_variant():
        deps.append("nvidia-nvjpeg==13.0.*")  # the variants' CUDA 13.0
    return deps
