"""Every command the README and the docs show, run as far as a CPU allows in seconds, so none of them rots.

``proactive-rl`` commands (and ``python -m proactive_rl.<module>`` lines): ``--help`` runs; train/eval overrides
compose against the real config tree (``--cfg job`` semantics: the schema checks every key and value type),
sweeps (``-m``) job by job;
``accelerate launch`` and ``sbatch`` lines: their config files and scripts exist and the overrides they pass
compose. Lines that run for minutes (the two setup-and-run commands at the top) are run by CI itself.
"""

from __future__ import annotations

import importlib
import itertools
import re
import shlex
from pathlib import Path

import pytest

from proactive_rl.cli import COMMANDS
from proactive_rl.cli import main as cli_main
from proactive_rl.config import compose_train_config

REPO = Path(__file__).resolve().parent.parent
# the experiments log records commands as they were run on the commit it names: history, not instructions
DOCS = [REPO / "README.md", *sorted(p for p in (REPO / "docs").glob("*.md") if p.name != "experiments.md")]
LONG_RUNNING = ("bash launch/setup.sh",)


def shell_commands(markdown: str) -> list[str]:
    """Lines of the ```bash blocks, continuation lines joined and trailing comments dropped."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", markdown, flags=re.S):
        joined = block.replace("\\\n", " ")
        for line in joined.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            commands.append(shlex.split(line, comments=True))
    return [command for command in commands if command]


def documented_commands() -> list[tuple[str, list[str]]]:
    found = []
    for path in DOCS:
        for argv in shell_commands(path.read_text()):
            if " ".join(argv).startswith(LONG_RUNNING):
                continue
            found.append((f"{path.name}: {' '.join(argv)[:90]}", argv))
    return found


def compose_all(command: str, overrides: list[str]) -> int:
    """Compose ``proactive-rl <command> <overrides>``; a ``-m`` sweep composes every job. Returns the job count."""
    config_name = {"train": "train", "eval": "eval", "make-data": "train"}[command]
    overrides = [o for o in overrides if o not in ("--cfg", "job")]
    sweep = "-m" in overrides or "--multirun" in overrides
    overrides = [o for o in overrides if o not in ("-m", "--multirun")]
    axes = []
    for override in overrides:
        key, _, value = override.partition("=")
        values = value.split(",") if sweep and "," in value and not value.startswith("[") else [value]
        axes.append([f"{key}={v}" if _ else key for v in values])
    jobs = list(itertools.product(*axes))
    for job in jobs:
        compose_train_config(list(job), config_name=config_name)
    return len(jobs)


def check(argv: list[str], capsys) -> None:
    while "=" in argv[0]:  # environment assignments before the program (SEEDS="0 1 2" launch/...)
        argv = argv[1:]
    program = argv[0].removeprefix(".venv/bin/")
    if program == "proactive-rl":
        name, rest = (argv[1], argv[2:]) if len(argv) > 1 else ("--help", [])
        if name in ("--help", "-h", "help") or "--help" in rest:
            cli_main([name, *rest] if name in COMMANDS else ["--help"])
            assert "usage" in capsys.readouterr().out.lower()
        elif COMMANDS[name].parser is not None:
            COMMANDS[name].parser().parse_args(rest)
        else:
            assert compose_all(name, rest) >= 1
    elif program == "accelerate":
        config = argv[argv.index("--config_file") + 1]
        assert (REPO / config).is_file(), config
        module = argv[argv.index("-m") + 1]
        entry = {"proactive_rl.train": "train", "proactive_rl.evaluation": "eval"}.get(module)
        assert entry is not None, module
        compose_all(entry, argv[argv.index("-m") + 2 :])
    elif program == "sbatch":
        script = next(arg for arg in argv if arg.endswith(".slurm"))
        assert (REPO / script).is_file(), script
        rest = argv[argv.index(script) + 1 :]
        assert (REPO / rest[0]).is_file(), rest[0]  # the accelerate config
        compose_all("train", rest[1:])
    elif program == "launch/leave_one_out.sh":  # OUT_DIR, then overrides of the leave-one-out sweep
        assert (REPO / program).is_file(), program
        compose_all("train", ["experiment=leave_one_out", *argv[2:]])
    elif program == "python" and argv[1:3] == ["-m", "pytest"]:
        return  # the test suite itself
    elif program == "python" and argv[1] == "-m" and argv[2].startswith("proactive_rl."):  # a module's own CLI
        module = importlib.import_module(argv[2])
        if hasattr(module, "__path__"):  # a package runs its __main__
            module = importlib.import_module(f"{argv[2]}.__main__")
        with pytest.raises(SystemExit) as exit_info:
            module.main(["--help"])
        assert exit_info.value.code == 0 and "usage" in capsys.readouterr().out.lower()
    elif program == "python" and argv[1].startswith("benchmarks/"):
        assert (REPO / argv[1]).is_file(), argv[1]
    else:
        pytest.fail(f"the docs show a command this check does not know how to run: {' '.join(argv)}")


@pytest.mark.parametrize(("label", "argv"), documented_commands(), ids=[label for label, _ in documented_commands()])
def test_documented_command_runs(label, argv, capsys):
    check(argv, capsys)


def test_the_check_fails_on_a_broken_command(capsys):
    with pytest.raises(Exception, match="nosuchkey"):
        check(["proactive-rl", "train", "trainer.nosuchkey=1"], capsys)
    with pytest.raises(Exception):  # noqa: B017 - any composition error will do
        check(["proactive-rl", "train", "experiment=leave_one_out_coco"], capsys)
    with pytest.raises(AssertionError):
        check(
            ["accelerate", "launch", "--config_file", "launch/accelerate/nope.yaml", "-m", "proactive_rl.train"],
            capsys,
        )
