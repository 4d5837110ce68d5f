"""The tvx program from Python: ``tvx.info()``, ``tvx.variant()``, ``tvx.verify()`` and the
``tvx`` console command of the wheel, which all run the C++ program that belongs to the
loaded libtvx (beside it in a build tree, in ../bin in an installed tree)."""
from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path


def program_path() -> Path:
    """The tvx program built with the loaded libtvx."""
    from . import library_path

    lib = Path(library_path).resolve()
    for path in (lib.parent / "tvx", lib.parent.parent / "bin" / "tvx"):
        if path.is_file() and os.access(path, os.X_OK):
            return path
    raise FileNotFoundError(f"tvx: no tvx program beside {lib} (a build with TVX_BUILD_CLI=OFF has none)")


def _environment() -> dict:
    """The program's environment: LibTorch's directory first on the library path, so that the
    program finds the torch this process imported wherever it is installed (the program's
    own RUNPATH covers torch beside tvx in one site-packages only)."""
    import torch

    torch_lib = str(Path(torch.__file__).resolve().parent / "lib")
    path = os.environ.get("LD_LIBRARY_PATH")
    return {**os.environ, "LD_LIBRARY_PATH": torch_lib + (os.pathsep + path if path else "")}


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(program_path()), *args], capture_output=True, text=True, env=_environment())


@functools.cache
def info() -> dict:
    """What ``tvx info --json`` prints: versions, variant, CUDA architectures, GPUs, CPU tiers, codecs."""
    out = _run("info", "--json")
    if out.returncode != 0:
        raise RuntimeError(f"tvx info failed ({out.returncode}): {out.stderr.strip()}")
    return json.loads(out.stdout)


def variant() -> str:
    """The build variant: a row of variants.toml, or a local preset (dev, cpu)."""
    return info()["variant"]


def verify() -> dict:
    """``tvx verify``: the runtime checks of this build on this machine (driver, kernel images
    for the GPUs, known answers, CPU against CUDA). Returns what ``tvx verify --json`` prints
    when every check passed; raises RuntimeError naming the failed ones."""
    out = _run("verify", "--json")
    try:
        report = json.loads(out.stdout)
    except json.JSONDecodeError:
        raise RuntimeError(f"tvx verify failed ({out.returncode}): {out.stdout.strip()} {out.stderr.strip()}") from None
    failed = [c for c in report["checks"] if not c["ok"]]
    if failed or out.returncode != 0:
        raise RuntimeError("tvx verify: " + ("; ".join(f"{c['check']}: {c['detail']}" for c in failed)
                                             or f"exit status {out.returncode}"))
    return report


def main() -> None:
    """The wheel's ``tvx`` command: the C++ program, with this process's arguments."""
    try:
        path = program_path()
    except (FileNotFoundError, ImportError) as e:
        sys.exit(str(e))
    os.execve(path, [str(path), *sys.argv[1:]], _environment())
