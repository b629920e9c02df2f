"""Prompt text shared by training rows, evaluation and the bootstrap, so a model sees one format everywhere.

The multiple-choice layout is the official ProactiveBench one (``apply_multi_choice_template`` with
``short_answer=True``): the question, " Choose from the following options. Options:", one lettered
option per line, then the instruction to return only an option.
"""

from __future__ import annotations

from collections.abc import Sequence

from envs.matching import letter

MCQA_INSTRUCTION = " Choose from the following options. Options:\n"
SHORT_ANSWER_INSTRUCTION = "Please only return one of the options without any other words."
OEG_HINT = "If you cannot answer this question, please tell me what I should do to help you."


def format_mcqa(question: str, options: Sequence[str], short_answer: bool = True) -> str:
    """The official multiple-choice prompt: question, lettered options, optional short-answer instruction."""
    text = question + MCQA_INSTRUCTION + "".join(f"{letter(i)}. {option}\n" for i, option in enumerate(options))
    return text + SHORT_ANSWER_INSTRUCTION if short_answer else text


def format_oeg(question: str, hint: bool = True) -> str:
    """The open-ended prompt: the question alone, or with the generic hint appended."""
    return f"{question} {OEG_HINT}" if hint else question


def user_message(text: str, num_images: int = 1) -> dict:
    """One user chat turn: image placeholders first, then the text (the order Qwen-VL chat templates expect)."""
    return {"role": "user", "content": [{"type": "image"}] * num_images + [{"type": "text", "text": text}]}


def user_text(prompt) -> str:
    """The user text of a prompt given as a string or as chat messages (the last user turn's text parts)."""
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
    raise ValueError(f"prompt has no user text: {prompt!r}")
