"""The tvx program: info's JSON, the SIMD tier fallback and the CPU baseline guard."""
import json
import os
import subprocess
from pathlib import Path

TVX = Path(os.environ["TVX_LIBRARY"]).parent / "tvx"


def run(*args, **env):
    return subprocess.run([str(TVX), *args], capture_output=True, text=True, env={**os.environ, **env}, timeout=120)


def test_info_json():
    out = run("info", "--json")
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert info["libtorch_version"].startswith("2.11.0")
    assert info["cpu"]["simd_tier_active"] in info["cpu"]["simd_tiers_compiled"]
    assert info["cpu"]["baseline_tier"] == info["cpu"]["simd_tiers_compiled"][0]
    assert info["built_with_cuda"] == bool(info["compiled_cuda_archs"])


def test_a_cpu_without_the_higher_tiers_falls_back_to_the_baseline():
    # Take away what every tier above a baseline needs (AVX-512; ARMv8.2 half/dot, SVE).
    out = run("info", "--json", TVX_CPU_DISABLE="avx512f asimdhp asimddp sve sve2")
    assert out.returncode == 0, out.stderr
    cpu = json.loads(out.stdout)["cpu"]
    assert cpu["simd_tier_active"] == cpu["baseline_tier"] == cpu["simd_tiers_compiled"][0]


def test_a_cpu_below_the_baseline_is_refused_with_a_message():
    out = run("info", TVX_CPU_DISABLE="avx2 asimd")
    assert out.returncode != 0
    assert "needs a CPU with the" in out.stderr and "this CPU lacks" in out.stderr
