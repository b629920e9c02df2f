"""The seven ProactiveBench scenarios as declarative specs over one shared episode core.

Every scenario plays the same game (see ``envs.core``): show a frame, judge the answer, either end the
episode or apply the requested intervention and show the next frame. What differs is small and lives
here as data plus a few pure functions: prompt texts, how a frame id becomes a path, which options are
valid interventions in a given state, where an intervention leads, the turn cap, and the open-ended
answer string. The rules reproduce the official ``proactivebench`` v0.1.1 environments outcome for
outcome, quirks included (each quirk is named where it is encoded); where the official code would crash
we pick a sane outcome instead, and say which in the function's docstring.

Not reproduced on purpose: the official ``random=True`` mode, in-context examples and chain-of-thought
prompts, and the ``resize_samples`` transform. They are not part of the benchmark protocol we train for.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from envs.matching import is_abstain_option

# Words in an intervention option that name the action it requests. This is the benchmark's own
# vocabulary: an option is an intervention for action ``a`` when the only action of the scenario's
# action space it mentions is ``a``.
ACTION_KEYWORDS: dict[str, str] = {
    "to the left": "left",
    "to the right": "right",
    "rewind the video.": "rewind",
    "wait for the": "forward",
    "rotate": "rotate",
    "view": "rotate",
    "angle": "rotate",
    "orientation": "rotate",
    "different": "rotate",
    "brightness": "brightness",
    "contrast": "contrast",
    "saturation": "saturation",
    "deblur": "deblur",
    "denoise": "denoise",
    "compression": "jpeg",
    "resolution": "resolution",
    "artifacts": "artifacts",
    "details": "details",
    "quickdraw": "details",
    "drawing": "details",
    "sketch": "details",
    "up": "up",
    "down": "down",
    "farther": "zoom",
}

VIDEO_PRE_PROMPT = "This is a frame extracted from a video. Answer the following question."
REWIND_OPTION = "Rewind the video."
WAIT_MARKER = "Wait for the"
ZOOM_OPTION = "Move farther from the object."
HORIZONTAL_OPTIONS = ("Move the camera to the left.", "Move the camera to the right.")
VERTICAL_OPTIONS = ("Move the camera up.", "Move the camera down.")
# Official fix for one broken ROD frame: the central frame of this sequence is replaced by a neighbour.
ROD_BROKEN_SEQUENCE = "natural_bluebl_greenr-banana-s6"

COMMON_FIELDS = (
    "id",
    "image_template",
    "first_image",
    "num_images",
    "reference_image",
    "prompt",
    "options",
    "categories",
    "answer",
)


@dataclass
class EpisodeState:
    """Where an episode stands. ``horizontal_step``/``vertical_step`` and the move counters are COCO's."""

    image_id: int | float
    num_turns: int = 0
    last_action: str | None = None
    horizontal_moves: int = 0
    vertical_moves: int = 0
    horizontal_step: float = 0
    vertical_step: float = 0


@dataclass(frozen=True)
class ScenarioSpec:
    """Everything that makes one scenario differ from the shared episode core in ``envs.core``."""

    short: str
    official: str
    hint: str
    action_space: Callable[[dict], frozenset[str]]
    turn_cap: Callable[[dict], int | float]
    # next frame id after ``action`` (state.num_turns already counts the answered turn); None: no next frame.
    # An id outside ``valid_image_ids`` also means there is no next frame (the official code asserts).
    transition: Callable[[dict, EpisodeState, str], int | float | None]
    open_ended: Callable[[dict, list[str]], str]
    pre_prompt: str = ""
    reference_prompt: str | None = None
    extra_fields: tuple[str, ...] = ()
    # frame path: template.format(<image_field>=id) with optional zero padding; COCO uses the template as is
    image_field: str = "image"
    zero_pad: int = 0
    formats_template: bool = True
    informative_flag: bool = False  # MVP-N: {informative} is 1 on the last turn and on the reference frame
    first_turn_needs_intervention: bool = False  # ROD: the right category on turn 1 is scored wrong
    last_turn_category_only: bool = False  # MVP-N, IN-C, QD: no intervention is right on the last turn
    intervention_source: str = "non_abstain"  # or "quality_answer" (IN-C: only the entry's own fix)
    valid_image_ids: Callable[[dict], Sequence[int]] = field(default=lambda entry: range(entry["num_images"]))
    # removes options that are impossible in this state (applied to displayed and to right interventions)
    prune: Callable[[list[str], dict, EpisodeState], list[str]] | None = None
    crop_box: Callable[[dict, EpisodeState], tuple[float, float, float, float]] | None = None
    fix_relative_path: Callable[[str, EpisodeState], str] | None = None
    initial_steps: Callable[[dict], tuple[float, float]] = lambda entry: (0, 0)
    zoom_hint: str | None = None  # COCO: zoom entries get their own hint
    # words of this scenario's intervention options (lower case) that name it when a row has no scenario column
    # (``envs.infer_scenario`` tries the scenarios in ``SCENARIO_INFERENCE_ORDER``, first match wins)
    option_keywords: tuple[str, ...] = ()
    # OEG: how many leading entries of the open-ended valid-answer list are interventions (official PREDICTION_THR)
    oeg_intervention_answers: int = 2

    def hint_text(self, entry: dict) -> str:
        if self.zoom_hint is not None and "zoom" in entry["direction"]:
            return self.zoom_hint
        return self.hint

    @property
    def required_fields(self) -> tuple[str, ...]:
        return COMMON_FIELDS + self.extra_fields

    def relative_image_path(self, entry: dict, image_id: int | float, state: EpisodeState, reference: bool) -> str:
        template = entry["image_template"]
        if not self.formats_template:
            return template
        value = str(image_id).zfill(self.zero_pad) if self.zero_pad else image_id
        fields = {self.image_field: value}
        if self.informative_flag:
            fields["informative"] = int(reference or state.num_turns + 1 == entry["num_images"])
        relative = template.format(**fields)
        if self.fix_relative_path is not None and not reference:
            relative = self.fix_relative_path(relative, state)
        return relative

    def image_path(self, root: str, entry: dict, state: EpisodeState, reference: bool) -> str:
        image_id = entry["reference_image"] if reference else state.image_id
        return os.path.join(root, self.relative_image_path(entry, image_id, state, reference))


def join_answers(answers: Sequence[str], separator: str) -> str:
    """Official open-ended answer strings: dots removed from every answer, joined, one final dot."""
    return separator.join(answer.replace(".", "") for answer in answers) + "."


def fixed_actions(*actions: str) -> Callable[[dict], frozenset[str]]:
    return lambda entry: frozenset(actions)


def num_images_cap(entry: dict) -> int:
    return entry["num_images"]


# ---- ROD -------------------------------------------------------------------------------------------


def rod_transition(entry: dict, state: EpisodeState, action: str) -> int | None:
    """Left shows the previous frame, right the next; the sequence wraps around (official modulo)."""
    if entry["num_images"] <= 0:
        return None  # official: ZeroDivisionError
    return (state.image_id - 1 if action == "left" else state.image_id + 1) % entry["num_images"]


def rod_fix_path(relative: str, state: EpisodeState) -> str:
    """Official corruption fix: the broken frame is swapped for s5 after a left move, else for s7.

    The official code rewrites the *full* path (data root included); we rewrite only the part below the
    root, which is the same whenever the root itself does not contain "s6".
    """
    if ROD_BROKEN_SEQUENCE not in relative:
        return relative
    return relative.replace("s6", "s5" if state.last_action == "left" else "s7")


ROD = ScenarioSpec(
    option_keywords=("to the left", "to the right"),
    short="ROD",
    official="Realistic-Occlusion-Dataset",
    reference_prompt="What type of object is in the image?",
    hint="Hint: moving the occluding object might reveal what is behind it.",
    action_space=fixed_actions("left", "right"),
    turn_cap=num_images_cap,
    transition=rod_transition,
    open_ended=lambda entry, interventions: "Move the blocks, Move the camera.",
    first_turn_needs_intervention=True,
    fix_relative_path=rod_fix_path,
)

# ---- VSOD ------------------------------------------------------------------------------------------


def vsod_transition(entry: dict, state: EpisodeState, action: str) -> int | None:
    if entry["num_images"] <= 0:
        return None
    return (state.image_id - 1 if action == "rewind" else state.image_id + 1) % entry["num_images"]


VSOD = ScenarioSpec(
    option_keywords=("wait for the occlusion",),
    oeg_intervention_answers=3,
    short="VSOD",
    official="OcclusionDataSet-MM20",
    pre_prompt=VIDEO_PRE_PROMPT,
    hint=(
        "Hint: If there is an occlusion, waiting for it to disappear or rewinding the video might reveal what's "
        "behind it."
    ),
    action_space=fixed_actions("rewind", "forward"),
    turn_cap=num_images_cap,
    transition=vsod_transition,
    open_ended=lambda entry, interventions: (
        "Wait for the occlusion to disappear, Rewind the video, Move the camera, "
        + join_answers([entry["answer"]], ", ")
    ),
    extra_fields=("strong_occlusions",),
    zero_pad=4,
)

# ---- MVP-N -----------------------------------------------------------------------------------------


def mvpn_views(entry: dict) -> list[int]:
    """Official quirk: an empty ``valid_images`` list means every frame is a valid view."""
    return list(entry["valid_images"]) or list(range(entry["num_images"]))


def mvpn_transition(entry: dict, state: EpisodeState, action: str) -> int | None:
    """After the n-th intervention the episode shows view n of the list (official: IndexError past its end)."""
    views = mvpn_views(entry)
    return views[state.num_turns] if state.num_turns < len(views) else None


MVPN = ScenarioSpec(
    option_keywords=("rotate", "view", "angle", "orientation", "different"),
    short="MVP-N",
    official="MVP-N",
    hint="Hint: rotating the object could provide a more informative view.",
    action_space=fixed_actions("rotate"),
    turn_cap=num_images_cap,
    transition=mvpn_transition,
    open_ended=lambda entry, interventions: "Rotate the object, Move the camera.",
    extra_fields=("valid_images",),
    zero_pad=4,
    informative_flag=True,
    last_turn_category_only=True,
    valid_image_ids=mvpn_views,
)

# ---- IN-C ------------------------------------------------------------------------------------------

INC_LEVELS = range(1, 6)


def inc_transition(entry: dict, state: EpisodeState, action: str) -> int:
    """Each fix lowers the corruption severity by one (levels 5..1)."""
    return state.image_id - 1


INC = ScenarioSpec(
    option_keywords=(
        "brightness",
        "contrast",
        "saturation",
        "deblur",
        "denoise",
        "compression",
        "resolution",
        "artifacts",
    ),
    oeg_intervention_answers=1,
    short="IN-C",
    official="ImageNet-C",
    hint="Hint: enhancing the image quality could help with classification.",
    action_space=fixed_actions(
        "brightness", "contrast", "saturation", "deblur", "denoise", "jpeg", "resolution", "artifacts"
    ),
    turn_cap=num_images_cap,
    transition=inc_transition,
    open_ended=lambda entry, interventions: join_answers([*interventions, entry["answer"]], ", "),
    extra_fields=("quality_answer",),
    image_field="level",
    last_turn_category_only=True,
    intervention_source="quality_answer",
    valid_image_ids=lambda entry: INC_LEVELS,
)

# ---- QD --------------------------------------------------------------------------------------------

QD = ScenarioSpec(
    option_keywords=("details", "drawing", "sketch", "quickdraw"),
    oeg_intervention_answers=1,
    short="QD",
    official="QuickDraw",
    hint="Hint: Adding more details to the quickdraw could help with classification.",
    action_space=fixed_actions("details"),
    turn_cap=num_images_cap,
    transition=lambda entry, state, action: state.image_id + 1,
    open_ended=lambda entry, interventions: (
        "Add more details to the drawing, " + join_answers([entry["answer"]], ", ")
    ),
    zero_pad=4,
    last_turn_category_only=True,
)

# ---- CIT -------------------------------------------------------------------------------------------


def cit_prune(options: list[str], entry: dict, state: EpisodeState) -> list[str]:
    """No rewind before the first frame; otherwise no waiting past the last one.

    Official quirks kept: only one edge is handled per state (a video shorter than two steps keeps
    "wait" on its first frame), and at the end of the video the first option containing "Wait for the"
    is dropped, or the *last* option when there is none. Official crashes avoided: a missing rewind
    option is simply not removed, and an empty list stays empty.
    """
    step = entry["step_size"]
    pruned = list(options)
    if state.image_id - step < 0:
        if REWIND_OPTION in pruned:
            pruned.remove(REWIND_OPTION)
    elif state.image_id + step >= entry["num_images"] and pruned:
        waits = [i for i, option in enumerate(pruned) if WAIT_MARKER in option]
        del pruned[waits[0] if waits else -1]
    return pruned


def cit_transition(entry: dict, state: EpisodeState, action: str) -> int | float | None:
    step = entry["step_size"]
    return state.image_id - step if action == "rewind" else state.image_id + step


CIT = ScenarioSpec(
    option_keywords=("wait for the", "rewind the video."),
    short="CIT",
    official="ChangeIt",
    pre_prompt=VIDEO_PRE_PROMPT,
    hint=(
        "Hint: If you cannot answer the question, waiting for it to appear or rewinding the video could help with "
        "classification."
    ),
    action_space=fixed_actions("rewind", "forward"),
    turn_cap=lambda entry: entry["max_steps"],
    transition=cit_transition,
    # official quirk: "Rewind the video." is always appended, even when it is already listed
    open_ended=lambda entry, interventions: join_answers([*interventions, REWIND_OPTION, entry["answer"]], ","),
    extra_fields=("step_size", "max_steps"),
    prune=cit_prune,
)

# ---- COCO ------------------------------------------------------------------------------------------


def coco_action_space(entry: dict) -> frozenset[str]:
    direction = entry["direction"]
    if "zoom" in direction:
        return frozenset({"zoom"})
    return frozenset(move for move in ("up", "down", "left", "right") if move in direction)


def coco_limits(entry: dict) -> tuple[float, float, int | float]:
    """(largest horizontal step, largest vertical step, turn cap) as the official code derives them.

    Zoom: granularity + 1 turns, both steps may grow that many times. Moves: granularity turns per axis
    (twice that for diagonals such as "up_left"); an axis the direction does not name has limit 0.
    """
    direction, granularity = entry["direction"], entry["granularity"]
    horizontal, vertical = entry["horizontal_step"], entry["vertical_step"]
    if "zoom" in direction:
        cap = granularity + 1
        return horizontal * cap, vertical * cap, cap
    cap = granularity if "_" not in direction else granularity * 2
    max_vertical = vertical * granularity if ("up" in direction or "down" in direction) else 0
    max_horizontal = horizontal * granularity if ("left" in direction or "right" in direction) else 0
    return max_horizontal, max_vertical, cap


def coco_prune(options: list[str], entry: dict, state: EpisodeState) -> list[str]:
    """Drop camera moves along an exhausted axis; drop zoom-out once the zoom reached its limit.

    Official quirks kept: the zoom limit is tested with float equality (``==``) on steps grown as
    ``step / n * (n + 1)``, and only for the exact direction "zoom". Official crashes avoided: a missing
    zoom option is simply not removed, and the vertical step is not required to agree with the
    horizontal one.
    """
    max_horizontal, max_vertical, _ = coco_limits(entry)
    pruned = list(options)
    if entry["direction"] == "zoom":
        exhausted = set((ZOOM_OPTION,)) if state.horizontal_step == max_horizontal else set()
    else:
        exhausted = set()
        if state.horizontal_step >= max_horizontal:
            exhausted.update(HORIZONTAL_OPTIONS)
        if state.vertical_step >= max_vertical:
            exhausted.update(VERTICAL_OPTIONS)
    for option in exhausted:
        if option in pruned:
            pruned.remove(option)
    return pruned


def coco_transition(entry: dict, state: EpisodeState, action: str) -> int | None:
    """Grow the step along the requested axis: after n moves the step is ``step / n * (n + 1)`` (the
    official float arithmetic, kept operation for operation so that crops are pixel-identical)."""
    if action in ("left", "right", "zoom"):
        state.horizontal_moves += 1
        moves = state.horizontal_moves
        state.horizontal_step = state.horizontal_step / moves * (moves + 1)
    if action in ("up", "down", "zoom"):
        state.vertical_moves += 1
        moves = state.vertical_moves
        state.vertical_step = state.vertical_step / moves * (moves + 1)
    return state.image_id


def coco_crop_box(entry: dict, state: EpisodeState) -> tuple[float, float, float, float]:
    """(left, top, right, bottom) of the visible window.

    The entry's crop stores ``width``/``height`` as the right/bottom coordinates; the window grows by the
    current step on the sides the direction names. For the exact direction "zoom" the official code adds
    the original top/left to height/width as well (kept).
    """
    crop, direction = entry["crop"], entry["direction"]
    zooming = "zoom" in direction
    h, v = state.horizontal_step, state.vertical_step
    top = crop["top"] - v if ("up" in direction or zooming) else crop["top"]
    left = crop["left"] - h if ("left" in direction or zooming) else crop["left"]
    bottom = crop["height"] + v if ("down" in direction or zooming) else crop["height"]
    right = crop["width"] + h if ("right" in direction or zooming) else crop["width"]
    if direction == "zoom":
        bottom += crop["top"]
        right += crop["left"]
    return left, top, right, bottom


COCO = ScenarioSpec(
    option_keywords=("camera", "farther"),
    short="COCO",
    official="coco2014",
    hint="Hint: moving the camera could help with classification.",
    action_space=coco_action_space,
    turn_cap=lambda entry: coco_limits(entry)[2],
    transition=coco_transition,
    open_ended=lambda entry, interventions: (
        "Move the camera, Move farther from the object, " + join_answers([entry["answer"]], ", ")
    ),
    extra_fields=("direction", "granularity", "horizontal_step", "vertical_step", "crop"),
    formats_template=False,
    prune=coco_prune,
    crop_box=coco_crop_box,
    initial_steps=lambda entry: (entry["horizontal_step"], entry["vertical_step"]),
    zoom_hint="Hint: zooming out could help with classification.",
)


SPECS: dict[str, ScenarioSpec] = {spec.short: spec for spec in (ROD, VSOD, MVPN, INC, QD, CIT, COCO)}
# VSOD always shows both of its options, CIT drops one at the ends of the video: a rewind or "wait for the ..."
# without an occlusion is CIT; camera moves are COCO's before ROD's left/right.
SCENARIO_INFERENCE_ORDER = ("COCO", "ROD", "VSOD", "CIT", "MVP-N", "IN-C", "QD")


def listed_interventions(spec: ScenarioSpec, entry: dict) -> list[str]:
    """The options the official code counts as right interventions, before any per-state rule.

    IN-C: only the entry's own ``quality_answer`` (the first option equal to it; none when it is not
    an option, where the official code would crash). Elsewhere: every option that is not an abstention.
    """
    if spec.intervention_source == "quality_answer":
        quality = entry["quality_answer"]
        return [quality] if quality in entry["options"] else []
    return [option for option in entry["options"] if not is_abstain_option(option)]


def requested_action(option: str, action_space: frozenset[str]) -> str | None:
    """The single action of ``action_space`` that ``option`` asks for, or None (none, or several)."""
    lowered = option.lower()
    actions = {action for keyword, action in ACTION_KEYWORDS.items() if action in action_space and keyword in lowered}
    return actions.pop() if len(actions) == 1 else None
