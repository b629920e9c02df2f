"""Shared builders for tests that need a model: a much smaller ``tiny`` config and a generated train split.

Other test modules may import these (``from _model_helpers import small_tiny_config, toy_train_rows``) or
use the session fixture ``tiny_model_path`` by importing it into their module.
"""

from __future__ import annotations

import random

import pytest
from PIL import Image, ImageDraw

from proactive_rl.models import ModelConfig, TinyModelConfig
from proactive_rl.prompting import format_mcqa

TOY_CATEGORIES = {"red": (220, 30, 30), "green": (30, 200, 30), "blue": (30, 30, 220), "yellow": (230, 220, 20)}
TOY_INTERVENTIONS = ("Move the occluding blocks to the left.", "Move the occluding blocks to the right.")
TOY_ABSTAIN = "I cannot answer this question."


def small_tiny_config(cache_dir, **overrides) -> ModelConfig:
    """A tiny Qwen2.5-VL an order of magnitude smaller than the default, built in a second or two."""
    tiny = {
        "vocab_size": 400,
        "text_hidden_size": 48,
        "text_intermediate_size": 96,
        "text_layers": 1,
        "text_heads": 2,
        "text_kv_heads": 1,
        "vision_depth": 1,
        "vision_hidden_size": 32,
        "vision_intermediate_size": 64,
        "vision_heads": 2,
        "image_size": 56,
        "bootstrap_steps": 0,
        "bootstrap_batch_size": 4,
        "bootstrap_eval_size": 8,
        "cache_dir": str(cache_dir),
    }
    tiny.update(overrides)
    return ModelConfig(preset="tiny-test", family="tiny", dtype="float32", tiny=TinyModelConfig(**tiny))


def toy_image(category: str | None, size: int = 64, seed: int = 0) -> Image.Image:
    """A coloured disc on white (informative) or a grey block covering everything (ambiguous)."""
    rng = random.Random(seed)
    image = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(image)
    if category is None:
        draw.rectangle([0, 0, size, size], fill=(128, 128, 128))
    else:
        offset = rng.randint(0, size // 4)
        draw.ellipse([offset, offset, offset + size // 2, offset + size // 2], fill=TOY_CATEGORIES[category])
    return image


def toy_train_rows(count: int = 64, seed: int = 0):
    """A generated train split with the columns of the real one (half informative, half ambiguous frames)."""
    from datasets import Dataset, Features, List, Value
    from datasets import Image as ImageFeature

    rng = random.Random(seed)
    records = {
        key: [] for key in ("prompt", "images", "ground_truth", "proactive_actions", "options", "scenario", "state")
    }
    categories = list(TOY_CATEGORIES)
    for index in range(count):
        truth = rng.choice(categories)
        state = "informative" if index % 2 == 0 else "ambiguous"
        options = [*TOY_INTERVENTIONS, TOY_ABSTAIN, *rng.sample(categories, len(categories))]
        text = format_mcqa("What is the colour of the object behind the occluder?", options)
        records["prompt"].append([{"role": "user", "content": [{"type": "text", "text": text}]}])
        records["images"].append([toy_image(truth if state == "informative" else None, seed=index)])
        records["ground_truth"].append(truth)
        records["proactive_actions"].append(list(TOY_INTERVENTIONS))
        records["options"].append(options)
        records["scenario"].append("ROD")
        records["state"].append(state)
    message = {"role": Value("string"), "content": List({"type": Value("string"), "text": Value("string")})}
    features = Features(
        {
            "prompt": List(message),
            "images": List(ImageFeature()),
            "ground_truth": Value("string"),
            "proactive_actions": List(Value("string")),
            "options": List(Value("string")),
            "scenario": Value("string"),
            "state": Value("string"),
        }
    )
    return Dataset.from_dict(records, features=features)


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory):
    """Folder of an untrained small tiny Qwen2.5-VL, built once per test session."""
    from proactive_rl.models import ensure_tiny_model

    return ensure_tiny_model(small_tiny_config(tmp_path_factory.mktemp("tiny-models")))
