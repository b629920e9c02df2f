"""Two-process training under each shipped backend (DDP, DeepSpeed ZeRO-2/ZeRO-3, FSDP2), on CPU over gloo.

Each backend runs `accelerate launch --num_processes 2` with the shipped config from launch/accelerate/
(precision forced to fp32 with ``--mixed_precision no``, so all four train the same arithmetic) for two GRPO
steps of the tiny model. Data and model are built once for the module. The run's own record
(``run_dir/distributed/rank<N>.json``, see proactive_rl/distributed.py) says which backend actually trained;
the tests check it, that the adapter was saved and loads, that the trainable weights are identical on both
ranks, and that the adapter matches the DDP run's within ``ADAPTER_TOLERANCE``.

FSDP on CPU processes relies on ``proactive_rl.distributed.fsdp_on_cpu_processes`` (accelerate itself only
enables FSDP on accelerator devices); see docs/distributed.md. DeepSpeed's CPU collectives op is compiled by
``launch/setup.sh --dev`` into the folder ``tests/conftest.py`` points ``TORCH_EXTENSIONS_DIR`` to.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from safetensors.torch import load_file

from proactive_rl.config import REPO_ROOT, compose_train_config
from proactive_rl.distributed import check_launch_precision

ACCELERATE_CONFIGS = REPO_ROOT / "launch" / "accelerate"
BACKENDS = {"ddp": "cpu_ddp.yaml", "zero2": "zero2.yaml", "zero3": "zero3.yaml", "fsdp2": "fsdp2.yaml"}
# All four run fp32 with the same seeds and data order; what differs is the order of floating-point
# reductions (bucketed all-reduce, reduce-scatter, sharded optimizer steps).
ADAPTER_TOLERANCE = 1e-5

pytest.importorskip("deepspeed", reason="deepspeed is in the dev extra: pip install -e '.[dev]'")


def data_model_eval_overrides(root: Path) -> list[str]:
    """What `proactive-rl train` and `proactive-rl eval` share: data, tiny model, evaluation protocol."""
    return [
        f"data.root={root / 'data'}",
        "data.test_per_scenario=2",
        "data.train_rows=56",
        f"model.tiny.cache_dir={root / 'models'}",
        "model.tiny.bootstrap_steps=100",
        "model.tiny.bootstrap_lr=1e-3",
        "model.tiny.bootstrap_eval_size=4",
        "eval.reference=false",
        "eval.max_new_tokens=8",
        "eval.batch_size=4",
    ]


def shared_overrides(root: Path) -> list[str]:
    return [
        *data_model_eval_overrides(root),
        "trainer.max_steps=2",
        "trainer.per_device_train_batch_size=2",
        "trainer.num_generations=4",
        "trainer.logging_steps=1",
        "trainer.save_steps=2",
        "trainer.max_completion_length=6",
        "logger=none",
        "evaluate_base=true",  # both evaluations, sharded across the two processes
        "evaluate_after=true",
    ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def launched(tmp_path_factory):
    """backend name -> run folder of its 2-process run (each backend launched once, on first use)."""
    from proactive_rl.data import prepare_data
    from proactive_rl.models import prepare_model

    root = tmp_path_factory.mktemp("distributed")
    overrides = shared_overrides(root)
    cfg = compose_train_config([f"run_dir={root / 'prepare'}", *overrides])
    paths = prepare_data(cfg.data)  # built here once, so the launched processes only train
    prepare_model(cfg.model, train_source=paths.train_source, scenarios=list(cfg.data.train_scenarios))
    runs: dict[str, Path] = {}

    def run(backend: str) -> Path:
        if backend not in runs:
            run_dir = root / backend
            command = launch_command(BACKENDS[backend], "proactive_rl.train", f"run_dir={run_dir}", *overrides)
            run.stdout[backend] = run_two_processes(command, backend).stdout
            runs[backend] = run_dir
        return runs[backend]

    run.cfg = cfg
    run.root = root
    run.stdout = {}
    return run


def launch_command(config: str, module: str, *overrides: str) -> list[str]:
    return [
        sys.executable, "-m", "accelerate.commands.launch",
        "--config_file", str(ACCELERATE_CONFIGS / config),
        "--num_processes", "2", "--mixed_precision", "no", "--main_process_port", str(free_port()),
        "-m", module, *overrides,
    ]  # fmt: skip


def run_two_processes(command: list[str], what: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{what}:\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}"
    return done


def episode_records(folder: Path) -> dict[str, list[dict]]:
    """Every JSONL file under ``folder`` (by relative path), its records sorted by episode id."""
    return {
        str(path.relative_to(folder)): sorted(
            (json.loads(line) for line in path.read_text().splitlines()), key=lambda record: str(record["id"])
        )
        for path in sorted(folder.rglob("*.jsonl"))
    }


def rank_records(run_dir: Path) -> list[dict]:
    records = [json.loads((run_dir / "distributed" / f"rank{rank}.json").read_text()) for rank in (0, 1)]
    assert [record["process_index"] for record in records] == [0, 1]
    assert all(record["num_processes"] == 2 for record in records)
    return records


def lora_adapter(run_dir: Path) -> dict[str, torch.Tensor]:
    path = run_dir / "adapter" / "adapter_model.safetensors"
    assert path.is_file(), f"no adapter saved in {path.parent}: {sorted(p.name for p in path.parent.iterdir())}"
    return load_file(str(path))


EXPECTED = {
    "ddp": {"distributed_type": "MULTI_CPU", "wrapped_model_class": "DistributedDataParallel", "zero_stage": None},
    "zero2": {"distributed_type": "DEEPSPEED", "wrapped_model_class": "DeepSpeedEngine", "zero_stage": 2},
    "zero3": {"distributed_type": "DEEPSPEED", "wrapped_model_class": "DeepSpeedEngine", "zero_stage": 3},
    "fsdp2": {"distributed_type": "FSDP", "fsdp_module": True, "fsdp_version": 2, "zero_stage": None},
}


@pytest.mark.slow
@pytest.mark.parametrize("backend", list(BACKENDS))
def test_two_process_backend_trains_saves_and_agrees_with_ddp(launched, backend):
    run_dir = launched(backend)
    records = rank_records(run_dir)
    for record in records:
        for key, value in EXPECTED[backend].items():
            assert record[key] == value, f"{backend} rank {record['process_index']}: {key}={record[key]!r}"
        sharded = record["sharding_after_training"]
        if backend in ("zero3", "fsdp2"):
            assert sharded["sharded"] > 0, f"{backend} trained with no parameter sharded: {sharded}"
        else:
            assert sharded["sharded"] == 0, f"{backend} should keep full parameters: {sharded}"
    assert records[0]["trainable_fingerprint"] == records[1]["trainable_fingerprint"], "ranks disagree on weights"
    assert records[0]["trainable_tensors"] > 0

    state = json.loads((run_dir / "checkpoints" / "checkpoint-2" / "trainer_state.json").read_text())
    assert state["global_step"] == 2

    adapter = lora_adapter(run_dir)
    lora_b = [tensor for name, tensor in adapter.items() if "lora_B" in name]
    assert lora_b and any(tensor.abs().sum() > 0 for tensor in lora_b), "LoRA B is all zeros: nothing trained"
    reference = lora_adapter(launched("ddp"))
    assert sorted(adapter) == sorted(reference)
    worst = max((adapter[name] - reference[name]).abs().max().item() for name in reference)
    assert worst <= ADAPTER_TOLERANCE, f"{backend} adapter differs from DDP's by up to {worst:.3g}"
    print(f"{backend}: max |adapter - DDP adapter| = {worst:.3g}")

    from peft import PeftModel

    from proactive_rl.models import load_model_and_processor

    model, _ = load_model_and_processor(launched.cfg.model, adapter=run_dir / "adapter")
    assert isinstance(model, PeftModel)


def eval_overrides(launched, output_dir: Path, backend: str) -> list[str]:
    """`proactive-rl eval` of the base and of ``backend``'s adapter, results in ``output_dir``."""
    adapter = launched(backend) / "adapter"
    return [
        *data_model_eval_overrides(launched.root),
        f"eval.output_dir={output_dir}",
        f"+eval.adapters.fine-tuned={adapter}",
    ]


@pytest.fixture(scope="module")
def evaluated_in_one_process(launched):
    """backend name -> output folder of a single-process `proactive-rl eval` of its adapter (run once each)."""
    from proactive_rl.evaluation import evaluate

    folders: dict[str, Path] = {}

    def evaluated(backend: str) -> Path:
        if backend not in folders:
            output_dir = launched.root / f"eval-one-process-{backend}"
            evaluate(compose_train_config(eval_overrides(launched, output_dir, backend), config_name="eval"))
            folders[backend] = output_dir
        return folders[backend]

    return evaluated


@pytest.mark.slow
def test_proactive_rl_eval_splits_episodes_across_processes_with_one_process_results(
    launched, evaluated_in_one_process, tmp_path
):
    overrides = eval_overrides(launched, tmp_path, "ddp")
    done = run_two_processes(launch_command("cpu_ddp.yaml", "proactive_rl.evaluation", *overrides), "eval")
    one_process = evaluated_in_one_process("ddp")
    expected = episode_records(one_process)
    assert len(expected) >= 2 * len(launched.cfg.data.eval_scenarios), sorted(expected)  # base and fine-tuned
    assert episode_records(tmp_path) == expected
    summary = (one_process / "summary.md").read_text()
    assert (tmp_path / "summary.md").read_text() == summary
    assert done.stdout.count(summary.splitlines()[0]) == 1, "the summary should be printed once, by the main process"


@pytest.mark.slow
def test_open_ended_evaluation_splits_answers_and_verdicts_across_processes(launched, tmp_path):
    from proactive_rl.evaluation import evaluate

    oeg = ["eval=oeg", "eval.judge.name_or_path=auto"]  # the offline tiny judge
    two, one = tmp_path / "two", tmp_path / "one"
    overrides = [*eval_overrides(launched, two, "ddp"), *oeg]
    done = run_two_processes(launch_command("cpu_ddp.yaml", "proactive_rl.evaluation", *overrides), "oeg eval")
    evaluate(compose_train_config([*eval_overrides(launched, one, "ddp"), *oeg], config_name="eval"))
    expected = episode_records(one)
    assert any("-answers/" in path for path in expected), sorted(expected)  # answers and verdicts
    assert episode_records(two) == expected
    summary = (one / "summary.md").read_text()
    assert (two / "summary.md").read_text() == summary
    assert done.stdout.count(summary.splitlines()[0]) == 1


@pytest.mark.slow
@pytest.mark.parametrize("backend", list(BACKENDS))
def test_evaluations_of_a_two_process_run_match_one_process(launched, evaluated_in_one_process, backend):
    run_dir = launched(backend)
    one_process = evaluated_in_one_process(backend)
    for tag in ("base", "fine-tuned"):  # base: before training (ZeRO-3: gathered); fine-tuned: FSDP reloads it
        in_training = episode_records(run_dir / "eval" / tag)
        assert in_training, f"no {tag} evaluation in {run_dir / 'eval'}"
        assert in_training == episode_records(one_process / tag), f"{backend}: {tag} records differ"
    assert (run_dir / "eval" / "summary.md").is_file()


@pytest.mark.slow
def test_zero3_partitions_the_model_as_it_loads(launched):
    for record in rank_records(launched("zero3")):
        at_load = record["sharding_at_load"]
        assert at_load["parameters"] > 0 and at_load["sharded"] == at_load["parameters"], (
            f"ZeRO-3 left parameters whole at load time: {at_load}"
        )


def test_fsdp_configs_save_a_full_state_dict():
    """A sharded state dict makes `trainer.save_model` write no adapter file; every FSDP config must gather."""
    for path in sorted(ACCELERATE_CONFIGS.glob("*.yaml")):
        config = yaml.safe_load(path.read_text())
        if config.get("distributed_type") == "FSDP":
            assert config["fsdp_config"].get("fsdp_state_dict_type") == "FULL_STATE_DICT", path.name


@pytest.mark.parametrize(
    ("launch", "deepspeed", "bf16", "extra", "fix"),
    [
        ("bf16", "false", False, {}, "trainer.bf16=true"),
        ("bf16", "true", False, {}, "trainer.bf16=true"),
        ("no", "true", True, {}, "trainer.bf16=false"),
        ("fp16", "false", False, {}, "trainer.extra.fp16=true"),
        ("no", "true", False, {"fp16": True}, "no trainer.extra.fp16.*--mixed_precision fp16"),
    ],
)
def test_launch_precision_mismatch_names_the_key(launch, deepspeed, bf16, extra, fix):
    trainer = compose_train_config([f"trainer.bf16={str(bf16).lower()}"]).trainer
    trainer.extra = extra
    environ = {"ACCELERATE_MIXED_PRECISION": launch, "ACCELERATE_USE_DEEPSPEED": deepspeed}
    with pytest.raises(ValueError, match=f"mixed_precision='{launch}'.*{fix.replace('+', '')}"):
        check_launch_precision(trainer, environ)


def test_launch_precision_agreeing_unset_or_unlaunched_passes():
    trainer = compose_train_config(["trainer.bf16=true"]).trainer
    check_launch_precision(trainer, {"ACCELERATE_MIXED_PRECISION": "bf16", "ACCELERATE_USE_DEEPSPEED": "true"})
    check_launch_precision(trainer, {"ACCELERATE_MIXED_PRECISION": "no"})  # DDP: the trainer config decides
    check_launch_precision(trainer, {})


def test_slurm_dry_run_composes_the_two_node_launch(tmp_path):
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    scontrol = fake_bin / "scontrol"
    scontrol.write_text(
        "#!/bin/sh\n[ \"$1 $2 $3\" = 'show hostnames gpu-[07-08]' ] || exit 1\necho gpu-07\necho gpu-08\n"
    )
    scontrol.chmod(0o755)
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith(("SLURM_", "MASTER_"))},
        "PATH": f"{fake_bin}{os.pathsep}{os.environ['PATH']}",
        "SLURM_NNODES": "2",
        "SLURM_JOB_NODELIST": "gpu-[07-08]",
        "SLURM_JOB_NAME": "proactive-rl",
        "SLURM_JOB_ID": "4242",
        "GPUS_PER_NODE": "8",
        "DRY_RUN": "1",
    }
    config = "launch/accelerate/zero2.yaml"
    overrides = ["experiment=paper_qwen2_5_vl_7b", "data.test_root=/data/Proactive Bench/test"]
    done = subprocess.run(
        ["bash", "launch/slurm/train.slurm", config, *overrides],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,  # a dry run takes seconds; the margin is for a loaded machine
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, done.stdout
    assert "--machine_rank $SLURM_PROCID " in lines[0]  # substituted by each node's shell under srun
    tokens = shlex.split(lines[0].replace("$SLURM_PROCID", "1"))
    assert tokens[:2] == ["accelerate", "launch"]

    from accelerate.commands.launch import launch_command_parser

    args = launch_command_parser().parse_args(tokens[2:])
    assert args.config_file == config
    assert (args.num_machines, args.num_processes) == (2, 16)
    assert args.machine_rank == 1
    assert (args.main_process_ip, args.main_process_port, args.rdzv_backend) == ("gpu-07", 29500, "c10d")
    assert args.module and args.training_script == "proactive_rl.train"
    assert args.training_script_args == ["run_dir=outputs/slurm/proactive-rl-4242", *overrides]
