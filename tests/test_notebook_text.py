"""What the notebooks say to a student on Colab: no word of how this project is tested, the
presentations called presentations, and every lesson's exercises answered in docs/ANSWERS.md."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
ANSWERS = ROOT / "docs" / "ANSWERS.md"
# the words of the project's own set-up that a student never needs (the before-stop hook's list)
SET_UP_WORDS = re.compile(r"offline copy|course sample|offline sample|\bCI\b|nbval|test set-up|"
                          r"course seeds?\b|(German|English|Serbian|Russian|Spanish)\s+seed|"
                          r"\bseed's\b", re.IGNORECASE)


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text())["cells"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_student_text_has_no_word_of_the_test_set_up(path):
    for i, cell in enumerate(_cells(path)):
        text = "".join(cell["source"])
        if cell["cell_type"] == "code":  # comments and printed strings reach the student too
            text = "\n".join(line for line in text.splitlines()
                             if "#" in line or "print" in line or '"' in line)
        found = SET_UP_WORDS.search(text)
        assert not found, f"{path.name} cell {i}: {found.group(0)!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_exercises_have_a_question_and_point_to_their_answers(path):
    exercises = "".join(next("".join(c["source"]) for c in reversed(_cells(path))
                             if "## Exercises" in "".join(c["source"])))
    assert "question to think about" in exercises
    assert "docs/ANSWERS.md" in exercises
    lesson = path.name[:2]
    answers = ANSWERS.read_text()
    section = answers.split(f"## Lesson {lesson} ")[1].split("\n## ")[0]
    asked = len(re.findall(r"^\d+\. ", exercises.split("## Exercises")[1], flags=re.M))
    answered = len(re.findall(r"^\d+\. \*\*", section, flags=re.M))
    assert asked == answered, f"lesson {lesson}: {asked} exercises, {answered} answers"
    assert "**Question to think about.**" in section and "*Answer.*" in section


# what a student's Markdown never names: how the notebooks are run in tests
MARKDOWN_TEST_WORDS = re.compile(r"quick[ -]mode|GAN_LIB_QUICK|`QUICK`|test suite|\bpytest\b|"
                                 r"\bCI\b|nbval|\btests\b", re.IGNORECASE)
MAX_WORDS = 2500  # a lesson's Markdown: what goes beyond the lesson goes to docs/


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_markdown_never_names_quick_mode_or_the_tests(path):
    for i, cell in enumerate(_cells(path)):
        if cell["cell_type"] == "markdown":
            found = MARKDOWN_TEST_WORDS.search("".join(cell["source"]))
            assert not found, f"{path.name} cell {i}: {found.group(0)!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_lesson_is_at_most_2500_words(path):
    words = sum(len(re.findall(r"\S+", "".join(c["source"]))) for c in _cells(path)
                if c["cell_type"] == "markdown")
    assert words <= MAX_WORDS, f"{path.name}: {words} words of Markdown"


def test_the_set_up_words_are_caught():
    for text in ("so a CI run is never resumed", "the Serbian seed's face generator",
                 "three course seeds", "run by nbval", "the offline copy"):
        assert SET_UP_WORDS.search(text), text
    for text in ("seed=0", "with --seed 1", "a random seed", "Circle"):
        assert not SET_UP_WORDS.search(text), text
    for text in ("*Quick mode* (`GAN_LIB_QUICK=1`)", "in quick mode both", "the test suite"):
        assert MARKDOWN_TEST_WORDS.search(text), text
    for text in ("a quick look", "the detector's test images", "test it"):
        assert not MARKDOWN_TEST_WORDS.search(text), text
