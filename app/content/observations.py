"""Observation forms: a consultation watched and rated item by item (`type: observation` in quizzes/).

A form names the consultation it observes, its behaviour items (each tagged with competencies and
rated on a stated scale), which of them are critical, and an optional short patient-facing form in
plain words. Every form also takes a global rating on one fixed scale (clear fail to excellent),
which the station report regresses checklist totals on to set a pass mark.

Scoring is pure (`score`): an item scores its point minus the scale's lowest point, so "not done /
partly / done" gives 0-2 and an anchored 1-5 scale 0-4. A critical item rated at its lowest point
("not done", or anchor 1) fails the station whatever the total.
"""

from collections.abc import Mapping as MappingType
from dataclasses import dataclass
from typing import ClassVar

from app.content import markdown
from app.content.catalog import Reference
from app.content.checker import Checker
from app.content.yamlfile import Mapping

_FORM_KEYS = {
    "id",
    "type",
    "title",
    "module",
    "consultation",
    "minutes",
    "pass_mark",
    "items",
    "patient",
    "about",
    "references",
}
_ITEM_KEYS = {"id", "text", "competencies", "critical", "scale", "anchors", "source"}
_PATIENT_KEYS = {"intro", "items"}
_PATIENT_ITEM_KEYS = {"id", "text", "competencies"}
SCALE_KINDS = ("done", "anchored")
ANCHOR_POINTS = (1, 2, 3, 4, 5)

#: The global rating every form takes, lowest first; its index is the value stored.
GLOBAL_RATINGS = ("Clear fail", "Borderline", "Clear pass", "Good", "Excellent")
BORDERLINE = GLOBAL_RATINGS.index("Borderline")


@dataclass(frozen=True)
class Scale:
    """The points an item is rated on, lowest first, each with its wording."""

    kind: str
    points: tuple[tuple[int, str], ...]

    @property
    def low(self) -> int:
        """The lowest point: "not done" (for a critical item, a failed station)."""
        return self.points[0][0]

    @property
    def high(self) -> int:
        """The highest point."""
        return self.points[-1][0]

    @property
    def span(self) -> int:
        """What an item on this scale is worth at most."""
        return self.high - self.low

    def label(self, value: int | None) -> str:
        """The wording of a point ("Partly"), or "Not rated"."""
        return dict(self.points).get(value, "Not rated") if value is not None else "Not rated"

    def accepts(self, value: int) -> bool:
        """Whether the value is one of the scale's points."""
        return any(value == point for point, _ in self.points)


DONE = Scale("done", ((0, "Not done"), (1, "Partly"), (2, "Done")))
#: The patient's form: the same three points in the patient's words.
PATIENT_SCALE = Scale("done", ((0, "No"), (1, "Partly"), (2, "Yes")))


@dataclass(frozen=True)
class ObservationItem:
    """One behaviour the observer looks for."""

    id: str
    text: str
    competencies: tuple[str, ...]
    scale: Scale
    is_critical: bool = False
    source: str | None = None


@dataclass(frozen=True)
class PatientItem:
    """One statement the patient answers in plain words."""

    id: str
    text: str
    competencies: tuple[str, ...]
    scale: Scale = PATIENT_SCALE


@dataclass(frozen=True)
class ObservationForm:
    """An observation form: behaviour items, critical items, the patient's short form, its sources."""

    kind: ClassVar[str] = "observation"

    id: str
    title: str
    module_id: str
    consultation_html: str
    minutes: int
    pass_mark: int
    items: tuple[ObservationItem, ...]
    patient_intro: str
    patient_items: tuple[PatientItem, ...]
    about_html: str
    references: tuple[Reference, ...]
    version: str

    @property
    def max_score(self) -> int:
        """The highest checklist total."""
        return sum(item.scale.span for item in self.items)

    @property
    def critical_items(self) -> tuple[ObservationItem, ...]:
        """The items whose "not done" fails the station."""
        return tuple(item for item in self.items if item.is_critical)

    @property
    def competencies(self) -> tuple[str, ...]:
        """Every competency the items observe, in order of first appearance."""
        return tuple(dict.fromkeys(c for item in self.items for c in item.competencies))

    def items_for(self, role: str) -> tuple[ObservationItem, ...] | tuple[PatientItem, ...]:
        """The items a rater in this role answers: the patient their own form, everyone else the checklist."""
        return self.patient_items if role == "patient" else self.items

    def item(self, item_id: str) -> ObservationItem | None:
        """The behaviour item with this id, if any."""
        return next((i for i in self.items if i.id == item_id), None)

    def reference(self, ref_id: str) -> Reference | None:
        """The reference with this id, if any."""
        return next((r for r in self.references if r.id == ref_id), None)


@dataclass(frozen=True)
class Score:
    """A rating's checklist total and what fails it."""

    total: int
    maximum: int
    unrated: tuple[str, ...]
    critical_failed: tuple[str, ...]

    @property
    def percent(self) -> float:
        """The total as a percentage of the maximum."""
        return 100 * self.total / self.maximum if self.maximum else 0.0

    def passed(self, pass_total: float) -> bool:
        """Passed: every item rated, no critical item "not done", and the total at the pass mark or above."""
        return not self.unrated and not self.critical_failed and self.total >= pass_total


def score(form: ObservationForm, marks: MappingType[str, int | None]) -> Score:
    """Score the checklist from {item id: point}; an item missing or None is unrated."""
    total, unrated, failed = 0, [], []
    for item in form.items:
        value = marks.get(item.id)
        if value is None or not item.scale.accepts(value):
            unrated.append(item.id)
            continue
        total += value - item.scale.low
        if item.is_critical and value == item.scale.low:
            failed.append(item.id)
    return Score(total, form.max_score, tuple(unrated), tuple(failed))


def default_pass_total(form: ObservationForm) -> float:
    """The pass mark as a checklist total, from the form's stated percentage (before any borderline regression)."""
    return form.pass_mark * form.max_score / 100


# --- parsing and checking


def _scale(entry: Mapping, check: Checker, what: str) -> Scale | None:
    """An item's scale: "done" (not done / partly / done) or "anchored" (1-5, each point's wording given)."""
    kind = entry.get("scale", "done")
    if kind not in SCALE_KINDS:
        check.problem(entry.line_of("scale"), f"{what}: 'scale' must be 'done' or 'anchored', not {kind!r}")
        return None
    anchors = entry.get("anchors")
    if kind == "done":
        if anchors is not None:
            check.problem(
                entry.line_of("anchors"),
                f"{what}: 'anchors' are only for scale: anchored (a 'done' item is rated not done, partly or done)",
            )
        return DONE
    if not isinstance(anchors, MappingType):
        check.problem(
            entry.line_of("anchors"),
            f"{what}: an anchored item needs 'anchors', the wording of each point 1 to 5 (for example 1: ...)",
        )
        return None
    points = []
    for key in anchors:
        if str(key) not in {str(p) for p in ANCHOR_POINTS}:
            check.problem(anchors.line_of(key), f"{what}: anchor {key!r} is not a point of the scale; use 1 to 5")
    for point in ANCHOR_POINTS:
        wording = anchors.get(str(point))
        if not isinstance(wording, str) or not wording.strip():
            check.problem(
                anchors.line_of(str(point)), f"{what}: anchor {point} needs its wording (what a {point} looks like)"
            )
            continue
        points.append((point, " ".join(wording.split())))
    if len(points) != len(ANCHOR_POINTS):
        return None
    return Scale("anchored", tuple(points))


def _references(data: Mapping, check: Checker) -> dict[str, Reference]:
    """The sources the form cites, numbered in order."""
    found: dict[str, Reference] = {}
    for _number, entry in check.mappings(data, "references", "the observation form"):
        check.unknown_keys(entry, {"id", "text"}, "a reference")
        ref_id, text = check.slug(entry, "id", "a reference"), check.text(entry, "text", "a reference")
        if ref_id and ref_id in found:
            check.problem(entry.line_of("id"), f"two references have the id '{ref_id}'")
        elif ref_id and text:
            found[ref_id] = Reference(ref_id, len(found) + 1, " ".join(text.split()))
    return found


def _items(data: Mapping, check: Checker, references: dict[str, Reference]) -> list[ObservationItem]:
    """The behaviour items, each checked field by field."""
    items: list[ObservationItem] = []
    seen: set[str] = set()
    for number, entry in check.mappings(data, "items", "the observation form", low=2, high=30):
        what = f"item {number}"
        check.unknown_keys(entry, _ITEM_KEYS, what)
        item_id = check.slug(entry, "id", what)
        if item_id and item_id in seen:
            check.problem(entry.line_of("id"), f"two items have the id '{item_id}'")
        seen.add(item_id or "")
        text = check.text(entry, "text", what)
        check.in_words(text, entry.line_of("text"), f"{what}: the text")
        competencies = check.competencies(entry, "competencies", what)
        critical = entry.get("critical", False)
        if not isinstance(critical, bool):
            check.problem(entry.line_of("critical"), f"{what}: 'critical' must be true or false, not {critical!r}")
            critical = False
        source = entry.get("source")
        if source is not None and source not in references:
            check.problem(entry.line_of("source"), f"{what}: the source '{source}' is not in the form's references")
        scale = _scale(entry, check, what)
        if item_id and text and competencies and scale:
            items.append(ObservationItem(item_id, " ".join(text.split()), competencies, scale, critical, source))
    return items


def _patient(data: Mapping, check: Checker) -> tuple[str, list[PatientItem]]:
    """The patient's short form: an introduction and two to eight statements in plain words."""
    if "patient" not in data:
        return "", []
    section = check.mapping(data["patient"], "the observation form: 'patient'", data.line_of("patient"))
    if section is None:
        return "", []
    check.unknown_keys(section, _PATIENT_KEYS, "the patient's form")
    intro = check.text(section, "intro", "the patient's form") or ""
    check.in_words(intro, section.line_of("intro"), "the patient's form: the intro")
    items: list[PatientItem] = []
    seen: set[str] = set()
    for number, entry in check.mappings(section, "items", "the patient's form", low=2, high=8):
        what = f"patient item {number}"
        check.unknown_keys(entry, _PATIENT_ITEM_KEYS, what)
        item_id = check.slug(entry, "id", what)
        if item_id and item_id in seen:
            check.problem(entry.line_of("id"), f"two patient items have the id '{item_id}'")
        seen.add(item_id or "")
        text = check.text(entry, "text", what)
        check.in_words(text, entry.line_of("text"), f"{what}: the text")
        if text and len(text) > 120:
            check.problem(
                entry.line_of("text"), f"{what}: the text is {len(text)} characters; a patient reads 120 at most"
            )
        competencies = check.competencies(entry, "competencies", what)
        if item_id and text and competencies:
            items.append(PatientItem(item_id, " ".join(text.split()), competencies))
    return " ".join(intro.split()), items


def parse(data: Mapping, check: Checker, version: str) -> ObservationForm | None:
    """Validate an observation form file; the form, or None with every problem noted on `check`."""
    what = "the observation form"
    check.unknown_keys(data, _FORM_KEYS, what)
    form_id = check.slug(data, "id", what)
    title = check.text(data, "title", what)
    module_id = check.slug(data, "module", what)
    consultation = check.text(data, "consultation", what)
    check.in_words(consultation, data.line_of("consultation"), f"{what}: the consultation")
    minutes = check.integer(data, "minutes", what, 1, 120)
    pass_mark = check.integer(data, "pass_mark", what, 1, 100)
    references = _references(data, check)
    items = _items(data, check, references)
    patient_intro, patient_items = _patient(data, check)
    about = check.text(data, "about", what, required=False) or ""
    if any(not p.is_warning for p in check.problems):
        return None
    return ObservationForm(
        id=form_id,
        title=title,
        module_id=module_id,
        consultation_html=markdown.render(consultation),
        minutes=minutes,
        pass_mark=pass_mark,
        items=tuple(items),
        patient_intro=patient_intro,
        patient_items=tuple(patient_items),
        about_html=markdown.render(about),
        references=tuple(references.values()),
        version=version,
    )
