"""The authoring guide's worked example is real: the files match and they pass the check."""

import re
from pathlib import Path

from app.content import check_dirs, content_dirs

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "tests" / "data" / "worked-example"


def _blocks(doc: str) -> dict[str, str]:
    """Code blocks of the guide that follow a line naming a file, keyed by that file."""
    pattern = re.compile(r"^`([\w./-]+)`:\n\n```\w*\n(.*?)\n```", re.M | re.S)
    return {name: body for name, body in pattern.findall(doc)}


def test_the_worked_example_in_the_guide_is_the_tested_example():
    blocks = _blocks((ROOT / "docs" / "authoring.md").read_text())
    assert set(blocks) == {
        "modules/listening-basics/module.yaml",
        "modules/listening-basics/01-restating.md",
        "quizzes/listening-basics-quiz.yaml",
    }
    for name, body in blocks.items():
        assert (EXAMPLE / name).read_text().rstrip() == body.rstrip(), name


def test_the_worked_example_passes_the_content_check():
    assert check_dirs(content_dirs([EXAMPLE])) == []


def test_the_readme_opens_with_the_run_and_test_commands():
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"```sh\n(.+?)\n```", readme)
    assert "alliance db upgrade" in commands[0] and "alliance serve" in commands[0]  # the production server
    assert commands[1] == "./scripts/test.sh"
    assert "scripts/test.sh" in (ROOT / ".ci" / "run").read_text()
