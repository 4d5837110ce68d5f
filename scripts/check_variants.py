#!/usr/bin/env python3
"""Prove that every variant of variants.toml compiles, with the build's own compile lines.

Each row is configured by CMake with its own preset (aarch64 rows with Debian's aarch64
cross compiler, cmake/aarch64-linux-gnu.cmake), and the compilations are taken from the
compile_commands.json that configure writes: the check cannot drift from the build.
Compilations that are the same in several rows (same source, same command once the build
folder is factored out, same generated headers) run once. Each CUDA source is compiled by
one nvcc call for the architectures of every row together, device code only (--fatbin):
its host side is the same for every architecture and is compiled by the test build. An
aarch64 row's CUDA architectures are covered there too (device code does not depend on the
host CPU). Objects are discarded; nothing links.
Prints one line per variant and the totals; exits 1 if any compilation failed.

    python3 scripts/check_variants.py [--jobs N] [--only NAME...] [--keep]

Rows are configured into build/check-<row>, at the depth of build/<preset>, and compiled
with CCACHE_BASEDIR set to the checkout (as scripts/build.sh does): a compilation that is
the same as one of the test build's then hits ccache. The precompiled header (LibTorch's
headers, see src/CMakeLists.txt) is built first, once per distinct command, and the
compilations that use it run in a folder that has it.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import variants  # noqa: E402

GENCODE = re.compile(r'"?--generate-code=arch=compute_(\d+[af]?),code=\[?([^\]" ]+)\]?"?')


def configure(row: dict, table: dict, build: Path, python: str) -> tuple[bool, str]:
    # The CMake (>= 3.28) installed beside the Python that holds torch, as scripts/build.sh uses.
    cmake = shutil.which("cmake", path=str(Path(python).parent)) or "cmake"
    cmd = [cmake, "--preset", row["name"], "-B", str(build), "-DTVX_BUILD_TESTS=OFF",
           "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON", f"-DTVX_PYTHON={python}"]
    if variants.row_platform(table, row) == "aarch64-linux":
        # Header-only uses of x86 packages: Highway's and LibTorch's headers serve any CPU.
        hwy_dir = next(Path("/usr/lib").glob("*/cmake/hwy"), None)
        # LibTorch's CMake config insists on finding the CUDA toolkit it was built with; the
        # x86 toolkit's paths satisfy it (nothing is linked).
        cuda = Path(os.environ.get("CUDA_HOME", "/usr/local/cuda"))
        target = cuda / "targets" / "x86_64-linux"
        cmd += [f"-DCMAKE_TOOLCHAIN_FILE={ROOT / 'cmake' / 'aarch64-linux-gnu.cmake'}", "-DTVX_CUDA=OFF",
                f"-DCUDA_TOOLKIT_ROOT_DIR={cuda}", f"-DCUDA_TOOLKIT_ROOT_DIR_INTERNAL={cuda}",
                f"-DCUDA_TOOLKIT_TARGET_DIR={target}", f"-DCUDA_TOOLKIT_TARGET_DIR_INTERNAL={target}",
                f"-DCUDA_CUDART_LIBRARY={target / 'lib' / 'libcudart.so'}", f"-DCUDA_TOOLKIT_INCLUDE={target / 'include'}"]
        if hwy_dir:
            cmd.append(f"-Dhwy_DIR={hwy_dir}")
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    return proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]


def reads_generated(source: str) -> bool:
    """Whether a source includes the generated header (tvx_simd_config.h, directly or through
    core/highway.h, the only ways to reach it): only then do rows' generated files matter."""
    text = Path(source).read_text(errors="replace")
    return "tvx_simd_config.h" in text or "core/highway.h" in text


def generated_digest(build: Path) -> str:
    h = hashlib.sha256()
    for p in sorted((build / "src" / "generated").glob("*")):
        h.update(p.name.encode() + p.read_bytes())
    return h.hexdigest()[:16]


def split_cuda(command: str) -> tuple[str, list[tuple[str, str]]]:
    """The nvcc command without its --generate-code flags, and those flags' (arch, codes)."""
    codes = [(m.group(1), m.group(2)) for m in GENCODE.finditer(command)]
    return re.sub(r"\s+", " ", GENCODE.sub("", command)), codes


class Job:
    def __init__(self, source: str, directory: str, command: str, output: str):
        self.source, self.directory, self.command, self.output = source, directory, command, output
        self.rows: list[str] = []
        self.home = ""  # the row folder it compiles in (with that row's precompiled header)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=int(os.environ.get("TVX_JOBS", os.cpu_count() or 1)))
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--python", default=os.environ.get("TVX_PYTHON") or str(ROOT / ".venv" / "bin" / "python"))
    ap.add_argument("--keep", action="store_true", help="keep the build/check-<row> folders")
    args = ap.parse_args()
    table = variants.load()
    names = [r["name"] for r in table["variant"]]
    unknown = [n for n in args.only or [] if n not in names]
    if unknown:
        ap.error(f"not a row of variants.toml: {', '.join(unknown)}")
    rows = [r for r in table["variant"] if not args.only or r["name"] in args.only]
    launcher = shutil.which("ccache")
    t0 = time.time()
    os.environ.setdefault("CCACHE_BASEDIR", str(ROOT))
    os.environ.setdefault("CCACHE_SLOPPINESS", "pch_defines,time_macros,include_file_mtime,include_file_ctime")

    def build_dir(name: str) -> Path:
        return ROOT / "build" / f"check-{name}"
    try:
        # 1. Configure every row (two at a time: configure is mostly single-threaded).
        with ThreadPoolExecutor(max(1, min(args.jobs, 4))) as pool:
            results = dict(zip([r["name"] for r in rows],
                               pool.map(lambda r: configure(r, table, build_dir(r["name"]), args.python), rows)))
        t_configure = time.time() - t0
        failed_rows = {name for name, (ok, _) in results.items() if not ok}
        for name in sorted(failed_rows):
            print(f"{name}: FAILED to configure:\n{results[name][1]}", flush=True)

        # 2. Distinct compilations. Rows whose precompiled header is built by the same
        # command share the first such row's folder (and its .gch).
        pch_jobs: dict[str, Job] = {}  # by command and generated-header digest
        home: dict[str, str] = {}
        jobs: dict[tuple, Job] = {}
        cuda: dict[tuple, tuple[Job, dict]] = {}
        per_row: dict[str, list] = {}
        for row in rows:
            name = row["name"]
            if name in failed_rows:
                continue
            build = build_dir(name)
            digest = generated_digest(build)
            entries = json.loads((build / "compile_commands.json").read_text())
            home[name] = name
            for e in entries:
                if e["file"].endswith("cmake_pch.hxx.cxx"):
                    # Rows share a folder only when their generated headers are the same too:
                    # the kernel files compiled there read them.
                    cmd = re.sub(r"\s-o\s+\S+", "", e["command"].replace(str(build), "<B>"))
                    job = pch_jobs.setdefault(cmd + digest, Job(e["file"].replace(str(build), "<B>"), "<B>", cmd, e["output"]))
                    job.rows.append(name)
                    home[name] = job.rows[0]
            mine = per_row.setdefault(name, [])
            for e in entries:
                if e["file"].endswith("cmake_pch.hxx.cxx"):
                    continue
                cmd = e["command"].replace(str(build), "<B>")
                e["directory"] = e["directory"].replace(str(build), "<B>")
                gen = digest if reads_generated(e["file"]) else ""
                cmd = re.sub(r"\s-o\s+\S+", "", cmd)  # put back, with Ninja's depfile flags, at the end
                if e["file"].endswith(".cu"):
                    base, codes = split_cuda(cmd)
                    key = (e["file"], base, gen)
                    job, archs = cuda.setdefault(key, (Job(e["file"], e["directory"], base, e["output"]), {}))
                    for arch, code in codes:
                        archs.setdefault(arch, set()).update(code.split(","))
                else:
                    key = (e["file"], cmd, gen)
                    job = jobs.setdefault(key, Job(e["file"], e["directory"], cmd, e["output"]))
                    job.home = job.home or home[name]
                job.rows.append(name)
                mine.append(job)
        # An aarch64 row's CUDA architectures join the x86 CUDA compilations.
        for row in rows:
            if (row["name"] not in failed_rows and row["cuda_archs"]
                    and variants.row_platform(table, row) == "aarch64-linux"):
                for key, (job, archs) in cuda.items():
                    for a in row["cuda_archs"]:
                        num, _, kind = a.partition("-")
                        codes = {"real": {f"sm_{num}"}, "virtual": {f"compute_{num}"}}.get(kind, {f"sm_{num}", f"compute_{num}"})
                        archs.setdefault(num, set()).update(codes)
                    job.rows.append(row["name"])
                    per_row[row["name"]].append(job)

        # A row that asks for CUDA architectures and got no CUDA compilation was not checked.
        for row in rows:
            if (row["name"] not in failed_rows and row["cuda_archs"]
                    and not any(j.source.endswith(".cu") for j in per_row[row["name"]])):
                print(f"{row['name']}: FAILED: no CUDA compilation covers {', '.join(row['cuda_archs'])} "
                      f"(no x86 CUDA row was configured to take them)", flush=True)
                failed_rows.add(row["name"])

        # 3. Compile. Jobs that would write the same file in the same folder get their own names.
        todo = list(jobs.values())
        seen: dict[tuple, int] = {}
        for job in todo:
            where = (job.home, job.output)
            seen[where] = seen.get(where, 0) + 1
            if seen[where] > 1:
                job.output = f"{job.output}.{seen[where]}.o"
        for job, archs in cuda.values():
            flags = " ".join(f'"--generate-code=arch=compute_{a},code=[{",".join(sorted(c))}]"'
                             for a, c in sorted(archs.items()))
            job.command = job.command.replace(" -x cu ", f" {flags} -x cu ", 1)
            job.archs = sorted(archs)
            todo.append(job)

        def compile_one(job, keep_output=False):
            # As Ninja runs it (the depfile flags too, which ccache hashes), into the row's
            # own build folder, so a compilation equal to the test build's hits ccache.
            where = build_dir(job.home or job.rows[0])
            directory = Path(job.directory.replace("<B>", str(where)))
            (directory / job.output).parent.mkdir(parents=True, exist_ok=True)
            cmd = job.command.replace("<B>", str(where))
            if launcher:
                cmd = f"{shlex.quote(launcher)} {cmd}"
            out = shlex.quote(job.output)
            if job.source.endswith(".cu"):
                # Device code only (--fatbin): the host side, the same for every architecture,
                # is what the test build compiles; here each architecture's device code is.
                cmd = cmd.replace(" -x cu -c ", " -x cu --fatbin ", 1) + f" -o {out}"
            else:  # c++ ... -MD -MT o -MF o.d -o o -c src
                cmd = cmd.replace(" -c ", f" -MD -MT {out} -MF {out}.d -o {out} -c ", 1)
            t = time.time()
            proc = subprocess.run(cmd, shell=True, cwd=directory, capture_output=True, text=True)
            for p in ((directory / f"{job.output}.d",) if keep_output else (directory / job.output, directory / f"{job.output}.d")):
                p.unlink(missing_ok=True)
            errors = [l for l in proc.stderr.splitlines() if "error" in l] or proc.stderr.splitlines()[-1:]
            return proc.returncode == 0, (errors[0].strip() if errors else ""), time.time() - t

        t1 = time.time()
        with ThreadPoolExecutor(args.jobs) as pool:
            pch = dict(zip(map(id, pch_jobs.values()),
                           pool.map(lambda j: compile_one(j, keep_output=True), pch_jobs.values())))
        for job in pch_jobs.values():
            if not pch[id(job)][0]:
                print(f"precompiled header for {', '.join(job.rows)}: FAILED: {pch[id(job)][1]}", flush=True)
                failed_rows.update(job.rows)
        with ThreadPoolExecutor(args.jobs) as pool:
            outcome = dict(zip(map(id, todo), pool.map(compile_one, todo)))
        t_compile = time.time() - t1

        # 4. Report.
        failed = len(failed_rows)
        for row in rows:
            name = row["name"]
            if name in failed_rows:
                continue
            mine = per_row[name]
            errors = [f"{Path(j.source).relative_to(ROOT)}: {outcome[id(j)][1]}" for j in mine if not outcome[id(j)][0]]
            n_cuda = sum(1 for j in mine if j.source.endswith(".cu"))
            if errors:
                failed += 1
                print(f"{name}: FAILED ({len(errors)} of {len(mine)} compilations): {errors[0]}", flush=True)
            else:
                print(f"{name}: compiled ({len(mine) - n_cuda} C++ compilations for {row['cpu_isa']} on "
                      f"{variants.row_platform(table, row)}, {n_cuda} CUDA sources for "
                      f"{', '.join(row['cuda_archs']) or 'no CUDA'})", flush=True)
        cu_time = sum(outcome[id(j)][2] for j, _ in cuda.values())
        for j, _ in cuda.values():
            print(f"  nvcc {Path(j.source).relative_to(ROOT)}: {outcome[id(j)][2]:.0f} s")
        cpp_time = sum(outcome[id(j)][2] for j in jobs.values())
        pch_time = sum(t for _, _, t in pch.values())
        print(f"  {len(jobs)} C++ compilations: {cpp_time:.0f} s of compiler time; "
              f"{len(pch_jobs)} precompiled headers: {pch_time:.0f} s")
        archs = sorted({a for j, _ in cuda.values() for a in j.archs})
        print(f"check_variants: {len(rows) - failed} of {len(rows)} variants compiled; "
              f"{len(jobs)} distinct C++ compilations, {len(cuda)} CUDA sources (each one nvcc call for "
              f"architectures {', '.join(archs) or 'none'}: {cu_time:.0f} s of compiler time); "
              f"configure {t_configure:.0f} s, compile {t_compile:.0f} s, total {time.time() - t0:.0f} s")
        sys.exit(1 if failed else 0)
    finally:
        if not args.keep:
            for row in rows:
                shutil.rmtree(build_dir(row["name"]), ignore_errors=True)


if __name__ == "__main__":
    main()
