"""Pixels for ProactiveBench-Synth: twelve object categories, backgrounds, occluders and sketches.

Every category differs from every other one in shape *and* colour, so that a model of a few million
parameters can learn to recognise it from an 84 px frame; what makes a frame uninformative is therefore
always the scenario (an occluder, a corruption, a bad view, a partial sketch, a crop), never a subtle
category difference. Nothing in the "neutral" palette (backgrounds, blocks, passers-by, the back of a
plaque) is close to a category colour, so a hidden object leaks no colour either.

All randomness comes from the ``numpy.random.Generator`` passed in: same generator state, same pixels.
"""

from __future__ import annotations

import colorsys
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

RGB = tuple[int, int, int]
Points = list[tuple[float, float]]


@dataclass(frozen=True)
class Category:
    name: str  # the word shown as an answer option
    shape: str  # key of SHAPES
    colour: RGB


CATEGORIES: tuple[Category, ...] = (
    Category("circle", "circle", (220, 40, 40)),
    Category("square", "square", (40, 80, 225)),
    Category("triangle", "triangle", (40, 170, 60)),
    Category("star", "star", (245, 205, 20)),
    Category("cross", "cross", (145, 50, 195)),
    Category("diamond", "diamond", (30, 195, 225)),
    Category("ring", "ring", (250, 130, 25)),
    Category("hexagon", "hexagon", (135, 80, 35)),
    Category("heart", "heart", (250, 115, 185)),
    Category("arrow", "arrow", (150, 225, 40)),
    Category("crescent", "crescent", (0, 125, 125)),
    Category("pentagon", "pentagon", (30, 40, 110)),
)
CATEGORY_BY_NAME = {category.name: category for category in CATEGORIES}


def _regular(n: int, cx: float, cy: float, r: float, phase: float) -> Points:
    return [
        (cx + r * math.cos(phase + 2 * math.pi * k / n), cy + r * math.sin(phase + 2 * math.pi * k / n))
        for k in range(n)
    ]


def _circle(cx: float, cy: float, r: float) -> Points:
    return _regular(48, cx, cy, r, 0.0)


def _star(cx: float, cy: float, r: float) -> Points:
    outer = _regular(5, cx, cy, r, -math.pi / 2)
    inner = _regular(5, cx, cy, r * 0.42, -math.pi / 2 + math.pi / 5)
    return [p for pair in zip(outer, inner, strict=True) for p in pair]


def _cross(cx: float, cy: float, r: float) -> Points:
    a, b = r, r * 0.36
    unit = [(-b, -a), (b, -a), (b, -b), (a, -b), (a, b), (b, b), (b, a), (-b, a), (-b, b), (-a, b), (-a, -b), (-b, -b)]
    return [(cx + x, cy + y) for x, y in unit]


def _heart(cx: float, cy: float, r: float) -> Points:
    points = []
    for k in range(48):
        t = 2 * math.pi * k / 48
        x = 16 * math.sin(t) ** 3
        y = 13 * math.cos(t) - 5 * math.cos(2 * t) - 2 * math.cos(3 * t) - math.cos(4 * t)
        points.append((cx + x * r / 16, cy - y * r / 16 - r * 0.1))
    return points


def _arrow(cx: float, cy: float, r: float) -> Points:
    unit = [(-1.0, -0.28), (0.15, -0.28), (0.15, -0.7), (1.0, 0.0), (0.15, 0.7), (0.15, 0.28), (-1.0, 0.28)]
    return [(cx + x * r, cy + y * r) for x, y in unit]


def shape_outlines(shape: str, cx: float, cy: float, r: float) -> list[tuple[Points, bool]]:
    """The shape as closed outlines, each with ``True`` to fill it and ``False`` to cut it out again."""
    match shape:
        case "circle":
            return [(_circle(cx, cy, r), True)]
        case "square":
            return [(_regular(4, cx, cy, r * 1.2, math.pi / 4), True)]
        case "triangle":
            return [(_regular(3, cx, cy + r * 0.15, r * 1.15, -math.pi / 2), True)]
        case "star":
            return [(_star(cx, cy, r * 1.15), True)]
        case "cross":
            return [(_cross(cx, cy, r), True)]
        case "diamond":
            return [([(cx, cy - r * 1.15), (cx + r * 0.7, cy), (cx, cy + r * 1.15), (cx - r * 0.7, cy)], True)]
        case "ring":
            return [(_circle(cx, cy, r), True), (_circle(cx, cy, r * 0.55), False)]
        case "hexagon":
            return [(_regular(6, cx, cy, r * 1.05, 0.0), True)]
        case "heart":
            return [(_heart(cx, cy, r * 1.1), True)]
        case "arrow":
            return [(_arrow(cx, cy, r * 1.1), True)]
        case "crescent":
            return [(_circle(cx, cy, r), True), (_circle(cx + r * 0.5, cy - r * 0.2, r * 0.85), False)]
        case "pentagon":
            return [(_regular(5, cx, cy, r * 1.1, -math.pi / 2), True)]
    raise ValueError(f"unknown shape {shape!r}; known: {sorted({c.shape for c in CATEGORIES})}")


def rotate(points: Points, cx: float, cy: float, angle: float) -> Points:
    cos, sin = math.cos(angle), math.sin(angle)
    return [(cx + (x - cx) * cos - (y - cy) * sin, cy + (x - cx) * sin + (y - cy) * cos) for x, y in points]


def shape_mask(size: tuple[int, int], shape: str, cx: float, cy: float, r: float, angle: float = 0.0) -> Image.Image:
    """An 'L' mask (255 inside) of the shape, drawn at 4x and reduced for smooth edges."""
    scale = 4
    mask = Image.new("L", (size[0] * scale, size[1] * scale), 0)
    draw = ImageDraw.Draw(mask)
    for outline, fill in shape_outlines(shape, cx * scale, cy * scale, r * scale):
        draw.polygon(rotate(outline, cx * scale, cy * scale, angle), fill=255 if fill else 0)
    return mask.resize(size, Image.Resampling.BOX)


def jitter_colour(rng: np.random.Generator, colour: RGB, amount: int = 14) -> RGB:
    return tuple(int(np.clip(c + rng.integers(-amount, amount + 1), 0, 255)) for c in colour)  # type: ignore[return-value]


def paste_object(
    image: Image.Image, category: Category, cx: float, cy: float, r: float, angle: float, colour: RGB
) -> Image.Image:
    """The category's filled shape with a thin dark rim, composited onto ``image`` (a copy is returned)."""
    return Sprite(category, r, angle, colour).paste(image, cx, cy)


class Sprite:
    """An object drawn once (shape, rim, colour, pose) and pasted at whole-pixel positions.

    Videos move the same object across many frames; drawing it once keeps generation fast.
    """

    def __init__(self, category: Category, r: float, angle: float, colour: RGB):
        half = math.ceil(r * 1.4) + 3
        self.half = half
        patch = (2 * half, 2 * half)
        shape = shape_mask(patch, category.shape, half, half, r, angle)
        rim = shape_mask(patch, category.shape, half, half, r + 1.0, angle)
        body = Image.composite(Image.new("RGB", patch, colour), Image.new("RGB", patch, (40, 40, 40)), shape)
        self.image = body
        self.alpha = rim
        self.coverage = np.asarray(rim, dtype=np.float32) / 255.0

    def _corner(self, cx: float, cy: float) -> tuple[int, int]:
        return round(cx) - self.half, round(cy) - self.half

    def paste(self, image: Image.Image, cx: float, cy: float) -> Image.Image:
        out = image.copy()
        out.paste(self.image, self._corner(cx, cy), self.alpha)
        return out

    def mask(self, size: tuple[int, int], cx: float, cy: float, pad: int = 0) -> np.ndarray:
        """Coverage (0..1) of the object in a ``size`` frame; ``pad`` extra pixels on every side keep
        the parts that fall outside the frame (to measure how much of the object is in view)."""
        width, height = size
        canvas = np.zeros((height + 2 * pad, width + 2 * pad), dtype=np.float32)
        left, top = self._corner(cx, cy)
        left, top = left + pad, top + pad
        patch = self.coverage
        x0, y0 = max(0, left), max(0, top)
        x1, y1 = min(canvas.shape[1], left + patch.shape[1]), min(canvas.shape[0], top + patch.shape[0])
        if x1 > x0 and y1 > y0:
            canvas[y0:y1, x0:x1] = patch[y0 - top : y1 - top, x0 - left : x1 - left]
        return canvas


def background(rng: np.random.Generator, size: tuple[int, int]) -> Image.Image:
    """A light, low-saturation surface with a gentle gradient and texture (never close to a category colour)."""
    width, height = size
    grey = rng.uniform(175, 230)
    tint = rng.uniform(-10, 10, size=3)
    base = np.full((height, width, 3), grey) + tint
    gradient = np.linspace(-1, 1, height)[:, None, None] * rng.uniform(-14, 14)
    # a soft surface texture (noise at 1/6 resolution, upsampled): looks less flat than a plain fill and,
    # unlike per-pixel grain, keeps PNG files small and fast to write
    coarse = rng.normal(0, 3.0, size=(height // 6 + 1, width // 6 + 1)).astype(np.float32)
    texture = np.asarray(Image.fromarray(coarse, mode="F").resize((width, height), Image.Resampling.BILINEAR))
    return Image.fromarray(np.clip(base + gradient + texture[:, :, None], 0, 255).astype(np.uint8))


NEUTRAL_MARGIN = 80.0  # minimum RGB distance of a scene colour to any category colour


def _far_from_categories(
    rng: np.random.Generator, saturation: tuple[float, float], value: tuple[float, float]
) -> np.ndarray:
    """A random colour (float RGB) at least ``NEUTRAL_MARGIN`` away from every category colour."""
    for _ in range(1000):
        hue, sat, val = rng.uniform(0, 1), rng.uniform(*saturation), rng.uniform(*value)
        colour = np.array(colorsys.hsv_to_rgb(hue, sat, val)) * 255
        if all(np.linalg.norm(colour - np.array(c.colour)) >= NEUTRAL_MARGIN for c in CATEGORIES):
            return colour
    raise RuntimeError("no background colour far enough from the category colours")


def scene_background(rng: np.random.Generator, size: tuple[int, int]) -> Image.Image:
    """A photo-like surface for IN-C: large soft colour regions under fine, sharp stripes.

    ImageNet-C corrupts natural photos, whose colours, edges and fine detail show which corruption was
    applied even when the object is lost. A flat pale surface would not: desaturating or blurring it changes
    nothing visible, so those families could not be told apart. This surface carries every cue the eight fix
    families act on: colour (saturation), sharp fine edges (blur, JPEG, resolution, elastic artifacts),
    luminance contrast (contrast, brightness). Its colours stay ``NEUTRAL_MARGIN`` from every category colour.
    """
    width, height = size
    corners = np.stack([_far_from_categories(rng, (0.25, 0.45), (0.62, 0.82)) for _ in range(4)])
    u = np.linspace(0, 1, width)[None, :, None]
    v = np.linspace(0, 1, height)[:, None, None]
    colour = corners[0] * (1 - u) * (1 - v) + corners[1] * u * (1 - v) + corners[2] * (1 - u) * v + corners[3] * u * v
    period = rng.uniform(7, 11)
    angle = rng.uniform(0, math.pi)
    ys, xs = np.mgrid[0:height, 0:width]
    phase = (xs * math.cos(angle) + ys * math.sin(angle)) / period + rng.uniform(0, 1)
    stripes = np.where((phase % 1.0) < 0.5, 1.0, -1.0)[:, :, None]
    shade = 1.0 + rng.uniform(0.14, 0.2) * stripes
    return Image.fromarray(np.clip(colour * shade, 0, 255).astype(np.uint8))


def wooden_blocks(image: Image.Image, left: float, top: float, width: float, height: float, rng_state: int) -> None:
    """Draw a stack of wooden blocks (the ROD occluder) in place; ``rng_state`` fixes the block layout."""
    rng = np.random.default_rng(rng_state)
    draw = ImageDraw.Draw(image)
    rows = 3
    row_height = height / rows
    for row in range(rows):
        y0 = top + row * row_height
        shade = int(rng.integers(150, 185))
        draw.rectangle(
            [left, y0, left + width, y0 + row_height], fill=(shade, shade - 25, shade - 60), outline=(70, 62, 55)
        )
        split = left + width * rng.uniform(0.35, 0.65)
        draw.line([split, y0, split, y0 + row_height], fill=(70, 62, 55))


def passer_by(draw: ImageDraw.ImageDraw, cx: float, base_y: float, height: float, fill: int | RGB) -> None:
    """A person-like silhouette (the VSOD occluder) standing on ``base_y``; ``fill`` 255 draws its mask."""
    body_w = height * 0.55
    head_r = height * 0.16
    draw.rounded_rectangle(
        [cx - body_w / 2, base_y - height * 0.72, cx + body_w / 2, base_y], radius=body_w * 0.3, fill=fill
    )
    draw.ellipse([cx - head_r, base_y - height, cx + head_r, base_y - height + 2 * head_r], fill=fill)


def plaque_back(bg: Image.Image, cx: float, cy: float, r: float, turn: float, shade: int) -> Image.Image:
    """The plain back (or edge) of the plaque an object is painted on, seen at ``turn`` (0 = face-on)."""
    image = bg.copy()
    draw = ImageDraw.Draw(image)
    half_w = max(1.5, r * 1.35 * abs(math.cos(turn)))
    half_h = r * 1.35
    draw.rounded_rectangle(
        [cx - half_w, cy - half_h, cx + half_w, cy + half_h],
        radius=min(half_w, 4),
        fill=(shade, shade - 6, shade - 14),
        outline=(80, 75, 70),
    )
    if half_w > 6:
        draw.line([cx - half_w * 0.5, cy + half_h * 0.6, cx + half_w * 0.5, cy + half_h * 0.6], fill=(95, 90, 85))
    return image


def plaque_front(
    bg: Image.Image, category: Category, cx: float, cy: float, r: float, angle: float, colour: RGB, shade: int
) -> Image.Image:
    """The plaque seen face-on, with the object painted on it."""
    image = bg.copy()
    half = r * 1.35
    ImageDraw.Draw(image).rounded_rectangle(
        [cx - half, cy - half, cx + half, cy + half],
        radius=4,
        fill=(shade + 20, shade + 20, shade + 16),
        outline=(80, 75, 70),
    )
    return paste_object(image, category, cx, cy, r * 0.85, angle, colour)


def sketch_strokes(
    rng: np.random.Generator, category: Category, cx: float, cy: float, r: float, strokes: int
) -> list[list[Points]]:
    """The category's outline cut into ``strokes`` wobbly pen strokes (each a list of polylines, since a
    stroke may span two outlines, e.g. a ring's); the first stroke is short so that it says little."""
    tagged: list[tuple[int, tuple[float, float]]] = []
    for path_index, (outline, _) in enumerate(shape_outlines(category.shape, cx, cy, r)):
        closed = outline + [outline[0]]
        for (x0, y0), (x1, y1) in zip(closed, closed[1:], strict=False):
            steps = max(2, int(math.hypot(x1 - x0, y1 - y0) / 1.5))
            for t in range(steps):
                point = (
                    x0 + (x1 - x0) * t / steps + rng.normal(0, 0.5),
                    y0 + (y1 - y0) * t / steps + rng.normal(0, 0.5),
                )
                tagged.append((path_index, point))
    total = len(tagged)
    first = max(2, int(total * 0.08))
    cuts = [0, first] + [first + int((total - first) * k / (strokes - 1)) for k in range(1, strokes - 1)] + [total - 1]
    result = []
    for start, stop in zip(cuts, cuts[1:], strict=False):
        polylines: list[Points] = []
        for index in range(start, stop + 1):
            path_index, point = tagged[index]
            if not polylines or tagged[index - 1][0] != path_index or index == start:
                polylines.append([point])
            else:
                polylines[-1].append(point)
        result.append(polylines)
    return result


def draw_sketch(size: tuple[int, int], strokes: list[list[Points]], width: int = 2) -> Image.Image:
    """Black pen strokes on white, the look of a QuickDraw doodle."""
    image = Image.new("RGB", size, (255, 255, 255))
    draw = ImageDraw.Draw(image)
    for stroke in strokes:
        for polyline in stroke:
            if len(polyline) >= 2:
                draw.line(polyline, fill=(0, 0, 0), width=width, joint="curve")
    return image
