"""Quiz banks: a quiz written as GIFT, Moodle XML or a QTI 2.1 package, and GIFT or Moodle XML read back.

`mapping` says how each item type and grade becomes a question and its fractions (docs/quiz-banks.md
explains it for authors); `gift`, `moodle_xml` and `qti` write one format each; `gift_reader`,
`moodle_reader` and `importing` turn a bank into quiz YAML; `commands` adds the CLI commands.
"""

from collections.abc import Callable
from dataclasses import dataclass

from app.content.catalog import Quiz


@dataclass(frozen=True)
class BankFormat:
    """One format a quiz can be exported to: how to write it and how to serve it."""

    name: str
    label: str
    extension: str
    media_type: str
    write: Callable[..., bytes]


def formats() -> dict[str, BankFormat]:
    """The export formats by name (imported here, late, so each writer loads only when asked for)."""
    from app.exchange.banks import gift, moodle_xml, qti

    return {
        "gift": BankFormat("gift", "GIFT", "gift.txt", "text/plain", gift.write),
        "moodle-xml": BankFormat("moodle-xml", "Moodle XML", "moodle.xml", "application/xml", moodle_xml.write),
        "qti21": BankFormat("qti21", "QTI 2.1", "qti21.zip", "application/zip", qti.write),
    }


def export(quiz: Quiz, format_name: str, harmful_penalty: float | None = None) -> bytes:
    """The quiz as a bank in the named format."""
    from app.exchange.banks.mapping import DEFAULT_HARMFUL_PENALTY

    penalty = DEFAULT_HARMFUL_PENALTY if harmful_penalty is None else harmful_penalty
    return formats()[format_name].write(quiz, harmful_penalty=penalty)
