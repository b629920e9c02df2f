"""What a training run may read, so that a held-out scenario measures transfer honestly.

A leave-one-scenario-out fold trains GRPO on some scenarios and evaluates on all of them. The rules:

1. GRPO prompts are rows of the training scenarios only (``grpo_rows`` checks it after every step that
   touches the rows);
2. with ``data.diversity.paraphrase``, no GRPO row shows the official text of a held-out scenario's
   intervention, even where a training scenario shares it (VSOD and CIT both offer "Rewind the video."): the
   held-out texts are read from the train split's text columns only to exclude them;
3. the base model and GRPO read the *train* split only: test episodes (``data.test_root``) are opened by the
   evaluation alone, after the model is built. The tiny base reads every scenario's train rows
   (``model.tiny.bootstrap_scope=all``, the stand-in for pre-training, one base for every fold) or the
   training scenarios' only (``bootstrap_scope=train_scenarios``).
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import envs
from envs.options import split_options
from proactive_rl.data import DataConfig, load_train_split, rebalance_scenarios, scenario_shares
from proactive_rl.diversity import DELTA_COLUMNS, DiversitySettings, diversify

TEXT_COLUMNS = ("scenario", "options", "proactive_actions", "ground_truth")


def held_out_scenarios(cfg: DataConfig) -> list[str]:
    """The scenarios a run does not train on (every scenario not in ``data.train_scenarios``)."""
    trained = {envs.canonical_scenario(name) for name in cfg.train_scenarios}
    return [name for name in envs.SCENARIOS if name not in trained]


def intervention_texts(rows, scenarios: Sequence[str]) -> set[str]:
    """The intervention options (displayed actions that are not abstain options) of ``scenarios``' rows."""
    from envs.matching import is_abstain_option

    wanted = set(scenarios)
    texts: set[str] = set()
    table = rows.select_columns(list(TEXT_COLUMNS))
    for row in table:
        if row["scenario"] not in wanted:
            continue
        actions, _ = split_options(
            row["options"], row["ground_truth"], proactive_actions=row["proactive_actions"] or []
        )
        texts.update(action for action in actions if not is_abstain_option(action))
    return texts


def grpo_rows(cfg: DataConfig, train_source, seed: int):
    """The GRPO prompts of a run: the training scenarios' train rows, diversified, rebalanced, checked."""
    trained = [envs.canonical_scenario(name) for name in cfg.train_scenarios]
    rows = load_train_split(train_source, scenarios=trained)
    diversity = DiversitySettings.of(cfg.diversity)
    if diversity.active:
        held_out = held_out_scenarios(cfg)
        excluded = intervention_texts(load_train_split(train_source), held_out) if diversity.paraphrase else set()

        columns = ["prompt", "options", "proactive_actions", "ground_truth", "scenario"]
        columns += [column for column in DELTA_COLUMNS if column in rows.column_names]

        def rewrite(*values):
            *fields, index = values
            row = dict(zip(columns, fields, strict=True))
            return diversify(row, diversity, random.Random(seed * 1_000_003 + index), excluded)

        rows = rows.map(rewrite, input_columns=columns, with_indices=True, desc="diversify prompts")
        leaked = excluded & {text for options in rows["options"] for text in options}
        if leaked:
            raise AssertionError(f"GRPO rows show held-out scenarios' interventions {sorted(leaked)}")
    rows = rebalance_scenarios(rows, scenario_shares(cfg), seed)
    stray = set(rows["scenario"]) - set(trained)
    if stray:
        raise AssertionError(f"GRPO rows of scenarios {sorted(stray)} that the run does not train on")
    return rows
