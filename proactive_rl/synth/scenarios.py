"""One maker per scenario: draw an episode's frames and write its entry the way the official data does.

A maker receives a random generator, the answer category, the four displayed categories and the frame
size, and returns an :class:`Episode`: the official entry fields (relative ``image_template``), the image
files, and what a perfect player does: the interventions it asks for (``oracle``) and how informative the
frame is at each of its turns (``states``, from the pixels: the fraction of the object that is visible).
That knowledge is stored in the entry under ``"synth"`` (the official loader ignores unknown keys); the
scripted-policy tests and the train-row extraction read it.

Mechanics follow the official environments (proactivebench 0.1.1):

- ROD: 14 frames of wooden blocks sliding across the object; the episode starts at the central frame 7,
  where the blocks hide the object; left/right step one frame (wrapping).
- VSOD: a short video in which a passer-by walks in front of the object; the episode starts on a frame
  where the object is hidden; rewind/wait step one frame (wrapping). ``strong_occlusions`` is true.
- MVP-N: the object is painted on a plaque; every view but the last shows its plain back or edge
  (template ``{informative}_{image}``, informative = 1 only on the last turn and the reference).
- IN-C: one corruption at levels 5 (first frame) down to 1, level 0 is the clean reference; only the
  family's fix is a valid intervention. The object sits on a photo-like striped surface, so that the frame
  shows which corruption it carries (see ``corruptions``).
- QD: a black-pen sketch of the object that gains one stroke per frame; the first stroke is short.
- CIT: a video in which the object is carried into (or, less often, out of) the scene; frames are
  ``step_size`` apart per action and the episode is capped at ``max_steps`` turns.
- COCO: a larger scene; the crop starts beside the object (no object pixel in it) and grows toward it
  with camera moves (or symmetric zoom-out); the official crop arithmetic is reproduced in
  :func:`coco_box`, and the last reachable crop always contains the whole object.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw

from proactive_rl.synth import drawing
from proactive_rl.synth.corruptions import FADE, FAMILY_CORRUPTIONS, FIX_OPTIONS, corrupt_image
from proactive_rl.synth.drawing import Category

AMBIGUOUS, PARTIAL, INFORMATIVE = "ambiguous", "partial", "informative"
HIDDEN_AT_MOST = 0.02  # visible fraction of the object up to which a frame is "ambiguous"
VISIBLE_AT_LEAST = 0.95  # visible fraction from which a frame is "informative"

ABSTAIN = "I cannot tell what the object is."
MVPN_ABSTAIN = "I do not know what the object is."

PROMPTS = {
    "ROD": "What type of object is in the image?",
    "VSOD": "What object is in the video?",
    "MVP-N": "What object is shown in the image?",
    "IN-C": "What object is shown in the image?",
    "QD": "What is the subject of this drawing?",
    "CIT": "Which object appears in the video?",
    "COCO": "What object is in the scene?",
}
ROD_LEFT = "Move the occluding blocks to the left."
ROD_RIGHT = "Move the occluding blocks to the right."
REWIND = "Rewind the video."
WAIT_OCCLUSION = "Wait for the occlusion to disappear."
WAIT_OBJECT = "Wait for the object to appear."
ROTATE = "Rotate the object."
# The official parser maps "details", "drawing", "sketch" and "quickdraw" all to one action and fails
# when an option holds two of them, so the QD option names only one.
ADD_DETAILS = "Add more details."
CAMERA = {
    "left": "Move the camera to the left.",
    "right": "Move the camera to the right.",
    "up": "Move the camera up.",
    "down": "Move the camera down.",
}
ZOOM_OUT = "Move farther from the object."


@dataclass
class Episode:
    fields: dict  # official entry fields except "id"; image_template is relative to the episode folder
    images: dict[str, Image.Image]  # file name (relative to the episode folder) -> frame
    oracle: list[str]  # interventions a perfect player asks for, in order, before answering
    states: list[str]  # ambiguous / partial / informative for the frame shown at each oracle turn
    extra: dict = field(default_factory=dict)  # scenario details kept in the entry's "synth" record

    def synth_record(self) -> dict:
        return {"oracle": self.oracle, "states": self.states, **self.extra}


def label(visible: float) -> str:
    if visible <= HIDDEN_AT_MOST:
        return AMBIGUOUS
    return INFORMATIVE if visible >= VISIBLE_AT_LEAST else PARTIAL


def _mask_array(mask: Image.Image) -> np.ndarray:
    return np.asarray(mask, dtype=np.float32) / 255.0


def _visible_fraction(object_mask: np.ndarray, occluder_mask: np.ndarray) -> float:
    total = object_mask.sum()
    return float((object_mask * (1.0 - occluder_mask)).sum() / total) if total else 0.0


def _object_pose(rng: np.random.Generator, size: int, scale: float) -> tuple[float, float]:
    """Radius and rotation of an object drawn at ``scale`` x the frame size."""
    return size * scale * rng.uniform(0.9, 1.1), rng.uniform(-0.3, 0.3)


def _steps_to(states: list[str], start: int, step: int, wrap: bool) -> int | None:
    """Moves of ``step`` frames from ``start`` until an informative frame, or None if none is reachable."""
    n = len(states)
    position, moves = start, 0
    while moves < n:
        if states[position] == INFORMATIVE:
            return moves
        position += step
        if wrap:
            position %= n
        elif not 0 <= position < n:
            return None
        moves += 1
    return None


def _walk(states: list[str], start: int, step: int, moves: int) -> list[str]:
    n = len(states)
    return [states[(start + step * k) % n] for k in range(moves + 1)]


def make_rod(rng: np.random.Generator, category: Category, size: int) -> Episode:
    num_frames, first = 14, 7
    canvas = (size, size)
    bg = drawing.background(rng, canvas)
    r, angle = _object_pose(rng, size, 0.15)
    cx, cy = size / 2 + rng.uniform(-2, 2), size * 0.56
    colour = drawing.jitter_colour(rng, category.colour)
    sprite = drawing.Sprite(category, r, angle, colour)
    with_object = sprite.paste(bg, cx, cy)
    object_mask = sprite.mask(canvas, cx, cy)
    # blocks a little wider than the object and off-centre by up to that slack, so that one direction
    # often reveals the object sooner than the other
    slack = r * rng.uniform(0.0, 0.6)
    half_width = r * 1.45 + 2 + slack
    centre = cx + rng.uniform(-slack, slack)
    top, bottom = cy - r * 1.55, cy + r * 1.5
    step = size * rng.uniform(0.09, 0.13)
    layout_seed = int(rng.integers(2**31))
    images, states = {}, []
    for frame in range(num_frames):
        left = centre - half_width + (frame - first) * step
        image = with_object.copy()
        drawing.wooden_blocks(image, left, top, 2 * half_width, bottom - top, layout_seed)
        occluder = np.zeros((size, size), dtype=np.float32)
        x0, x1 = max(0, math.floor(left)), min(size, math.ceil(left + 2 * half_width) + 1)
        occluder[:, x0:x1] = 1.0
        states.append(label(_visible_fraction(object_mask, occluder)))
        images[f"{frame}.png"] = image
    assert states[first] == AMBIGUOUS, "ROD: the central frame must hide the object"
    to_left, to_right = _steps_to(states, first, -1, True), _steps_to(states, first, 1, True)
    assert to_left is not None and to_right is not None
    direction, option, moves = (-1, ROD_LEFT, to_left) if to_left <= to_right else (1, ROD_RIGHT, to_right)
    reference = max(range(num_frames), key=lambda f: (states[f] == INFORMATIVE, abs(f - first)))
    fields = {
        "image_template": "{image}.png",
        "first_image": first,
        "num_images": num_frames,
        "reference_image": reference,
        "prompt": PROMPTS["ROD"],
        "options": [ROD_LEFT, ROD_RIGHT, ABSTAIN],
    }
    return Episode(fields, images, [option] * moves, _walk(states, first, direction, moves))


def make_vsod(rng: np.random.Generator, category: Category, size: int) -> Episode:
    num_frames = int(rng.integers(10, 15))
    canvas = (size, size)
    bg = drawing.background(rng, canvas)
    r, angle = _object_pose(rng, size, 0.15)
    cx, cy = size / 2 + rng.uniform(-4, 4), size * 0.55
    colour = drawing.jitter_colour(rng, category.colour)
    height, base_y = size * 1.1, size * 1.05
    speed = size * rng.uniform(0.1, 0.13) * (1 if rng.random() < 0.5 else -1)
    hidden_frame = int(rng.integers(3, num_frames - 3))
    offset = rng.uniform(-2, 2)
    shade = int(rng.integers(95, 125))
    sprite = drawing.Sprite(category, r, angle, colour)
    images, states = {}, []
    for frame in range(num_frames):
        bob = round(math.sin(frame * 0.9))
        image = sprite.paste(bg, cx, cy + bob)
        walker_x = cx + offset + (frame - hidden_frame) * speed
        drawing.passer_by(ImageDraw.Draw(image), walker_x, base_y, height, (shade, shade, shade + 8))
        occluder = Image.new("L", canvas, 0)
        drawing.passer_by(ImageDraw.Draw(occluder), walker_x, base_y, height, 255)
        states.append(label(_visible_fraction(sprite.mask(canvas, cx, cy + bob), _mask_array(occluder))))
        images[f"{frame:04d}.png"] = image
    hidden = [f for f, state in enumerate(states) if state == AMBIGUOUS]
    assert hidden, "VSOD: the passer-by must hide the object on some frame"
    first = int(rng.choice(hidden))
    back, forward = _steps_to(states, first, -1, True), _steps_to(states, first, 1, True)
    assert back is not None and forward is not None
    direction, option, moves = (-1, REWIND, back) if back <= forward else (1, WAIT_OCCLUSION, forward)
    reference = max(range(num_frames), key=lambda f: (states[f] == INFORMATIVE, abs(f - hidden_frame)))
    fields = {
        "image_template": "{image}.png",
        "first_image": first,
        "num_images": num_frames,
        "reference_image": reference,
        "prompt": PROMPTS["VSOD"],
        "options": [REWIND, WAIT_OCCLUSION, ABSTAIN],
        "strong_occlusions": True,
    }
    return Episode(fields, images, [option] * moves, _walk(states, first, direction, moves))


def make_mvpn(rng: np.random.Generator, category: Category, size: int) -> Episode:
    turns = int(rng.integers(3, 6))
    views = sorted(int(v) for v in rng.choice(12, size=turns, replace=False))
    canvas = (size, size)
    bg = drawing.background(rng, canvas)
    r, angle = _object_pose(rng, size, 0.2)
    cx, cy = size / 2 + rng.uniform(-3, 3), size / 2 + rng.uniform(-3, 3)
    shade = int(rng.integers(150, 190))
    images = {}
    for view in views[:-1]:
        turn = rng.choice([rng.uniform(0.38, 0.62), rng.uniform(0.9, 1.1)]) * math.pi
        images[f"0_{view:04d}.png"] = drawing.plaque_back(bg, cx, cy, r, turn, shade)
    colour = drawing.jitter_colour(rng, category.colour)
    images[f"1_{views[-1]:04d}.png"] = drawing.plaque_front(bg, category, cx, cy, r, angle, colour, shade)
    fields = {
        "image_template": "{informative}_{image}.png",
        "first_image": views[0],
        "num_images": turns,
        "valid_images": views,
        "reference_image": views[-1],
        "prompt": PROMPTS["MVP-N"],
        "options": [ROTATE, MVPN_ABSTAIN],
    }
    states = [AMBIGUOUS] * (turns - 1) + [INFORMATIVE]
    return Episode(fields, images, [ROTATE] * (turns - 1), states)


# Level -> frame state for IN-C (see corruptions.FADE); the colour probe in tests/test_synth.py checks it.
INC_STATES = {5: AMBIGUOUS, 4: AMBIGUOUS, 3: PARTIAL, 2: INFORMATIVE, 1: INFORMATIVE}


def make_inc(rng: np.random.Generator, category: Category, size: int) -> Episode:
    canvas = (size, size)
    r, angle = _object_pose(rng, size, 0.22)
    cx, cy = size / 2 + rng.uniform(-4, 4), size / 2 + rng.uniform(-4, 4)
    bg = drawing.scene_background(rng, canvas)
    clean = drawing.paste_object(bg, category, cx, cy, r, angle, drawing.jitter_colour(rng, category.colour))
    family = str(rng.choice(sorted(FIX_OPTIONS)))
    corruption = str(rng.choice(FAMILY_CORRUPTIONS[family]))
    corruption_seed = int(rng.integers(2**31))
    images = {
        f"{level}.png": corrupt_image(Image.blend(clean, bg, FADE[level]), corruption, level, corruption_seed + level)
        for level in range(6)
    }
    fields = {
        "image_template": "{level}.png",
        "first_image": 5,
        "num_images": 5,
        "reference_image": 0,
        "prompt": PROMPTS["IN-C"],
        "options": [*FIX_OPTIONS.values(), ABSTAIN],
        "quality_answer": FIX_OPTIONS[family],
    }
    states = [INC_STATES[level] for level in range(5, 0, -1)]
    moves = states.index(INFORMATIVE)
    return Episode(fields, images, [FIX_OPTIONS[family]] * moves, states[: moves + 1], {"corruption": corruption})


def make_qd(rng: np.random.Generator, category: Category, size: int) -> Episode:
    num_strokes = int(rng.integers(4, 8))
    canvas = (size, size)
    r = size * 0.3 * rng.uniform(0.9, 1.05)
    cx, cy = size / 2 + rng.uniform(-3, 3), size / 2 + rng.uniform(-3, 3)
    strokes = drawing.sketch_strokes(rng, category, cx, cy, r, num_strokes)
    points = [sum(len(polyline) for polyline in stroke) for stroke in strokes]
    total = sum(points)
    images, states = {}, []
    for frame in range(num_strokes):
        images[f"{frame:04d}.png"] = drawing.draw_sketch(canvas, strokes[: frame + 1])
        drawn = sum(points[: frame + 1]) / total
        if frame == num_strokes - 1 or drawn >= 0.85:
            states.append(INFORMATIVE)
        else:
            states.append(AMBIGUOUS if drawn < 0.3 else PARTIAL)
    moves = states.index(INFORMATIVE)
    fields = {
        "image_template": "{image}.png",
        "first_image": 0,
        "num_images": num_strokes,
        "reference_image": num_strokes - 1,
        "prompt": PROMPTS["QD"],
        "options": [ADD_DETAILS, ABSTAIN],
    }
    return Episode(fields, images, [ADD_DETAILS] * moves, states[: moves + 1])


def make_cit(rng: np.random.Generator, category: Category, size: int) -> Episode:
    step_size = int(rng.integers(1, 4))
    num_frames = int(rng.integers(12, 21))
    canvas = (size, size)
    bg = drawing.background(rng, canvas)
    ImageDraw.Draw(bg).rectangle([0, size * 0.72, size, size], fill=tuple(int(v) for v in rng.integers(120, 150, 3)))
    r, angle = _object_pose(rng, size, 0.15)
    rest_x, cy = size / 2 + rng.uniform(-6, 6), size * 0.56
    colour = drawing.jitter_colour(rng, category.colour)
    travel_frames = int(rng.integers(3, 6))
    arrive = int(rng.integers(num_frames // 2, num_frames - 2))
    side = 1 if rng.random() < 0.5 else -1
    start_x = size / 2 + side * (size / 2 + r * 1.6)
    leaves = rng.random() < 0.3  # the object is carried out of the scene: rewinding shows it
    sprite = drawing.Sprite(category, r, angle, colour)
    images, states = {}, []
    for frame in range(num_frames):
        t = num_frames - 1 - frame if leaves else frame
        progress = min(1.0, max(0.0, (t - (arrive - travel_frames)) / travel_frames))
        x = start_x + (rest_x - start_x) * progress
        image = sprite.paste(bg, x, cy)
        object_mask = sprite.mask(canvas, x, cy, pad=size)
        inside = object_mask[size : 2 * size, size : 2 * size].sum() / max(object_mask.sum(), 1e-6)
        states.append(label(float(inside)))
        images[f"{frame}.png"] = image
    direction, option = (-1, REWIND) if leaves else (1, WAIT_OBJECT)
    informative = [f for f, s in enumerate(states) if s == INFORMATIVE]
    boundary = informative[-1] if leaves else informative[0]
    starts = [
        boundary - direction * step_size * k
        for k in range(1, 5)
        if 0 <= boundary - direction * step_size * k < num_frames
        and states[boundary - direction * step_size * k] == AMBIGUOUS
    ]
    if not starts:  # no hidden frame a whole number of steps away: start on the farthest hidden frame
        hidden = [f for f, s in enumerate(states) if s == AMBIGUOUS]
        starts = [hidden[0] if not leaves else hidden[-1]]
    first = int(rng.choice(starts))
    moves = _steps_to(states, first, direction * step_size, wrap=False)
    assert moves is not None, "CIT: the oracle must reach an informative frame"
    walk = [states[first + direction * step_size * k] for k in range(moves + 1)]
    fields = {
        "image_template": "{image}.png",
        "first_image": first,
        "num_images": num_frames,
        "reference_image": informative[len(informative) // 2],
        "prompt": PROMPTS["CIT"],
        "options": [REWIND, WAIT_OBJECT, ABSTAIN],
        "step_size": step_size,
        "max_steps": moves + 1 + int(rng.integers(1, 4)),
    }
    return Episode(fields, images, [option] * moves, walk, {"carried_out": bool(leaves)})


COCO_DIRECTIONS = ("left", "right", "up", "down", "up_left", "up_right", "down_left", "down_right", "zoom")


def coco_box(crop: dict, direction: str, horizontal: float, vertical: float) -> tuple[float, float, float, float]:
    """The (left, top, right, bottom) box the official COCO environment crops for the given steps.

    For camera moves, the entry's ``width``/``height`` are the right/bottom edges of the crop; for
    ``zoom`` they are its size (that is how the official transform uses them).
    """
    zoom = direction == "zoom"
    left = crop["left"] - horizontal if ("left" in direction or zoom) else crop["left"]
    top = crop["top"] - vertical if ("up" in direction or zoom) else crop["top"]
    right = crop["width"] + horizontal if ("right" in direction or zoom) else crop["width"]
    bottom = crop["height"] + vertical if ("down" in direction or zoom) else crop["height"]
    if zoom:
        right += crop["left"]
        bottom += crop["top"]
    return left, top, right, bottom


def _box_fraction(mask: np.ndarray, box: tuple[float, float, float, float]) -> float:
    left, top, right, bottom = (int(round(v)) for v in box)
    total = mask.sum()
    inside = mask[max(0, top) : max(0, bottom), max(0, left) : max(0, right)].sum()
    return float(inside / total) if total else 0.0


def _coco_clutter(rng: np.random.Generator, image: Image.Image) -> None:
    draw = ImageDraw.Draw(image)
    width, height = image.size
    for _ in range(int(rng.integers(3, 7))):
        w, h = rng.uniform(10, 40), rng.uniform(8, 30)
        x, y = rng.uniform(0, width - w), rng.uniform(height * 0.3, height - h)
        grey = int(rng.integers(90, 160))
        tint = int(rng.integers(0, 20))
        draw.rectangle([x, y, x + w, y + h], fill=(grey, grey + tint // 2, grey + tint), outline=(70, 70, 75))


def make_coco(rng: np.random.Generator, category: Category, size: int) -> Episode:
    width, height = 2 * size, int(1.5 * size)
    scene = drawing.background(rng, (width, height))
    _coco_clutter(rng, scene)
    direction = str(rng.choice(COCO_DIRECTIONS))
    r, angle = _object_pose(rng, size, 0.15)
    sprite = drawing.Sprite(category, r, angle, drawing.jitter_colour(rng, category.colour))
    reach = 2.6 * r + 4  # how far the crop must grow past its first edge to take the whole object in
    # first crops of 0.43-0.7 of the frame size, at least 28 px (the smallest side Qwen-VL processors take),
    # and tall (wide) enough for the object when the crop never grows vertically (horizontally)
    fits_object = math.ceil(2.9 * r + 2)
    grows_horizontally = direction == "zoom" or "left" in direction or "right" in direction
    grows_vertically = direction == "zoom" or "up" in direction or "down" in direction
    low_w = max(28, int(0.43 * size), 0 if grows_horizontally else fits_object)
    low_h = max(28, int(0.43 * size), 0 if grows_vertically else fits_object)
    crop_width_range = (low_w, max(low_w + 1, int(0.71 * size)))
    crop_height_range = (low_h, max(low_h + 1, int(0.6 * size)))
    for _attempt in range(200):
        granularity = int(rng.integers(2, 5))
        growing_moves = granularity if direction == "zoom" else granularity - 1
        h_step = math.ceil((reach + rng.uniform(0, 12)) / growing_moves)
        v_step = math.ceil((reach + rng.uniform(0, 12)) / growing_moves)
        moves = granularity + 1 if direction == "zoom" else granularity
        crop_w = int(rng.integers(*crop_width_range))
        crop_h = int(rng.integers(*crop_height_range))
        sides_growing = 2 if direction == "zoom" else 1
        grow_w = sides_growing * grows_horizontally * (moves - 1) * h_step
        grow_h = sides_growing * grows_vertically * (moves - 1) * v_step
        if crop_w + grow_w > width or crop_h + grow_h > height:
            continue
        # first crop at (x0, y0), placed so that the last crop stays inside the scene
        x_low = (moves - 1) * h_step if ("left" in direction or direction == "zoom") else 0
        x_high = width - crop_w - ((moves - 1) * h_step if ("right" in direction or direction == "zoom") else 0)
        y_low = (moves - 1) * v_step if ("up" in direction or direction == "zoom") else 0
        y_high = height - crop_h - ((moves - 1) * v_step if ("down" in direction or direction == "zoom") else 0)
        x0, y0 = int(rng.integers(x_low, x_high + 1)), int(rng.integers(y_low, y_high + 1))
        if direction == "zoom":
            crop = {
                "left": x0 + h_step,
                "top": y0 + v_step,
                "width": crop_w - 2 * h_step,
                "height": crop_h - 2 * v_step,
            }
        else:
            crop = {
                "left": x0 + (h_step if "left" in direction else 0),
                "top": y0 + (v_step if "up" in direction else 0),
                "width": x0 + crop_w - (h_step if "right" in direction else 0),
                "height": y0 + crop_h - (v_step if "down" in direction else 0),
            }
        first_box = coco_box(crop, direction, h_step, v_step)
        last_box = coco_box(crop, direction, h_step * moves, v_step * moves)
        if min(last_box[2] - last_box[0], last_box[3] - last_box[1]) < 2.8 * r + 2:
            continue
        # the object sits in the band the crop grows into on one of its growing sides
        sides = ["left", "right", "up", "down"] if direction == "zoom" else direction.split("_")
        side = str(rng.choice(sides))
        cx = rng.uniform(last_box[0] + 1.4 * r, last_box[2] - 1.4 * r)
        cy = rng.uniform(last_box[1] + 1.4 * r, last_box[3] - 1.4 * r)
        if side == "left":
            cx = rng.uniform(last_box[0] + 1.4 * r, max(last_box[0] + 1.4 * r, first_box[0] - 1.4 * r))
        elif side == "right":
            cx = rng.uniform(min(last_box[2] - 1.4 * r, first_box[2] + 1.4 * r), last_box[2] - 1.4 * r)
        elif side == "up":
            cy = rng.uniform(last_box[1] + 1.4 * r, max(last_box[1] + 1.4 * r, first_box[1] - 1.4 * r))
        else:
            cy = rng.uniform(min(last_box[3] - 1.4 * r, first_box[3] + 1.4 * r), last_box[3] - 1.4 * r)
        object_mask = sprite.mask((width, height), cx, cy)
        if _box_fraction(object_mask, first_box) == 0.0 and _box_fraction(object_mask, last_box) >= 0.999:
            break
    else:  # pragma: no cover - the sampler succeeds within a few attempts
        raise RuntimeError("COCO: could not place the object")
    scene = sprite.paste(scene, cx, cy)

    oracle, states = [], []
    made_h = made_v = 0
    max_steps = granularity + 1 if direction == "zoom" else granularity * (2 if "_" in direction else 1)
    while True:
        box = coco_box(crop, direction, h_step * (made_h + 1), v_step * (made_v + 1))
        states.append(label(_box_fraction(object_mask, box)))
        if states[-1] == INFORMATIVE:
            break
        covered_h = box[0] <= cx - 1.2 * r and box[2] >= cx + 1.2 * r
        if direction == "zoom":
            oracle.append(ZOOM_OUT)
            made_h += 1
            made_v += 1
        elif not covered_h and made_h + 1 < granularity and any(d in direction for d in ("left", "right")):
            oracle.append(CAMERA["left" if "left" in direction else "right"])
            made_h += 1
        elif made_v + 1 < granularity and any(d in direction for d in ("up", "down")):
            oracle.append(CAMERA["up" if "up" in direction else "down"])
            made_v += 1
        else:
            oracle.append(CAMERA["left" if "left" in direction else "right"])
            made_h += 1
        assert len(oracle) < max_steps, "COCO: the oracle must reach the object within max_steps"
    if direction == "zoom":
        options = [ZOOM_OUT]
    else:
        options = [CAMERA[part] for part in ("left", "right", "up", "down") if part in direction.split("_")]
    fields = {
        "image_template": "scene.png",
        "first_image": 0,
        "num_images": 1,
        "reference_image": 0,
        "prompt": PROMPTS["COCO"],
        "options": [*options, ABSTAIN],
        "direction": direction,
        "granularity": granularity,
        "horizontal_step": h_step,
        "vertical_step": v_step,
        "crop": crop,
    }
    box = (round(cx - r), round(cy - r), round(cx + r), round(cy + r))
    return Episode(fields, {"scene.png": scene}, oracle, states, {"object_box": box})


MAKERS: dict[str, Callable[[np.random.Generator, Category, int], Episode]] = {
    "ROD": make_rod,
    "VSOD": make_vsod,
    "MVP-N": make_mvpn,
    "IN-C": make_inc,
    "QD": make_qd,
    "CIT": make_cit,
    "COCO": make_coco,
}
