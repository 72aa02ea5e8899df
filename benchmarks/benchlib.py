"""What the benchmark scripts share: the machine record and the JSON output."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def machine_info(**extra: Any) -> dict[str, Any]:
    """Platform, processor, cores and library versions (plus ``extra`` entries). numpy and
    recdyn are imported here, not with this module: some benchmarks measure their import."""
    import numpy as np

    import recdyn

    return {
        "platform": platform.platform(),
        "processor": platform.processor(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "recdyn": getattr(recdyn, "__version__", None),
        **extra,
    }


def write_json(path: str | Path, result: dict[str, Any]) -> None:
    """Write ``result`` as indented JSON to ``path`` and say so on stderr."""
    with open(path, "w") as f:
        json.dump(result, f, indent=2, default=str)
    print(f"wrote {path}", file=sys.stderr)


def add_threads_option(parser: Any) -> None:
    """``--threads N``: limit BLAS/OpenMP/numba threads (see ``pin_threads``)."""
    parser.add_argument(
        "--threads",
        type=int,
        help="limit BLAS/OpenMP/numba threads (re-runs the script with *_NUM_THREADS set); "
        "use 1 on a shared or loaded machine, where multithreaded BLAS degrades badly",
    )


def time_study(name: str, args: list[str], workers: int) -> dict[str, Any]:
    """Wall time of one ``recdyn study NAME ARGS`` run in a fresh temporary directory, as
    its own process on ``workers`` workers: ``{"wall_s": …}``, or ``{"error": [last line
    of stderr]}`` when it fails."""
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as out:
        cmd = [sys.executable, "-m", "recdyn", "study", name, "--out", out]
        cmd += ["--workers", str(workers), "--quiet", *args]
        start = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - start
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1:]}
    return {"wall_s": wall, "workers": workers}
