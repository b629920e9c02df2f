"""The tiny model's tokenizer: a byte-level BPE trained on our prompt texts, with each architecture's chat format.

A hub checkpoint brings a tokenizer that covers every scenario's words; the tiny model trains its own on the
train split's texts plus generic ProactiveBench phrasing, wrapped in the library's fast tokenizer so that the
processor and ``save_pretrained`` treat it like any other.
"""

from __future__ import annotations

import random
from collections.abc import Iterable

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

from envs.matching import letter
from proactive_rl.prompting import MCQA_INSTRUCTION, OEG_HINT, SHORT_ANSWER_INSTRUCTION

QWEN_SPECIAL_TOKENS = (
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|image_pad|>",
    "<|video_pad|>",
)
IDEFICS3_SPECIAL_TOKENS = (
    "<|endoftext|>",
    "<end_of_utterance>",
    "<image>",
    "<fake_token_around_image>",
    "<global-img>",
)

# Qwen's chat format; one vision block per image (or video) part, the processor expands <|image_pad|>.
# Parts are told apart by their type only: datasets gives every part the union of keys ("image": None too).
QWEN_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}"
    "{% if part['type'] in ('image', 'image_url') %}"
    "<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif part['type'] == 'video' %}<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}"
    "{% endif %}{% endfor %}{% endif %}"
    "<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

# Idefics3 / SmolVLM chat format: "User:<image>text<end_of_utterance>\nAssistant:".
IDEFICS3_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ message['role'] | capitalize }}:"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}"
    "{% if part['type'] in ('image', 'image_url') %}<image>"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}"
    "{% endif %}{% endfor %}{% endif %}"
    "<end_of_utterance>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}Assistant:{% endif %}"
)

# Generic ProactiveBench phrasing so that a tokenizer built without training data still covers the
# interventions, abstain options and questions compactly (our own list, not the official strings file).
BASE_PHRASES = (
    "What is the object in the image?",
    "What is the object behind the occluder?",
    "What category does this drawing belong to?",
    "What action is being performed?",
    "Move the occluding blocks to the left.",
    "Move the occluding blocks to the right.",
    "Rewind the video.",
    "Wait for the occlusion to disappear.",
    "Wait for the object to appear.",
    "Wait for the action to start.",
    "Rotate the object.",
    "Change the view of the object.",
    "Increase the brightness.",
    "Increase the contrast.",
    "Increase the saturation.",
    "Deblur the image.",
    "Denoise the image.",
    "Remove the JPEG compression artifacts.",
    "Increase the resolution.",
    "Remove the artifacts.",
    "Add more details to the drawing.",
    "Move the camera to the left.",
    "Move the camera to the right.",
    "Move the camera up.",
    "Move the camera down.",
    "Move farther from the object.",
    "I cannot answer this question.",
    "I do not know.",
    "Hint: an intervention could reveal the answer.",
    "The answer is",
)


def prompt_corpus(texts: Iterable[str]) -> list[str]:
    """Texts a tiny tokenizer is trained on: our prompt templates, generic phrases and the given data texts."""
    letters_block = "".join(f"{letter(i)}. option\n" for i in range(12))
    corpus = [MCQA_INSTRUCTION, SHORT_ANSWER_INSTRUCTION, OEG_HINT, letters_block, "user", "assistant", "system"]
    corpus += list(BASE_PHRASES)
    corpus += [text for text in texts if text]
    return corpus


def train_tokenizer(
    corpus: list[str],
    vocab_size: int,
    special_tokens: tuple[str, ...],
    seed: int = 0,
    merge_across_words: bool = True,
) -> Tokenizer:
    """A byte-level BPE (every string stays encodable) whose merges follow our prompt texts.

    With ``merge_across_words`` text is only split at line breaks and "X. " option letters instead of at
    every word, so a frequent line (the question, an option text, the instruction) can become a single
    token: a tiny model on two CPU cores reads ~5x fewer tokens per prompt, still sees each option as its
    own unit, and emits an answer in one or two tokens.
    """
    corpus = list(corpus)
    random.Random(seed).shuffle(corpus)
    tokenizer = Tokenizer(models.BPE())
    if merge_across_words:
        tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
            [
                pre_tokenizers.Split(Regex(r"\n|[A-Z]\. "), behavior="isolated"),
                pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
            ]
        )
    else:
        tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(special_tokens),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    # Repeating the corpus a few times keeps rare option words above the merge frequency threshold.
    tokenizer.train_from_iterator(corpus * 3, trainer=trainer)
    return tokenizer


def fast_tokenizer(tokenizer: Tokenizer, chat_template: str, **special_tokens):
    from transformers import PreTrainedTokenizerFast

    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, padding_side="left", **special_tokens)
    fast.chat_template = chat_template
    return fast
