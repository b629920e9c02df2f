"""``proactive-rl eval`` / ``python -m proactive_rl.evaluation``: the thin Hydra entry over ``evaluate(cfg)``.

proactive-rl eval                                              # tiny model, synthetic test split, MCQA
proactive-rl eval eval=oeg eval.judge.name_or_path=/models/Qwen3-8B
proactive-rl eval model=qwen2_5_vl_7b data=proactivebench '+eval.adapters.fine-tuned=outputs/train/X/adapter'
"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from proactive_rl.config import CONF_DIR, register_configs
from proactive_rl.evaluation.api import evaluate
from proactive_rl.validation import exit_on_config_error

register_configs()


@hydra.main(config_path=str(CONF_DIR), config_name="eval", version_base="1.3")
def main(cfg: DictConfig) -> None:
    exit_on_config_error(lambda: evaluate(cfg))


if __name__ == "__main__":
    main()
