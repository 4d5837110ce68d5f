"""The Nix expressions (nix/, flake.nix): every file parses, and every variant's expression,
evaluated against a stub of the nixpkgs functions it uses (tests/nix/stub-nixpkgs.nix), gives
the derivation its row of variants.toml asks for: CMake flags, CUDA capabilities of stage 1,
CPU tier, platform, metadata, the tvx verify test, torch propagated; stage 2 when asked for;
the flake's packages. Needs Debian's nix-bin (scripts/setup.sh installs it); a real
`nix build` needs nixpkgs from the network, which these machines lack."""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import variants  # noqa: E402

TABLE = variants.load()
ROWS = TABLE["variant"]
STUB = ROOT / "tests" / "nix" / "stub-nixpkgs.nix"
ENV = {**os.environ, "NIX_CONFIG": "build-users-group =\nexperimental-features ="}


def nix(*args: str) -> str:
    assert shutil.which("nix-instantiate"), "nix-instantiate missing: scripts/setup.sh installs Debian's nix-bin"
    out = subprocess.run(["nix-instantiate", *args], cwd=ROOT, capture_output=True, text=True, env=ENV, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def evaluate(expr: str):
    return json.loads(nix("--eval", "--strict", "--json", "-E", expr))


def test_every_file_parses():
    files = [ROOT / "flake.nix", *sorted((ROOT / "nix").rglob("*.nix")), STUB]
    assert len(files) >= len(ROWS) + 5
    for f in files:
        nix("--parse", str(f))


def test_generated_files_are_current():
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "variants.py"), "--check"], capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    names = {p.stem for p in (ROOT / "nix" / "variants").glob("*.nix")} - {"default"}
    assert names == {r["name"] for r in ROWS}


def cmake_flags(flags: list[str]) -> dict[str, str]:
    parsed = {}
    for f in flags:
        m = re.fullmatch(r"-D([A-Za-z_]+):(STRING|BOOL)=(.*)", f)
        assert m, f
        parsed[m[1]] = {"TRUE": "ON", "FALSE": "OFF"}.get(m[3], m[3]) if m[2] == "BOOL" else m[3]
    return parsed


VARIANT = """
let d = import ./nix/variants/{name}.nix {{ nixpkgsSrc = ./tests/nix/stub-nixpkgs.nix; }};
in {{
  inherit (d) pname cmakeFlags meta enableParallelBuilding pythonModule;
  inherit (d.passthru) nixpkgsCuda minDriver variant;
  propagated = map (p: p.pname) d.propagatedBuildInputs;
  torch = let t = builtins.head d.propagatedBuildInputs; in {{ inherit (t) gpuTargets cudaVersion; broken = t.meta.broken; }};
  native = map (p: p.pname) d.nativeBuildInputs;
  build = map (p: p.pname) d.buildInputs;
  verify = {{ inherit (d.passthru.tests.verify) script requiredSystemFeatures; }};
  postInstall = d.postInstall;
}}
"""


@pytest.mark.parametrize("row", ROWS, ids=[r["name"] for r in ROWS])
def test_variant_derivation(row):
    d = evaluate(VARIANT.format(name=row["name"]))
    cuda = bool(row["cuda_archs"])
    platform = variants.row_platform(TABLE, row)
    tiers = variants.platform_tiers(TABLE, platform)
    assert d["pname"] == row["name"]
    # Stage 3's CMake flags are the row's preset's cache variables (the same function writes
    # both), so the architectures and the CPU tier reach the compiler as the presets' do.
    flags = cmake_flags(d["cmakeFlags"])
    want = variants.cache_variables(row["name"], row)
    want.setdefault("TVX_CUDA", "ON")
    assert {k: flags[k] for k in want} == want
    assert flags["TVX_BUILD_TESTS"] == "OFF" and flags["TVX_PYTHON"].endswith("/bin/python")
    assert ("CMAKE_CUDA_ARCHITECTURES" in flags) == cuda
    if cuda:  # nvJPEG from its own store path
        assert flags["TVX_NVJPEG_INCLUDE"] == "/nix/store/stub-libnvjpeg-13.0-dev/include"
        assert flags["TVX_NVJPEG_LIBRARY"] == "/nix/store/stub-libnvjpeg-13.0-lib/lib/libnvjpeg.so"
    # Stage 1: the pinned nixpkgs configured for the row's GPUs, CUDA 13's package set.
    caps, ptx = variants.nix_capabilities(row["cuda_archs"], platform)
    assert d["nixpkgsCuda"] == {"capabilities": caps, "forwardCompat": ptx, "version": "13.0" if cuda else None}
    archs = {a.split("-")[0] for a in row["cuda_archs"]}
    assert {c.replace(".", "") for c in caps} <= archs
    # Thor's 11.0 (Jetson for nixpkgs) only alone on aarch64; its SASS comes from CMake anyway.
    assert ("11.0" in caps) == (archs == {"110"} and platform == "aarch64-linux")
    assert cuda == bool(caps)
    # nixpkgs' torch on CUDA 13 for the row's GPUs, not marked broken.
    assert d["torch"] == {"gpuTargets": caps if cuda else [], "cudaVersion": "13.0",
                          "broken": False}
    # CPU: the row's tier, the tiers below it and the platform's baseline flags.
    assert d["variant"]["cpuIsa"] == row["cpu_isa"] == flags["TVX_CPU_ISA"]
    assert d["variant"]["cpuTiers"] == tiers[: tiers.index(row["cpu_isa"]) + 1]
    assert d["variant"]["baselineFlags"] == TABLE["tier"][tiers[0]]["flags"]
    # Build inputs: nvcc, the CUDA runtime and nvJPEG exactly for CUDA rows; torch propagated.
    assert ("cuda_nvcc-13.0" in d["native"]) == cuda
    assert ({"cuda_cudart-13.0", "libnvjpeg-13.0"} <= set(d["build"])) == cuda
    assert {"libjpeg_turbo", "libpng", "libdeflate", "libwebp", "giflib", "libavif", "libhwy", "torch-dev", "torch-cxxdev"} <= set(d["build"])
    assert d["propagated"] == ["torch"] and d["pythonModule"] is True
    assert d["enableParallelBuilding"] is True
    assert "ln -s $out/lib/libtvx.so" in d["postInstall"]
    # Metadata and the verify test (a GPU build's needs the "cuda" system feature).
    meta = d["meta"]
    assert meta["platforms"] == [platform]
    assert meta["license"]["spdxId"] == "BSD-3-Clause"
    assert row["description"] in meta["description"] and meta["mainProgram"] == "tvx"
    assert d["minDriver"] == row.get("min_driver")
    if cuda:
        assert f"driver >= {row['min_driver']}" in meta["longDescription"]
    assert d["verify"]["script"].startswith(f"/nix/store/stub-{row['name']}/bin/tvx verify")
    assert d["verify"]["requiredSystemFeatures"] == (["cuda"] if cuda else [])


def test_stage_two_builds_torch_on_cuda13():
    d = evaluate("""
let d = import ./nix/variants/tvx-cuda13_0-sm90-avx512.nix {
  nixpkgsSrc = ./tests/nix/stub-nixpkgs.nix; torchFromSource = true; torchSource = "pytorch-v2.11.0.tar.gz"; };
  torch = builtins.head d.propagatedBuildInputs;
in { inherit (torch) version name patches src PYTORCH_BUILD_VERSION cudaVersion magma postPatch preConfigure;
     broken = torch.meta.broken;
     stage2 = torch.passthru.tvxStage2; }
""")
    assert d["version"] == d["PYTORCH_BUILD_VERSION"] == "2.11.0" and d["src"] == "pytorch-v2.11.0.tar.gz"
    assert d["name"] == "python3.13-torch-2.11.0" and d["broken"] is False
    assert d["patches"] == []  # nixpkgs' patches for its own version, cleared
    assert d["cudaVersion"] == d["magma"] == "13.0"  # torch and MAGMA on CUDA 13
    assert d["stage2"] == {"version": "2.11.0", "cudaVersion": "13.0", "magmaCudaVersion": "13.0"}
    assert "FindCUDAToolkit.cmake" in d["postPatch"] and 'set(CUDA_VERSION "13.0")' in d["postPatch"]
    assert "include/cccl" in d["preConfigure"]
    # Off by default: nixpkgs' own torch, untouched.
    default = evaluate("(builtins.head (import ./nix/variants/tvx-cpu-avx2.nix "
                       "{ nixpkgsSrc = ./tests/nix/stub-nixpkgs.nix; }).propagatedBuildInputs).version")
    assert default == "2.9.1"
    # Asking for stage 2 without the source is a clear error.
    out = subprocess.run(["nix-instantiate", "--eval", "--strict", "-E",
                          "(import ./nix/variants/tvx-cpu-avx2.nix { nixpkgsSrc = ./tests/nix/stub-nixpkgs.nix; "
                          "torchFromSource = true; }).propagatedBuildInputs"],
                         cwd=ROOT, capture_output=True, text=True, env=ENV, timeout=120)
    assert out.returncode != 0 and "torchFromSource needs torchSource" in out.stderr, out.stderr


def test_stage_one_fetches_the_flake_lock_pin():
    lock = json.loads((ROOT / "flake.lock").read_text())["nodes"]["nixpkgs"]
    pin = lock["locked"]
    assert re.fullmatch(r"[0-9a-f]{40}", pin["rev"]) and re.fullmatch(r"sha256-[A-Za-z0-9+/]{43}=", pin["narHash"])
    assert lock["original"]["ref"].startswith("nixos-")
    url = f"https://github.com/NixOS/nixpkgs/archive/{pin['rev']}.tar.gz"
    # nix/nixpkgs.nix with builtins.fetchTarball replaced: it must ask for exactly the pin.
    got = evaluate(f"""
let
  fetch = a: if a == {{ url = "{url}"; sha256 = "{pin['narHash']}"; }} then ./tests/nix/stub-nixpkgs.nix
             else throw "unexpected fetchTarball ${{builtins.toJSON a}}";
  pkgs = scopedImport {{ builtins = builtins // {{ fetchTarball = fetch; }}; }} ./nix/nixpkgs.nix
    {{ system = "aarch64-linux"; cudaCapabilities = [ "12.1" ]; }};
in {{ inherit (pkgs) system config; cuda = pkgs.cudaPackages.cudaMajorMinorVersion; }}
""")
    assert got == {"system": "aarch64-linux", "cuda": "13.0",
                   "config": {"allowUnfree": True, "cudaSupport": True, "cudaCapabilities": ["12.1"],
                              "cudaForwardCompat": False}}


def test_flake_exposes_every_variant_and_a_dev_shell():
    d = evaluate("""
let
  stub = ./tests/nix/stub-nixpkgs.nix;
  nixpkgs = { outPath = stub; lib = (import stub { system = "x86_64-linux"; }).lib; };
  flake = (import ./flake.nix).outputs { self = { }; inherit nixpkgs; };
in {
  packages = builtins.mapAttrs (system: ps: builtins.mapAttrs (n: p: p.pname) ps) flake.packages;
  shells = builtins.mapAttrs (system: s: s.default.TVX_PYTHON) flake.devShells;
  shell_variants = builtins.mapAttrs (system: s: builtins.head (map (p: p.pname) s.default.inputsFrom)) flake.devShells;
  legacy = builtins.attrNames flake.devShell;
}
""")
    for system in ("x86_64-linux", "aarch64-linux"):
        rows = {r["name"] for r in ROWS if variants.row_platform(TABLE, r) == system}
        assert d["packages"][system] == {n: n for n in rows}
        assert d["shells"][system].endswith("/bin/python")
    assert d["legacy"] == ["aarch64-linux", "x86_64-linux"]
    assert d["shell_variants"] == {"x86_64-linux": "tvx-cuda13_0-sm90-avx512", "aarch64-linux": "tvx-cuda13_0-sm121-armv9"}


def test_version_is_the_projects():
    version = re.search(r"project\(tvx VERSION ([0-9.]+)", (ROOT / "CMakeLists.txt").read_text())[1]
    assert f'version = "{version}";' in (ROOT / "nix" / "tvx.nix").read_text()
