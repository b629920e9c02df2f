"""`proactive-rl <command> [hydra overrides]`: one console script over the Hydra entry points.

proactive-rl train [overrides]          GRPO + LoRA, then base vs fine-tuned evaluation (conf/train.yaml)
proactive-rl eval [overrides]           evaluate a model or adapter on ProactiveBench (conf/eval.yaml)
proactive-rl make-data [overrides]      write the synthetic benchmark + train split (data group of conf/train.yaml)
proactive-rl contact-sheet [root] [png] picture of the synthetic scenarios (first / middle / reference frames)
proactive-rl merge-adapter ADAPTER OUT  merge a LoRA adapter into its base model for export
proactive-rl browse RUN_DIR            (re)build eval/episodes.html: every episode, turn by turn, with frames
proactive-rl report DIR... [--out OUT]  one table over finished train runs: mean ± std over seeds, trained vs held out
"""

from __future__ import annotations

import sys

USAGE = __doc__


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(USAGE)
        return
    command, rest = argv[0], argv[1:]
    if command == "train":
        from proactive_rl import train

        sys.argv = ["proactive-rl train", *rest]
        train.main()
    elif command == "eval":
        from proactive_rl.evaluation import cli as evaluation_cli

        sys.argv = ["proactive-rl eval", *rest]
        evaluation_cli.main()
    elif command == "make-data":
        from proactive_rl.config import compose_train_config
        from proactive_rl.data import prepare_data

        paths = prepare_data(compose_train_config(rest).data)
        print(f"test folder: {paths.test_root}\ntrain split: {paths.train_source}")
    elif command == "contact-sheet":
        from proactive_rl.synth.contact_sheet import main as contact_sheet_main

        contact_sheet_main(rest)
    elif command == "merge-adapter":
        if len(rest) != 2:
            sys.exit("usage: proactive-rl merge-adapter ADAPTER_DIR OUT_DIR")
        from proactive_rl.models import merge_adapter

        print(merge_adapter(rest[0], rest[1]))
    elif command == "browse":
        from proactive_rl.evaluation.browser import main as browse_main

        browse_main(rest)
    elif command == "report":
        from proactive_rl.study import main as report_main

        report_main(rest)
    else:
        sys.exit(f"unknown command {command!r}\n{USAGE}")


if __name__ == "__main__":
    main()
