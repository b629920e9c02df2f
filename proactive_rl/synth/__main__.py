"""Generate ProactiveBench-Synth from the command line (``proactive-rl make-data`` does the same via Hydra).

python -m proactive_rl.synth --out .cache/data/synth-demo --seed 0 --test-per-scenario 50 --train-rows 2000
"""

from __future__ import annotations

import argparse
import json
import time

from proactive_rl.data import DataConfig
from proactive_rl.synth.cache import synthetic_root
from proactive_rl.synth.generator import make_data


def main(argv: list[str] | None = None) -> None:
    defaults = DataConfig()
    parser = argparse.ArgumentParser(description="Generate ProactiveBench-Synth (test folder + train split).")
    parser.add_argument("--out", default=None, help="output folder (default: the per-config cache folder)")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--test-per-scenario", type=int, default=defaults.test_per_scenario)
    parser.add_argument("--train-rows", type=int, default=defaults.train_rows)
    parser.add_argument("--informative-ratio", type=float, default=defaults.informative_ratio)
    parser.add_argument("--image-size", type=int, default=defaults.image_size)
    parser.add_argument("--workers", type=int, default=defaults.num_workers)
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output folder")
    args = parser.parse_args(argv)
    config = DataConfig(
        seed=args.seed,
        test_per_scenario=args.test_per_scenario,
        train_rows=args.train_rows,
        informative_ratio=args.informative_ratio,
        image_size=args.image_size,
        num_workers=args.workers,
        root=args.out,
    )
    started = time.perf_counter()
    out = make_data(config, synthetic_root(config), overwrite=args.overwrite)
    manifest = json.loads((out / "manifest.json").read_text())
    print(f"wrote {out} in {time.perf_counter() - started:.1f} s")
    print(json.dumps({k: manifest[k] for k in ("test_episodes", "train_rows", "train_informative_rows")}))


if __name__ == "__main__":
    main()
