"""Unit tests for ``envs``: names, loading and its errors, episode conventions, prompts, and the cases where
the official package crashes (each test is named after the crash it guards; the parity oracle in
test_parity.py checks everything else against the official code)."""

from __future__ import annotations

import json

import pytest
from PIL import Image

import envs
from envs.loading import FILTER_PATH

CATEGORIES = ["cat", "dog", "St. Bernard", "cow"]
ABSTAIN = "I cannot answer."


def frame(path, size=(8, 6), color=(10, 20, 30)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, color).save(path)


def base_entry(template, num_images, first_image, options, **extra):
    entry = {
        "id": 7,
        "image_template": template,
        "first_image": first_image,
        "num_images": num_images,
        "reference_image": 0,
        "prompt": "What is it?",
        "options": options,
        "categories": CATEGORIES,
        "answer": "dog",
    }
    entry.update(extra)
    return entry


def rod_entry(tmp_path, num_images=5, first_image=2, template="ROD/seq/{image}.png", options=None):
    for i in range(num_images):
        frame(tmp_path / template.format(image=i))
    options = options or ["Move the blocks to the left.", "Move the blocks to the right.", ABSTAIN]
    return base_entry(template, num_images, first_image, options)


def play(env, answers):
    env.reset()
    result = None
    for answer in answers:
        result = env.step(answer)
        if result[2]:
            break
    return result


# ---- names -----------------------------------------------------------------------------------------


def test_scenario_names_short_and_official():
    assert envs.SCENARIOS == ("ROD", "VSOD", "MVP-N", "IN-C", "QD", "CIT", "COCO")
    assert envs.OFFICIAL_NAMES["IN-C"] == "ImageNet-C"
    assert set(envs.OFFICIAL_NAMES.values()) == set(json.loads(FILTER_PATH.read_text()))
    for short, official in envs.OFFICIAL_NAMES.items():
        assert envs.canonical_scenario(short) == short
        assert envs.canonical_scenario(official) == short
        assert envs.canonical_scenario(official.upper()) == short
    with pytest.raises(ValueError, match="valid names: ROD .*COCO"):
        envs.canonical_scenario("imagenet")


# ---- loading ---------------------------------------------------------------------------------------


def write_jsonl(path, rows):
    path.write_text("".join((row if isinstance(row, str) else json.dumps(row)) + "\n" for row in rows))


def vsod_row(entry_id, strong=True):
    row = base_entry("VSOD/v/{image}.png", 3, 0, ["Rewind the video.", ABSTAIN], strong_occlusions=strong)
    row["id"] = entry_id
    return row


def test_load_entries_applies_official_filter(tmp_path):
    kept_ids = json.loads(FILTER_PATH.read_text())["OcclusionDataSet-MM20"]
    unlisted = max(kept_ids) + 1
    write_jsonl(
        tmp_path / "OcclusionDataSet-MM20_preprocessed.jsonl",
        [vsod_row(kept_ids[0]), vsod_row(kept_ids[1], strong=False), vsod_row(unlisted), ""],
    )
    assert [e["id"] for e in envs.load_entries("VSOD", tmp_path)] == [kept_ids[0]]
    every = envs.load_entries("OcclusionDataSet-MM20", tmp_path, filter=False)
    assert [e["id"] for e in every] == [kept_ids[0], kept_ids[1], unlisted]


def test_load_entries_missing_root_names_the_expected_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="ImageNet-C_preprocessed.jsonl.*data.test_root"):
        envs.load_entries("IN-C", tmp_path / "nowhere")


def test_load_entries_missing_jsonl_names_the_expected_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"expected .*QuickDraw_preprocessed.jsonl; is data.test_root"):
        envs.load_entries("QD", tmp_path)


def test_load_entries_malformed_line_names_file_and_line(tmp_path):
    kept = json.loads(FILTER_PATH.read_text())["OcclusionDataSet-MM20"][0]
    write_jsonl(tmp_path / "OcclusionDataSet-MM20_preprocessed.jsonl", [vsod_row(kept), "{not json"])
    with pytest.raises(ValueError, match=r"OcclusionDataSet-MM20_preprocessed.jsonl, line 2: not valid JSON"):
        envs.load_entries("VSOD", tmp_path)


def test_load_entries_missing_field_names_line_and_field(tmp_path):
    kept = json.loads(FILTER_PATH.read_text())["OcclusionDataSet-MM20"][0]
    row = vsod_row(kept)
    del row["categories"]
    write_jsonl(tmp_path / "OcclusionDataSet-MM20_preprocessed.jsonl", [row])
    with pytest.raises(ValueError, match=r"line 1 \(entry id \d+\): missing required field 'categories'"):
        envs.load_entries("VSOD", tmp_path)


# ---- images ----------------------------------------------------------------------------------------


def test_missing_image_names_path_and_entry(tmp_path):
    entry = rod_entry(tmp_path)
    (tmp_path / "ROD/seq/2.png").unlink()
    with pytest.raises(FileNotFoundError, match=r"entry id 7: image file .*ROD/seq/2.png does not exist"):
        envs.make("ROD", entry, tmp_path).reset()


def test_frames_load_lazily_and_are_not_kept(tmp_path):
    env = envs.make("ROD", rod_entry(tmp_path), tmp_path)
    obs, _ = env.reset()
    assert obs["image"].mode == "RGB" and obs["image"].size == (8, 6)
    assert not any(isinstance(value, Image.Image) for value in vars(env).values())
    (tmp_path / "ROD/seq/3.png").unlink()  # the next frame is only opened when the episode reaches it
    with pytest.raises(FileNotFoundError, match="3.png"):
        env.step("B")


# ---- episode conventions ---------------------------------------------------------------------------


def test_episode_info_reward_and_termination(tmp_path):
    env = envs.make("ROD", rod_entry(tmp_path), tmp_path)
    with pytest.raises(RuntimeError, match="reset"):
        env.step("A")
    obs, info = env.reset()
    assert obs["options"] == [*env.entry["options"], *CATEGORIES]
    assert info["valid_interventions"] == env.valid_interventions() == env.entry["options"][:2]
    obs, reward, terminated, truncated, info = env.step("A")
    assert (reward, terminated, truncated) == (0.0, False, False)
    assert info["outcome"].kind == "intervention" and info["action"] == "left"
    assert obs["image_path"].endswith("ROD/seq/1.png") and env.num_turns == 1
    obs, reward, terminated, truncated, info = env.step("E")  # letters continue after the 3 interventions
    assert obs is None and (reward, terminated, truncated) == (1.0, True, False)
    episode = info["episode"]
    assert episode["correct"] and episode["num_turns"] == 2 and episode["proactive_suggestions"] == 1
    assert episode["outcomes"] == ["intervention", "correct"] and episode["image_ids"] == [2, 1]
    assert episode["end_reason"] == "correct" and not episode["hit_max_turns"] and env.done
    with pytest.raises(RuntimeError, match="is over"):
        env.step("A")


def test_turn_cap_truncates_after_an_intervention(tmp_path):
    env = envs.make("ROD", rod_entry(tmp_path, num_images=3, first_image=0), tmp_path)
    *_, terminated, truncated, info = play(env, ["B", "B", "B"])
    assert terminated and truncated
    assert info["episode"]["hit_max_turns"] and info["episode"]["end_reason"] == "max_turns"
    assert info["episode"]["image_ids"] == [0, 1, 2] and not info["episode"]["correct"]


def test_rod_wraps_around_and_first_turn_needs_an_intervention(tmp_path):
    env = envs.make("ROD", rod_entry(tmp_path, first_image=0), tmp_path)
    env.reset()
    obs, *_ = env.step("Move the blocks to the left.")
    assert obs["image_path"].endswith("ROD/seq/4.png")
    env.reset()
    *_, info = env.step("dog")
    assert info["outcome"].kind == "wrong" and not info["episode"]["correct"]


def test_rod_broken_frame_is_replaced_by_its_neighbour(tmp_path):
    template = "ROD/natural_bluebl_greenr-banana-s6/{image}.png"
    for variant in ("s5", "s7"):
        for i in range(3):
            frame(tmp_path / template.replace("s6", variant).format(image=i))
    env = envs.make("ROD", base_entry(template, 3, 1, ["Move it to the left.", "Move it to the right."]), tmp_path)
    obs, _ = env.reset()
    assert "banana-s7/1.png" in obs["image_path"]
    obs, *_ = env.step("A")
    assert "banana-s5/0.png" in obs["image_path"]


def test_answer_forms_letters_text_and_noise(tmp_path):
    entry = rod_entry(tmp_path)
    for answer, kind in [
        ("b", "intervention"),
        (" B. Move the blocks to the right.", "intervention"),
        ("moveTHEblockstotheleft.", "intervention"),
        ("C", "abstain"),
        ("I cannot answer.", "abstain"),
        ("", "invalid"),
        ("maybe a dog", "invalid"),
        ("Z", "invalid"),
        ("D", "wrong"),  # a category on ROD's first turn
    ]:
        env = envs.make("ROD", entry, tmp_path)
        env.reset()
        assert env.step(answer)[4]["outcome"].kind == kind, answer


# ---- prompts, hints, reference ---------------------------------------------------------------------


def test_hint_pre_prompt_and_reference_prompts(tmp_path):
    for i in range(4):
        frame(tmp_path / f"VSOD/v/{i:04d}.png")
    entry = base_entry("VSOD/v/{image}.png", 4, 1, ["Rewind the video.", "Wait for the occlusion to go.", ABSTAIN])
    entry["strong_occlusions"] = True
    obs, _ = envs.make("VSOD", entry, tmp_path, hint=True).reset()
    assert obs["prompt"] == (
        "This is a frame extracted from a video. Answer the following question. What is it? Hint: If there is an "
        "occlusion, waiting for it to disappear or rewinding the video might reveal what's behind it."
    )
    assert obs["image_path"].endswith("VSOD/v/0001.png")

    rod = rod_entry(tmp_path)
    env = envs.make("ROD", rod, tmp_path, reference=True)
    obs, info = env.reset()
    assert obs["prompt"] == "What type of object is in the image?" and obs["options"] == CATEGORIES
    assert obs["image_path"].endswith("ROD/seq/0.png") and info["valid_interventions"] == []
    *_, terminated, truncated, info = env.step("B")  # reference letters start at A for the categories
    assert terminated and not truncated and info["episode"]["correct"]
    env.reset()
    assert env.step("A")[2]  # any answer ends a reference episode


def test_mvpn_informative_frame_on_last_turn_and_reference(tmp_path):
    template = "MVP-N/o/{informative}/{image}.png"
    for informative in (0, 1):
        for i in range(3):
            frame(tmp_path / template.format(informative=informative, image=f"{i:04d}"))
    entry = base_entry(template, 3, 0, ["Rotate the object.", ABSTAIN], valid_images=[2, 1, 0])
    env = envs.make("MVP-N", entry, tmp_path)
    obs, _ = env.reset()
    assert obs["image_path"].endswith("0/0000.png")
    obs, *_ = env.step("A")
    assert obs["image_path"].endswith("0/0001.png")  # views[1] after the first rotation
    obs, *_ = env.step("A")
    assert obs["image_path"].endswith("1/0000.png") and env.valid_interventions() == []
    *_, info = env.step("A")  # last turn: only the category counts
    assert info["outcome"].kind == "wrong"
    obs, _ = envs.make("MVP-N", entry, tmp_path, reference=True).reset()
    assert obs["image_path"].endswith("1/0000.png")


def test_coco_hint_and_crop(tmp_path):
    image = Image.new("RGB", (40, 30))
    image.putpixel((5, 4), (255, 0, 0))
    (tmp_path / "COCO").mkdir()
    image.save(tmp_path / "COCO/a.png")
    crop = {"left": 10, "top": 4, "width": 30, "height": 20}
    entry = base_entry(
        "COCO/a.png",
        1,
        0,
        ["Move the camera to the left.", ABSTAIN],
        direction="left",
        granularity=2,
        horizontal_step=5,
        vertical_step=3,
        crop=crop,
    )
    env = envs.make("COCO", entry, tmp_path, hint=True)
    obs, _ = env.reset()
    assert obs["prompt"].endswith("Hint: moving the camera could help with classification.")
    assert obs["image"].size == (25, 16)  # box (10 - 5, 4, 30, 20)
    obs, *_ = env.step("A")
    assert obs["image"].size == (30, 16) and obs["image"].getpixel((5, 0)) == (255, 0, 0)  # box (0, 4, 30, 20)
    assert "Move the camera to the left." not in obs["options"]  # the axis is exhausted (10 >= 5 * 2)
    zoom = dict(entry, direction="zoom", options=["Move farther from the object.", ABSTAIN])
    obs, _ = envs.make("COCO", zoom, tmp_path, hint=True).reset()
    assert obs["prompt"].endswith("Hint: zooming out could help with classification.")
    assert obs["image"].size == (5 + 30 + 10 - 5, 3 + 20 + 4 - 1)  # zoom adds left/top to width/height


def test_open_ended_answers_official_strings(tmp_path):
    rod = rod_entry(tmp_path)
    assert envs.make("ROD", rod, tmp_path).open_ended_answers() == "Move the blocks, Move the camera."
    rod["answer"] = "St. Bernard"
    assert envs.make("VSOD", dict(rod, strong_occlusions=True), tmp_path).open_ended_answers() == (
        "Wait for the occlusion to disappear, Rewind the video, Move the camera, St Bernard."
    )
    inc = base_entry("IN-C/{level}/a.png", 5, 5, ["Increase the brightness.", ABSTAIN])
    inc["quality_answer"] = "Increase the brightness."
    assert envs.make("IN-C", inc, tmp_path).open_ended_answers() == "Increase the brightness, dog."
    assert envs.make("IN-C", inc, tmp_path, reference=True).open_ended_answers() == "dog."
    cit = base_entry("CIT/{image}.png", 10, 4, ["Rewind the video.", "Wait for the object.", ABSTAIN])
    cit.update(step_size=2, max_steps=5)
    assert envs.make("CIT", cit, tmp_path).open_ended_answers() == (
        "Rewind the video,Wait for the object,Rewind the video,dog."
    )
    assert envs.make("CIT", dict(cit, first_image=0), tmp_path).open_ended_answers() == (
        "Wait for the object,Rewind the video,dog."
    )


# ---- where the official package crashes ------------------------------------------------------------


def test_rod_option_naming_no_action_is_scored_wrong(tmp_path):
    """Official: AssertionError in _parse_action (no action keyword)."""
    entry = rod_entry(tmp_path, options=["Move the blocks to the left.", "Remove the blocks.", ABSTAIN])
    env = envs.make("ROD", entry, tmp_path)
    assert env.valid_interventions() == ["Move the blocks to the left."]
    *_, info = play(env, ["B"])
    assert info["outcome"].kind == "wrong" and info["episode"]["end_reason"] == "wrong"


def test_qd_option_with_two_keywords_of_one_action_continues(tmp_path):
    """Official: AssertionError ("details" and "drawing" both map to DETAILS, which is not ROTATE)."""
    for i in range(3):
        frame(tmp_path / f"QD/d/{i:04d}.png")
    entry = base_entry("QD/d/{image}.png", 3, 0, ["Add more details to the drawing.", ABSTAIN])
    env = envs.make("QD", entry, tmp_path)
    env.reset()
    obs, _, terminated, _, info = env.step("A")
    assert not terminated and info["action"] == "details" and obs["image_path"].endswith("0001.png")


def test_mvpn_view_list_shorter_than_episode_ends_truncated(tmp_path):
    """Official: IndexError on valid_images[num_turns]."""
    for i in range(4):
        frame(tmp_path / f"MVP-N/o/{i:04d}.png")
    entry = base_entry("MVP-N/o/{image}.png", 4, 0, ["Rotate the object.", ABSTAIN], valid_images=[0, 3])
    *_, terminated, truncated, info = play(envs.make("MVP-N", entry, tmp_path), ["A", "A"])
    assert terminated and truncated and info["episode"]["end_reason"] == "no_next_frame"
    assert info["episode"]["image_ids"] == [0, 3] and not info["episode"]["hit_max_turns"]


def test_mvpn_empty_view_list_means_every_frame(tmp_path):
    for i in range(3):
        frame(tmp_path / f"MVP-N/o/{i:04d}.png")
    entry = base_entry("MVP-N/o/{image}.png", 3, 0, ["Rotate the object.", ABSTAIN], valid_images=[])
    *_, info = play(envs.make("MVP-N", entry, tmp_path), ["A", "A", "D"])
    assert info["episode"]["image_ids"] == [0, 1, 2] and info["episode"]["correct"]


def test_inc_quality_answer_not_an_option_accepts_no_intervention(tmp_path):
    """Official: AssertionError in the constructor (quality_answer not in options, random=False)."""
    frame(tmp_path / "IN-C/5/a.png")
    entry = base_entry("IN-C/{level}/a.png", 5, 5, ["Increase the contrast.", ABSTAIN])
    entry["quality_answer"] = "Increase the brightness."
    env = envs.make("IN-C", entry, tmp_path)
    assert env.valid_interventions() == []
    *_, info = play(env, ["A"])
    assert info["outcome"].kind == "wrong"
    assert envs.make("IN-C", entry, tmp_path).open_ended_answers() == "dog."


def test_inc_no_level_below_one_ends_truncated(tmp_path):
    """Official: assert image_id in valid_images after lowering severity 1 to 0."""
    for level in (1, 2):
        frame(tmp_path / f"IN-C/{level}/a.png")
    entry = base_entry(
        "IN-C/{level}/a.png", 4, 2, ["Denoise the image.", ABSTAIN], quality_answer="Denoise the image."
    )
    *_, truncated, info = play(envs.make("IN-C", entry, tmp_path), ["A", "A"])
    assert truncated and info["episode"]["end_reason"] == "no_next_frame" and info["episode"]["image_ids"] == [2, 1]


def test_qd_past_last_stroke_ends_truncated(tmp_path):
    """Official: assert image_id in valid_images when first_image > 0 runs past the last stroke."""
    for i in range(3):
        frame(tmp_path / f"QD/d/{i:04d}.png")
    entry = base_entry("QD/d/{image}.png", 3, 1, ["Add more details.", ABSTAIN])
    *_, truncated, info = play(envs.make("QD", entry, tmp_path), ["A", "A"])
    assert truncated and info["episode"]["end_reason"] == "no_next_frame"


def cit_entry(tmp_path, num_images, first_image, step, options):
    for i in range(num_images):
        frame(tmp_path / f"CIT/c/{i}.png")
    return base_entry("CIT/c/{image}.png", num_images, first_image, options, step_size=step, max_steps=6)


def test_cit_video_shorter_than_step_ends_truncated(tmp_path):
    """Official: only rewind is pruned on the first frame, "wait" leads past the end and the assert fires."""
    entry = cit_entry(tmp_path, 2, 0, 2, ["Rewind the video.", "Wait for the object.", ABSTAIN])
    env = envs.make("CIT", entry, tmp_path)
    assert env.valid_interventions() == ["Wait for the object."]
    *_, truncated, info = play(env, ["A"])
    assert truncated and info["episode"]["end_reason"] == "no_next_frame"


def test_cit_missing_rewind_option_at_first_frame(tmp_path):
    """Official: list.remove("Rewind the video.") raises ValueError in get_state."""
    entry = cit_entry(tmp_path, 6, 0, 2, ["Wait for the object.", ABSTAIN])
    obs, _ = envs.make("CIT", entry, tmp_path).reset()
    assert obs["options"] == ["Wait for the object.", ABSTAIN, *CATEGORIES]


def test_cit_without_wait_option_drops_the_last_option_at_the_end(tmp_path):
    """Official quirk (kept): at the end of the video the last option goes when none says "Wait for the"."""
    entry = cit_entry(tmp_path, 6, 5, 2, ["Rewind the video.", "Keep watching.", ABSTAIN])
    env = envs.make("CIT", entry, tmp_path)
    obs, _ = env.reset()
    assert obs["options"] == ["Rewind the video.", "Keep watching.", *CATEGORIES]
    assert env.valid_interventions() == ["Rewind the video."]


def coco_zoom_entry(tmp_path, options, horizontal, vertical):
    frame(tmp_path / "COCO/z.png", size=(50, 40))
    crop = {"left": 10, "top": 10, "width": 20, "height": 15}
    return base_entry(
        "COCO/z.png", 1, 0, options, direction="zoom", granularity=2, horizontal_step=horizontal,
        vertical_step=vertical, crop=crop,
    )  # fmt: skip


def test_coco_zoom_option_missing_at_the_limit(tmp_path):
    """Official: list.remove("Move farther from the object.") raises when the entry lacks it."""
    env = envs.make("COCO", coco_zoom_entry(tmp_path, [ABSTAIN], 0, 0), tmp_path)
    obs, _ = env.reset()
    assert obs["options"] == [ABSTAIN, *CATEGORIES]


def test_coco_zoom_with_disagreeing_steps_prunes_on_the_horizontal_one(tmp_path):
    """Official: assert vertical_step == max_vertical_step when the horizontal step hit its limit."""
    entry = coco_zoom_entry(tmp_path, ["Move farther from the object.", ABSTAIN], 0, 3)
    env = envs.make("COCO", entry, tmp_path)
    obs, _ = env.reset()
    assert env.valid_interventions() == [] and "Move farther from the object." not in obs["options"]


def test_coco_move_outside_action_space_is_scored_wrong(tmp_path):
    """Official: AssertionError in _parse_action (the option's action is not in the entry's action space)."""
    entry = coco_zoom_entry(tmp_path, ["Move farther from the object.", "Move the camera up.", ABSTAIN], 2, 2)
    env = envs.make("COCO", entry, tmp_path)
    assert env.valid_interventions() == ["Move farther from the object."]
    *_, info = play(env, ["B"])
    assert info["outcome"].kind == "wrong"


def test_coco_option_naming_two_actions_is_scored_wrong(tmp_path):
    """Official: AssertionError in _parse_action ("up" and "to the left" both match an up_left entry)."""
    entry = coco_zoom_entry(tmp_path, ["Move the camera up and to the left.", "Move the camera up.", ABSTAIN], 2, 2)
    entry["direction"] = "up_left"
    env = envs.make("COCO", entry, tmp_path)
    assert env.valid_interventions() == ["Move the camera up."]
    assert env.action_of("Move the camera up and to the left.") is None
    *_, info = play(env, ["A"])
    assert info["outcome"].kind == "wrong"


def test_coco_inverted_crop_box_gives_an_empty_frame(tmp_path):
    """Official: Pillow raises "Coordinate 'right' is less than 'left'" in the transform."""
    entry = coco_zoom_entry(tmp_path, ["Move the camera to the left.", ABSTAIN], 2, 2)
    entry.update(direction="left", crop={"left": 30, "top": 0, "width": 5, "height": 10})
    obs, _ = envs.make("COCO", entry, tmp_path).reset()
    assert obs["image"].size == (0, 10)


def test_answer_outside_categories_is_rejected_when_building(tmp_path):
    """Official: ValueError in the constructor (categories.index(answer)); ours names the entry."""
    entry = dict(rod_entry(tmp_path), answer="horse")
    with pytest.raises(ValueError, match="entry id 7: answer 'horse' is not one of the categories"):
        envs.make("ROD", entry, tmp_path)


def test_template_with_unknown_field_is_rejected_when_building(tmp_path):
    """Official: KeyError in get_state."""
    entry = dict(rod_entry(tmp_path), image_template="ROD/{sequence}/{image}.png")
    with pytest.raises(ValueError, match="image_template .* cannot be formatted"):
        envs.make("ROD", entry, tmp_path)
