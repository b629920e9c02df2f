"""The row used by the docstring examples: A/B valid interventions, C abstain, D-G categories, truth "dog"."""

from __future__ import annotations

from typing import Any

EXAMPLE_ROW: dict[str, Any] = {
    "options": ["Move left.", "Move right.", "I cannot tell.", "cat", "dog", "car", "cup"],
    "proactive_actions": ["Move left.", "Move right."],
    "ground_truth": "dog",
    "state": "ambiguous",
    "qwen_conf": 0.2,
    "qwen_delta": [{"key": "Move left.", "value": 0.4}, {"key": "Move right.", "value": -0.2}],
}


def example_columns(num_completions: int, **overrides: Any) -> dict[str, list[Any]]:
    """TRL-style columns (one value per completion) of EXAMPLE_ROW with some fields overridden."""
    row = {**EXAMPLE_ROW, **overrides}
    return {name: [value] * num_completions for name, value in row.items()}
