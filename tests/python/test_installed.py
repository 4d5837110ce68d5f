"""What only an installed tvx (the wheel, scripts/test_wheel.sh) has: its console command and
libtvx inside the package, found without TVX_LIBRARY. Collected only with TVX_TEST_INSTALLED=1."""
import json
import subprocess
import sys
from pathlib import Path

import tvx


def test_library_and_program_are_inside_the_package():
    package = Path(tvx.__file__).parent
    assert Path(tvx.library_path) == package / "lib" / "libtvx.so"
    assert tvx.program_path() == package / "bin" / "tvx"
    # libtvx and the program find LibTorch and the CUDA libraries relative to themselves.
    for path in (tvx.library_path, tvx.program_path()):
        runpath = subprocess.run(["readelf", "-d", str(path)], capture_output=True, text=True, check=True).stdout
        assert "$ORIGIN/../../torch/lib" in runpath and "/build/" not in runpath, runpath


def test_console_command_is_the_program():
    command = Path(sys.executable).parent / "tvx"
    out = subprocess.run([str(command), "info", "--json"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == tvx.info()
    bad = subprocess.run([str(command), "no-such-command"], capture_output=True, text=True, timeout=300)
    assert bad.returncode != 0 and bad.stderr


def test_the_wheel_declares_its_torch():
    from importlib.metadata import requires, version

    import torch

    major, minor = torch.__version__.split(".")[:2]
    cuda = bool(tvx.info()["compiled_cuda_archs"])
    assert requires("tvx") == [f"torch=={major}.{minor}.*"] + (["nvidia-nvjpeg==13.0.*"] if cuda else [])
    assert version("tvx") == tvx.__version__
