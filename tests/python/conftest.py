import os
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
# TVX_TEST_INSTALLED=1: test the tvx installed in this interpreter (a wheel), as a user has it:
# no source tree, no TVX_LIBRARY (scripts/test_wheel.sh). Otherwise the source tree's package
# with the library of the build tree the test command built.
INSTALLED = os.environ.get("TVX_TEST_INSTALLED") == "1"
if INSTALLED:
    assert "TVX_LIBRARY" not in os.environ, "TVX_TEST_INSTALLED tests the installed package's own libtvx"
else:
    sys.path.insert(0, str(ROOT / "python"))
    if "TVX_LIBRARY" not in os.environ:
        # The build tree of the preset the test command built (dev unless TVX_PRESET says otherwise).
        os.environ["TVX_LIBRARY"] = str(ROOT / "build" / os.environ.get("TVX_PRESET", "dev") / "src" / "libtvx.so")

import tvx  # noqa: E402,F401

if INSTALLED:
    assert "site-packages" in tvx.__file__ and "site-packages" in str(tvx.library_path), (tvx.__file__, tvx.library_path)


# Installed: the checks of the repository's own files (the derived build files) are not the
# package's; test_installed.py checks what only an installed package has.
collect_ignore = ["test_variants.py", "test_bench.py"] if INSTALLED else ["test_installed.py"]

CUDA = torch.cuda.is_available()
DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not CUDA, reason="no CUDA device"))]


@pytest.fixture(params=DEVICES)
def device(request):
    return request.param
