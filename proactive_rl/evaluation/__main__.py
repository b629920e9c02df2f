"""``python -m proactive_rl.evaluation [hydra overrides]``, same as ``proactive-rl eval``."""

from proactive_rl.evaluation.cli import main

if __name__ == "__main__":
    main()
