#!/usr/bin/env python3
"""Prove that every variant of variants.toml compiles, without a full build per row.

For each row, the sources are compiled (to object code, then discarded) as that row's
build compiles them: every CPU source of libtvx and the tvx program with the platform's
baseline tier flags (the aarch64 rows with Debian's aarch64 cross compiler), the SIMD
kernel sources once per tier up to the row's ISA with that tier's flags, and, for CUDA
rows, every CUDA source by nvcc for each of the row's architectures. Every CPU source is
also compiled with the row's own ISA flags. Identical
compilations are shared between rows. Prints one line per variant; exits 1 if any failed.

    python3 scripts/check_variants.py [--jobs N] [--only NAME...]
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import variants  # noqa: E402

SIMD_SOURCES = ["src/core/simd_kernels.cpp"]
UNGUARDED = ["src/core/cpu_features.cpp"]  # compiled without the baseline flags (load-time CPU guard)
COMPILERS = {"x86_64-linux": "g++", "aarch64-linux": "aarch64-linux-gnu-g++"}
CUDA = Path(os.environ.get("CUDA_HOME", "/usr/local/cuda"))


def torch_includes(python: str) -> list[str]:
    out = subprocess.check_output([python, "-c", "from torch.utils import cpp_extension as c; "
                                   "print('\\n'.join(c.include_paths()))"], text=True)
    return out.split()


def gencode(arch: str) -> list[str]:
    num, _, kind = arch.partition("-")
    code = {"real": f"sm_{num}", "virtual": f"compute_{num}"}.get(kind, f"[sm_{num},compute_{num}]")
    return [f"-gencode=arch=compute_{num},code={code}"]


class Checker:
    def __init__(self, python: str, jobs: int, scratch: Path):
        self.includes = [f"-I{ROOT / 'include'}", f"-I{ROOT / 'src'}"]
        for p in torch_includes(python):
            self.includes += ["-isystem", p]
        self.launcher = ["ccache"] if shutil.which("ccache") else []
        self.pool = ThreadPoolExecutor(jobs)
        self.scratch = scratch
        self.jobs: dict[tuple, object] = {}

    def compile(self, cmd: tuple, source: str):
        """Future of (ok, message) for one compilation; identical ones run once."""
        key = (cmd, source)
        if key not in self.jobs:
            self.jobs[key] = self.pool.submit(self._run, list(cmd), source, len(self.jobs))
        return self.jobs[key]

    def _run(self, cmd: list[str], source: str, n: int):
        obj = self.scratch / f"{n}.o"
        proc = subprocess.run(self.launcher + cmd + ["-c", str(ROOT / source), "-o", str(obj)],
                              capture_output=True, text=True)
        obj.unlink(missing_ok=True)
        if proc.returncode == 0:
            return True, ""
        errors = [l for l in proc.stderr.splitlines() if "error" in l] or proc.stderr.splitlines()[-1:]
        return False, f"{source}: {errors[0].strip() if errors else 'failed'}"

    def cpu_jobs(self, table: dict, row: dict, cuda: bool):
        platform = variants.row_platform(table, row)
        tiers = variants.platform_tiers(table, platform)
        chosen = tiers[: tiers.index(row["cpu_isa"]) + 1]
        baseline = table["tier"][tiers[0]]
        cxx = COMPILERS[platform]
        common = [cxx, "-std=c++20", "-O2", "-fPIC", *self.includes, "-idirafter", "/usr/include",
                  # Strings that only label the build: the same for every row, so rows share compilations.
                  '-DTVX_VERSION="check"', '-DTVX_VARIANT="check"', '-DTVX_TORCH_BUILD_VERSION="check"',
                  '-DTVX_CPU_ISA="check"', '-DTVX_CPU_FLAGS="check"',
                  f'-DTVX_BASELINE_TIER="{tiers[0]}"', f'-DTVX_BASELINE_REQUIRES="{" ".join(baseline["requires"])}"']
        if cuda:
            common += ["-DTVX_WITH_CUDA=1", "-isystem", str(CUDA / "include"), "-isystem", str(CUDA / "include" / "cccl")]
        # The tier list CMake generates for core/simd.cpp.
        generated = self.scratch / "-".join(chosen)
        generated.mkdir(exist_ok=True)
        tier_list = " ".join(f'X({t}, "{" ".join(table["tier"][t]["requires"])}")' for t in chosen)
        (generated / "tvx_simd_tiers.h").write_text(f"#define TVX_SIMD_TIER_LIST(X) {tier_list}\n")
        common += [f"-I{generated}"]
        futures = []
        for src in sorted(str(p.relative_to(ROOT)) for p in (ROOT / "src").rglob("*.cpp")):
            if src in SIMD_SOURCES:
                for tier in chosen:
                    flags = table["tier"][tier]["flags"].split()
                    futures.append(self.compile(tuple(common + flags + [f"-DTVX_SIMD_TIER={tier}"]), src))
            else:
                flags = [] if src in UNGUARDED else baseline["flags"].split()
                futures.append(self.compile(tuple(common + flags), src))
                # Also with the row's own flags: every source must build where they are the baseline.
                top = table["tier"][row["cpu_isa"]]["flags"].split()
                if top != flags and src not in UNGUARDED:
                    futures.append(self.compile(tuple(common + top), src))
        return futures

    def cuda_jobs(self, row: dict):
        nvcc = str(CUDA / "bin" / "nvcc")
        futures = []
        for src in sorted(str(p.relative_to(ROOT)) for p in (ROOT / "src").rglob("*.cu")):
            for arch in row["cuda_archs"]:
                cmd = [nvcc, "-std=c++20", "-O2", "--expt-relaxed-constexpr", "-Xcompiler=-fPIC", *self.includes,
                       "-DTVX_WITH_CUDA=1", *gencode(arch)]
                futures.append(self.compile(tuple(cmd), src))
        return futures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=int(os.environ.get("TVX_JOBS", os.cpu_count() or 1)))
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--python", default=os.environ.get("TVX_PYTHON") or str(ROOT / ".venv" / "bin" / "python"))
    args = ap.parse_args()
    table = variants.load()
    rows = [r for r in table["variant"] if not args.only or r["name"] in args.only]
    t0 = time.time()
    with tempfile.TemporaryDirectory() as scratch:
        checker = Checker(args.python, args.jobs, Path(scratch))
        plans = [(r, checker.cpu_jobs(table, r, bool(r["cuda_archs"])), checker.cuda_jobs(r)) for r in rows]
        failed = 0
        for row, cpu, cuda in plans:
            results = [f.result() for f in cpu + cuda]
            errors = [m for ok, m in results if not ok]
            archs = ", ".join(row["cuda_archs"]) or "no CUDA"
            if errors:
                failed += 1
                print(f"{row['name']}: FAILED ({len(errors)} of {len(results)} compilations): {errors[0]}", flush=True)
            else:
                print(f"{row['name']}: compiled ({len(cpu)} CPU compilations for {row['cpu_isa']} on "
                      f"{variants.row_platform(table, row)}, {len(cuda)} CUDA compilations for {archs})", flush=True)
    print(f"check_variants: {len(rows) - failed} of {len(rows)} variants compiled, "
          f"{len(checker.jobs)} distinct compilations, {time.time() - t0:.0f} s")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
