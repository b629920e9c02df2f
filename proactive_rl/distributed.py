"""Multi-process training: launch checks, FSDP on CPU process groups, and a record of the backend that ran.

``accelerate launch`` chooses the backend (DDP, DeepSpeed ZeRO, FSDP) through environment variables, and a
launch that does not match the trainer config fails late or, worse, silently trains with something else:

- the launch config's ``mixed_precision`` and ``trainer.bf16`` must agree, or DeepSpeed stops deep inside
  ``Trainer`` with a bf16 mismatch (and DDP quietly ignores the launch setting); ``check_launch_precision``
  says which key to set before any data or model loads;
- accelerate only switches a process group to FSDP from accelerator device types, so on CPU processes
  (gloo) an FSDP launch config trains plain DDP and exits 0; ``fsdp_on_cpu_processes`` makes it FSDP;
- evaluation under ``accelerate launch`` splits the episodes across the processes (``play_sharded``) and
  gathers them, so the final evaluation of a multi-process run costs a share of a single process's;
- a run folder should say what actually trained it, not what was asked for: ``record_backend`` writes, per
  process, the distributed type, the wrapped model's class, how many parameters are sharded (at load time
  and after training) and a fingerprint of the full trainable weights, which must be identical on every
  rank.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

LAUNCH_PRECISION_ENV = "ACCELERATE_MIXED_PRECISION"  # set by `accelerate launch` from the config's mixed_precision
PRECISIONS = ("no", "fp16", "bf16")


def trainer_precision(trainer) -> str:
    """The mixed precision the trainer config asks for: "bf16", "fp16" or "no"."""
    extra = trainer.extra or {}
    if trainer.bf16:
        return "bf16"
    return "fp16" if extra.get("fp16") else "no"


def check_launch_precision(trainer, environ: dict[str, str] | None = None) -> None:
    """Fail early when ``accelerate launch``'s mixed precision and the trainer config's differ.

    Outside ``accelerate launch`` (no ``ACCELERATE_MIXED_PRECISION``) the trainer config alone decides. A launch
    without mixed precision ("no", also accelerate's default when nothing is set) leaves the choice to the
    trainer config, except under DeepSpeed, whose own config must then agree.
    """
    environ = os.environ if environ is None else environ
    launched = environ.get(LAUNCH_PRECISION_ENV, "").lower()
    if launched not in PRECISIONS:
        return
    wanted = trainer_precision(trainer)
    deepspeed = environ.get("ACCELERATE_USE_DEEPSPEED", "false").lower() == "true"
    if launched == wanted or (launched == "no" and not deepspeed):
        return
    to_match = {
        "bf16": "trainer.bf16=true",
        "fp16": "+trainer.extra.fp16=true",
        "no": "trainer.bf16=false (and no trainer.extra.fp16)",
    }[launched]
    raise ValueError(
        f"the launch config sets mixed_precision={launched!r} but the trainer config asks for {wanted!r}: "
        f"override {to_match}, or launch with `accelerate launch --mixed_precision {wanted}` "
        f"(or set mixed_precision: {wanted} in the accelerate config file)."
    )


@contextmanager
def fsdp_on_cpu_processes() -> Iterator[None]:
    """Let an FSDP launch on CPU processes (gloo) be FSDP: wrap the creation of the trainer in this.

    accelerate (1.x) turns a process group into FSDP only when its type is an accelerator one (MULTI_GPU,
    MULTI_XPU, ...); CPU processes are MULTI_CPU and keep DDP although ``ACCELERATE_USE_FSDP`` is set. No
    setting changes that, so this is a run-time adjustment of accelerate's shared state: while the trainer
    builds its ``Accelerator``, the CPU group is presented as a generic multi-device one, which makes
    accelerate take its own FSDP branch (plugin from the launch config, mixed precision); accelerate then
    records the type as FSDP. Device and process group are the ones already set up (CPU, gloo). Everywhere
    else (GPU launches, DDP, DeepSpeed, single process) this does nothing.
    """
    from accelerate.state import PartialState
    from accelerate.utils import DistributedType

    shared = PartialState._shared_state
    wanted = os.environ.get("ACCELERATE_USE_FSDP", "false").lower() == "true"
    if not wanted or shared.get("distributed_type") != DistributedType.MULTI_CPU:
        yield
        return
    shared["distributed_type"] = DistributedType.MULTI_GPU
    try:
        yield
    finally:
        if shared.get("distributed_type") == DistributedType.MULTI_GPU:  # no Accelerator was built
            shared["distributed_type"] = DistributedType.MULTI_CPU
    if shared.get("distributed_type") != DistributedType.FSDP:
        raise RuntimeError(
            f"ACCELERATE_USE_FSDP is set but the trainer's process group is {shared.get('distributed_type')}, not FSDP"
        )


@dataclass
class ShardingCount:
    parameters: int  # parameter tensors of the model
    sharded: int  # of which this process holds only a part (DeepSpeed ZeRO-3 partition or FSDP2 DTensor shard)


def count_sharded(model) -> ShardingCount:
    """How many of ``model``'s parameters this process holds only in part."""
    parameters = sharded = 0
    for parameter in model.parameters():
        parameters += 1
        sharded += _local_numel(parameter) < _full_numel(parameter)
    return ShardingCount(parameters, sharded)


def _full_numel(parameter) -> int:
    return getattr(parameter, "ds_numel", None) or parameter.numel()


def _local_numel(parameter) -> int:
    from torch.distributed.tensor import DTensor

    if hasattr(parameter, "ds_tensor"):  # DeepSpeed ZeRO-3: the partition lives in ds_tensor, data is empty
        return parameter.ds_tensor.numel()
    if isinstance(parameter, DTensor):
        return parameter.to_local().numel()
    return parameter.numel()


def full_trainable_weights(model) -> dict[str, object]:
    """Every trainable parameter as a full CPU tensor, gathered from shards where needed (collective: all ranks)."""
    from torch.distributed.tensor import DTensor

    weights = {}
    for name, parameter in model.named_parameters():
        if not parameter.requires_grad:
            continue
        if hasattr(parameter, "ds_tensor"):
            import deepspeed

            with deepspeed.zero.GatheredParameters([parameter], modifier_rank=None):
                weights[name] = parameter.detach().to("cpu", copy=True)
        elif isinstance(parameter, DTensor):
            weights[name] = parameter.full_tensor().detach().to("cpu", copy=True)
        else:
            weights[name] = parameter.detach().to("cpu", copy=True)
    return weights


def fingerprint(weights: dict[str, object]) -> str:
    """sha256 over names, shapes, dtypes and bytes: equal only for bit-identical weights."""
    import torch

    digest = hashlib.sha256()
    for name in sorted(weights):
        tensor = weights[name].contiguous()
        digest.update(f"{name}:{tuple(tensor.shape)}:{tensor.dtype}".encode())
        digest.update(tensor.view(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def _name(value) -> str:
    return getattr(value, "name", None) or str(value)


def record_backend(trainer, run_dir: Path, at_load: ShardingCount | None = None) -> dict:
    """Write ``run_dir/distributed/rank<N>.json``: what trained this run, as seen by this process.

    Called by every process (gathering the trainable weights is collective). ``at_load`` is the sharding
    count taken right after ``from_pretrained``, which shows whether ZeRO-3 partitioned the model as it loaded.
    """
    from torch.distributed.fsdp import FSDPModule

    accelerator = trainer.accelerator
    state = accelerator.state
    deepspeed_plugin = getattr(state, "deepspeed_plugin", None)
    fsdp_plugin = getattr(state, "fsdp_plugin", None)
    weights = full_trainable_weights(trainer.model)
    record = {
        "process_index": accelerator.process_index,
        "num_processes": accelerator.num_processes,
        "distributed_type": accelerator.distributed_type.value,
        "mixed_precision": accelerator.mixed_precision,
        "wrapped_model_class": type(trainer.model_wrapped).__name__,
        "model_class": type(trainer.model).__name__,
        "fsdp_module": isinstance(trainer.model, FSDPModule),
        "zero_stage": deepspeed_plugin.zero_stage if deepspeed_plugin is not None else None,
        "fsdp_version": fsdp_plugin.fsdp_version if fsdp_plugin is not None else None,
        "fsdp_state_dict_type": _name(fsdp_plugin.state_dict_type) if fsdp_plugin is not None else None,
        "sharding_at_load": asdict(at_load) if at_load is not None else None,
        "sharding_after_training": asdict(count_sharded(trainer.model)),
        "trainable_tensors": len(weights),
        "trainable_fingerprint": fingerprint(weights),
    }
    folder = run_dir / "distributed"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"rank{accelerator.process_index}.json").write_text(json.dumps(record, indent=1))
    return record


def process_rank_and_count() -> tuple[int, int]:
    """(rank, number of processes) of the torch.distributed group; (0, 1) outside one."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def is_main_process() -> bool:
    return process_rank_and_count()[0] == 0


def wait_for_everyone() -> None:
    import torch.distributed as dist

    if process_rank_and_count()[1] > 1:
        dist.barrier()


@contextmanager
def main_process_first() -> Iterator[None]:
    """The main process runs the block first (e.g. creates a folder), the others after it."""
    if not is_main_process():
        wait_for_everyone()
    yield
    if is_main_process():
        wait_for_everyone()


def play_sharded(
    jobs: list, play: Callable[[list], Iterable[dict]], key: Callable[[Any], tuple] | None = None
) -> Iterator[dict]:
    """Split ``jobs`` across the processes (every n-th to each), play them, and give every process all records.

    ``play`` turns a list of jobs into their records (each with ``scenario`` and ``id``). In a single process
    the records stream as they come (so a killed run keeps what it wrote); with several, each process plays
    its share and the records are gathered and returned in job order, identical to a single-process run's
    when outcomes depend only on the episode (a deterministic policy). ``key`` gives a job's
    ``(scenario, str(id))`` when jobs are not ``EpisodeJob``s (e.g. answer records to judge).
    """
    import torch.distributed as dist

    rank, count = process_rank_and_count()
    if count == 1:
        yield from play(jobs)
        return
    mine = list(play(jobs[rank::count]))
    gathered: list[list[dict] | None] = [None] * count
    dist.all_gather_object(gathered, mine)
    key = key or (lambda job: (job.scenario, job.id))
    order = {key(job): index for index, job in enumerate(jobs)}
    records = [record for share in gathered for record in share or []]
    yield from sorted(records, key=lambda record: order[(record["scenario"], str(record["id"]))])


def join_launched_processes() -> None:
    """Under ``accelerate launch`` (torchrun sets WORLD_SIZE > 1), join the process group; else do nothing.

    gloo on CPU, the device's backend otherwise: the same choice the trainer makes.
    """
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        import torch
        from accelerate import PartialState

        PartialState(cpu=not torch.cuda.is_available())


def evaluates_in_place(trainer) -> bool:
    """Whether the trained model can be evaluated as the trainer holds it, each process playing a share of episodes.

    Single process, DDP and DeepSpeed (ZeRO-3 gathers the weights for it): yes. FSDP: no, its sharded forward
    needs every process in step while episodes differ in length; ``train`` reloads the saved adapter instead.
    """
    if trainer.accelerator.num_processes == 1:
        return True
    return getattr(trainer.accelerator.state, "fsdp_plugin", None) is None


@contextmanager
def whole_weights(model) -> Iterator[None]:
    """Inside the block every process holds all of ``model``'s weights (ZeRO-3 partitioned at load: gathered)."""
    if count_sharded(model).sharded == 0:
        yield
        return
    import deepspeed

    with deepspeed.zero.GatheredParameters(list(model.parameters()), modifier_rank=None):
        yield
