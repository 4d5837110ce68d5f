#!/usr/bin/env python3
"""Compare the GPU code in a built libtvx (as cuobjdump lists it) with its variant's row.

    python3 scripts/check_archs.py PRESET CUOBJDUMP_LISTING
"""
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import variants  # noqa: E402


def expected(archs: list[str]) -> set[str]:
    out = set()
    for a in archs:
        num, _, kind = a.partition("-")
        if kind != "virtual":
            out.add(f"sm_{num}")
        if kind != "real":
            out.add(f"compute_{num}")
    return out


def main() -> None:
    preset, listing = sys.argv[1], Path(sys.argv[2]).read_text()
    table = variants.load()
    rows = {r["name"]: r for r in table["variant"]} | table.get("local", {})
    want = expected(rows[preset]["cuda_archs"])
    got = {f"sm_{m}" for m in re.findall(r"ELF file\s+\d+:.*\.sm_(\w+)\.cubin", listing)}
    got |= {f"compute_{m}" for m in re.findall(r"PTX file\s+\d+:.*\.sm_(\w+)\.ptx", listing)}
    if got != want:
        sys.exit(f"{preset}: libtvx holds {sorted(got)}, the row names {sorted(want)}")
    print(f"{preset}: libtvx holds exactly {sorted(got)}")


if __name__ == "__main__":
    main()
