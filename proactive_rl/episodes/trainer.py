"""Episode GRPO in TRL: ``GRPOTrainer`` with our episode rollouts in place of its single-turn generation.

Tested with TRL 1.16 (``trl>=1.16,<1.17``): the override depends on the keys ``_compute_loss`` reads
from a generation batch and on ``_get_per_token_logps_and_entropies``'s multimodal arguments, which
change between TRL minor versions.

Why a subclass of ``_generate_and_score_completions`` rather than TRL's own hooks:

- ``rollout_func`` returns token ids and log-probs per prompt, but in TRL 1.16 the images it saw do not
  reach the training forward pass (the dataset's images are restored after it runs), and one prompt
  yields one completion: an episode's turns, each with its own frame, cannot be expressed.
- ``environment_factory`` / ``tools`` turn each intervention into a tool call inside one growing assistant
  message: a different protocol from the benchmark's multiple-choice turns (which evaluation plays), with
  known multimodal problems (huggingface/trl #5663, #6274).

So the generation batch TRL hands us (G copies of each episode start, per ``RepeatSampler``) is played
through the same engine evaluation uses (``proactive_rl.episodes.rollout``), and each *turn* becomes one
row of the returned batch: prompt = the conversation that turn showed, with its image(s) (encoded by the
same processor call as at sampling, so ``pixel_values``/``image_grid_thw``/``num_images`` follow TRL's own
multimodal path into the loss), completion = the sampled answer tokens (the only tokens in the loss
mask), advantage = the turn's credit (``proactive_rl.episodes.credit``). Everything after that is TRL's:
shuffling and splitting the batch over ``steps_per_generation``, the clipped loss, the optimizer,
accelerate/DeepSpeed, checkpoints, logging. The number of rows varies with the episodes' lengths, but TRL
expects every process to hold the same number of rows (it gathers per-row tensors across processes) and
splits them into ``steps_per_generation`` equal slices; so each process pads its turns to the largest count
over processes, rounded up to a multiple of ``steps_per_generation``, with copies of its last turn whose
loss mask is zero (``padded_turn_rows``). Padding rows add nothing to the loss under the token-level losses
(``dapo``, the default, and ``bnpo``); ``grpo`` and ``dr_grpo`` divide by the number of rows, padding
included.

A KL term (``trainer.beta > 0``) is computed on the same turn rows against TRL's reference (its
``ref_model``, or with LoRA the model with the adapter off), and enters TRL's loss unchanged.

Not supported in episode mode (refused at start): vLLM generation and FSDP.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from proactive_rl.diversity import DiversitySettings
from proactive_rl.episodes.credit import CREDIT_MODES, ScoredEpisode, turn_advantages
from proactive_rl.episodes.curriculum import partway_fraction
from proactive_rl.episodes.rollout import EpisodeRollout, RecordingPolicy, play_rollouts, starts_from_rows

log = logging.getLogger(__name__)
TRL_TESTED = ">=1.16,<1.17"
EPISODE_STATE = "episode_state.json"  # in each checkpoint folder: the turn counter of trainer.episode_turn_budget
ROLLOUT_MODES = ("row", "episode")


@dataclass(frozen=True)
class EpisodeSettings:
    """The trainer's episode knobs (``trainer.*``) and the episode rewards (``reward.episode_*``)."""

    components: tuple[str, ...]
    weights: tuple[float, ...]
    max_turns: int | None = None
    history: bool = False
    credit: str = "gigpo"
    step_advantage_weight: float = 1.0
    step_discount: float = 0.95
    turn_budget: int | None = None  # stop training once this many answer turns were generated
    partway: float = 0.0  # share of groups that start part-way along their path (``curriculum``)


def check_episode_config(cfg: Any) -> None:
    """Raise ValueError naming the first invalid rollout or episode setting (startup validation)."""
    if cfg.trainer.rollout not in ROLLOUT_MODES:
        raise ValueError(f"trainer.rollout={cfg.trainer.rollout!r}: expected one of {list(ROLLOUT_MODES)}")
    if cfg.trainer.rollout == "episode":
        episode_settings(cfg)


def episode_settings(cfg: Any) -> EpisodeSettings:
    """Checked episode settings from the composed config (fails before any data or model is loaded)."""
    from rewards import episode_reward_setup

    trainer = cfg.trainer
    if trainer.credit not in CREDIT_MODES:
        raise ValueError(f"trainer.credit={trainer.credit!r}: expected one of {list(CREDIT_MODES)}")
    if trainer.episode_max_turns is not None and trainer.episode_max_turns < 1:
        raise ValueError(f"trainer.episode_max_turns={trainer.episode_max_turns}: expected null or an integer >= 1")
    if trainer.episode_turn_budget is not None and trainer.episode_turn_budget < 1:
        raise ValueError(
            f"trainer.episode_turn_budget={trainer.episode_turn_budget}: expected null or an integer >= 1"
        )
    if not 0.0 <= trainer.episode_partway <= 1.0:
        raise ValueError(f"trainer.episode_partway={trainer.episode_partway}: expected a share in [0, 1]")
    if not 0.0 <= trainer.step_discount <= 1.0:
        raise ValueError(f"trainer.step_discount={trainer.step_discount}: expected a number in [0, 1]")
    if trainer.use_vllm:
        raise ValueError("trainer.rollout=episode generates with the trained model; set trainer.use_vllm=false")
    if DiversitySettings.of(cfg.data.diversity).active:
        raise ValueError(
            "data.diversity rewrites train rows, which trainer.rollout=episode does not read (episodes are played "
            "in the official wording); set data.diversity.paraphrase/shuffle=false and hint_rate=0"
        )
    components, weights = episode_reward_setup(cfg.reward)
    _check_trl_version()
    return EpisodeSettings(
        components=tuple(components),
        weights=tuple(weights),
        max_turns=trainer.episode_max_turns,
        history=bool(trainer.episode_history),
        credit=trainer.credit,
        step_advantage_weight=float(trainer.step_advantage_weight),
        step_discount=float(trainer.step_discount),
        turn_budget=trainer.episode_turn_budget,
        partway=float(trainer.episode_partway),
    )


def _check_trl_version() -> None:
    from importlib.metadata import version

    from packaging.specifiers import SpecifierSet

    installed = version("trl")
    if installed not in SpecifierSet(TRL_TESTED):
        log.warning(
            "trainer.rollout=episode was tested with trl%s, not %s: check proactive_rl/episodes/trainer.py's "
            "override of GRPOTrainer._generate_and_score_completions against this version",
            TRL_TESTED,
            installed,
        )


class EpisodeComponent:
    """Stands in for an episode reward in TRL's ``reward_funcs`` so TRL names, weights and logs it.

    Episode rewards are computed from whole episodes in the rollout, never per completion by TRL.
    """

    def __init__(self, name: str) -> None:
        self.__name__ = name

    def __call__(self, *args: Any, **kwargs: Any) -> list[float]:
        raise RuntimeError(f"episode reward {self.__name__} is computed by the episode rollout, not per completion")


def episode_trainer_class():
    """``ProactiveGRPOTrainer`` whose generation batch is a batch of sampled episodes (module docstring)."""
    import torch
    from accelerate.utils import gather_object
    from transformers import TrainerCallback
    from trl.models import unwrap_model_for_generation
    from trl.trainer.utils import pad

    from proactive_rl.grpo import grpo_trainer_class, messages_as_text
    from rewards import episode_rewards

    class EpisodeGRPOTrainer(grpo_trainer_class()):
        def __init__(self, *args: Any, episode: EpisodeSettings, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.episode = episode
            self.turns_generated = 0  # answer turns generated over all processes (kept in checkpoints)
            if episode.turn_budget is not None:
                self.add_callback(_TurnBudget(self, episode.turn_budget))

        def _save_checkpoint(self, model: Any, trial: Any) -> None:
            super()._save_checkpoint(model, trial)
            if self.args.should_save:
                folder = Path(self._get_output_dir(trial=trial)) / f"checkpoint-{self.state.global_step}"
                (folder / EPISODE_STATE).write_text(json.dumps({"turns_generated": self.turns_generated}))

        def _load_optimizer_and_scheduler(self, checkpoint: str | None) -> None:
            super()._load_optimizer_and_scheduler(checkpoint)
            path = Path(checkpoint) / EPISODE_STATE if checkpoint else None
            if path is not None and path.is_file():
                self.turns_generated = json.loads(path.read_text())["turns_generated"]

        def sampling_policy(self, model: Any) -> RecordingPolicy:
            return RecordingPolicy(
                model,
                self.processing_class,
                max_new_tokens=self.max_completion_length,
                do_sample=True,
                temperature=self.temperature,
                top_p=self.top_p,
                eos_token_ids=self.eos_token_ids,
            )

        def play(self, rows: Sequence[dict], policy: RecordingPolicy | None = None) -> list[EpisodeRollout]:
            """Play the local generation batch; episode slots are global (process rank x local size)."""
            starts = starts_from_rows(rows, first_index=self.accelerator.process_index * len(rows))
            if self.episode.partway > 0.0:
                step, share = self.state.global_step, self.episode.partway
                starts = [
                    dataclasses.replace(
                        start,
                        partway=partway_fraction(self.args.seed, step, start.index // self.num_generations, share),
                    )
                    for start in starts
                ]
            with unwrap_model_for_generation(
                self.model_wrapped, self.accelerator, gather_deepspeed3_params=self.args.ds3_gather_for_generation
            ) as unwrapped:
                policy = policy or self.sampling_policy(unwrapped)
                policy.model = unwrapped
                return play_rollouts(
                    policy, starts, len(starts), history=self.episode.history, max_turns=self.episode.max_turns
                )

        def score(self, rollouts: Sequence[EpisodeRollout]) -> tuple[list[list[float]], list[dict | None]]:
            """Per-turn advantages of the local rollouts and each one's reward totals, groups gathered globally."""
            local, totals = [], []
            for rollout in rollouts:
                states = [turn.state for turn in rollout.turns]
                group = rollout.start.index // self.num_generations
                if rollout.summary is None:
                    local.append(ScoredEpisode(group, None, states))
                    totals.append(None)
                    continue
                per_turn, components = episode_rewards(rollout.summary, self.episode.components, self.episode.weights)
                local.append(ScoredEpisode(group, per_turn, states))
                totals.append(components)
            everyone = gather_object(local)
            advantages = turn_advantages(
                everyone,
                credit=self.episode.credit,
                scale=self.scale_rewards,
                step_weight=self.episode.step_advantage_weight,
                discount=self.episode.step_discount,
            )
            first = rollouts[0].start.index if rollouts else 0
            self._log_episodes(everyone, gather_object(totals), gather_object([_episode_stats(r) for r in rollouts]))
            return advantages[first : first + len(rollouts)], totals

        def _generate_and_score_completions(self, inputs: list[dict]) -> dict[str, Any]:
            device = self.accelerator.device
            policy = self.sampling_policy(None)
            rollouts = self.play(inputs, policy)
            advantages, totals = self.score(rollouts)
            turns, turn_advantage, turn_totals, turn_meta = [], [], [], []
            for rollout, values, total in zip(rollouts, advantages, totals, strict=True):
                for number, (turn, value) in enumerate(zip(rollout.turns, values, strict=True)):
                    turns.append(turn)
                    turn_advantage.append(value)
                    turn_totals.append(total)
                    turn_meta.append((rollout.start.scenario, rollout.start.id, number))
            counts = gather_object([len(turns)])
            if min(counts) == 0:  # raised on every process, so none waits for the others
                errors = sorted({rollout.error for rollout in rollouts if rollout.error})
                raise RuntimeError(
                    f"no episode of a process's generation batch played a turn (turns per process: {counts});"
                    f" errors on this process: {errors}"
                )

            padding = padded_turn_rows(max(counts), self.args.steps_per_generation) - len(turns)
            batch = self.turn_batch(policy, turns + [turns[-1]] * padding)
            if padding:
                batch["completion_mask"][len(turns) :] = 0
            batch["advantages"] = torch.tensor(turn_advantage + [0.0] * padding, dtype=torch.float32, device=device)
            num_items = batch["completion_mask"].sum()
            batch["num_items_in_batch"] = torch.tensor(float(sum(gather_object([num_items.item()]))), device=device)
            generate_every = self.args.steps_per_generation * self.num_iterations
            if self.args.gradient_accumulation_steps % generate_every != 0:
                with torch.no_grad():
                    batch["old_per_token_logps"] = self.turn_logps(self.model, batch)
            if self.beta != 0.0:
                batch["ref_per_token_logps"] = self.reference_logps(batch)
            self._log_turns(
                turns, turn_advantage, turn_totals, turn_meta, int(batch["prompt_mask"][: len(turns)].sum())
            )
            return batch

        def turn_batch(self, policy: RecordingPolicy, turns: Sequence[Any]) -> dict[str, Any]:
            """The TRL generation batch of ``turns``: prompts encoded as at sampling, answers right-padded."""
            device = self.accelerator.device
            encoded = policy._encode([turn.prompt_text for turn in turns], [turn.conversation for turn in turns])
            encoded = encoded.to(device)
            completion_ids = pad(
                [torch.tensor(turn.completion_ids) for turn in turns], padding_value=self._tokenizer.pad_token_id
            ).to(device)
            completion_mask = pad([torch.ones(len(turn.completion_ids), dtype=torch.long) for turn in turns]).to(
                device
            )
            batch = {
                "prompt_ids": encoded["input_ids"],
                "prompt_mask": encoded["attention_mask"],
                "completion_ids": completion_ids,
                "completion_mask": completion_mask,
                "sampling_per_token_logps": pad([torch.tensor(turn.logprobs) for turn in turns]).to(device),
                "num_images": [len(turn.conversation.images) for turn in turns],
            }
            for key, value in encoded.items():
                if key in ("input_ids", "attention_mask"):
                    continue
                if key in ("token_type_ids", "mm_token_type_ids"):  # extended over the answer, as TRL does
                    value = torch.cat([value, value.new_zeros(completion_ids.shape)], dim=1)
                batch[key] = value
            return batch

        def turn_logps(self, model: Any, batch: dict[str, Any]) -> Any:
            """Per-token log-probs of the answers of a ``turn_batch`` in the training forward pass."""
            logps, _, _ = self._get_per_token_logps_and_entropies(
                model,
                torch.cat([batch["prompt_ids"], batch["completion_ids"]], dim=1),
                torch.cat([batch["prompt_mask"], batch["completion_mask"]], dim=1),
                batch["completion_ids"].size(1),
                batch_size=self.args.per_device_train_batch_size,
                pixel_values=batch.get("pixel_values"),
                image_grid_thw=batch.get("image_grid_thw"),
                num_images=batch.get("num_images"),
                pixel_attention_mask=batch.get("pixel_attention_mask"),
                image_sizes=batch.get("image_sizes"),
                token_type_ids=batch.get("token_type_ids"),
                mm_token_type_ids=batch.get("mm_token_type_ids"),
            )
            return logps

        def reference_logps(self, batch: dict[str, Any]) -> Any:
            """Per-token log-probs of a ``turn_batch``'s answers under the KL reference, chosen as TRL does:
            its ``ref_model``, else (LoRA) the model with the adapter off, or the "ref" adapter when re-training one."""
            from trl.trainer.utils import use_adapter

            with torch.no_grad():
                if self.ref_model is not None:
                    return self.turn_logps(self.ref_model, batch)
                model = self.accelerator.unwrap_model(self.model)
                with use_adapter(model, adapter_name="ref" if "ref" in model.peft_config else None):
                    return self.turn_logps(self.model, batch)

        def _log_episodes(self, scored, totals, stats) -> None:
            metrics = self._metrics["train"]
            finished = [total for total in totals if total is not None]
            returns = [sum(episode.turn_rewards) for episode in scored if episode.turn_rewards is not None]
            for name in self.episode.components:
                values = [total[name] for total in finished]
                metrics[f"rewards/{name}/mean"].append(sum(values) / len(values) if values else float("nan"))
            if returns:
                mean = sum(returns) / len(returns)
                metrics["reward"].append(mean)
                metrics["reward_std"].append((sum((r - mean) ** 2 for r in returns) / len(returns)) ** 0.5)
            groups: dict[Any, list[float]] = {}
            for episode in scored:
                if episode.turn_rewards is not None:
                    groups.setdefault(episode.group, []).append(sum(episode.turn_rewards))
            if groups:
                flat = [max(values) - min(values) < 1e-9 for values in groups.values()]
                metrics["frac_reward_zero_std"].append(sum(flat) / len(flat))
            done = [stat for stat in stats if stat["finished"]]
            metrics["episodes/errors"].append(sum(not stat["finished"] for stat in stats) / max(len(stats), 1))
            metrics["episodes/partway"].append(sum(stat["skipped"] > 0 for stat in stats) / max(len(stats), 1))
            for key in ("turns", "interventions", "correct", "turn_cap"):
                if done:
                    metrics[f"episodes/{key}"].append(sum(stat[key] for stat in done) / len(done))

        def _log_turns(self, turns, advantages, totals, meta, prompt_tokens: int) -> None:
            lengths = gather_object([len(turn.completion_ids) for turn in turns])
            metrics = self._metrics["train"]
            metrics["completions/mean_length"].append(sum(lengths) / len(lengths))
            metrics["episodes/turn_rows"].append(len(lengths))
            self.turns_generated += len(lengths)
            self.state.num_input_tokens_seen += sum(gather_object([prompt_tokens])) + sum(lengths)
            metrics["num_tokens"] = [self.state.num_input_tokens_seen]
            self._logs["prompt"].extend(
                gather_object([messages_as_text(turn.conversation.messages) for turn in turns])
            )
            self._logs["completion"].extend(gather_object([turn.answer for turn in turns]))
            for name in self.episode.components:
                self._logs["rewards"][name].extend(
                    gather_object([total[name] if total else float("nan") for total in totals])
                )
            self._logs["advantages"].extend(gather_object(list(advantages)))
            for column, values in zip(("scenario", "episode", "turn"), zip(*meta, strict=True), strict=True):
                self._logs["extra"][column].extend(gather_object(list(values)))
            if self.log_multimodal:
                self._logs["images"].extend(gather_object([list(turn.conversation.images) for turn in turns]))

    class _TurnBudget(TrainerCallback):
        """Ends training after the optimizer step during which the turn budget was reached."""

        def __init__(self, trainer: Any, budget: int) -> None:
            self.trainer, self.budget = trainer, budget

        def on_step_end(self, args, state, control, **kwargs):
            if self.trainer.turns_generated >= self.budget:
                control.should_training_stop = True
            return control

    return EpisodeGRPOTrainer


def padded_turn_rows(most_turns: int, steps_per_generation: int) -> int:
    """Rows every process trains on: the most turns any process played, up to a multiple of the slices."""
    return -(-most_turns // steps_per_generation) * steps_per_generation


def _episode_stats(rollout: EpisodeRollout) -> dict[str, Any]:
    summary = rollout.summary
    if summary is None:
        return {"finished": False, "skipped": rollout.skipped}
    return {
        "finished": True,
        "skipped": rollout.skipped,
        "turns": summary.num_turns,
        "interventions": len(summary.actions),
        "correct": float(summary.correct),
        "turn_cap": float(summary.end_reason in ("max_turns", "no_next_frame")),
    }
