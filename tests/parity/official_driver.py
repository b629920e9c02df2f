"""Replay parity cases through the official ``proactivebench`` environments (run under Python 3.12).

Usage: ``python official_driver.py CASES.json RESULTS.json``. CASES is a list of
``{"dataset", "entry", "data_dir", "hint", "reference", "answers"}``; RESULTS gets one record per case:
the state shown on every turn (image path, prompt, options, crop box), the official verdicts, the final
statistics, the open-ended answer string, and the exception if the official code raised.

Only ``proactivebench.environment`` is imported (stdlib only; ``data_utils`` needs torch). Images are
not opened here: the per-turn transform is applied to a stand-in that records the crop box, and the
test applies that box to the real file with Pillow.
"""

import copy
import json
import sys

from proactivebench.environment import get_environment


class CropRecorder:
    def __init__(self):
        self.box = None

    def crop(self, box):
        self.box = list(box)
        return self


def describe(error):
    return f"{type(error).__name__}: {error}"


def replay(case):
    environment_class = get_environment(case["dataset"])
    record = {"turns": [], "raised": None, "open_ended": None, "open_ended_raised": None}

    def fresh_environment():
        return environment_class(
            entry=copy.deepcopy(case["entry"]), data_dir=case["data_dir"], reference=case["reference"]
        )

    try:
        record["open_ended"] = fresh_environment().get_open_ended_gen_answers()
    except Exception as error:
        record["open_ended_raised"] = describe(error)

    try:
        environment = fresh_environment()
        for answer in case["answers"]:
            if environment.stop:
                break
            state = environment.get_state(hint=case["hint"])
            recorder = CropRecorder()
            state["transform"](recorder)
            turn = {
                "image_path": state["image_path"],
                "prompt": state["prompt"],
                "options": state["options"],
                "crop": recorder.box,
            }
            record["turns"].append(turn)
            environment.evaluate_generated_answer(answer)
            turn["action_verdict"] = environment.action_evaluation_history[-1]
            turn["category_verdict"] = environment.category_evaluation_history[-1]
        statistics = environment.get_statistics()
        record["stop"] = environment.stop
        record["num_turns"] = statistics["num_turns"]
        record["correct"] = statistics["correct_prediction"]
        record["hit_max_turns"] = statistics["max_steps"]
    except Exception as error:
        record["raised"] = describe(error)
    return record


def main():
    cases_path, results_path = sys.argv[1], sys.argv[2]
    with open(cases_path) as handle:
        cases = json.load(handle)
    results = [replay(case) for case in cases]
    with open(results_path, "w") as handle:
        json.dump(results, handle)


if __name__ == "__main__":
    main()
