"""The batched MCQA runner, its metrics, resume and error handling, on the synthetic test split.

Scripted policies play through the real environments (an oracle that looks ahead, an abstainer); the
tiny model tests run the real Qwen2.5-VL classes with random weights (an answer is junk, but the same
junk batched or one at a time is what they check).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch
from _evaluation_helpers import copy_test_root, make_test_root, tiny_vlm

import envs
from proactive_rl.evaluation import (
    AbstainPolicy,
    EpisodeJob,
    EvalSettings,
    HFPolicy,
    InputRejected,
    OraclePolicy,
    SettingsMismatch,
    compare_runs,
    evaluate_models,
    evaluate_policy,
    play_episodes,
)
from proactive_rl.evaluation.policy import Conversation

ALL = list(envs.SCENARIOS)


@pytest.fixture(scope="module")
def test_root(tmp_path_factory) -> Path:
    return make_test_root(tmp_path_factory.mktemp("synth") / "data", per_scenario=4)


@pytest.fixture(scope="module")
def tiny():
    return tiny_vlm()


def _settings(**overrides) -> EvalSettings:
    return EvalSettings(**{"batch_size": 6, "reference": True, **overrides})


def _jobs(test_root: Path, scenarios=ALL) -> list[EpisodeJob]:
    return [EpisodeJob(s, entry) for s in scenarios for entry in envs.load_entries(s, test_root)]


def _make_env(test_root: Path, reference: bool = False):
    return lambda job: envs.make(job.scenario, job.entry, test_root, reference=reference)


def _by_episode(records: list[dict]) -> dict:
    return {(r["scenario"], str(r["id"])): r for r in records}


def test_oracle_scores_100_and_abstainer_0_through_the_runner(test_root, tmp_path):
    oracle = evaluate_policy(OraclePolicy(interventions=2), None, _settings(), test_root, ALL, tmp_path, tag="oracle")
    abstain = evaluate_policy(AbstainPolicy(), None, _settings(), test_root, ALL, tmp_path, tag="abstain")
    for scenario in ALL:
        assert oracle.metrics[scenario].acc == 100.0
        assert 1.0 <= oracle.metrics[scenario].ps <= 2.0  # up to two interventions, then the right category
        assert oracle.reference[scenario].acc == 100.0
        assert oracle.metrics[scenario].episodes == len(envs.load_entries(scenario, test_root))
        assert abstain.metrics[scenario].acc == 0.0
        assert abstain.metrics[scenario].ps == 0.0
        assert abstain.reference[scenario].acc == 0.0
    assert oracle.metrics["ROD"].ps == 2.0  # ROD frames wrap around: two moves are always possible
    turns = oracle.metrics["ROD"].actions_per_turn
    episodes = oracle.metrics["ROD"].episodes
    assert [t["intervention"] for t in turns] == [episodes, episodes, 0]
    assert [t["correct"] for t in turns] == [0, 0, episodes]
    assert abstain.metrics["QD"].actions_per_turn[0]["abstain"] == abstain.metrics["QD"].episodes

    summary = compare_runs({"abstainer": abstain, "oracle": oracle}, tmp_path / "report", train_scenarios=["ROD"])
    assert "| oracle | 100.0 / 2.00 |" in summary.markdown  # ROD is the first column
    assert "ROD* acc / ps" in summary.markdown
    rows = list(csv.DictReader(summary.files["csv"].open()))
    average = next(r for r in rows if r["model"] == "oracle" and r["scenario"] == "Avg")
    assert float(average["acc"]) == 100.0 and float(average["ref_acc"]) == 100.0
    for key in ("plot_accuracy", "plot_acc_vs_ps", "plot_actions"):
        assert summary.files[key].stat().st_size > 1000
    assert summary.scalars["eval/oracle/mcqa/avg_acc"] == 100.0


def test_history_keeps_earlier_images_and_answers(test_root):
    seen: list[Conversation] = []
    replies: list[str] = []

    class Recording(OraclePolicy):
        def generate(self, conversations):
            seen.extend(conversations)
            replies.extend(super().generate(conversations))
            return replies[-len(conversations) :]

    list(
        play_episodes(
            Recording(interventions=2), _jobs(test_root, ["IN-C"])[:1], _make_env(test_root), 4, history=True
        )
    )
    assert [len(c.images) for c in seen] == [1, 2, 3]
    roles = [m["role"] for m in seen[-1].messages]
    assert roles == ["user", "assistant", "user", "assistant", "user"]
    assert [seen[-1].messages[i]["content"][0]["text"] for i in (1, 3)] == replies[:2]
    assert seen[-1].images[:2] == seen[1].images


def _perturbed_tiny(tiny, boost_letters: str = "", std: float = 0.3):
    """Random weights wide enough that answers depend on the input; optionally favour some answer letters."""
    model, processor = tiny
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for parameter in model.parameters():
            if parameter.dim() >= 2:
                parameter.normal_(0, std, generator=generator)
        if boost_letters:
            ids = [processor.tokenizer.convert_tokens_to_ids(letter) for letter in boost_letters]
            model.lm_head.weight[ids] += 200 * model.lm_head.weight.mean(0)
    return model, processor


@pytest.mark.parametrize(
    ("history", "boost", "max_new_tokens"),
    [(False, "", 8), (True, "AB", 1)],  # free text; then answers that are mostly interventions (multi-turn)
)
def test_batched_equals_one_at_a_time_on_tiny_model(tiny, test_root, history, boost, max_new_tokens):
    model, processor = _perturbed_tiny(tiny, boost)
    policy = HFPolicy(model, processor, max_new_tokens=max_new_tokens)
    jobs = _jobs(test_root)
    batched = _by_episode(list(play_episodes(policy, jobs, _make_env(test_root), 8, history)))
    sequential = _by_episode(list(play_episodes(policy, jobs, _make_env(test_root), 1, history)))
    assert batched == sequential
    assert len(batched) == len(jobs)
    if boost:
        assert sum(r["num_turns"] for r in batched.values()) > 1.5 * len(jobs)  # multi-turn episodes were played
    else:
        assert len({tuple(r["answers"]) for r in batched.values()}) > 3  # answers depend on the input


def test_processor_rejection_is_an_input_error_not_a_crash(tiny, test_root):
    from PIL import Image

    model, processor = tiny
    policy = HFPolicy(model, processor, max_new_tokens=4)
    observation = {"prompt": "What is it?", "options": ["cat", "dog"]}
    good = Conversation(
        [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "hi"}]}],
        [Image.new("RGB", (60, 60), "red")],
        observation,
    )
    empty_crop = Conversation(good.messages, [Image.new("RGB", (0, 0))], observation)
    thin_crop = Conversation(good.messages, [Image.new("RGB", (3000, 2))], observation)
    replies = policy.generate([good, empty_crop, thin_crop])
    assert replies[0] == policy.generate([good])[0]
    assert isinstance(replies[1], InputRejected) and isinstance(replies[2], InputRejected)
    assert "processor rejected" in replies[1].reason


def test_missing_and_corrupted_images_are_error_episodes(test_root, tmp_path):
    root = copy_test_root(test_root, tmp_path / "data")
    entries = envs.load_entries("QD", root)
    Path(envs.make("QD", entries[0], root).reset()[0]["image_path"]).unlink()
    env = envs.make("IN-C", envs.load_entries("IN-C", root)[1], root)
    env.reset()
    assert not env.step(env.valid_interventions()[0])[2]
    broken = Path(env.image_path)
    broken.write_bytes(b"not a png")  # second frame of an IN-C episode
    result = evaluate_policy(OraclePolicy(interventions=2), None, _settings(), root, ["QD", "IN-C"], tmp_path / "out")
    assert result.metrics["QD"].errors == 1 and result.metrics["IN-C"].errors == 1
    assert result.metrics["QD"].acc == 100.0 and result.metrics["QD"].episodes == len(entries) - 1
    records = [json.loads(line) for line in (tmp_path / "out/model/mcqa/IN-C.jsonl").read_text().splitlines()]
    failed = next(r for r in records if r["error"])
    assert str(broken) in failed["error"] and "UnidentifiedImageError" in failed["error"]
    summary = compare_runs([result], tmp_path / "out")
    assert "| 2 |" in summary.markdown  # the errors column


class _InterruptAfter:
    """Wraps a policy and raises KeyboardInterrupt (like Ctrl-C) on its n-th batch."""

    def __init__(self, policy, batches: int) -> None:
        self.policy, self.batches = policy, batches

    def generate(self, conversations):
        self.batches -= 1
        if self.batches < 0:
            raise KeyboardInterrupt
        return self.policy.generate(conversations)


def test_killed_run_resumes_to_the_same_numbers(test_root, tmp_path):
    settings = _settings(reference=False)
    policy = OraclePolicy(interventions=1)
    full = evaluate_policy(policy, None, settings, test_root, ALL, tmp_path / "full")
    with pytest.raises(KeyboardInterrupt):
        evaluate_policy(_InterruptAfter(policy, 5), None, settings, test_root, ALL, tmp_path / "killed")
    partial = sum(len(p.read_text().splitlines()) for p in (tmp_path / "killed/model/mcqa").glob("*.jsonl"))
    assert 0 < partial < len(_jobs(test_root))
    with (tmp_path / "killed/model/mcqa/ROD.jsonl").open("a") as handle:
        handle.write('{"id": 99, "scenario": "ROD", "kin')  # the line a kill cut short
    calls = []

    class Counting(OraclePolicy):
        def generate(self, conversations):
            calls.extend(conversations)
            return super().generate(conversations)

    resumed = evaluate_policy(Counting(interventions=1), None, settings, test_root, ALL, tmp_path / "killed")
    assert {s: vars(m) for s, m in resumed.metrics.items()} == {s: vars(m) for s, m in full.metrics.items()}
    assert len({id(c.env) for c in calls}) == len(_jobs(test_root)) - partial  # done episodes were skipped

    with pytest.raises(SettingsMismatch, match="max_new_tokens"):
        evaluate_policy(
            policy, None, _settings(reference=False, max_new_tokens=7), test_root, ALL, tmp_path / "killed"
        )


def test_evaluate_models_loads_one_model_at_a_time(test_root, tmp_path):
    loaded = []

    def loader(policy):
        def load():
            loaded.append(policy)
            return policy

        return load

    summary = evaluate_models(
        {"base": loader(AbstainPolicy()), "fine-tuned": loader(OraclePolicy(1))},
        _settings(max_episodes_per_scenario=2),
        test_root,
        ["ROD", "COCO"],
        tmp_path,
    )
    lines = summary.markdown.splitlines()
    assert lines[0].startswith("| model | ROD acc / ps | COCO acc / ps | Avg acc / ps | Ref acc | Errors |")
    assert lines[2].startswith("| base | 0.0 / 0.00 | 0.0 / 0.00 | 0.0 / 0.00 | 0.0 |")
    assert lines[3].startswith("| fine-tuned | 100.0 / 1.00 | 100.0 / 1.00 | 100.0 / 1.00 | 100.0 |")
    assert [m.episodes for m in summary.evaluations[0].metrics.values()] == [2, 2]
    assert len(loaded) == 2


def test_a_diagnostic_setting_reports_beside_the_plain_table_not_over_it(test_root, tmp_path):
    models = {"base": AbstainPolicy(), "fine-tuned": OraclePolicy(1)}
    evaluate_models(models, _settings(max_episodes_per_scenario=2), test_root, ["ROD", "COCO"], tmp_path)
    plain = (tmp_path / "summary.csv").read_text()
    hinted = evaluate_models(
        models, _settings(max_episodes_per_scenario=2, hint=True), test_root, ["ROD", "COCO"], tmp_path
    )
    assert (tmp_path / "summary.csv").read_text() == plain
    assert {row["setting"] for row in csv.DictReader(plain.splitlines())} == {"mcqa"}
    rows = list(csv.DictReader((tmp_path / "mcqa-hint" / "summary.csv").open()))
    assert {row["setting"] for row in rows} == {"mcqa-hint"} and hinted.files["csv"].parent.name == "mcqa-hint"


def test_oeg_end_to_end_with_a_tiny_judge(tiny, test_root, tmp_path):
    import random

    from _evaluation_helpers import save_tiny_judge

    from proactive_rl.evaluation import JudgeSettings, parse_verdict, visible_reply

    judge_dir = save_tiny_judge(tmp_path / "judge")
    settings = EvalSettings(
        mode="oeg",
        hint=True,
        oeg_samples=3,
        oeg_max_new_tokens=6,
        batch_size=4,
        resume=False,  # the judging stage must keep the answers of the generation stage
        judge=JudgeSettings(name_or_path=str(judge_dir), max_new_tokens=16, batch_size=2, dtype="float32"),
    )
    summary = evaluate_models({"tiny": tiny}, settings, test_root, ["ROD", "COCO"], tmp_path / "out")
    assert "ROD ps / cp / agg" in summary.markdown
    for scenario in ("ROD", "COCO"):
        entries = envs.load_entries(scenario, test_root)
        random.seed(0)
        random.shuffle(entries)  # the official OEG subset
        lines = (tmp_path / "out/tiny/oeg-hint" / f"{scenario}.jsonl").read_text().splitlines()
        records = [json.loads(line) for line in lines]
        assert sorted(r["id"] for r in records) == sorted(e["id"] for e in entries[:3])
        for record in records:
            assert record["prompt"].endswith("please tell me what I should do to help you.")
            assert isinstance(record["answer"], str) and isinstance(record["judge_output"], str)
            verdict = parse_verdict(scenario, record["valid_answers"], visible_reply(record["judge_output"]))
            assert (record["ps"], record["cp"], record["agg"]) == (verdict.ps, verdict.cp, verdict.agg)
            if record["flags"] is None:  # junk from a random judge: scores 0, as officially
                assert record["ps"] == record["cp"] == record["agg"] == 0


def test_oeg_scores_from_a_judge_that_answers_in_format(tiny, test_root, tmp_path):
    from proactive_rl.evaluation import Judge

    class AllYesJudge(Judge):
        """Writes a well-formed verdict (every answer present) after a thinking block."""

        def generate(self, conversations):
            outputs = []
            for messages in conversations:
                answers = messages[1]["content"].split("### Correct Answers (List):\n")[1].split("\n")[0]
                outputs.append("<think>all there 0,0</think>\n\n" + ",".join("1" for _ in eval(answers)))
            return outputs

    settings = EvalSettings(mode="oeg", oeg_samples=2, oeg_max_new_tokens=4)
    result = evaluate_policy(*tiny, settings, test_root, ["ROD", "COCO"], tmp_path, judge=AllYesJudge(None, None))
    assert result.metrics["ROD"].ps == 100.0 and result.metrics["ROD"].cp == 0.0  # ROD lists interventions only
    assert result.metrics["COCO"].agg == 100.0 and result.metrics["COCO"].cp == 100.0


def test_missing_adapter_fails_before_any_work(tmp_path):
    from omegaconf import OmegaConf

    from proactive_rl.data import DataConfig
    from proactive_rl.evaluation import evaluate
    from proactive_rl.models import ModelConfig
    from proactive_rl.validation import ConfigError

    missing = tmp_path / "runs/x/adapter"
    cfg = OmegaConf.structured(
        {
            "model": ModelConfig(),
            "data": DataConfig(root=str(tmp_path / "data")),
            "eval": EvalSettings(
                adapters={"base": None, "fine-tuned": str(missing)}, output_dir=str(tmp_path / "out")
            ),
        }
    )
    with pytest.raises(ConfigError, match=str(missing)):
        evaluate(cfg)
    assert not (tmp_path / "data").exists() and not (tmp_path / "out").exists()
    cfg.model = OmegaConf.structured(ModelConfig(family="qwen2_5_vl", name_or_path=str(tmp_path / "no-model")))
    cfg.eval.adapters = {"base": None}
    with pytest.raises(ConfigError, match="no-model"):
        evaluate(cfg)


def test_oeg_runs_offline_on_the_embedded_default(tmp_path, monkeypatch, capsys):
    """`proactive-rl eval eval=oeg` with the tiny model picks the tiny local judge: no hub, a ps / cp / agg table."""
    from proactive_rl.config import compose_train_config
    from proactive_rl.evaluation import evaluate

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    cache = tmp_path / "models"
    monkeypatch.setattr("proactive_rl.tiny.cache.default_cache_dir", lambda: cache)
    small = [f"model.tiny.{key}={value}" for key, value in (
        ("bootstrap_steps", 0), ("text_layers", 1), ("text_hidden_size", 48), ("text_intermediate_size", 96),
        ("vision_depth", 1), ("vision_hidden_size", 32), ("vision_intermediate_size", 64), ("vocab_size", 400),
    )]  # fmt: skip
    cfg = compose_train_config(
        ["eval=oeg", "eval.oeg_samples=2", "eval.oeg_max_new_tokens=4", "eval.scenarios=[ROD,COCO]",
         f"eval.output_dir={tmp_path / 'out'}", f"data.root={tmp_path / 'data'}", "data.test_per_scenario=3",
         "data.train_rows=14", "data.num_workers=1", *small],
        config_name="eval",
    )  # fmt: skip
    summary = evaluate(cfg)
    header = summary.markdown.splitlines()[0]
    assert "ROD* ps / cp / agg" in header and "COCO ps / cp / agg" in header
    assert (cache / "tiny-judge-v1" / "config.json").is_file()
    assert "ps / cp / agg" in capsys.readouterr().out
