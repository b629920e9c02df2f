"""`proactive-rl <command> ...`: one console script over the project's entry points.

Hydra commands take config overrides (``--cfg job`` prints the composed config, ``--help`` lists the groups);
the others take flags and print their own ``--help``. The usage text below is generated from the commands'
own parsers, so it cannot drift from what they accept.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    name: str
    summary: str
    run: Callable[[list[str]], None]
    parser: Callable[[], argparse.ArgumentParser] | None = None  # None: a Hydra command taking overrides

    def usage(self) -> str:
        if self.parser is None:
            return f"proactive-rl {self.name} [overrides]"
        usage = self.parser().format_usage().strip().removeprefix("usage: ")
        return " ".join(usage.split())


def _hydra(module: str, name: str) -> Callable[[list[str]], None]:
    def run(argv: list[str]) -> None:
        import importlib

        sys.argv = [f"proactive-rl {name}", *argv]
        importlib.import_module(module).main()

    return run


def _make_data(argv: list[str]) -> None:
    from proactive_rl.config import compose_train_config
    from proactive_rl.data import prepare_data

    if argv and argv[0] in ("-h", "--help"):
        print(f"{COMMANDS['make-data'].usage()}\n\n{COMMANDS['make-data'].summary} (overrides of conf/train.yaml)")
        return
    paths = prepare_data(compose_train_config(argv).data)
    print(f"test folder: {paths.test_root}\ntrain split: {paths.train_source}")


def _contact_sheet_parser() -> argparse.ArgumentParser:
    from proactive_rl.synth.contact_sheet import build_parser

    return build_parser()


def _contact_sheet(argv: list[str]) -> None:
    from proactive_rl.synth.contact_sheet import main

    main(argv)


def _merge_adapter_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="proactive-rl merge-adapter", description="Merge a LoRA adapter into its base model for export."
    )
    parser.add_argument("adapter", metavar="ADAPTER_DIR", help="a LoRA adapter folder saved by training")
    parser.add_argument("out", metavar="OUT_DIR", help="where the merged model is written")
    return parser


def _merge_adapter(argv: list[str]) -> None:
    args = _merge_adapter_parser().parse_args(argv)
    from proactive_rl.models import merge_adapter

    print(merge_adapter(args.adapter, args.out))


def _browse_parser() -> argparse.ArgumentParser:
    from proactive_rl.evaluation.browser import build_parser

    return build_parser()


def _browse(argv: list[str]) -> None:
    from proactive_rl.evaluation.browser import main

    main(argv)


def _report_parser() -> argparse.ArgumentParser:
    from proactive_rl.study import build_parser

    return build_parser()


def _report(argv: list[str]) -> None:
    from proactive_rl.study import main

    main(argv)


COMMANDS: dict[str, Command] = {
    command.name: command
    for command in (
        Command(
            "train",
            "GRPO + LoRA, then base vs fine-tuned evaluation (conf/train.yaml)",
            _hydra("proactive_rl.train", "train"),
        ),
        Command(
            "eval",
            "evaluate a model or adapters on ProactiveBench (conf/eval.yaml)",
            _hydra("proactive_rl.evaluation.cli", "eval"),
        ),
        Command(
            "make-data", "write the synthetic benchmark and train split (data group of conf/train.yaml)", _make_data
        ),
        Command(
            "contact-sheet",
            "picture of the synthetic scenarios (first / middle / reference frames)",
            _contact_sheet,
            _contact_sheet_parser,
        ),
        Command(
            "merge-adapter",
            "merge a LoRA adapter into its base model for export",
            _merge_adapter,
            _merge_adapter_parser,
        ),
        Command(
            "browse",
            "(re)build eval/episodes.html: every episode turn by turn, with the frames the model saw",
            _browse,
            _browse_parser,
        ),
        Command(
            "report",
            "one table over finished train runs: mean ± std over seeds, trained vs held-out gains",
            _report,
            _report_parser,
        ),
    )
}


def usage() -> str:
    lines = ["usage: proactive-rl <command> ...", ""]
    for command in COMMANDS.values():
        lines += [f"  {command.usage()}", f"      {command.summary}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(usage())
        return
    command = COMMANDS.get(argv[0])
    if command is None:
        sys.exit(f"unknown command {argv[0]!r}\n{usage()}")
    command.run(argv[1:])


if __name__ == "__main__":
    main()
