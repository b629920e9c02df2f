"""Prompt and option diversity for training rows: paraphrased intervention wording, shuffled option order.

A policy trained on rows that always show the same few intervention strings in the same places can score by
reciting a memorised string instead of reading the options in front of it, and then fails on a scenario
whose options say something else (the frozen-template failure of SFT and RL on fixed prompts). These
transforms rewrite a *training* row so that the words and the places change while the meaning does not:

- ``paraphrase``: every intervention option is drawn from ``TRAIN_PARAPHRASES`` (the official text or one of
  its paraphrases), never a held-out scenario's official text, so a fold's GRPO data cannot teach the words
  of the scenario it holds out;
- ``shuffle``: the interventions are shuffled among themselves, and so are the categories; the abstain
  option stays between them, where the official layout puts it;
- ``hint_rate``: that share of rows carries its scenario's hint sentence after the question, exactly as the
  paper's hint setting (``eval.hint=true``, ``envs`` with ``hint=True``) shows it, so the sentence is not a
  prompt the policy meets for the first time at evaluation. A row only ever gets its own scenario's hint, and
  a fold's GRPO rows hold no row of the scenario it holds out, so no held-out hint reaches them.

The row's ``options``, ``proactive_actions``, prompt text and confidence-gain keys change together, and the ground truth stays the
category's text, so the rewards (which judge an answer by the row's displayed options, text or letter) judge
a rewritten row exactly as they would the original. The benchmark itself never changes: environments and test
episodes keep the official texts and order. ``EVAL_PARAPHRASES`` holds a second wording of every
intervention, never shown in training, for the reading diagnostic (``eval.wording=paraphrased``).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import envs
from envs.matching import is_abstain_option
from envs.options import split_options
from envs.scenarios import ZOOM_OPTION
from proactive_rl.prompting import MCQA_INSTRUCTION, SHORT_ANSWER_INSTRUCTION, format_mcqa, user_text

DELTA_COLUMNS = ("qwen_delta", "llava_delta")  # confidence gain per intervention option: [{key, value}]

# Official intervention text -> paraphrases used in training rows (our own wording).
TRAIN_PARAPHRASES: dict[str, tuple[str, ...]] = {
    "Move the occluding blocks to the left.": ("Slide the covering blocks left.", "Shift the occluder leftwards."),
    "Move the occluding blocks to the right.": ("Slide the covering blocks right.", "Shift the occluder rightwards."),
    "Rewind the video.": ("Go back to an earlier frame.", "Play the clip backwards."),
    "Wait for the occlusion to disappear.": (
        "Wait until the occluder has passed.",
        "Skip ahead until it is uncovered.",
    ),
    "Wait for the object to appear.": ("Wait until the object shows up.", "Skip ahead until the object arrives."),
    "Rotate the object.": ("Turn the object around.", "Show the object from another side."),
    "Adjust the brightness of the image.": ("Fix the lighting of the picture.", "Correct the exposure."),
    "Increase the contrast of the image.": ("Boost the contrast.", "Make darks darker and lights lighter."),
    "Correct the colour saturation of the image.": (
        "Fix the colours of the picture.",
        "Restore the colour intensity.",
    ),
    "Deblur the image.": ("Sharpen the blurry picture.", "Bring the picture into focus."),
    "Denoise the image.": ("Remove the grain from the picture.", "Filter out the noise."),
    "Reduce the JPEG compression of the image.": ("Undo the compression blocks.", "Remove the JPEG blockiness."),
    "Increase the resolution of the image.": ("Upscale the picture.", "Show the picture at a finer scale."),
    "Remove the artifacts from the image.": ("Erase the visual glitches.", "Repair the damaged regions."),
    "Add more details.": ("Draw more strokes.", "Make the sketch more complete."),
    "Move the camera to the left.": ("Pan the camera left.", "Shift the viewpoint leftwards."),
    "Move the camera to the right.": ("Pan the camera right.", "Shift the viewpoint rightwards."),
    "Move the camera up.": ("Tilt the camera up.", "Shift the viewpoint upwards."),
    "Move the camera down.": ("Tilt the camera down.", "Shift the viewpoint downwards."),
    "Move farther from the object.": ("Zoom out.", "Step back from the object."),
}

# A second wording of every intervention, for evaluation only (never in training rows).
EVAL_PARAPHRASES: dict[str, str] = {
    "Move the occluding blocks to the left.": "Push the obstruction to the left side.",
    "Move the occluding blocks to the right.": "Push the obstruction to the right side.",
    "Rewind the video.": "Return to a previous moment of the footage.",
    "Wait for the occlusion to disappear.": "Keep watching until the obstruction is gone.",
    "Wait for the object to appear.": "Keep watching until the item comes into view.",
    "Rotate the object.": "Spin the item to a new angle.",
    "Adjust the brightness of the image.": "Make the photo lighter or darker as needed.",
    "Increase the contrast of the image.": "Strengthen the difference between light and shade.",
    "Correct the colour saturation of the image.": "Repair how vivid the hues are.",
    "Deblur the image.": "Make the photo crisp.",
    "Denoise the image.": "Clean the speckles out of the photo.",
    "Reduce the JPEG compression of the image.": "Recover detail lost to lossy encoding.",
    "Increase the resolution of the image.": "Render the photo with more pixels.",
    "Remove the artifacts from the image.": "Clear away the defects in the photo.",
    "Add more details.": "Keep sketching so the doodle is fuller.",
    "Move the camera to the left.": "Swing the lens toward the left.",
    "Move the camera to the right.": "Swing the lens toward the right.",
    "Move the camera up.": "Point the lens higher.",
    "Move the camera down.": "Point the lens lower.",
    "Move farther from the object.": "Back away to widen the frame.",
}


def paraphrase_texts() -> list[str]:
    """Every training paraphrase (the evaluation wording stays unseen, even by the tiny tokenizer)."""
    return [text for texts in TRAIN_PARAPHRASES.values() for text in texts]


@dataclass
class DiversitySettings:
    """Which rewrites apply to training rows (``data.diversity`` for GRPO prompts)."""

    paraphrase: bool = False  # intervention options drawn from the training paraphrase bank
    shuffle: bool = False  # interventions shuffled among themselves, categories among themselves
    hint_rate: float = 0.0  # share of rows whose question carries the scenario's hint sentence (eval.hint's)

    @classmethod
    def of(cls, given) -> DiversitySettings:
        """The settings of ``data.diversity`` (a DictConfig under Hydra, where the dataclass's methods are absent)."""
        return cls(bool(given.paraphrase), bool(given.shuffle), float(given.hint_rate))

    @property
    def active(self) -> bool:
        return self.paraphrase or self.shuffle or self.hint_rate > 0


def row_hint(scenario: str, options: Sequence[str]) -> str:
    """The hint sentence the hint setting adds to a ``scenario`` frame showing ``options`` (official texts).

    Rows carry no episode entry; COCO's zoom entries (their own hint) are the ones offering the zoom option.
    """
    spec = envs.SPECS[envs.canonical_scenario(scenario)]
    return spec.hint_text({"direction": "zoom" if ZOOM_OPTION in options else ""})


def _with_text(prompt, text: str):
    """``prompt`` with its user text replaced by ``text`` (same message structure, image parts kept)."""
    if isinstance(prompt, str):
        return text
    messages = [dict(message) for message in prompt]
    for message in reversed(messages):
        if message.get("role", "user") != "user":
            continue
        if isinstance(message["content"], str):
            message["content"] = text
            return messages
        parts = [dict(part) for part in message["content"]]
        texts = [index for index, part in enumerate(parts) if part.get("type") == "text" and part.get("text")]
        if texts:
            parts[texts[0]]["text"] = text
            parts = [part for index, part in enumerate(parts) if index not in texts[1:]]
            message["content"] = parts
            return messages
    raise ValueError(f"train row has no user text in its prompt: {prompt!r}")


def rewrite_options(
    prompt,
    options: Sequence[str],
    proactive_actions: Sequence[str],
    replace: dict[str, str],
    order: Sequence[str] | None = None,
    hint: str | None = None,
) -> dict:
    """The row columns (prompt, options, proactive_actions) with options renamed by ``replace`` and placed in
    ``order`` (a permutation of ``options``; None keeps theirs), and ``hint`` after the question (as ``envs``
    adds it). The prompt must be in the official layout."""
    text = user_text(prompt)
    head = text.find(MCQA_INSTRUCTION)
    if head < 0:
        raise ValueError(
            f"cannot rewrite a prompt without the official options block ({MCQA_INSTRUCTION!r}): {text!r}"
        )
    ordered = list(order) if order is not None else list(options)
    shown = [replace.get(option, option) for option in ordered]
    question = f"{text[:head]} {hint}" if hint else text[:head]
    return {
        "prompt": _with_text(prompt, format_mcqa(question, shown, text.endswith(SHORT_ANSWER_INSTRUCTION))),
        "options": shown,
        "proactive_actions": [replace.get(action, action) for action in proactive_actions],
    }


def diversify(
    row: dict,
    settings: DiversitySettings,
    rng: random.Random,
    excluded: Iterable[str] = (),
) -> dict:
    """``row``'s prompt, options and proactive_actions rewritten by ``settings`` (see the module docstring).

    ``excluded`` texts (a held-out scenario's official interventions) are never drawn; an official text that is
    excluded and has no paraphrase fails, since the row would leak it. ``hint_rate`` needs the row's ``scenario``.
    """
    options = list(row["options"])
    proactive = list(row.get("proactive_actions") or [])
    actions, categories = split_options(options, row["ground_truth"], proactive_actions=proactive)
    excluded = set(excluded)
    replace: dict[str, str] = {}
    if settings.paraphrase:
        for action in actions:
            if is_abstain_option(action):
                continue
            choices = [text for text in (action, *TRAIN_PARAPHRASES.get(action, ())) if text not in excluded]
            if not choices:
                raise ValueError(f"diversity: no wording of {action!r} may be shown (a held-out scenario's text)")
            replace[action] = rng.choice(choices)
    order = None
    if settings.shuffle:
        interventions = [action for action in actions if not is_abstain_option(action)]
        abstains = [action for action in actions if is_abstain_option(action)]
        if actions and actions[: len(interventions)] == interventions:  # the official layout: interventions first
            rng.shuffle(interventions)
            shuffled_categories = list(categories)
            rng.shuffle(shuffled_categories)
            order = interventions + abstains + shuffled_categories
    hint = None
    if settings.hint_rate > 0 and rng.random() < settings.hint_rate:
        if not row.get("scenario"):
            raise ValueError("diversity: data.diversity.hint_rate needs the row's scenario column")
        hint = row_hint(row["scenario"], options)
    deltas = [column for column in DELTA_COLUMNS if column in row]
    if not replace and order is None and hint is None:
        return {key: row[key] for key in ("prompt", "options", "proactive_actions", *deltas)}
    rewritten = rewrite_options(row["prompt"], options, proactive, replace, order, hint)
    for column in deltas:  # confidence gains are keyed by the option text
        rewritten[column] = [
            {**item, "key": replace.get(item["key"], item["key"])}
            if isinstance(item, dict) and "key" in item
            else item
            for item in row[column] or []
        ]
    return rewritten
