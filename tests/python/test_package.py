"""The Python package: version, register_operators under a second namespace (kernels,
autocast and fake kernels, so torch.compile works there too)."""
import json
import re
import subprocess

import pytest
import torch
import torchvision

import tvx
from test_nms import clustered


def test_version():
    assert re.fullmatch(r"\d+\.\d+\.\d+", tvx.__version__)


def test_register_operators_from_python(device):
    tvx.register_operators(f"tvx_py_{device}")
    ns = getattr(torch.ops, f"tvx_py_{device}")
    boxes, scores = clustered(device, 500, 1)
    want = torchvision.ops.nms(boxes, scores, 0.5)
    torch.testing.assert_close(ns.nms(boxes, scores, 0.5), want, rtol=0, atol=0)
    # Autocast is registered for the namespace too ...
    key = "AutocastCUDA" if device == "cuda" else "AutocastCPU"
    assert torch._C._dispatch_has_kernel_for_dispatch_key(f"tvx_py_{device}::nms", key)
    low = torch.float16 if device == "cuda" else torch.bfloat16
    with torch.autocast(device, dtype=low):
        got = ns.nms(boxes.to(low), scores.to(low), 0.5)
    torch.testing.assert_close(got, torch.ops.tvx.nms(boxes.to(low).float(), scores.to(low).float(), 0.5))
    # ... and the fake kernels: torch.compile traces the data-dependent output.
    compiled = torch.compile(lambda b, s: b[ns.nms(b, s, 0.5)], fullgraph=True, dynamic=True)
    torch.testing.assert_close(compiled(boxes, scores), boxes[want])
    with pytest.raises(RuntimeError, match="already registered"):
        tvx.register_operators(f"tvx_py_{device}")


def test_info_variant_and_version_are_what_the_program_prints():
    out = subprocess.run([str(tvx.program_path()), "info", "--json"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    printed = json.loads(out.stdout)
    assert tvx.info() == printed
    assert tvx.variant() == printed["variant"]
    assert tvx.__version__ == printed["tvx_version"]


def test_verify_from_python():
    report = tvx.verify()
    assert report["passed"] and report["failures"] == 0 and report["variant"] == tvx.variant()
    assert all(check["ok"] for check in report["checks"]) and len(report["checks"]) >= 3

