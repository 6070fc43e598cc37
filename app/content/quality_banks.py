"""The item-quality rules' input: each validated quiz's scenario items or conversation's nodes as a `Bank`."""

import html
import re
from dataclasses import dataclass

from app.content import markdown
from app.content.yamlfile import Mapping

_TITLES = {"mr", "mrs", "ms", "miss", "mx", "dr"}


@dataclass(frozen=True)
class Option:
    """One reply on offer, as the learner reads it."""

    id: str
    text: str
    grade: str


@dataclass(frozen=True)
class Question:
    """A scenario item or a conversation node: what the patient says and the replies on offer."""

    label: str
    line: int
    says: str
    #: The patient's first name and surname, as a reply might use them.
    names: tuple[str, ...]
    options: tuple[Option, ...]

    @property
    def best(self) -> int | None:
        """The position (from 0) of the one reply graded best, or None when there is not exactly one."""
        found = [i for i, option in enumerate(self.options) if option.grade == "best"]
        return found[0] if len(found) == 1 else None


@dataclass(frozen=True)
class Patient:
    """A named patient in a vignette or a conversation, for the package-wide name rule."""

    name: str
    first: str | None
    surname: str
    file: str
    line: int
    where: str


@dataclass(frozen=True)
class Bank:
    """A quiz's scenario items, or a conversation's nodes, as the rules read them."""

    file: str
    id: str
    kind: str
    line: int
    questions: tuple[Question, ...]
    patients: tuple[Patient, ...]

    @property
    def unit(self) -> str:
        """What the bank counts: items or nodes."""
        return "items" if self.kind == "quiz" else "nodes"

    @property
    def scored(self) -> list[Question]:
        """The questions with one best reply and at least one other."""
        return [q for q in self.questions if q.best is not None and len(q.options) >= 2]



def _visible(text: object) -> str:
    """Option text as the page shows it: Markdown rendered, tags dropped, spaces collapsed."""
    rendered = markdown.render_inline(" ".join(str(text).split()))
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", rendered)).split())


def patient_name(description: str) -> tuple[str, str | None, str] | None:
    """(name as written, first name or None, surname) from 'Mrs Ellis, 66, ...', or None for no name."""
    head = re.split(r"[,;(]", description, maxsplit=1)[0].split()
    if head and head[0].lower().rstrip(".") in _TITLES:
        names = head[1:]
    elif 2 <= len(head) <= 3:
        names = head
    else:
        return None
    if not names or not all(re.fullmatch(r"[A-Z][A-Za-z'-]+", n) for n in names):
        return None
    first = names[0] if len(names) > 1 else None
    return " ".join(head), first, names[-1]


def _patient(description: str, file: str, line: int, where: str) -> Patient | None:
    found = patient_name(description)
    return Patient(found[0], found[1], found[2], file, line, where) if found else None


def _names(patient: Patient | None) -> tuple[str, ...]:
    return tuple(n for n in (patient.first, patient.surname) if n) if patient else ()


def quiz_bank(data: Mapping, file: str) -> Bank:
    """The scenario items of a validated quiz file."""
    questions, patients = [], []
    for item in data.get("items") or []:
        if item.get("type") != "scenario":
            continue
        vignette = item["vignette"]
        label = f"item '{item['id']}'"
        patient = _patient(str(vignette["patient"]), file, vignette.line_of("patient"), label)
        if patient:
            patients.append(patient)
        options = tuple(Option(o["id"], _visible(o["text"]), o["grade"]) for o in item["options"])
        questions.append(Question(label, item.line, str(vignette["says"]), _names(patient), options))
    return Bank(file, data["id"], "quiz", data.line_of("items"), tuple(questions), tuple(patients))


def conversation_bank(data: Mapping, file: str) -> Bank:
    """The nodes of a validated conversation file."""
    patient = _patient(str(data["patient"]), file, data.line_of("patient"), "the conversation")
    questions = tuple(
        Question(
            f"node '{node['id']}'",
            node.line,
            str(node["patient"]),
            _names(patient),
            tuple(Option(r["id"], _visible(r["text"]), r["grade"]) for r in node["replies"]),
        )
        for node in data["nodes"]
    )
    return Bank(file, data["id"], "conversation", data.line_of("nodes"), questions, (patient,) if patient else ())

