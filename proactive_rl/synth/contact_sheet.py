"""A contact sheet of ProactiveBench-Synth: what the model sees at the start, midway and at the end.

One row per scenario, a few episodes each: the first frame, a frame midway along the oracle's
interventions, the frame the oracle answers on, and the reference frame, each labelled with the turn and
the frame's state (ambiguous / partial / informative, measured from the pixels at generation). Frames are
rendered through ``envs`` (COCO crops included), so the sheet shows what an evaluated model sees.

    python -m proactive_rl.synth.contact_sheet --root .cache/data/synth-<hash> --out docs/contact_sheet.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

import envs

CELL = 168  # frames are scaled to fit a CELL x CELL box
LABEL_HEIGHT = 14
ROW_TITLE_WIDTH = 170
COLUMNS = ("first", "midway", "oracle answers", "reference")


def _frames(scenario: str, entry: dict, root: Path) -> list[tuple[Image.Image | None, str]]:
    oracle, states = entry["synth"]["oracle"], entry["synth"]["states"]
    env = envs.make(scenario, entry, root)
    obs, _ = env.reset()
    shown: list[tuple[Image.Image | None, str]] = [(obs["image"], f"turn 1: {states[0]}")]
    middle = len(oracle) // 2 if len(oracle) > 1 else None
    for turn, option in enumerate(oracle, start=1):
        obs, _, terminated, _, _ = env.step(option)
        assert not terminated, f"{scenario} entry {entry['id']}: the oracle's intervention ended the episode"
        if turn == middle:
            shown.append((obs["image"], f"turn {turn + 1}: {states[turn]}"))
    if middle is None:
        shown.append((None, "(one intervention)"))
    shown.append((obs["image"], f"turn {len(oracle) + 1}: {states[-1]}"))
    reference, _ = envs.make(scenario, entry, root, reference=True).reset()
    shown.append((reference["image"], "reference"))
    return shown


def _fit(image: Image.Image) -> Image.Image:
    scale = min(CELL / image.width, CELL / image.height)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.NEAREST)


def contact_sheet(root: str | Path, out_png: str | Path, per_scenario: int = 2) -> Path:
    """Draw ``per_scenario`` test episodes of every scenario under ``<root>/test`` into ``out_png``.

    One row per scenario; each episode takes four columns (first, midway, oracle answers, reference).
    """
    test_root = Path(root) / "test"
    font = ImageFont.load_default()
    column_width = CELL + 8
    row_height = CELL + 2 * LABEL_HEIGHT + 10
    width = ROW_TITLE_WIDTH + per_scenario * len(COLUMNS) * column_width + (per_scenario - 1) * 12
    sheet = Image.new("RGB", (width, LABEL_HEIGHT + len(envs.SCENARIOS) * row_height), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for episode in range(per_scenario):
        for column, name in enumerate(COLUMNS):
            left = ROW_TITLE_WIDTH + (episode * len(COLUMNS) + column) * column_width + episode * 12
            draw.text((left + 4, 2), name, fill=(0, 0, 0), font=font)
    for row, scenario in enumerate(envs.SCENARIOS):
        top = LABEL_HEIGHT + row * row_height
        draw.multiline_text((4, top + 4), f"{scenario}\n{envs.OFFICIAL_NAMES[scenario]}", fill=(0, 0, 0), font=font)
        for episode, entry in enumerate(envs.load_entries(scenario, test_root)[:per_scenario]):
            first_left = ROW_TITLE_WIDTH + episode * (len(COLUMNS) * column_width + 12)
            caption = f"id {entry['id']}, answer: {entry['answer']}, {len(entry['synth']['oracle'])} intervention(s)"
            draw.text((first_left + 2, top), caption, fill=(0, 0, 0), font=font)
            for column, (frame, state) in enumerate(_frames(scenario, entry, test_root)):
                left = first_left + column * column_width
                box_top = top + LABEL_HEIGHT
                draw.rectangle([left - 1, box_top - 1, left + CELL, box_top + CELL], outline=(200, 200, 200))
                if frame is not None:
                    fitted = _fit(frame)
                    sheet.paste(fitted, (left + (CELL - fitted.width) // 2, box_top + (CELL - fitted.height) // 2))
                    state = f"{state}  {frame.width}x{frame.height}"
                colour = (
                    (180, 30, 30)
                    if "ambiguous" in state
                    else (20, 120, 40)
                    if "informative" in state
                    else (90, 90, 90)
                )
                draw.text((left + 2, box_top + CELL + 2), state, fill=colour, font=font)
    out = Path(out_png)
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out)
    return out


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="proactive-rl contact-sheet", description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True, help="a ProactiveBench-Synth folder (holding test/)")
    parser.add_argument("--out", default="docs/contact_sheet.png", help="the PNG to write")
    parser.add_argument("--per-scenario", type=int, default=2, help="episodes shown per scenario")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    print(contact_sheet(args.root, args.out, args.per_scenario))


if __name__ == "__main__":
    main()
