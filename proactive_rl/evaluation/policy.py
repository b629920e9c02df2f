"""What answers a turn: the ``Policy`` protocol, its Hugging Face implementation and scripted policies.

The runner never talks to a model directly: it hands a batch of conversations to ``Policy.generate`` and
gets one reply per conversation. That keeps the episode bookkeeping testable with scripted policies that
play the benchmark for real (an oracle that looks one step ahead, an abstainer), and lets one HF policy
serve every model family whose processor has a chat template.

A conversation the model cannot take (the official example breaks out of the episode when a Qwen-VL or
LLaVA-OV processor rejects a tiny COCO crop) is answered with ``InputRejected`` instead of failing the
whole batch: the runner records that episode as an error and carries on.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from envs.matching import is_abstain_option


@dataclass
class Conversation:
    """The chat so far for one episode: messages with image placeholders, the images in order, the latest obs."""

    messages: list[dict]
    images: list[Any]  # PIL images, one per {"type": "image"} placeholder, in message order
    observation: dict  # the latest env observation (prompt, options, image...)
    env: Any = field(default=None, repr=False)  # the live environment; only scripted policies look at it


@dataclass(frozen=True)
class InputRejected:
    """The policy could not take this conversation (e.g. the processor refused the image); ``reason`` says why."""

    reason: str


Reply = str | InputRejected


@runtime_checkable
class Policy(Protocol):
    """Answers a batch of conversations, one reply per conversation, in order."""

    def generate(self, conversations: Sequence[Conversation]) -> list[Reply]: ...


class HFPolicy:
    """A transformers vision-language model and its processor, generating for a left-padded batch.

    Greedy by default. Left padding with the processor's attention mask (from which Qwen-VL models also
    derive their rotary positions) makes a batched greedy answer equal to the one-at-a-time answer in
    float32/float64; bf16 on GPU can differ in rare near-ties.
    """

    # What processors raise on images they cannot take (too small to patch, wrong mode...).
    REJECTED_INPUT_ERRORS: tuple[type[Exception], ...] = (
        ValueError,
        TypeError,
        IndexError,
        RuntimeError,
        ArithmeticError,
    )

    def __init__(
        self,
        model: Any,
        processor: Any,
        max_new_tokens: int = 50,
        do_sample: bool = False,
        temperature: float = 1.0,
        top_p: float = 1.0,
    ) -> None:
        self.model = model
        self.processor = processor
        self.max_new_tokens = max_new_tokens
        self.do_sample = do_sample
        self.temperature = temperature
        self.top_p = top_p

    @property
    def tokenizer(self) -> Any:
        return getattr(self.processor, "tokenizer", self.processor)

    def generate(self, conversations: Sequence[Conversation]) -> list[Reply]:
        if not conversations:
            return []
        texts = [self._chat_text(conversation) for conversation in conversations]
        replies: list[Reply | None] = [None] * len(conversations)
        accepted = list(range(len(conversations)))
        try:
            inputs = self._encode(texts, conversations)
        except self.REJECTED_INPUT_ERRORS:
            # Find the culprits one by one, then batch the rest.
            accepted = []
            for index, (text, conversation) in enumerate(zip(texts, conversations, strict=True)):
                try:
                    self._encode([text], [conversation])
                    accepted.append(index)
                except self.REJECTED_INPUT_ERRORS as error:
                    replies[index] = InputRejected(f"processor rejected the input: {type(error).__name__}: {error}")
            if not accepted:
                return replies  # type: ignore[return-value]
            inputs = self._encode([texts[i] for i in accepted], [conversations[i] for i in accepted])
        for index, answer in zip(accepted, self._generate(inputs), strict=True):
            replies[index] = answer
        return replies  # type: ignore[return-value]

    def _chat_text(self, conversation: Conversation) -> str:
        return self.processor.apply_chat_template(conversation.messages, tokenize=False, add_generation_prompt=True)

    def _encode(self, texts: list[str], conversations: Sequence[Conversation]) -> Any:
        tokenizer = self.tokenizer
        previous_side = tokenizer.padding_side
        tokenizer.padding_side = "left"
        try:
            images = [list(conversation.images) for conversation in conversations]
            kwargs = {"images": images} if any(images) else {}
            return self.processor(text=texts, padding=True, return_tensors="pt", **kwargs)
        finally:
            tokenizer.padding_side = previous_side

    def _generate(self, inputs: Any) -> list[str]:
        import torch

        inputs = inputs.to(self.model.device)
        for key, value in inputs.items():
            if torch.is_floating_point(value):
                inputs[key] = value.to(self.model.dtype)
        config = copy.deepcopy(self.model.generation_config)
        config.max_new_tokens = self.max_new_tokens
        config.do_sample = self.do_sample
        if self.do_sample:
            config.temperature, config.top_p = self.temperature, self.top_p
        else:
            config.temperature = config.top_p = config.top_k = None
        for key, value in self.generation_overrides().items():
            setattr(config, key, value)
        tokenizer = self.tokenizer
        if config.pad_token_id is None:
            config.pad_token_id = (
                tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
            )
        was_training = self.model.training
        self.model.eval()  # a model handed over by the trainer may still be in training mode (dropout, no cache)
        try:
            with torch.inference_mode():
                # Each process plays its own episodes (never in step with the others), with whole weights.
                output = self.model.generate(**inputs, generation_config=config, synced_gpus=False)
        finally:
            self.model.train(was_training)
        sequences = self.on_generated(inputs, output)
        prompt_length = inputs["input_ids"].shape[1]
        return tokenizer.batch_decode(sequences[:, prompt_length:], skip_special_tokens=True)

    def generation_overrides(self) -> dict[str, Any]:
        """Generation-config fields to set on top of the policy's (a subclass may ask for logits, say)."""
        return {}

    def on_generated(self, inputs: Any, output: Any) -> Any:
        """Sees each batch's processor inputs and ``generate`` output; returns the sequences (prompt + answer).

        A subclass that records what was sampled (the token ids and their log-probabilities, for training)
        overrides this; the default only unwraps a ``generate`` output object.
        """
        return getattr(output, "sequences", output)


class OraclePolicy:
    """Plays perfectly by looking one step ahead in copies of the environment.

    With ``interventions=k`` it first asks for up to k interventions that keep the episode going (a
    "proactive" oracle), then answers the option that ends the episode correct; when no option does,
    it asks for an intervention. On the benchmark's episodes this reaches 100% accuracy, which makes it a
    check of the runner and the metrics, not of any model.
    """

    def __init__(self, interventions: int = 0) -> None:
        self.interventions = interventions

    def generate(self, conversations: Sequence[Conversation]) -> list[Reply]:
        return [self._answer(conversation) for conversation in conversations]

    def _answer(self, conversation: Conversation) -> str:
        env = conversation.env
        lookahead = []
        for option in conversation.observation["options"]:
            try:
                _, _, terminated, _, info = copy.deepcopy(env).step(option)
            except OSError:  # the next frame is unreadable: the runner records that when it steps for real
                lookahead.append((option, "intervention", False))
                continue
            lookahead.append((option, info["outcome"].kind, terminated))
        continuing = [option for option, kind, terminated in lookahead if kind == "intervention" and not terminated]
        if continuing and env.num_turns < self.interventions:
            return continuing[0]
        correct = [option for option, kind, _ in lookahead if kind == "correct"]
        if correct:
            return correct[0]
        return continuing[0] if continuing else lookahead[0][0]


class AbstainPolicy:
    """Always picks the abstain option ("I cannot ..."), or says so in words when none is offered."""

    def generate(self, conversations: Sequence[Conversation]) -> list[Reply]:
        replies: list[Reply] = []
        for conversation in conversations:
            options = conversation.observation["options"]
            replies.append(next((o for o in options if is_abstain_option(o)), "I cannot tell from this image."))
        return replies


class FirstOptionPolicy:
    """Answers the letter of the first option every turn (an intervention whenever one is offered)."""

    def generate(self, conversations: Sequence[Conversation]) -> list[Reply]:
        return ["A" for _ in conversations]
