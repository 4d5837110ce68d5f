"""bench/bench.py itself: a quick run of its CPU nms group writes a table of times and
speedups (a bench that stopped computing its medians once went unnoticed until a GPU run)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import tvx

ROOT = Path(__file__).resolve().parents[2]


def test_quick_nms_bench_reports_medians_and_speedups(tmp_path):
    out = tmp_path / "bench.json"
    env = {**os.environ, "TVX_LIBRARY": str(tvx.library_path), "CUDA_VISIBLE_DEVICES": ""}
    run = subprocess.run([sys.executable, str(ROOT / "bench" / "bench.py"), "--quick", "--only", "nms", "--json", str(out)],
                         capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    cases = json.loads(out.read_text())["cases"]
    assert any(c["case"].startswith("nms cpu 10000 clustered") for c in cases)
    for c in cases:
        assert isinstance(c["torchvision"], float) and c["torchvision"] > 0, c
        assert isinstance(c["tvx"], float) and c["tvx"] > 0, c
        assert c["speedup"] == c["torchvision"] / c["tvx"]
        assert c["case"] in run.stdout
