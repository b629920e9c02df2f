"""Evaluation on ProactiveBench: batched multi-turn MCQA, open-ended generation with an LLM judge, reports.

Entry points (``api.py``): ``evaluate_policy`` (one model), ``compare_runs`` (the base-vs-fine-tuned report),
``evaluate_models`` (both, for models given as objects or loaders) and ``evaluate(cfg)`` (``proactive-rl
eval``). Modules, one job each: ``engine`` plays episodes (shared with training), ``jobs`` lists what a setting
plays, ``mcqa`` and ``oeg`` (+ ``judge``) are the two protocols, ``records`` the resumable JSONL, ``metrics``
and ``report`` the scores and tables.
"""

from proactive_rl.evaluation.api import compare_runs, evaluate, evaluate_models, evaluate_policy
from proactive_rl.evaluation.engine import EpisodeJob, episode_record, play_episodes
from proactive_rl.evaluation.jobs import setting_name
from proactive_rl.evaluation.judge import Judge, judge_messages, load_judge, parse_verdict, visible_reply
from proactive_rl.evaluation.mcqa import run_mcqa
from proactive_rl.evaluation.metrics import OUTCOME_KINDS, OEGMetrics, ScenarioMetrics, mcqa_metrics, oeg_metrics
from proactive_rl.evaluation.policy import (
    AbstainPolicy,
    Conversation,
    FirstOptionPolicy,
    HFPolicy,
    InputRejected,
    OraclePolicy,
    Policy,
)
from proactive_rl.evaluation.records import RecordStore, SettingsMismatch
from proactive_rl.evaluation.report import ModelEvaluation, Summary, write_report
from proactive_rl.evaluation.settings import EvalSettings, JudgeSettings, as_eval_settings

__all__ = [
    "OUTCOME_KINDS",
    "AbstainPolicy",
    "Conversation",
    "EpisodeJob",
    "EvalSettings",
    "FirstOptionPolicy",
    "HFPolicy",
    "InputRejected",
    "Judge",
    "JudgeSettings",
    "ModelEvaluation",
    "OEGMetrics",
    "OraclePolicy",
    "Policy",
    "RecordStore",
    "ScenarioMetrics",
    "SettingsMismatch",
    "Summary",
    "as_eval_settings",
    "compare_runs",
    "evaluate",
    "evaluate_models",
    "evaluate_policy",
    "episode_record",
    "judge_messages",
    "load_judge",
    "mcqa_metrics",
    "oeg_metrics",
    "parse_verdict",
    "play_episodes",
    "run_mcqa",
    "setting_name",
    "visible_reply",
    "write_report",
]
