"""Page weight and headless-Chromium load / filter time of episodes.html, at the synthetic and the real size.

Two pages: (1) a full synthetic evaluation (all seven scenarios of the default synthetic test split, a
"base" that is right on about half the episodes and an oracle "fine-tuned", both written by the real
evaluation and replayed into a page), and (2) a fake-but-realistic record set of the real benchmark's
size: 7,557 episodes with the official per-scenario counts, each a copy of a replayed synthetic episode
under a new id (base and fine-tuned runs, turns, options, frames; the frame files are shared, so frame
weight at that size is extrapolated from the measured bytes per frame). For each page: HTML bytes, frame
files, the load time (navigate to load event: parse the JSON, render the first page of cards) and the
time of a filter click (in-page ``performance.now`` around the click, layout included), the default
paginated page against rendering every card at once (``?page_size=100000``). Compare ratios measured in
one run; single absolute times depend on the machine and its load.

    flock /work/cpu.lock env PYTHONPATH=. .venv/bin/python benchmarks/bench_browser.py
    PYTHONPATH=. .venv/bin/python benchmarks/bench_browser.py --test-per-scenario 3 --repeats 1   # a quick check
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from proactive_rl.data import DataConfig, prepare_data
from proactive_rl.evaluation import EvalSettings, OraclePolicy, evaluate_models
from proactive_rl.evaluation.browser import FRAMES_FOLDER, PAGE_NAME, collect_episodes, page_data, render_page
from proactive_rl.evaluation.chromium import Chromium

# Episodes per scenario in the official filtered test set (7,557 in all).
REAL_COUNTS = {"ROD": 88, "VSOD": 42, "MVP-N": 2591, "IN-C": 1095, "QD": 2105, "CIT": 396, "COCO": 1240}
FILTER_CLICK = """(() => {
  const start = performance.now();
  document.querySelector('input[name=scenario][value="%s"]').click();
  document.body.offsetHeight;
  return performance.now() - start;
})()"""


class HalfOracle:
    """Right on about half the episodes: the oracle on even ids, the first option on odd ones."""

    def __init__(self) -> None:
        from proactive_rl.evaluation import FirstOptionPolicy

        self.oracle, self.first = OraclePolicy(), FirstOptionPolicy()

    def generate(self, conversations):
        policies = [self.oracle if int(c.env.entry["id"]) % 2 == 0 else self.first for c in conversations]
        return [policy.generate([c])[0] for policy, c in zip(policies, conversations, strict=True)]


def tile(episodes, counts: dict[str, int]):
    """``counts[s]`` episodes per scenario, copies of the replayed ones of that scenario under new ids."""
    by_scenario: dict[str, list] = {}
    for episode in episodes:
        by_scenario.setdefault(episode.scenario, []).append(episode)
    tiled = []
    for scenario, count in counts.items():
        pool = by_scenario[scenario]
        for index in range(count):
            clone = copy.copy(pool[index % len(pool)])
            clone.id = f"{index}"
            tiled.append(clone)
    return tiled


def measure(browser: Chromium, page: Path, scenario: str, repeats: int) -> dict[str, float]:
    loads, clicks, full_loads = [], [], []
    for _ in range(repeats):
        loads.append(browser.open(page))
        clicks.append(browser.evaluate(FILTER_CLICK % scenario) / 1000)
        full_loads.append(browser.open(page, query="page_size=100000"))
    return {
        "load_s": statistics.median(loads),
        "filter_s": statistics.median(clicks),
        "all_cards_load_s": statistics.median(full_loads),
        "html_bytes": page.stat().st_size,
    }


def folder_bytes(folder: Path) -> tuple[int, int]:
    files = list(folder.iterdir())
    return len(files), sum(path.stat().st_size for path in files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--test-per-scenario", type=int, help="a fresh small split instead of the default one")
    args = parser.parse_args()
    scenarios = list(REAL_COUNTS)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        data = DataConfig()  # the default synthetic split (50 episodes per scenario), cached by its settings
        if args.test_per_scenario:
            data = DataConfig(root=str(out / "data"), test_per_scenario=args.test_per_scenario, train_rows=14)
        test_root = prepare_data(data).test_root
        start = time.perf_counter()
        models = {"base": HalfOracle(), "fine-tuned": OraclePolicy(interventions=1)}
        summary = evaluate_models(models, EvalSettings(batch_size=32), test_root, scenarios, out / "synthetic")
        evaluated = time.perf_counter() - start
        folders = [evaluation.directory for evaluation in summary.evaluations]
        start = time.perf_counter()
        episodes = collect_episodes(folders, out / "rebuild" / FRAMES_FOLDER)
        replay = time.perf_counter() - start
        frames, frame_bytes = folder_bytes(out / "rebuild" / FRAMES_FOLDER)
        per_frame = frame_bytes / frames
        frames_per_episode = frames / len(episodes)

        real = out / "real"
        real.mkdir()
        (real / FRAMES_FOLDER).symlink_to(out / "rebuild" / FRAMES_FOLDER)
        start = time.perf_counter()
        tiled = tile(episodes, REAL_COUNTS)
        (real / PAGE_NAME).write_text(render_page(page_data(tiled, "7,557 episodes (synthetic copies)")))
        render = time.perf_counter() - start

        pages = {"synthetic": out / "synthetic" / PAGE_NAME, "real-size": real / PAGE_NAME}
        results = {}
        with Chromium() as browser:
            for name, page in pages.items():
                results[name] = measure(browser, page, "QD", args.repeats)
            errors = list(browser.errors)

    print(f"synthetic evaluation: {len(episodes)} episodes x 2 models; evaluate + report + page {evaluated:.1f} s, ")
    print(f"  replay alone {replay:.2f} s ({1000 * replay / len(episodes):.1f} ms per episode, both models)")
    print(f"  frames: {frames} thumbnails, {frame_bytes / 1e6:.2f} MB, {per_frame / 1e3:.1f} kB each, ")
    print(f"  {frames_per_episode:.2f} distinct frames per episode")
    print(f"real-size page: {len(tiled)} episodes, written in {render:.2f} s")
    real_frames = frames_per_episode * len(tiled)
    print(
        f"  frames at that size (extrapolated): {real_frames:,.0f} thumbnails, {real_frames * per_frame / 1e6:.0f} MB "
        f"on disk; embedded as base64 they would add {real_frames * per_frame * 4 / 3 / 1e6:.0f} MB to the page"
    )
    header = f"{'page':<10} {'episodes':>8} {'HTML MB':>8} {'load s':>7} {'filter s':>9} {'all-cards load s':>17}"
    print(header)
    for name, page_episodes in (("synthetic", len(episodes)), ("real-size", len(tiled))):
        figures = results[name]
        print(
            f"{name:<10} {page_episodes:>8} {figures['html_bytes'] / 1e6:>8.2f} {figures['load_s']:>7.3f} "
            f"{figures['filter_s']:>9.4f} {figures['all_cards_load_s']:>17.3f}"
        )
    synthetic, big = results["synthetic"], results["real-size"]
    print(
        f"ratios: real-size / synthetic load {big['load_s'] / synthetic['load_s']:.2f}x for "
        f"{len(tiled) / len(episodes):.1f}x the episodes; filter {big['filter_s'] / synthetic['filter_s']:.2f}x; "
        f"at real size, every card at once loads {big['all_cards_load_s'] / big['load_s']:.1f}x slower than one page"
    )
    print(f"console errors: {len(errors)}" + (f" (first: {errors[0]})" if errors else ""))
    print(json.dumps({"load_average": os.getloadavg()}))


if __name__ == "__main__":
    main()
