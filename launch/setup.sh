#!/usr/bin/env bash
# Creates (or updates) the project's virtual environment in .venv: torch + torchvision, then this project.
#   bash launch/setup.sh          # what `proactive-rl train` needs
#   bash launch/setup.sh --dev    # + pytest/ruff/hypothesis/deepspeed, the official proactivebench package in a
#                                 #   Python 3.12 venv (.cache/pb312) that the parity test drives as its oracle,
#                                 #   Debian's chromium (apt-get) for the episode browser's test, and DeepSpeed's
#                                 #   CPU collectives op prebuilt in .cache/torch_extensions
# Environment: PYTHON (interpreter for .venv, default python3.11 or python3), TORCH_SPEC (default pins the
# release this project is tested with; set e.g. TORCH_SPEC="torch torchvision" to keep your cluster's build).
set -euo pipefail
cd "$(dirname "$0")/.."

dev=false
[ "${1:-}" = "--dev" ] && dev=true

PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
TORCH_SPEC=${TORCH_SPEC:-"torch==2.14.1 torchvision==0.29.1"}

if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
# shellcheck disable=SC2086
.venv/bin/python -m pip install --quiet $TORCH_SPEC
if $dev; then
    .venv/bin/python -m pip install --quiet -e '.[dev,slurm]'
else
    .venv/bin/python -m pip install --quiet -e .
fi

if $dev && [ ! -x .cache/pb312/bin/python ]; then
    py312=""
    pyenv_versions=$( (pyenv root 2>/dev/null || true) | sed 's|$|/versions|')
    for candidate in python3.12 ${pyenv_versions:+$(ls -d "$pyenv_versions"/3.12*/bin/python 2>/dev/null || true)}; do
        if "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 12)' >/dev/null 2>&1; then
            py312=$candidate
            break
        fi
    done
    if [ -n "$py312" ]; then
        "$py312" -m venv .cache/pb312
        .cache/pb312/bin/python -m pip install --quiet --no-deps proactivebench==0.1.1
    else
        echo "WARNING: no Python 3.12 found: the parity test against the official proactivebench package will be SKIPPED." >&2
    fi
fi
# The episode browser's test opens episodes.html in headless Chromium (Debian/Ubuntu package `chromium`).
install_chromium() {
    local sudo_cmd=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || return 1
        sudo_cmd="sudo -n"
    fi
    command -v apt-get >/dev/null 2>&1 || return 1
    $sudo_cmd apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 && return 0
    $sudo_cmd apt-get update >/dev/null 2>&1 && $sudo_cmd apt-get install -y --no-install-recommends chromium >/dev/null 2>&1
}
if $dev && ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
    if install_chromium; then
        echo "installed chromium for the episode browser test"
    else
        echo "WARNING: could not apt-get install chromium: the episode browser test will be SKIPPED." >&2
    fi
fi
if $dev; then
    # DeepSpeed on CPU processes compiles its shared-memory collectives op on first use (minutes); build it
    # once here, in the folder the tests point TORCH_EXTENSIONS_DIR to (tests/conftest.py).
    TORCH_EXTENSIONS_DIR="$PWD/.cache/torch_extensions" .venv/bin/python -c '
from deepspeed.accelerator import get_accelerator
builder = get_accelerator().create_op_builder("ShareMemCommBuilder")
if builder is not None and builder.is_compatible():
    builder.load(verbose=False)
' >/dev/null
fi
echo "ready: $(.venv/bin/python --version), torch $(.venv/bin/python -c 'import torch; print(torch.__version__)')"
