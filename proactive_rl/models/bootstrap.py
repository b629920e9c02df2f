"""Supervised bootstrap of the tiny model: recognition and answer format, not a proactive policy.

A randomly initialised model cannot be fine-tuned by GRPO: it never names a category nor an intervention,
so every group of completions gets the same reward and the advantages are zero. Real base MLLMs arrive
already recognising objects and occasionally asking for help (0.3-0.9 interventions per episode in the
paper). The bootstrap stands in for that pre-training:

- most examples are *informative* frames answered with the ground-truth category's option **text** (a tiny
  model learns "name what you see" far more easily than the letter indirection; the official matcher
  accepts either);
- ``bootstrap_capability_fraction`` (default 0.4) are *capability* questions: an ambiguous frame asked
  "Which action would help you tell what the object is?" with the row's interventions as the only options,
  answered with a valid one. They teach what each intervention does, a capability a pre-trained MLLM has,
  and never pit asking against answering. ``bootstrap_capability_weighting="options"`` (default) draws them
  in proportion to the interventions a row shows (one-action scenarios need few, IN-C's eight fixes most;
  the base answers 97-98% of held-out capability questions right); ``"rows"`` draws them uniformly;
- ``bootstrap_ambiguous_fraction`` (default 0.1) are ambiguous frames in the benchmark's own question,
  answered with a valid intervention with probability ``bootstrap_ask_rate`` (default 0.3; None = always)
  and else with a uniformly guessed category. This is the modelling choice that gives the base a non-zero
  intervention rate, hence reward variance for GRPO, while leaving when to ask, which intervention and when
  to stop asking to RL: the base asks on 16-41% of held-out ambiguous frames, so greedy decoding mostly
  guesses (a non-proactive base, as the paper's are) while sampled rollouts ask often enough for GRPO to see
  what asking earns. ``bootstrap_ambiguous_weighting="options"`` draws them in proportion to the
  interventions shown, like the capability questions: measured worse (README);
- ``bootstrap_scenario_weights`` sets each scenario's share of all three kinds (unlisted = 1).

Measured (generator v5, 8000 train rows, 1200 steps, bootstrap seeds 0-5): mean MCQA accuracy over the five
training scenarios rose by +35.7, +38.1, +31.5, +34.6, +28.3 and +48.0 points under GRPO from bases at 33.5,
41.5, 40.7, 38.3, 45.8 and 21.1 (the more the base asks greedily, the less is left to gain). The previous
default (0.03 always-asking examples + 0.2 capability questions drawn uniformly, 600 steps, 2000 rows) gave a base that asked on 50-70% of ambiguous frames of some scenarios and none of IN-C and QD
(greedy), so its gain hung on where each build landed (+14.8 to +28.3 over five seeds); the same strong
capability mix with always-asking examples gave a proactive base and small gains (+8.9 to +28.8). History of
the levers tried: README, "What moves the learning measure".

Held-out frames measure what the bootstrap achieved (greedy decoding): recognition accuracy on
informative frames and the intervention rate on ambiguous ones.
"""

from __future__ import annotations

import itertools
import logging
import math
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import torch

from envs.matching import is_abstain_option, judge
from envs.options import split_options
from proactive_rl.models.config import TinyModelConfig
from proactive_rl.prompting import format_mcqa, user_message

log = logging.getLogger(__name__)


@dataclass
class BootstrapReport:
    steps: int
    examples_seen: int
    seconds: float
    final_loss: float
    informative_accuracy: float  # held-out informative frames answered with the right category (greedy)
    informative_intervention_rate: float  # held-out informative frames answered with a valid intervention
    ambiguous_intervention_rate: float  # held-out ambiguous frames answered with a valid intervention
    ambiguous_accuracy: float  # held-out ambiguous frames answered with the right category anyway
    eval_informative: int
    eval_ambiguous: int
    capability_accuracy: float | None = None  # held-out ambiguous frames, "which action would help?" answered right

    def to_dict(self) -> dict:
        return asdict(self)


def row_question_text(row: dict) -> str:
    """The user text of a train row's ``prompt`` (chat messages or a plain string)."""
    prompt = row["prompt"]
    if isinstance(prompt, str):
        return prompt
    for message in reversed(prompt):
        if message.get("role", "user") != "user":
            continue
        content = message["content"]
        if isinstance(content, str):
            return content
        texts = [part.get("text") for part in content if part.get("type") == "text" and part.get("text")]
        if texts:
            return "\n".join(texts)
    raise ValueError(f"train row has no user text in its prompt: {prompt!r}")


def answer_option_text(answer: str, options: Sequence[str]) -> str:
    """The option text of an answer stored as text or as a letter ("B", "B.")."""
    if answer in options:
        return answer
    head = answer.strip().rstrip(".").strip()
    if len(head) == 1 and head.isalpha() and 0 <= ord(head.upper()) - 65 < len(options):
        return options[ord(head.upper()) - 65]
    return answer


def category_options(options: Sequence[str]) -> list[str]:
    """The category options of a ProactiveBench option list (the shared splitter: the last four)."""
    return split_options(options)[1]


# The question of capability examples: asked on an ambiguous frame, with the interventions as the only options.
CAPABILITY_QUESTION = "Which action would help you tell what the object is?"


def intervention_options(options: Sequence[str]) -> list[str]:
    """The intervention options of a ProactiveBench option list, in display order, without the abstain option."""
    return [option for option in split_options(options)[0] if not is_abstain_option(option)]


def capability_row_weights(rows, indices: Sequence[int], weighting: str) -> list[float] | None:
    """Sampling weights of the ambiguous rows ``indices`` for capability questions (None: uniform).

    "options" weighs a row by the number of interventions it displays: a row with one intervention (MVP-N's
    rotate, QD's add details) teaches a fixed answer, IN-C's eight fixes with one right teach what each
    corruption looks like, which takes far more examples (measured in the README).
    """
    if weighting == "rows" or not indices:
        return None
    column = rows["options"] if hasattr(rows, "column_names") else [row["options"] for row in rows]
    return [float(len(intervention_options(list(column[index])))) for index in indices]


def scenario_row_weights(rows, indices: Sequence[int], weights: dict[str, float]) -> list[float] | None:
    """Sampling weights of the rows ``indices`` by their scenario (unlisted = 1; None: uniform).

    Each scenario's rows share its weight, so a scenario's share of the draws is its weight over the sum of the
    present scenarios' weights whatever its row count.
    """
    if not weights or not indices:
        return None
    if "scenario" not in rows.column_names:
        raise ValueError("model.tiny.bootstrap_scenario_weights: the train split has no 'scenario' column")
    column = rows["scenario"]
    counts: dict[str, int] = {}
    for index in indices:
        counts[column[index]] = counts.get(column[index], 0) + 1
    if not any(weights.get(name, 1.0) > 0 for name in counts):
        raise ValueError(
            f"model.tiny.bootstrap_scenario_weights={weights}: every scenario of the train split "
            f"({sorted(counts)}) has weight 0"
        )
    return [weights.get(column[index], 1.0) / counts[column[index]] for index in indices]


def cumulated_row_weights(*weights: list[float] | None) -> list[float] | None:
    """The product of per-row weight lists (None = uniform), cumulated for ``random.choices(cum_weights=)``."""
    present = [row_weights for row_weights in weights if row_weights is not None]
    if not present:
        return None
    return list(itertools.accumulate(math.prod(factors) for factors in zip(*present, strict=True)))


def capability_row(row: dict) -> dict:
    """An ambiguous train row asked "which action would help?" with its interventions as the options."""
    text = format_mcqa(CAPABILITY_QUESTION, intervention_options(list(row["options"])))
    return {**row, "prompt": text, "state": "capability"}


def bootstrap_target(row: dict, ask_rate: float | None, rng: random.Random) -> str:
    """The supervised answer to one train row: its category, or on an ambiguous frame an intervention/guess.

    Informative frame: the ground-truth category's option text. Ambiguous frame: a valid intervention (drawn
    at random) with probability ``ask_rate`` (always when None), else a category drawn uniformly: a guess,
    since the frame cannot show the answer.
    """
    options = list(row["options"])
    if row["state"] == "capability":
        return rng.choice(list(row["proactive_actions"]))
    if row["state"] != "ambiguous":
        return answer_option_text(row["ground_truth"], options)
    if ask_rate is None or rng.random() < ask_rate:
        return rng.choice(list(row["proactive_actions"]))
    return rng.choice(category_options(options))


def chat_prompt(processor, row: dict) -> str:
    messages = [user_message(row_question_text(row), num_images=len(row["images"]))]
    return processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)


def _images(row: dict) -> list:
    return [image.convert("RGB") for image in row["images"]]


def split_rows(rows, eval_size: int, seed: int) -> tuple[list[int], list[int], list[int], list[int]]:
    """Indices (train informative, train ambiguous, eval informative, eval ambiguous), disjoint, seeded."""
    if "state" not in rows.column_names:
        raise ValueError(
            "bootstrap: the train split has no 'state' column (informative | ambiguous); the tiny model's "
            "bootstrap needs it (ProactiveBench-Synth writes it)"
        )
    states = rows["state"]
    informative = [i for i, state in enumerate(states) if state == "informative"]
    ambiguous = [i for i, state in enumerate(states) if state == "ambiguous"]
    rng = random.Random(seed)
    rng.shuffle(informative)
    rng.shuffle(ambiguous)
    eval_informative = min(eval_size, len(informative) // 4)
    eval_ambiguous = min(eval_size, len(ambiguous) // 4)
    return (
        informative[eval_informative:],
        ambiguous[eval_ambiguous:],
        informative[:eval_informative],
        ambiguous[:eval_ambiguous],
    )


def encode_prompt(processor, row: dict) -> dict:
    """Processor output (ids, pixels, grids) of one row's chat prompt, batch dimension 1, no padding."""
    return dict(processor(text=[chat_prompt(processor, row)], images=[_images(row)], return_tensors="pt"))


def collate_supervised(processor, prompts: list[dict], answers: list[str]) -> dict:
    """Right-padded batch of prompt + answer + end-of-turn whose labels cover only the answer part.

    The answer is tokenized on its own and appended to the prompt ids, exactly as a generated completion
    follows its prompt at inference and in GRPO; tokenizing the joined text could merge across the seam.
    """
    tokenizer = processor.tokenizer
    sequences, labels = [], []
    for encoded, answer in zip(prompts, answers, strict=True):
        prompt_ids = encoded["input_ids"][0]
        answer_ids = torch.tensor(tokenizer(answer + tokenizer.eos_token, add_special_tokens=False)["input_ids"])
        sequences.append(torch.cat([prompt_ids, answer_ids]))
        labels.append(torch.cat([torch.full_like(prompt_ids, -100), answer_ids]))
    length = max(len(sequence) for sequence in sequences)
    batch = {
        "input_ids": torch.full((len(sequences), length), tokenizer.pad_token_id, dtype=torch.long),
        "attention_mask": torch.zeros((len(sequences), length), dtype=torch.long),
        "labels": torch.full((len(sequences), length), -100, dtype=torch.long),
    }
    for row, (sequence, label) in enumerate(zip(sequences, labels, strict=True)):
        batch["input_ids"][row, : len(sequence)] = sequence
        batch["attention_mask"][row, : len(sequence)] = 1
        batch["labels"][row, : len(sequence)] = label
    for key, value in prompts[0].items():
        if key in batch or not torch.is_tensor(value):
            continue
        if value.dim() == 2 and value.shape[1] == prompts[0]["input_ids"].shape[1] and key != "pixel_values":
            # per-token side inputs (e.g. mm_token_type_ids): extend over the answer and padding with zeros
            padded = torch.zeros((len(prompts), length), dtype=value.dtype)
            for row, encoded in enumerate(prompts):
                padded[row, : encoded[key].shape[1]] = encoded[key][0]
            batch[key] = padded
        else:
            batch[key] = torch.cat([encoded[key] for encoded in prompts])
    return batch


def supervised_bootstrap(model, processor, rows, cfg: TinyModelConfig) -> BootstrapReport:
    """Train every weight of ``model`` on ``rows`` for ``cfg.bootstrap_steps`` steps, then measure it."""
    train_informative, train_ambiguous, eval_informative, eval_ambiguous = split_rows(
        rows, cfg.bootstrap_eval_size, cfg.seed
    )
    if not train_informative:
        raise ValueError("bootstrap: the train split has no 'informative' rows (column 'state')")
    fractions = (cfg.bootstrap_ambiguous_fraction, cfg.bootstrap_capability_fraction)  # checked by the config
    if sum(fractions) > 0 and not train_ambiguous:
        raise ValueError(
            "bootstrap: bootstrap_ambiguous_fraction or bootstrap_capability_fraction > 0 but the train split has "
            "no 'ambiguous' rows"
        )
    ask_rate = cfg.bootstrap_ask_rate

    rng = random.Random(cfg.seed + 1)
    cache: dict[tuple[int, bool], tuple[dict, dict]] = {}

    def example(index: int, capability: bool) -> tuple[dict, dict]:
        if (index, capability) not in cache:
            row = capability_row(rows[index]) if capability else rows[index]
            cache[index, capability] = (encode_prompt(processor, row), row)
        return cache[index, capability]

    # cumulated once, not on every draw (the same draws as weights=); scenario weights apply to every kind
    by_scenario = scenario_row_weights(rows, train_ambiguous, cfg.bootstrap_scenario_weights)
    capability_weights = cumulated_row_weights(
        capability_row_weights(rows, train_ambiguous, cfg.bootstrap_capability_weighting), by_scenario
    )
    ambiguous_weights = cumulated_row_weights(
        capability_row_weights(rows, train_ambiguous, cfg.bootstrap_ambiguous_weighting), by_scenario
    )
    informative_weights = cumulated_row_weights(
        scenario_row_weights(rows, train_informative, cfg.bootstrap_scenario_weights)
    )

    def draw() -> tuple[int, bool]:
        # one uniform draw picks the kind: ambiguous MCQA | capability question | informative MCQA
        kind = rng.random()
        if kind < cfg.bootstrap_ambiguous_fraction:
            if ambiguous_weights is None:
                return rng.choice(train_ambiguous), False
            return rng.choices(train_ambiguous, cum_weights=ambiguous_weights)[0], False
        if kind < cfg.bootstrap_ambiguous_fraction + cfg.bootstrap_capability_fraction:
            if capability_weights is None:  # rng.choice, not choices(): "rows" keeps the earlier builds' draws
                return rng.choice(train_ambiguous), True
            return rng.choices(train_ambiguous, cum_weights=capability_weights)[0], True
        if informative_weights is None:
            return rng.choice(train_informative), False
        return rng.choices(train_informative, cum_weights=informative_weights)[0], False

    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.bootstrap_lr, betas=(0.9, 0.98), weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: _lr_factor(step, cfg))
    model.train()
    started = time.perf_counter()
    loss_value = float("nan")
    for step in range(cfg.bootstrap_steps):
        examples = [example(*draw()) for _ in range(cfg.bootstrap_batch_size)]
        batch = collate_supervised(
            processor,
            [encoded for encoded, _ in examples],
            [bootstrap_target(row, ask_rate, rng) for _, row in examples],
        )
        batch = {key: value.to(model.device) if hasattr(value, "to") else value for key, value in batch.items()}
        loss = model(**batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        loss_value = loss.item()
        if step % max(1, cfg.bootstrap_steps // 10) == 0 or step == cfg.bootstrap_steps - 1:
            log.info("bootstrap step %d/%d loss %.4f", step + 1, cfg.bootstrap_steps, loss_value)
    seconds = time.perf_counter() - started

    metrics = measure_answers(model, processor, rows, eval_informative, eval_ambiguous)
    if cfg.bootstrap_capability_fraction > 0:
        metrics["capability_accuracy"] = measure_capability(model, processor, [rows[i] for i in eval_ambiguous])
    return BootstrapReport(
        steps=cfg.bootstrap_steps,
        examples_seen=cfg.bootstrap_steps * cfg.bootstrap_batch_size,
        seconds=round(seconds, 2),
        final_loss=round(loss_value, 4),
        eval_informative=len(eval_informative),
        eval_ambiguous=len(eval_ambiguous),
        **metrics,
    )


def _lr_factor(step: int, cfg: TinyModelConfig) -> float:
    if step < cfg.bootstrap_warmup_steps:
        return (step + 1) / cfg.bootstrap_warmup_steps
    progress = (step - cfg.bootstrap_warmup_steps) / max(1, cfg.bootstrap_steps - cfg.bootstrap_warmup_steps)
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


@torch.no_grad()
def greedy_answers(model, processor, rows, indices: Sequence[int], batch_size: int = 16, max_new_tokens: int = 24):
    """Greedy completions for the given rows, batched with left padding."""
    model.eval()
    tokenizer = processor.tokenizer
    previous_side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    answers: list[str] = []
    try:
        for start in range(0, len(indices), batch_size):
            chunk = [rows[index] for index in indices[start : start + batch_size]]
            batch = processor(
                text=[chat_prompt(processor, row) for row in chunk],
                images=[_images(row) for row in chunk],
                padding=True,
                return_tensors="pt",
            ).to(model.device)
            output = model.generate(
                **batch,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                eos_token_id=tokenizer.eos_token_id,
                pad_token_id=tokenizer.pad_token_id,
            )
            answers += tokenizer.batch_decode(output[:, batch["input_ids"].shape[1] :], skip_special_tokens=True)
    finally:
        tokenizer.padding_side = previous_side
    return [answer.strip() for answer in answers]


def measure_capability(model, processor, ambiguous_rows: Sequence[dict]) -> float:
    """Share of ambiguous frames whose "which action would help?" question is answered with a valid one."""
    questions = [capability_row(row) for row in ambiguous_rows]
    if not questions:
        return float("nan")
    answers = greedy_answers(model, processor, questions, range(len(questions)))
    right = sum(
        judge(answer, list(row["proactive_actions"]), intervention_options(row["options"])).verdict == "correct"
        for answer, row in zip(answers, questions, strict=True)
    )
    return round(right / len(questions), 4)


def measure_answers(model, processor, rows, informative: Sequence[int], ambiguous: Sequence[int]) -> dict[str, float]:
    """Category accuracy and intervention rate of greedy answers on informative and ambiguous frames."""

    def rates(indices: Sequence[int]) -> tuple[float, float]:
        if not indices:
            return float("nan"), float("nan")
        correct = interventions = 0
        for index, answer in zip(indices, greedy_answers(model, processor, rows, indices), strict=True):
            row = rows[index]
            options = list(row["options"])
            truth = answer_option_text(row["ground_truth"], options)
            correct += judge(answer, [truth], options).verdict == "correct"
            interventions += judge(answer, list(row["proactive_actions"]), options).verdict == "correct"
        return round(correct / len(indices), 4), round(interventions / len(indices), 4)

    informative_accuracy, informative_interventions = rates(informative)
    ambiguous_accuracy, ambiguous_interventions = rates(ambiguous)
    return {
        "informative_accuracy": informative_accuracy,
        "informative_intervention_rate": informative_interventions,
        "ambiguous_intervention_rate": ambiguous_interventions,
        "ambiguous_accuracy": ambiguous_accuracy,
    }
