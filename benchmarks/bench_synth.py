"""Time ProactiveBench-Synth generation: wall clock, CPU seconds (this process + workers) and disk use.

    python benchmarks/bench_synth.py                      # the default size: 50 test episodes/scenario, 8000 rows
    python benchmarks/bench_synth.py --train-rows 200 --workers 1

The machine is shared: report the load average next to the figures (printed too).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from pathlib import Path

from proactive_rl.data import DataConfig
from proactive_rl.synth import make_data


def cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--test-per-scenario", type=int, default=50)
    parser.add_argument("--train-rows", type=int, default=DataConfig.train_rows)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--image-size", type=int, default=84)
    args = parser.parse_args()
    config = DataConfig(
        test_per_scenario=args.test_per_scenario,
        train_rows=args.train_rows,
        num_workers=args.workers,
        image_size=args.image_size,
    )
    with tempfile.TemporaryDirectory() as folder:
        load_before = os.getloadavg()[0]
        started, cpu_started = time.perf_counter(), cpu_seconds()
        out = make_data(config, Path(folder) / "synth")
        wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu_started
        files = [p for p in out.rglob("*") if p.is_file()]
        report = {
            "config": {
                k: getattr(config, k) for k in ("test_per_scenario", "train_rows", "num_workers", "image_size")
            },
            "wall_seconds": round(wall, 1),
            "cpu_seconds": round(cpu, 1),
            "load_average_before": round(load_before, 2),
            "files": len(files),
            "megabytes": round(sum(p.stat().st_size for p in files) / 2**20, 1),
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
