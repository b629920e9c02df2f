"""Scores from per-episode records: the paper's acc and ps, the per-turn action distribution, OEG rates.

acc is the % of scored episodes that ended correct, ps the mean number of interventions per episode
(turns - 1, as the official loop counts it). Episodes with an ``error`` (image missing, input rejected)
are counted apart and not scored: the official loop would count them wrong, which measures the data,
not the model. The action distribution counts, for each turn index, how many episodes answered with an
intervention, abstained, answered the right or a wrong category, or gave no option at all; it is the
analysis behind the paper's "models abstain instead of asking" finding.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

OUTCOME_KINDS = ("intervention", "abstain", "correct", "wrong", "invalid")


@dataclass
class ScenarioMetrics:
    """MCQA scores of one scenario (one model, one setting)."""

    scenario: str
    episodes: int  # scored episodes (errors excluded)
    errors: int  # episodes that could not be played
    acc: float  # % of scored episodes that ended correct
    ps: float  # mean interventions per scored episode (turns - 1)
    actions_per_turn: list[dict[str, int]] = field(default_factory=list)  # turn index -> kind -> count

    def action_shares(self) -> dict[str, float]:
        """% of all answered turns per outcome kind."""
        totals = {kind: sum(turn.get(kind, 0) for turn in self.actions_per_turn) for kind in OUTCOME_KINDS}
        answered = sum(totals.values())
        return {kind: 100.0 * count / answered if answered else 0.0 for kind, count in totals.items()}


@dataclass
class OEGMetrics:
    """Open-ended scores of one scenario: % of samples whose reply suggested an intervention / the category."""

    scenario: str
    episodes: int
    errors: int
    ps: float  # % of samples with a valid intervention among the judged answers
    cp: float  # % with the right category
    agg: float  # % with either


def mcqa_metrics(scenario: str, records: Iterable[dict]) -> ScenarioMetrics:
    records = list(records)
    scored = [record for record in records if not record.get("error")]
    errors = len(records) - len(scored)
    actions: list[dict[str, int]] = []
    for record in scored:
        for index, kind in enumerate(record["kinds"]):
            while len(actions) <= index:
                actions.append(dict.fromkeys(OUTCOME_KINDS, 0))
            actions[index][kind] += 1
    count = len(scored)
    return ScenarioMetrics(
        scenario=scenario,
        episodes=count,
        errors=errors,
        acc=100.0 * sum(bool(record["correct"]) for record in scored) / count if count else float("nan"),
        ps=sum(record["num_turns"] - 1 for record in scored) / count if count else float("nan"),
        actions_per_turn=actions,
    )


def oeg_metrics(scenario: str, records: Iterable[dict]) -> OEGMetrics:
    records = list(records)
    scored = [record for record in records if not record.get("error")]
    count = len(scored)

    def rate(key: str) -> float:
        return 100.0 * sum(int(record[key]) for record in scored) / count if count else float("nan")

    return OEGMetrics(scenario, count, len(records) - count, rate("ps"), rate("cp"), rate("agg"))


def mean(values: Sequence[float]) -> float:
    """Macro average over scenarios (NaN entries, i.e. scenarios with nothing scored, are left out)."""
    present = [value for value in values if value == value]
    return sum(present) / len(present) if present else float("nan")
