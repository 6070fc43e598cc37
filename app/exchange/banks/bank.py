"""A question bank as read from a file, before it becomes quiz YAML: the readers' shared vocabulary."""

from dataclasses import dataclass, field
from pathlib import Path

#: The largest bank file read; a real bank of a few hundred questions is well under a megabyte.
MAX_BYTES = 5 * 1024 * 1024


class BankError(ValueError):
    """A file that cannot be read as the bank it claims to be; the message says why, for the author."""


@dataclass(frozen=True)
class Text:
    """Question text and the format it is written in: html, markdown, plain or moodle (Moodle's auto-format)."""

    text: str
    format: str = "html"


@dataclass(frozen=True)
class Option:
    """One answer of a choice question: its text, fraction in percent and feedback."""

    text: Text
    fraction: float
    feedback: Text | None = None


@dataclass
class Question:
    """One question of a bank. `kind` is choice, matching, ordering, or the bank's own name for another type."""

    name: str
    kind: str
    stem: Text
    line: int | None = None
    idnumber: str | None = None
    #: For a choice question: whether only one answer may be chosen (Moodle's "single").
    single: bool = True
    options: list[Option] = field(default_factory=list)
    #: For matching: (prompt, answer) pairs; a pair with an empty prompt is a distractor.
    pairs: list[tuple[Text, str]] = field(default_factory=list)
    #: For ordering: the steps in the right order.
    steps: list[Text] = field(default_factory=list)
    general_feedback: Text | None = None
    tags: list[str] = field(default_factory=list)


@dataclass
class Bank:
    """What a reader found: the questions, and the category that names them, if any."""

    questions: list[Question]
    category: str | None = None


def read_limited(path: Path) -> bytes:
    """A bank file's bytes, refusing a missing, unreadable or oversized file with a clear message."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise BankError(
                f"{path} is {size // (1024 * 1024)} MB; a bank file may be at most {MAX_BYTES // (1024 * 1024)} MB"
            )
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise BankError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise BankError(f"{path} is a folder, not a bank file") from None
    except OSError as exc:
        raise BankError(f"{path} cannot be read: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise BankError(f"{path} is larger than {MAX_BYTES // (1024 * 1024)} MB, the most a bank file may be")
    return data
