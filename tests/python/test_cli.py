"""The tvx program (info, verify, exit codes), the SIMD tier fallback, and the CPU baseline
guard: a CPU below the baseline gets a message, never an illegal instruction."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import tvx

LIB = Path(tvx.library_path)
TVX = tvx.program_path()


def run(*args, **env):
    return subprocess.run([str(TVX), *args], capture_output=True, text=True, env={**os.environ, **env}, timeout=300)


def cpu_extensions():
    return json.loads(run("info", "--json").stdout)["cpu"]["extensions"]


def test_info_json():
    out = run("info", "--json")
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert info["libtorch_version"].startswith("2.11.0")
    assert info["cpu"]["simd_tier_active"] in info["cpu"]["simd_tiers_compiled"]
    assert info["cpu"]["baseline_tier"] == info["cpu"]["simd_tiers_compiled"][0]
    assert info["cpu"]["highway_target"] in ("AVX2", "AVX3", "NEON", "SVE2")
    assert info["built_with_cuda"] == bool(info["compiled_cuda_archs"])
    assert info["cpu"]["warps"] in ("fused sampler, pointwise grid", "fused sampler, bmm grid",
                                    "ATen's grid_sampler chain")
    forced = json.loads(run("info", "--json", TVX_CPU_WARPS="aten").stdout)["cpu"]["warps"]
    assert forced == "ATen's grid_sampler chain"
    # The codecs and their libraries as loaded (scripts/setup installs them; libavif is optional).
    assert info["codecs"]["JPEG"].startswith("libjpeg-turbo ")
    assert info["codecs"]["PNG"].startswith("libpng 1.6.")
    assert info["codecs"]["WebP"].startswith("libwebp ")
    assert info["codecs"]["GIF"].startswith("giflib 5.")
    assert info["codecs"]["JPEG (GPU)"].startswith("nvJPEG 13.")  # the toolkit's, or PyPI's nvidia-nvjpeg
    assert info["codecs"]["AVIF"] is None or info["codecs"]["AVIF"].startswith("libavif ")


def test_verify_json_and_exit_code():
    out = run("verify", "--json")
    report = json.loads(out.stdout)
    assert out.returncode == (0 if report["passed"] else 1)
    assert report["checks"] and all(set(c) == {"check", "ok", "detail"} for c in report["checks"])
    assert report["failures"] == sum(not c["ok"] for c in report["checks"])
    assert report["passed"], report


def test_help_documents_exit_codes_and_bad_arguments_exit_2():
    out = run("--help")
    assert out.returncode == 0
    assert "Exit codes:" in out.stdout and "1  verify: at least one check failed" in out.stdout
    assert run("no-such-command").returncode == 2
    assert run("info", "--no-such-flag").returncode == 2


# The forced tiers: x86 runs AVX-512 code where the CPU has it and AVX2 code when AVX-512 is
# taken away; each must report itself and compute the same bits.
SCRIPT = """
import json, sys, torch, tvx
g = torch.Generator().manual_seed(0)
img = torch.randint(0, 256, (37, 101, 3), generator=g, dtype=torch.uint8)
x = torch.randn(1, 3, 37, 101, generator=g)
a = tvx.transforms.to_tensor(img)
b = tvx.transforms.normalize(x, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
torch.save({"a": a, "b": b}, sys.argv[1])
"""


def tier_run(tmp_path, disable):
    info = run("info", "--json", TVX_CPU_DISABLE=disable)
    assert info.returncode == 0, info.stderr
    path = tmp_path / f"out-{len(disable)}.pt"
    env = {**os.environ, "TVX_CPU_DISABLE": disable, "PYTHONPATH": os.pathsep.join(sys.path)}
    subprocess.run([sys.executable, "-c", SCRIPT, str(path)], check=True, env=env, timeout=300)
    import torch
    return json.loads(info.stdout)["cpu"], torch.load(path)


def test_each_x86_tier_runs_and_gives_the_same_bits(tmp_path):
    ext = cpu_extensions()
    if "avx2" not in ext:
        pytest.skip("not an x86-64 CPU with AVX2")
    low, low_out = tier_run(tmp_path, "avx512f")
    assert low["simd_tier_active"] == "avx2" and low["highway_target"] == "AVX2"
    if "avx512" not in low["simd_tiers_compiled"]:
        pytest.skip("this build compiles no AVX-512 tier")
    if not {"avx512f", "avx512dq", "avx512vl", "avx512bw"} <= set(ext):
        pytest.skip("this CPU has no AVX-512")
    high, high_out = tier_run(tmp_path, "")
    assert high["simd_tier_active"] == "avx512" and high["highway_target"] == "AVX3"
    for k in ("a", "b"):
        assert high_out[k].equal(low_out[k]), k


def test_a_cpu_without_the_higher_tiers_falls_back_to_the_baseline():
    # Take away what every tier above a baseline needs (AVX-512; ARMv8.2 half/dot, SVE).
    out = run("info", "--json", TVX_CPU_DISABLE="avx512f asimdhp asimddp sve sve2")
    assert out.returncode == 0, out.stderr
    cpu = json.loads(out.stdout)["cpu"]
    assert cpu["simd_tier_active"] == cpu["baseline_tier"] == cpu["simd_tiers_compiled"][0]


def test_a_cpu_below_the_baseline_is_refused_with_a_message():
    out = run("info", TVX_CPU_DISABLE="avx2 aes")
    assert out.returncode != 0
    assert "needs a CPU with the" in out.stderr and "this CPU lacks:" in out.stderr
    assert re.search(r"this CPU lacks: (avx2 aes|aes)\.", out.stderr), out.stderr


def disassemble(symbol):
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", f"--disassemble={symbol}", str(LIB)],
                         capture_output=True, text=True, check=True).stdout
    body = out[out.index(f"<{symbol}>:"):]
    return [l for l in body.splitlines()[1:] if l.strip()]


def test_the_baseline_guard_calls_nothing_a_tier_could_provide():
    # The defect this guards: the guard's error path called an out-of-line std::vector
    # destructor that an AVX2 object could also emit, so link order decided between the
    # message and SIGILL. It may call libc through the PLT, and nothing else.
    lines = disassemble("tvx_refuse_cpus_below_baseline")
    assert lines, "guard not found in libtvx"
    calls = [re.search(r"<([^>]+)>", l).group(1) for l in lines if re.search(r"\s(call|jmp|bl|b)\s.*<", l)]
    # (Ubuntu's GCC fortifies: __fprintf_chk and friends are the same libc functions.)
    allowed = re.compile(r"^(tvx_refuse_cpus_below_baseline\+0x[0-9a-f]+|__cpu_indicator_init|"
                         r"(__)?(getenv|fprintf|fwrite|fputs|abort|getauxval|memcpy|memset|strlen|stack_chk_fail)"
                         r"(_chk)?@plt)$")
    assert calls, "the guard calls fprintf/abort at least"
    assert [c for c in calls if not allowed.match(c)] == []
    # And it is baseline-free code: no AVX/AVX-512 registers.
    assert not any(re.search(r"%[yz]mm", l) for l in lines)
