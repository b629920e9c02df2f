"""The ``tiny`` model: a real Qwen2.5-VL (or Idefics3) architecture at ~2.7M parameters, built on this machine.

No checkpoint can be downloaded here, so the default run builds its own base model: a byte-level BPE trained on
the prompt texts (``tokenizer``), the architecture's real transformers classes at tiny sizes (``build``), and a
short supervised bootstrap (``bootstrap``) that stands in for the pre-training of a real vision-language model:
it teaches the base to recognise the objects, to answer in the options' format, what each intervention does,
and to ask on a minority of ambiguous frames, so that GRPO starts from a base that knows the world but is not
yet proactive, as the paper's bases are. The result is cached under ``.cache/models/tiny-<hash>``
(``cache``) and loaded by exactly the same code as a hub checkpoint.

Defaults (``TinyModelConfig``): 1,200 bootstrap steps of 16 examples drawn from every scenario's train rows
(``bootstrap_scope=all``: the base does not depend on which scenario a run holds out, so one cached base serves
every fold of a leave-one-out study); 40% capability questions ("which action would help?", drawn in proportion
to the interventions a row shows), 10% ambiguous frames in the benchmark's question answered with an
intervention 30% of the time and a guessed category otherwise, the rest recognition. With the same mix built
on the five training scenarios' rows only (``bootstrap_scope=train_scenarios``), the default GRPO run raised
mean MCQA accuracy on those scenarios by +28.3 to +48.0 points over bootstrap seeds 0-5 and a fresh clone
(mean +36.1). The levers tried and their tables: docs/experiments.md; transfer: docs/generalization.md.
"""

from proactive_rl.tiny.cache import ensure_tiny_model, read_build_info, tiny_model_dir
from proactive_rl.tiny.config import TinyModelConfig, tiny_config_dict

__all__ = ["TinyModelConfig", "ensure_tiny_model", "read_build_info", "tiny_config_dict", "tiny_model_dir"]
