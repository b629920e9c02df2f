#!/usr/bin/env bash
# Leave-one-scenario-out study: every fold (held_out) x seed, one run folder each, then one table.
#   launch/leave_one_out.sh OUT_DIR [hydra overrides...]
#   SEEDS="0 1 2" FOLDS="ROD VSOD MVP-N IN-C QD CIT COCO" launch/leave_one_out.sh outputs/loo
#   launch/leave_one_out.sh outputs/loo_paraphrase data.diversity.paraphrase=true data.diversity.shuffle=true
#   launch/leave_one_out.sh outputs/loo_base_per_fold model.tiny.bootstrap_scope=train_scenarios
# Runs are sequential; a finished run (eval/summary.csv present) is skipped, so the script resumes. With the
# default model.tiny.bootstrap_scope=all every fold starts from the same cached base (built by the first run).
# RUN_PREFIX is put before each command (e.g. RUN_PREFIX="flock /tmp/cpu.lock" to share a machine).
# Aggregate with: proactive-rl report OUT_DIR [OTHER_OUT_DIR...]
set -euo pipefail

if [ $# -lt 1 ]; then
    echo "usage: launch/leave_one_out.sh OUT_DIR [hydra overrides...]" >&2
    exit 2
fi
out=$1
shift
SEEDS=${SEEDS:-0}
FOLDS=${FOLDS:-"ROD VSOD MVP-N IN-C QD CIT COCO"}
PYTHON=${PYTHON:-python}

for seed in $SEEDS; do
    for fold in $FOLDS; do
        run="$out/$fold/seed$seed"
        if [ -f "$run/eval/summary.csv" ]; then
            echo "done already: $run"
            continue
        fi
        mkdir -p "$run"
        echo "$(date -u +%H:%M:%S) start $run"
        started=$(date +%s)
        # shellcheck disable=SC2086
        ${RUN_PREFIX:-} "$PYTHON" -m proactive_rl.cli train experiment=leave_one_out "held_out=$fold" "seed=$seed" \
            logger=none "run_dir=$run" "$@" > "$run/console.log" 2>&1 || echo "FAILED (see $run/console.log)"
        echo "$(date -u +%H:%M:%S) end $run ($(($(date +%s) - started)) s)"
    done
done
