"""Randomized parity cases: generated entries and images, our episodes, the official replay, the comparison.

Entries are drawn per scenario to reach every branch of the official environments (all COCO directions
and zoom, CIT edges, MVP-N view lists, every IN-C fix, ROD's broken-frame fix, caps...), plus a small
share of malformed entries on which the official code crashes. Answers are chosen turn by turn from
*our* environment's current options (mostly valid interventions, so episodes go deep), in every answer
format the matcher accepts or rejects. The official package then replays the same answers in a Python
3.12 subprocess (``official_driver.py``) and every turn is compared.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import string
import subprocess
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

import envs
from envs.matching import is_abstain_option

REPO = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("official_driver.py")
INSTALL_HINT = (
    "install the official oracle with: pyenv's python3.12 -m venv .cache/pb312 && "
    ".cache/pb312/bin/pip install --no-deps proactivebench==0.1.1 (or set PROACTIVEBENCH_PYTHON)"
)

CATEGORY_WORDS = [
    "cat", "dog", "banana", "St. Bernard", "teddy bear", "Traffic Light", "u.s. mailbox", "cell phone",
    "wine glass", "hot dog", "Apple", "pizza", "toaster", "zebra", "fire hydrant", "bicycle", "Mr. Potato",
    "stop sign", "kite", "umbrella",
]  # fmt: skip
ABSTAIN = [
    "I cannot answer.",
    "I do not know.",
    "I cannot tell what the object is.",
    "I do not have enough information.",
]
INC_FIXES = [
    "Increase the brightness.", "Increase the contrast.", "Increase the saturation.", "Deblur the image.",
    "Denoise the image.", "Remove the JPEG compression.", "Increase the resolution.", "Remove the artifacts.",
]  # fmt: skip
COCO_MOVES = {
    "left": "Move the camera to the left.",
    "right": "Move the camera to the right.",
    "up": "Move the camera up.",
    "down": "Move the camera down.",
}
COCO_DIRECTIONS = ["left", "right", "up", "down", "up_left", "up_right", "down_left", "down_right", "zoom", "zoom"]
EPISODES_PER_SCENARIO = {"ROD": 300, "VSOD": 250, "MVP-N": 350, "IN-C": 350, "QD": 300, "CIT": 450, "COCO": 550}
MAX_ANSWERS = 40


@dataclass
class Case:
    scenario: str
    entry: dict
    hint: bool
    reference: bool
    tags: set[str] = field(default_factory=set)  # generator-side labels: branches and crash-case kinds
    answers: list[str] = field(default_factory=list)
    ours: dict = field(default_factory=dict)  # our per-turn records and summary

    def to_official(self, data_dir: str) -> dict:
        return {
            "dataset": envs.OFFICIAL_NAMES[self.scenario],
            "entry": self.entry,
            "data_dir": data_dir,
            "hint": self.hint,
            "reference": self.reference,
            "answers": self.answers,
        }


class ImagePool:
    """Creates small random-pixel PNGs on demand; every folder has one image size."""

    def __init__(self, root: Path, rng: random.Random):
        self.root = root
        self.rng = rng
        self.sizes: dict[str, tuple[int, int]] = {}
        self.made: set[str] = set()

    def ensure(self, relative: str, size: tuple[int, int] | None = None) -> None:
        if relative in self.made:
            return
        folder = os.path.dirname(relative)
        if size is None:
            size = self.sizes.setdefault(folder, (self.rng.randint(4, 20), self.rng.randint(4, 20)))
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        width, height = size
        Image.frombytes("RGB", size, self.rng.randbytes(width * height * 3)).save(path)
        self.made.add(relative)


def categories_for(rng: random.Random) -> tuple[list[str], str]:
    categories = rng.sample(CATEGORY_WORDS, 4)
    return categories, rng.choice(categories)


def common(rng: random.Random, template: str, num_images: int, first: int, reference: int, options: list[str]):
    categories, answer = categories_for(rng)
    if rng.random() < 0.5:
        rng.shuffle(options)
    return {
        "id": rng.randrange(100_000),
        "image_template": template,
        "first_image": first,
        "num_images": num_images,
        "reference_image": reference,
        "prompt": rng.choice(["What is the object in the image?", "Which category does the main object belong to?"]),
        "options": options,
        "categories": categories,
        "answer": answer,
    }


def ensure_frames(pool: ImagePool, template: str, ids, **fields) -> None:
    for image_id in ids:
        pool.ensure(template.format(image=image_id, **fields))


def rod_entry(rng: random.Random, pool: ImagePool) -> tuple[dict, set[str]]:
    tags = set()
    num_images = rng.randint(1, 14)
    broken = rng.random() < 0.15
    folder = "natural_bluebl_greenr-banana-s6" if broken else f"seq{rng.randrange(6)}"
    template = f"ROD/{folder}/frame_{{image}}.png"
    for variant in ["s5", "s6", "s7"] if broken else [None]:
        target = template.replace("s6", variant) if variant else template
        ensure_frames(pool, target, range(14))
    options = [
        rng.choice(["Move the occluding blocks to the left.", "Move the blocks to the left."]),
        rng.choice(["Move the occluding blocks to the right.", "Move the blocks to the right."]),
        rng.choice(ABSTAIN),
    ]
    if rng.random() < 0.05:
        options.append("Remove the blocks.")  # not an abstention, names no action: official crash if chosen
        tags.add("crash:intervention_without_action")
    if broken:
        tags.add("rod:broken_frame_fix")
    first = rng.choice([num_images // 2, rng.randrange(num_images)])
    return common(rng, template, num_images, first, rng.randrange(num_images), options), tags


def vsod_entry(rng: random.Random, pool: ImagePool) -> tuple[dict, set[str]]:
    num_images = rng.randint(1, 12)
    template = f"VSOD/video{rng.randrange(5)}/{{image}}.png"
    ensure_frames(pool, template, (str(i).zfill(4) for i in range(12)))
    options = ["Rewind the video.", "Wait for the occlusion to disappear.", rng.choice(ABSTAIN)]
    entry = common(rng, template, num_images, rng.randrange(num_images), rng.randrange(num_images), options)
    entry["strong_occlusions"] = True
    return entry, set()


def mvpn_entry(rng: random.Random, pool: ImagePool) -> tuple[dict, set[str]]:
    tags = set()
    num_images = rng.randint(1, 8)
    with_flag = rng.random() < 0.8
    template = f"MVP-N/obj{rng.randrange(5)}/" + ("{informative}/{image}.png" if with_flag else "view_{image}.png")
    for informative in (0, 1):
        for i in range(8):
            pool.ensure(template.format(informative=informative, image=str(i).zfill(4)))
    rotations = ["Rotate the object.", "Change the view.", "Rotate the object to see a different view.", "Turn it."]
    options = rng.sample(rotations[:3], rng.randint(1, 3)) + [rng.choice(ABSTAIN)]
    if rng.random() < 0.05:
        options.append(rotations[3])
        tags.add("crash:intervention_without_action")
    if rng.random() < 0.3:
        views = []
        tags.add("mvpn:empty_view_list")
    else:
        length = rng.randint(max(1, num_images - 2), num_images + 1)
        views = [rng.randrange(num_images) for _ in range(length)]
        if length < num_images:
            tags.add("crash:mvpn_views_run_out")
    entry = common(rng, template, num_images, rng.randrange(num_images), rng.randrange(num_images), options)
    entry["valid_images"] = views
    return entry, tags


def inc_entry(rng: random.Random, pool: ImagePool) -> tuple[dict, set[str]]:
    tags = set()
    template = f"IN-C/{rng.choice(['fog', 'snow', 'blur'])}/{{level}}/img{rng.randrange(4)}.png"
    for level in range(0, 7):
        pool.ensure(template.format(level=level))
    quality = rng.choice(INC_FIXES)
    others = rng.sample([fix for fix in INC_FIXES if fix != quality], rng.randint(1, 7))
    options = [quality, *others, rng.choice(ABSTAIN)]
    if rng.random() < 0.05:
        options.remove(quality)
        tags.add("crash:inc_quality_answer_not_an_option")
    first, num_images = 5, 5
    roll = rng.random()
    if roll < 0.15:
        num_images = rng.randint(1, 4)
    elif roll < 0.22:
        first, num_images = rng.randint(2, 4), rng.randint(3, 6)
        if num_images > first:
            tags.add("crash:inc_no_level_below_1")
    tags.add(f"inc:fix={envs.scenarios.requested_action(quality, envs.scenarios.INC.action_space({}))}")
    entry = common(rng, template, num_images, first, rng.choice([1, first]), options)
    entry["quality_answer"] = quality
    return entry, tags


def qd_entry(rng: random.Random, pool: ImagePool) -> tuple[dict, set[str]]:
    tags = set()
    num_images = rng.randint(1, 8)
    template = f"QD/drawing{rng.randrange(5)}/{{image}}.png"
    ensure_frames(pool, template, (str(i).zfill(4) for i in range(10)))
    detail = "Add more details."
    if rng.random() < 0.05:
        detail = "Add more details to the drawing."  # two keywords of one action: official assert
        tags.add("crash:two_keywords_same_action")
    options = [detail, rng.choice(ABSTAIN)]
    first = 0
    if rng.random() < 0.07:
        first = rng.randint(1, 2)
        tags.add("crash:qd_runs_past_last_stroke")
    entry = common(rng, template, num_images, first, num_images - 1, options)
    return entry, tags


def cit_entry(rng: random.Random, pool: ImagePool) -> tuple[dict, set[str]]:
    tags = set()
    num_images = rng.randint(1, 20)
    step = rng.randint(1, 4)
    template = f"CIT/clip{rng.randrange(5)}/{{image}}.png"
    ensure_frames(pool, template, range(20))
    wait = rng.choice(["Wait for the object to appear.", "Wait for the action to happen."])
    options = ["Rewind the video.", wait, rng.choice(ABSTAIN)]
    roll = rng.random()
    if roll < 0.04:
        options.remove("Rewind the video.")
        tags.add("crash:cit_rewind_option_missing")
    elif roll < 0.08:
        options[1] = rng.choice(["Keep watching.", "wait for the object to appear."])
        tags.add("cit:no_wait_option_quirk")
    first = rng.choice([0, rng.randrange(num_images), num_images - 1, min(step - 1, num_images - 1)])
    if num_images <= step:
        tags.add("crash:cit_video_shorter_than_step")
    entry = common(rng, template, num_images, first, rng.randrange(num_images), options)
    entry["step_size"] = step
    entry["max_steps"] = rng.randint(1, 8)
    return entry, tags


def coco_entry(rng: random.Random, pool: ImagePool) -> tuple[dict, set[str]]:
    tags = set()
    direction = rng.choice(COCO_DIRECTIONS)
    literal_braces = rng.random() < 0.05
    template = "COCO/{image}.png" if literal_braces else f"COCO/img{rng.randrange(40)}.png"
    if literal_braces:
        tags.add("coco:template_used_verbatim")
    size = pool.sizes.setdefault(template, (rng.randint(24, 96), rng.randint(24, 96)))
    pool.ensure(template, size)
    width, height = size
    granularity = rng.choice([1, 2, 3, 4, 5, 2, 3]) if rng.random() > 0.03 else 0
    if rng.random() < 0.5:
        horizontal, vertical = rng.randint(0, 12), rng.randint(0, 12)
    else:
        horizontal, vertical = round(rng.uniform(0.1, 12), rng.choice([1, 2, 3])), width * rng.uniform(0.01, 0.2)
    left, top = rng.randint(0, width // 2), rng.randint(0, height // 2)
    crop = {
        "left": left,
        "top": top,
        "width": rng.randint(left + 1, width + 4),
        "height": rng.randint(top + 1, height + 4),
    }
    if direction == "zoom":
        crop["width"], crop["height"] = crop["width"] - left, crop["height"] - top
        options = ["Move farther from the object.", rng.choice(ABSTAIN)]
        roll = rng.random()
        if roll < 0.05:
            options, horizontal = [rng.choice(ABSTAIN)], 0
            tags.add("crash:coco_zoom_option_missing")
        elif roll < 0.1:
            horizontal, vertical = 0, rng.randint(1, 5)
            tags.add("crash:coco_zoom_steps_disagree")
    else:
        moves = [COCO_MOVES[move] for move in COCO_MOVES if move in direction]
        options = moves + [rng.choice(ABSTAIN)]
    if rng.random() < 0.06:
        extra = [text for text in [*COCO_MOVES.values(), "Move farther from the object."] if text not in options]
        options.append(rng.choice(extra))
        tags.add("crash:coco_option_outside_action_space")
    entry = common(rng, template, 1, 0, 0, options)
    entry.update(direction=direction, granularity=granularity, horizontal_step=horizontal, vertical_step=vertical)
    entry["crop"] = crop
    tags.add(f"coco:direction={direction}")
    return entry, tags


GENERATORS = {
    "ROD": rod_entry,
    "VSOD": vsod_entry,
    "MVP-N": mvpn_entry,
    "IN-C": inc_entry,
    "QD": qd_entry,
    "CIT": cit_entry,
    "COCO": coco_entry,
}


def noise_answer(rng: random.Random) -> str:
    return rng.choice(
        [
            "",
            " ",
            "Z",
            "AB",
            "I think it is a dog",
            "".join(rng.choices(string.ascii_letters + " .", k=rng.randint(1, 12))),
            "A. B. something",
            ".",
        ]
    )


def render_answer(rng: random.Random, option: str, index: int, tags: set[str]) -> str:
    letter = chr(65 + index)
    roll = rng.random()
    if roll < 0.45:
        tags.add("answer:full_text")
        return option
    if roll < 0.65:
        tags.add("answer:letter")
        return rng.choice([letter, letter.lower(), f" {letter} ", f"{letter}."])
    if roll < 0.8:
        tags.add("answer:letter_dot_text")
        return f"{letter}. {option}"
    if roll < 0.92:
        tags.add("answer:mangled_text")
        return rng.choice([option.lower(), option.upper(), option.replace(" ", ""), "  " + option.replace(" ", "  ")])
    tags.add("answer:prefixed_text")
    return f"The answer is {letter}. {option}"


def choose_answer(rng: random.Random, env: envs.ProactiveEnv, options: list[str], tags: set[str]) -> str:
    valid = env.valid_interventions()
    categories = env.entry["categories"]
    unusable = [o for o in options[: len(options) - len(categories)] if o not in valid and not is_abstain_option(o)]
    roll = rng.random()
    crash_entry = any(tag.startswith("crash:") for tag in tags)
    if unusable and rng.random() < (0.3 if crash_entry else 0.1):
        target = rng.choice(unusable)
        tags.add("policy:unusable_intervention")
    elif valid and roll < 0.75:
        target = rng.choice(valid)
    elif roll < 0.85:
        target = env.answer
        tags.add("policy:right_category")
    elif roll < 0.9:
        target = rng.choice([c for c in categories if c != env.answer])
        tags.add("policy:wrong_category")
    elif roll < 0.94:
        abstentions = [option for option in options if is_abstain_option(option)]
        target = rng.choice(abstentions or options)
        tags.add("policy:abstain")
    elif roll < 0.97:
        target = rng.choice(options)
        tags.add("policy:any_option")
    else:
        tags.add("policy:noise")
        return noise_answer(rng)
    return render_answer(rng, target, options.index(target), tags)


def image_digest(image: Image.Image) -> list:
    return [list(image.size), hashlib.sha1(image.tobytes()).hexdigest()]


def play_ours(case: Case, root: str, rng: random.Random) -> None:
    """Run our environment, choosing answers from its observations; record every turn."""
    env = envs.make(case.scenario, case.entry, root, hint=case.hint, reference=case.reference)
    obs, _ = env.reset()
    turns = []
    for _ in range(MAX_ANSWERS):
        answer = choose_answer(rng, env, obs["options"], case.tags)
        first_turn, valid = env.num_turns == 0, env.valid_interventions()
        turn = {
            "image_path": obs["image_path"],
            "prompt": obs["prompt"],
            "options": obs["options"],
            "image": image_digest(obs["image"]),
            "row": {  # the train row this turn would be written as (no categories column, as on the hub)
                "options": obs["options"],
                "proactive_actions": valid,
                "ground_truth": env.answer,
                "categories_scored": bool(env.correct_categories()),
            },
        }
        if case.scenario == "COCO" and not case.reference:
            before = [text for text in case.entry["options"] if text not in obs["options"]]
            if "Move farther from the object." in before:
                case.tags.add("coco:zoom_exhausted")
            if any(text in before for text in COCO_MOVES.values()):
                case.tags.add("coco:axis_exhausted")
            kept = "Move farther from the object." in obs["options"]
            if case.entry["direction"] == "zoom" and env.num_turns == case.entry["granularity"] and kept:
                case.tags.add("coco:zoom_option_kept_at_limit_by_float_equality")
        if case.scenario == "CIT" and not case.reference and len(obs["options"]) < len(case.entry["options"]) + 4:
            case.tags.add("cit:edge_pruned")
        last_turn = env.spec.last_turn_category_only and env.num_turns + 1 >= case.entry["num_images"]
        case.answers.append(answer)
        obs, _, terminated, truncated, info = env.step(answer)
        outcome = info["outcome"]
        turn["action_verdict"] = outcome.action.verdict
        turn["category_verdict"] = outcome.category.verdict
        turn["kind"] = outcome.kind
        if not case.reference:
            if case.scenario == "ROD" and first_turn and outcome.category.option == env.answer:
                case.tags.add("rod:right_category_on_first_turn_scored_wrong")
            if last_turn and outcome.action.option and not is_abstain_option(outcome.action.option):
                case.tags.add("last_turn:intervention_refused")
            if not valid:
                case.tags.add("turn_without_valid_intervention")
        turns.append(turn)
        if terminated:
            episode = info["episode"]
            case.tags.add(f"end:{episode['end_reason']}")
            break
    summary = env.summary
    case.ours = {
        "turns": turns,
        "done": env.done,
        "num_turns": summary.num_turns,
        "correct": summary.correct,
        "hit_max_turns": summary.hit_max_turns,
        "end_reason": summary.end_reason,
        "open_ended": env.open_ended_answers(),
    }


def make_root(parent: Path) -> Path:
    """A data root whose path has no "s6" (the official ROD fix rewrites that anywhere in the path)."""
    root = parent / "parity_data"
    if "s6" in str(root):
        root = Path(tempfile.mkdtemp(prefix="pb_parity_data_", dir=parent))
        while "s6" in str(root):
            root = Path(tempfile.mkdtemp(prefix="pb_parity_data_", dir=parent))
    root.mkdir(parents=True, exist_ok=True)
    return root


def build_cases(parent: Path, seed: int = 0, counts: dict[str, int] | None = None) -> tuple[Path, list[Case]]:
    rng = random.Random(seed)
    root = make_root(parent)
    pool = ImagePool(root, rng)
    cases = []
    for scenario, count in (counts or EPISODES_PER_SCENARIO).items():
        for _ in range(count):
            entry, tags = GENERATORS[scenario](rng, pool)
            case = Case(scenario, entry, hint=rng.random() < 0.3, reference=rng.random() < 0.1, tags=tags)
            case.tags.update(tag for tag, on in (("hint", case.hint), ("reference", case.reference)) if on)
            play_ours(case, str(root), rng)
            cases.append(case)
    return root, cases


def official_python() -> str | None:
    """The interpreter that can import the official package, or None."""
    candidates = [os.environ.get("PROACTIVEBENCH_PYTHON"), REPO / ".cache/pb312/bin/python", "/tmp/pb312/bin/python"]
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            probe = subprocess.run(
                [str(candidate), "-c", "import proactivebench.environment"], capture_output=True, timeout=60
            )
            if probe.returncode == 0:
                return str(candidate)
    return None


def run_official(python: str, root: Path, cases: list[Case], workdir: Path) -> list[dict]:
    cases_path, results_path = workdir / "parity_cases.json", workdir / "parity_results.json"
    cases_path.write_text(json.dumps([case.to_official(str(root)) for case in cases]))
    completed = subprocess.run(
        [python, str(DRIVER), str(cases_path), str(results_path)], capture_output=True, text=True, timeout=600
    )
    if completed.returncode != 0:
        raise RuntimeError(f"official driver failed:\n{completed.stderr[-4000:]}")
    return json.loads(results_path.read_text())


def official_image(turn: dict) -> list | str:
    """Digest of the frame the official code would show, or why Pillow refuses its crop."""
    with Image.open(turn["image_path"]) as source:
        image = source.convert("RGB")
    if turn["crop"] is not None:
        left, top, right, bottom = turn["crop"]
        if right < left or bottom < top:
            return "inverted crop box"
        image = image.crop(tuple(turn["crop"]))
    return image_digest(image)


def reward_verdicts(row: dict, answer: str) -> tuple[str, str] | None:
    """How the rewards judge ``answer`` on the train row written from a turn: (intervention, category) verdicts."""
    from rewards.answers import classify, make_question

    question = make_question(
        row["options"], row["proactive_actions"], row["ground_truth"], None, row["categories_scored"]
    )
    if question is None:
        return None
    outcome = classify(answer, question)
    return outcome.action.verdict, outcome.category.verdict


@dataclass
class Comparison:
    mismatches: list[str] = field(default_factory=list)
    official_raised: str | None = None  # exception summary when the official code crashed


def compare(case: Case, official: dict) -> Comparison:
    result = Comparison()
    ours = case.ours
    label = f"{case.scenario} id {case.entry['id']}"
    keys = ("image_path", "prompt", "options", "action_verdict", "category_verdict")
    for index, (mine, theirs) in enumerate(zip(ours["turns"], official["turns"], strict=False)):
        for key in keys:
            if key in theirs and mine[key] != theirs[key]:
                result.mismatches.append(f"{label} turn {index}: {key} ours={mine[key]!r} official={theirs[key]!r}")
        if "action_verdict" in theirs and not case.reference:
            rewarded = reward_verdicts(mine["row"], case.answers[index])
            if rewarded != (theirs["action_verdict"], theirs["category_verdict"]):
                result.mismatches.append(
                    f"{label} turn {index}: reward verdicts {rewarded} official "
                    f"{(theirs['action_verdict'], theirs['category_verdict'])} for {case.answers[index]!r}"
                )
        expected = official_image(theirs)
        if expected == "inverted crop box":
            result.official_raised = result.official_raised or "ValueError: inverted crop box (Pillow)"
        elif mine["image"] != expected:
            result.mismatches.append(f"{label} turn {index}: image ours={mine['image']} official={expected}")
    if official["open_ended_raised"]:
        result.official_raised = result.official_raised or f"open-ended: {official['open_ended_raised']}"
    elif official["open_ended"] != ours["open_ended"]:
        result.mismatches.append(
            f"{label}: open-ended ours={ours['open_ended']!r} official={official['open_ended']!r}"
        )
    if official["raised"]:
        result.official_raised = official["raised"]
        return result
    if len(ours["turns"]) != len(official["turns"]):
        result.mismatches.append(f"{label}: turns ours={len(ours['turns'])} official={len(official['turns'])}")
    for key, official_key in (("done", "stop"), ("num_turns", "num_turns"), ("correct", "correct")):
        if ours[key] != official[official_key]:
            result.mismatches.append(f"{label}: {key} ours={ours[key]!r} official={official[official_key]!r}")
    if ours["hit_max_turns"] != official["hit_max_turns"]:
        result.mismatches.append(
            f"{label}: hit_max_turns ours={ours['hit_max_turns']} official={official['hit_max_turns']}"
        )
    return result


@dataclass
class ParityReport:
    episodes: Counter = field(default_factory=Counter)
    turns: Counter = field(default_factory=Counter)
    crashes: Counter = field(default_factory=Counter)  # (scenario, exception type) -> official crashes
    tags: Counter = field(default_factory=Counter)
    mismatches: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        lines = ["episodes per scenario (turns; official crashes, ours ran):"]
        for scenario in envs.SCENARIOS:
            crashes = sum(n for (name, _), n in self.crashes.items() if name == scenario)
            lines.append(
                f"  {scenario:6s} {self.episodes[scenario]:5d} episodes {self.turns[scenario]:6d} turns {crashes:4d} crashes"
            )
        lines.append(f"  total  {sum(self.episodes.values()):5d} episodes {sum(self.turns.values()):6d} turns")
        lines.append("official crashes by kind:")
        lines += [f"  {scenario:6s} {kind}: {n}" for (scenario, kind), n in sorted(self.crashes.items())]
        lines.append("branches covered (episodes):")
        lines += [f"  {tag}: {n}" for tag, n in sorted(self.tags.items())]
        lines.append(f"mismatches: {len(self.mismatches)}")
        return lines


def run_parity(parent: Path, python: str, seed: int = 0, counts: dict[str, int] | None = None) -> ParityReport:
    root, cases = build_cases(parent, seed, counts)
    results = run_official(python, root, cases, parent)
    report = ParityReport()
    for case, official in zip(cases, results, strict=True):
        comparison = compare(case, official)
        report.episodes[case.scenario] += 1
        report.turns[case.scenario] += len(case.ours["turns"])
        report.tags.update(f"{case.scenario} {tag}" for tag in case.tags)
        report.mismatches += comparison.mismatches
        if comparison.official_raised:
            report.crashes[(case.scenario, comparison.official_raised.split(":")[0])] += 1
    return report
