"""The files derived from variants.toml must match it, and the table must say what the issue asks."""
import copy
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import variants  # noqa: E402


def test_derived_files_match_the_table():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "variants.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_changed_table_is_detected():
    table = variants.load()
    changed = copy.deepcopy(table)
    changed["variant"][0]["cuda_archs"] = ["100-real"]
    assert variants.presets(changed) != (ROOT / "CMakePresets.json").read_text()
    assert variants.readme_table(changed) not in (ROOT / "README.md").read_text()
    changed = copy.deepcopy(table)
    changed["tier"]["avx2"]["flags"] = "-mavx2"
    assert variants.cmake(changed) != (ROOT / "cmake" / "variants.cmake").read_text()


def test_rows():
    table = variants.load()
    rows = {r["name"]: r for r in table["variant"]}
    for name in ["tvx-cuda13_0-sm120-avx512", "tvx-cuda13_0-sm110-armv8_2", "tvx-cuda13_0-sm110-armv9",
                 "tvx-cuda13_0-sm121-armv8_2", "tvx-cuda13_0-sm121-armv9", "tvx-cuda13_0-sm90-avx512",
                 "tvx-cuda13_0-sm100-avx512", "tvx-cuda13_0-sm120-avx2", "tvx-cpu-avx2", "tvx-cpu-avx512",
                 "tvx-cpu-armv8_2", "tvx-cpu-armv9", "tvx-cuda13_0-all"]:
        assert name in rows, name
    tier = table["tier"]
    assert tier["avx512"]["flags"] == "-mavx512f -mavx512dq -mavx512vl -mavx512bw -mfma"
    assert tier["armv8_2"]["flags"] == "-march=armv8.2-a+fp16+dotprod"
    assert tier["armv9"]["flags"] == "-march=armv9-a+sve+sve2"
    assert rows["tvx-cuda13_0-all"]["cuda_archs"] == ["90-real", "100-real", "110-real", "120-real", "121"]
    assert variants.row_platform(table, rows["tvx-cuda13_0-sm121-armv9"]) == "aarch64-linux"
    assert rows["tvx-cpu-avx2"]["cuda_archs"] == []


@pytest.mark.parametrize("preset", ["tvx-cuda13_0-all", "tvx-cpu-avx2"])
def test_tvx_preset_gives_the_presets_settings(preset, tmp_path):
    """TVX_PRESET (how pip install . picks a variant) sets the cache variables the preset sets."""
    table = variants.load()
    row = next(r for r in table["variant"] if r["name"] == preset)
    cmake = shutil.which("cmake", path=str(ROOT / ".venv" / "bin")) or "cmake"
    out = subprocess.run([cmake, "-S", str(ROOT), "-B", str(tmp_path), "-G", "Ninja", f"-DTVX_PRESET={preset}",
                          "-DTVX_BUILD_TESTS=OFF"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    cache = dict(re.findall(r"^([A-Z_]+):[A-Z]+=(.*)$", (tmp_path / "CMakeCache.txt").read_text(), re.M))
    for var, value in variants.cache_variables(preset, row).items():
        assert cache[var] == value, var
    bad = subprocess.run([cmake, "-S", str(ROOT), "-B", str(tmp_path / "bad"), "-DTVX_PRESET=no-such"],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode != 0 and "TVX_PRESET=no-such is not a preset" in bad.stderr
