"""Play ProactiveBench-Synth test episodes through the *official* proactivebench environments.

Run with the interpreter that has ``proactivebench`` installed (Python >= 3.12):
``python tests/_synth_official_check.py <test folder>``; prints one JSON object with, per scenario, the
number of episodes and the accuracy of three scripted policies (oracle, abstain, first-turn guess).
The test module ``tests/test_synth.py`` runs it in a subprocess when that interpreter exists.
"""

import json
import os
import random
import sys

from proactivebench.environment import get_environment

OFFICIAL = {
    "ROD": "Realistic-Occlusion-Dataset",
    "VSOD": "OcclusionDataSet-MM20",
    "MVP-N": "MVP-N",
    "IN-C": "ImageNet-C",
    "QD": "QuickDraw",
    "CIT": "ChangeIt",
    "COCO": "coco2014",
}


def play(env_class, entry, root, answers):
    env = env_class(entry=entry, data_dir=root)
    paths = []
    for answer in answers:
        if env.stop:
            break
        state = env.get_state()
        image_path = state["image_path"]
        assert os.path.isfile(image_path), image_path
        paths.append(image_path)
        env.evaluate_generated_answer(answer)
    return env.get_statistics()["correct_prediction"], env.stop, paths


def main(root):
    rng = random.Random(0)
    report = {}
    for short, official in OFFICIAL.items():
        env_class = get_environment(official)
        counts = {"episodes": 0, "oracle": 0, "abstain": 0, "guess": 0, "reference": 0, "oracle_stopped": 0}
        with open(os.path.join(root, f"{official}_preprocessed.jsonl")) as handle:
            entries = [json.loads(line) for line in handle if line.strip()]
        for entry in entries:
            counts["episodes"] += 1
            oracle = entry["synth"]["oracle"] + [entry["answer"]]
            correct, stopped, _ = play(env_class, entry, root, oracle)
            counts["oracle"] += correct
            counts["oracle_stopped"] += stopped
            abstain = [o for o in entry["options"] if "cannot" in o.lower() or "do not" in o.lower()][0]
            counts["abstain"] += play(env_class, entry, root, [abstain])[0]
            counts["guess"] += play(env_class, entry, root, [rng.choice(entry["categories"])])[0]
            reference = env_class(entry=entry, data_dir=root, reference=True)
            state = reference.get_state()
            assert os.path.isfile(state["image_path"]), state["image_path"]
            reference.evaluate_generated_answer(entry["answer"])
            counts["reference"] += reference.correct_prediction
        report[short] = counts
    print(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1])
