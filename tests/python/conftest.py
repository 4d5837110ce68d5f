import os
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))
if "TVX_LIBRARY" not in os.environ:
    # The build tree of the preset the test command built (dev unless TVX_PRESET says otherwise).
    os.environ["TVX_LIBRARY"] = str(ROOT / "build" / os.environ.get("TVX_PRESET", "dev") / "src" / "libtvx.so")

import tvx  # noqa: E402,F401

CUDA = torch.cuda.is_available()
DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not CUDA, reason="no CUDA device"))]


@pytest.fixture(params=DEVICES)
def device(request):
    return request.param
