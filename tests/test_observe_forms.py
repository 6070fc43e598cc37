"""Observation forms: the checker's message for each kind of bad form, scoring with critical items, and the
station statistics (borderline regression, weighted kappa) against values worked out by hand."""

import copy
from pathlib import Path

import pytest
import yaml

from app.content.loader import load_content
from app.content.observations import BORDERLINE, GLOBAL_RATINGS, default_pass_total, score
from app.observe.services import stats
from app.paths import shipped

GOOD = {
    "id": "test-observed",
    "type": "observation",
    "title": "Observed: a test consultation",
    "module": "communication-skills",
    "consultation": "A first assessment, played by a simulated patient.",
    "minutes": 10,
    "pass_mark": 60,
    "items": [
        {
            "id": "listens",
            "text": "Lets the patient finish.",
            "competencies": ["comm.active-listening"],
            "critical": True,
        },
        {
            "id": "explains",
            "text": "Explains the pain in plain words.",
            "competencies": ["practice.education"],
            "scale": "anchored",
            "anchors": {1: "No explanation.", 2: "Jargon.", 3: "Plain.", 4: "Plain, checked.", 5: "Built together."},
            "source": "study",
        },
    ],
    "patient": {
        "intro": "A few questions about your appointment.",
        "items": [
            {"id": "listened", "text": "They listened to me.", "competencies": ["comm.active-listening"]},
            {"id": "explained", "text": "I understood what they said.", "competencies": ["practice.education"]},
        ],
    },
    "references": [{"id": "study", "text": "A study. A journal. 2022."}],
}


def _problems(tmp_path: Path, data: dict) -> list[str]:
    """Every error `alliance content check` reports for this form beside the shipped modules."""
    (tmp_path / "quizzes").mkdir(exist_ok=True)
    path = tmp_path / "quizzes" / "form.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    loaded = load_content([shipped("modules"), tmp_path])
    return [str(p) for p in loaded.errors]


def test_a_good_form_loads_with_its_items_scales_and_patient_questions(tmp_path):
    (tmp_path / "quizzes").mkdir()
    (tmp_path / "quizzes" / "form.yaml").write_text(yaml.safe_dump(GOOD), encoding="utf-8")
    loaded = load_content([shipped("modules"), tmp_path])
    assert loaded.errors == []
    form = loaded.catalog.observation("test-observed")
    assert [i.id for i in form.critical_items] == ["listens"]
    assert form.item("explains").scale.label(3) == "Plain."
    assert form.max_score == 2 + 4  # not done-partly-done is worth 2, an anchored 1-5 item 4
    assert [i.id for i in form.patient_items] == ["listened", "explained"]


def _set(path: str, value):
    """A change to GOOD at a dotted path (list indexes as numbers; value None deletes the key)."""

    def change(data: dict) -> dict:
        data = copy.deepcopy(data)
        *parents, last = path.split(".")
        target = data
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        key = int(last) if last.isdigit() and isinstance(target, list) else last
        if value is None:
            del target[key]
        else:
            target[key] = value
        return data

    return change


BAD_FORMS = [
    ("unknown key", _set("colour", "red"), "the observation form has an unknown key 'colour'"),
    ("no consultation", _set("consultation", None), "the observation form is missing 'consultation'"),
    ("minutes out of range", _set("minutes", 0), "'minutes' must be a whole number from 1 to 120"),
    ("pass mark out of range", _set("pass_mark", 140), "'pass_mark' must be a whole number from 1 to 100"),
    ("one item", _set("items", GOOD["items"][:1]), "'items' has 1 entries; it needs 2 to 30"),
    ("unknown scale", _set("items.0.scale", "stars"), "item 1: 'scale' must be 'done' or 'anchored', not 'stars'"),
    ("anchored without anchors", _set("items.1.anchors", None), "item 2: an anchored item needs 'anchors'"),
    (
        "an anchor missing",
        _set("items.1.anchors", {1: "a", 2: "b", 4: "d", 5: "e"}),
        "item 2: anchor 3 needs its wording",
    ),
    (
        "an anchor off the scale",
        _set("items.1.anchors", {1: "a", 2: "b", 3: "c", 4: "d", 5: "e", 6: "f"}),
        "item 2: anchor '6' is not a point of the scale; use 1 to 5",
    ),
    ("anchors on a done item", _set("items.0.anchors", {1: "a"}), "item 1: 'anchors' are only for scale: anchored"),
    (
        "unknown competency",
        _set("items.0.competencies", ["comm.telepathy"]),
        "item 1: unknown competency id 'comm.telepathy'",
    ),
    ("no competency", _set("items.0.competencies", None), "item 1 is missing 'competencies'"),
    (
        "critical not yes or no",
        _set("items.0.critical", "very"),
        "item 1: 'critical' must be true or false, not 'very'",
    ),
    ("unknown source", _set("items.1.source", "nobody"), "item 2: the source 'nobody' is not in the form's references"),
    ("item without text", _set("items.0.text", None), "item 1 is missing 'text'"),
    ("two items with one id", _set("items.1.id", "listens"), "two items have the id 'listens'"),
    ("competency id in words", _set("items.0.text", "Shows comm.empathy."), "writes the competency id 'comm.empathy'"),
    (
        "patient question too long",
        _set("patient.items.0.text", "They " + "listened very carefully " * 8),
        "patient item 1: the text is",
    ),
    (
        "one patient question",
        _set("patient.items", GOOD["patient"]["items"][:1]),
        "'items' has 1 entries; it needs 2 to 8",
    ),
    ("patient without intro", _set("patient.intro", None), "the patient's form is missing 'intro'"),
    ("no references", _set("references", None), "the observation form is missing 'references'"),
    ("unknown module", _set("module", "juggling"), "the quiz pairs with the module 'juggling', which does not exist"),
]


@pytest.mark.parametrize("change, message", [(c, m) for _, c, m in BAD_FORMS], ids=[n for n, _, _ in BAD_FORMS])
def test_each_kind_of_bad_form_gets_a_clear_message_with_its_file_and_line(tmp_path, change, message):
    problems = _problems(tmp_path, change(GOOD))
    matching = [p for p in problems if message in p]
    assert matching, problems
    assert all(p.startswith(str(tmp_path / "quizzes" / "form.yaml")) or "quizzes/form.yaml" in p for p in matching)
    assert any(":" in p.split("form.yaml", 1)[1][:6] for p in matching)  # a line number follows the file


def test_the_type_names_observation_among_the_choices(tmp_path):
    problems = _problems(tmp_path, _set("type", "osce")(GOOD))
    assert any("'type' must be 'conversation', 'observation', or 'quiz'" in p for p in problems), problems


def test_the_shipped_forms_cover_the_2022_behaviours_and_elwyns_three_talks(catalog):
    first = catalog.observation("first-consultation-observed")
    shared = catalog.observation("shared-decision-observed")
    assert first.critical_items and shared.critical_items
    assert {"comm.active-listening", "comm.empathy", "comm.non-verbal", "practice.education"} <= set(first.competencies)
    talks = {c.split(".")[1] for c in shared.competencies if c.startswith("sdm.")}
    assert talks == {"choice", "option", "decision"}
    assert first.reference("msk-care-2022") and shared.reference("elwyn2012")
    # Instruments are described with their source, never reproduced.
    assert "Working Alliance Inventory" in first.about_html and first.reference("horvath1989")
    assert first.patient_items and shared.patient_items


# --- scoring


def test_scoring_counts_points_above_each_scale_floor(catalog):
    form = catalog.observation("first-consultation-observed")
    best = {item.id: item.scale.high for item in form.items}
    assert score(form, best).total == form.max_score and score(form, best).passed(default_pass_total(form))
    worst_but_critical_done = {i.id: (i.scale.high if i.is_critical else i.scale.low) for i in form.items}
    result = score(form, worst_but_critical_done)
    assert result.total == sum(i.scale.span for i in form.critical_items)
    assert not result.critical_failed and not result.passed(default_pass_total(form))


def test_a_critical_item_not_done_fails_the_station_whatever_the_total(catalog):
    form = catalog.observation("first-consultation-observed")
    critical = form.critical_items[0]
    marks = {item.id: item.scale.high for item in form.items} | {critical.id: critical.scale.low}
    result = score(form, marks)
    assert result.total == form.max_score - critical.scale.span
    assert result.critical_failed == (critical.id,)
    assert not result.passed(0)  # even a pass mark of nothing


def test_an_unrated_or_off_scale_item_keeps_a_rating_from_passing(catalog):
    form = catalog.observation("shared-decision-observed")
    marks = {item.id: item.scale.high for item in form.items}
    first = form.items[0].id
    assert score(form, marks | {first: None}).unrated == (first,)
    assert score(form, marks | {first: 7}).unrated == (first,)
    assert not score(form, marks | {first: None}).passed(0)


# --- statistics against hand-worked values


def test_borderline_regression_matches_the_hand_worked_fit():
    # x = global rating, y = total. By hand: mean x 2, mean y 74/6; Sxx 10, Sxy 40, Syy 490/3.
    # slope 40/10 = 4; intercept 74/6 - 8 = 13/3; R² = 4·40 / (490/3) = 48/49; pass mark 13/3 + 4 = 25/3.
    points = [(0, 4), (1, 8), (2, 12), (2, 14), (3, 16), (4, 20)]
    fit = stats.borderline_regression(points)
    assert fit.slope == pytest.approx(4)
    assert fit.intercept == pytest.approx(13 / 3)
    assert fit.r_squared == pytest.approx(48 / 49)
    assert fit.pass_mark == pytest.approx(25 / 3)
    assert GLOBAL_RATINGS[BORDERLINE] == "Borderline" and fit.count == 6


def test_borderline_regression_needs_three_ratings_over_two_global_grades():
    assert stats.borderline_regression([(1, 5), (2, 8)]) is None
    assert stats.borderline_regression([(2, 5), (2, 8), (2, 9)]) is None


def test_weighted_kappa_matches_the_hand_worked_value():
    # Quadratic weights (i-j)²/16 on five grades. Observed disagreement: (0 + 1 + 0 + 1)/16/4 = 1/32.
    # Expected: rater A uses 0,1,2,3 once each, rater B 0 once, 2 twice, 4 once: Σ pA·pB·w = 3.5/16 = 7/32.
    # kappa = 1 - (1/32)/(7/32) = 6/7.
    agreement = stats.weighted_kappa([(0, 0), (1, 2), (2, 2), (3, 4)], stats.global_labels())
    assert agreement.kappa == pytest.approx(6 / 7)
    assert agreement.pairs == 4 and agreement.exact == 2 and agreement.percent_exact == 50


def test_kappa_is_undefined_when_every_rating_is_the_same_and_absent_with_one_pair():
    assert stats.weighted_kappa([(2, 2), (2, 2)], stats.global_labels()).kappa is None
    assert stats.weighted_kappa([(1, 2)], stats.global_labels()) is None


def test_the_distribution_counts_every_total_once():
    # 0 to 26 in about eight bars: each 4 wide (27 totals / 8, rounded up), the last one cut at 26.
    bars = stats.distribution([0, 3, 3, 26, 13], 26)
    assert [(b.low, b.high, b.count) for b in bars] == [
        (0, 3, 3),
        (4, 7, 0),
        (8, 11, 0),
        (12, 15, 1),
        (16, 19, 0),
        (20, 23, 0),
        (24, 26, 1),
    ]
    assert bars[0].label == "0–3"
