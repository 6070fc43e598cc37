"""Mastery per competency: the rule, the progress page's chart, table, list and calibration, and practice sets."""

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from markupsafe import escape
from sqlalchemy import select

from app.config import ConfigError, from_environment
from app.models import ItemResponse, QuizAttempt
from app.services import mastery, summaries
from app.services.mastery import Answer, Rule
from tests.helpers import answers_by_grade

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def history(*marks: str, refs=("c",), start: int = 0) -> list[Answer]:
    """Answers one minute apart: R right, W wrong, H harmful (wrong), on the competencies `refs`."""
    return [
        Answer(
            tuple(refs),
            mark == "R",
            "harmful" if mark == "H" else ("best" if mark == "R" else "unhelpful"),
            T0 + timedelta(minutes=start + n),
        )
        for n, mark in enumerate(marks)
    ]


def standing(*marks: str, rule: Rule | None = None) -> mastery.Standing:
    """The standing on competency "c" after these answers."""
    return mastery.standings(history(*marks), rule or Rule())["c"]


# --- the rule, pure


def test_no_answers_is_not_started():
    assert mastery.standings([]) == {}
    assert mastery.not_started("c").state == "not-started"
    assert mastery.not_started("c").label == "Not started"


@pytest.mark.parametrize(
    "marks, state, correct, counted",
    [
        ("R", "learning", 1, 1),
        ("RR", "learning", 2, 2),  # fewer than 5 answers: still 3 right needed
        ("RRR", "mastered", 3, 3),  # fewer than 5 answers, 3 right
        ("WWRRR", "mastered", 3, 5),  # exactly 3 of 5
        ("WWWRR", "learning", 2, 5),
        ("RRRWWW", "learning", 2, 5),  # the oldest right answer left the window
        ("WRRRRR", "mastered", 5, 5),
        ("RRRRRWWW", "learning", 2, 5),
    ],
)
def test_three_right_of_the_last_five_is_mastery(marks, state, correct, counted):
    s = standing(*marks)
    assert (s.state, s.correct_in_window, s.answers_in_window, s.total) == (state, correct, counted, len(marks))
    assert s.blocked_since is None


def test_a_harmful_answer_then_a_right_one_unblocks():
    s = standing(*"RRHR")
    assert s.state == "mastered" and s.harmful == 1 and s.blocked_since is None


def test_right_answers_then_a_harmful_one_block_mastery_despite_the_count():
    s = standing(*"RRRRH")
    assert s.correct_in_window == 4 and s.state == "blocked"
    assert s.blocked_since == T0 + timedelta(minutes=4)
    assert s.label == "Blocked by a harmful reply"


def test_a_harmful_answer_outside_the_window_still_blocks_until_a_later_right_answer():
    s = standing(*"HWWWWW")
    assert s.answers_in_window == 5 and s.state == "blocked" and s.blocked_since == T0
    assert standing(*"HWWWWWR").state == "learning"
    assert standing(*"HWWWWRRR").state == "mastered"


def test_the_latest_of_several_harmful_answers_is_the_one_shown():
    s = standing(*"HRRH")
    assert s.state == "blocked" and s.blocked_since == T0 + timedelta(minutes=3) and s.harmful == 2


def test_one_answer_counts_for_each_of_its_competencies_once():
    answers = history("R", "R", refs=("a", "b", "a")) + history("H", refs=("a", "b"), start=2)
    answers += history("R", refs=("a",), start=3)
    result = mastery.standings(answers)
    assert result["a"].total == 4 and result["a"].state == "mastered"  # the later right answer unblocks a
    assert result["b"].total == 3 and result["b"].state == "blocked"  # ... but not b


def test_answers_are_taken_in_time_order_and_equal_times_in_the_order_given():
    shuffled = list(reversed(history(*"HRRR")))  # given newest first: sorted back to H, R, R, R
    assert mastery.standings(shuffled)["c"].state == "mastered"
    same_time = [Answer(("c",), True, "best", T0), Answer(("c",), False, "harmful", T0)]
    assert mastery.standings(same_time)["c"].state == "blocked"  # the harmful one was recorded last


def test_the_rule_can_be_configured():
    assert standing(*"WRR", rule=Rule(window=3, required=2)).state == "mastered"
    assert standing(*"RRRRW", rule=Rule(window=5, required=5)).state == "learning"
    with pytest.raises(ValueError):
        Rule(window=3, required=4)
    assert "3 of your last 5" in Rule().text


def test_mastery_settings_come_from_the_environment_and_bad_values_are_refused(tmp_path, monkeypatch):
    settings = from_environment(tmp_path, {"SECRET_KEY": "x"})
    assert (settings["MASTERY_WINDOW"], settings["MASTERY_REQUIRED"]) == (5, 3)
    monkeypatch.setenv("ALLIANCE_MASTERY_WINDOW", "8")
    monkeypatch.setenv("ALLIANCE_MASTERY_REQUIRED", "6")
    assert mastery.rule_from(from_environment(tmp_path, {"SECRET_KEY": "x"})) == Rule(8, 6)
    for window, required in (("4", "6"), ("three", "2"), ("30", "3"), ("5", "0")):
        monkeypatch.setenv("ALLIANCE_MASTERY_WINDOW", window)
        monkeypatch.setenv("ALLIANCE_MASTERY_REQUIRED", required)
        with pytest.raises(ConfigError, match="ALLIANCE_MASTERY"):
            from_environment(tmp_path, {"SECRET_KEY": "x"})


def test_practice_items_never_answered_come_first_then_those_last_answered_wrongly():
    keys = [f"q/{n}" for n in range(1, 9)]
    latest = {
        "q/1": (True, T0),
        "q/2": (False, T0 + timedelta(minutes=5)),
        "q/3": (False, T0 + timedelta(minutes=1)),
        "q/5": (True, T0 - timedelta(minutes=1)),
    }
    assert mastery.choose_items(keys, latest) == ["q/4", "q/6", "q/7", "q/8", "q/3", "q/2"]
    assert mastery.choose_items(keys, latest, limit=8)[-2:] == ["q/5", "q/1"]  # right ones last, oldest first
    assert mastery.choose_items(keys, latest) == mastery.choose_items(keys, dict(latest))  # deterministic


def test_calibration_counts_only_answers_given_with_a_confidence():
    answers = [
        Answer(("c",), True, "best", T0, 3),
        Answer(("c",), False, "unhelpful", T0, 3),
        Answer(("c",), True, "best", T0, 1),
        Answer(("c",), True, "best", T0, None),
    ]
    levels = {row.level: (row.answered, row.correct) for row in mastery.calibration(answers)}
    assert levels == {1: (1, 1), 2: (0, 0), 3: (2, 1)}


# --- the progress page


@pytest.fixture
def student(auth):
    """A signed-in student."""
    return auth.as_role("student")


class Recorder:
    """Writes graded answers straight into a practice attempt, so a test controls every field."""

    def __init__(self, db, user_id: int):
        self.db, self.user_id, self.position = db, user_id, 0
        self.attempt = QuizAttempt(
            user_id=user_id, quiz_ref="practice/test", module_ref="", content_version="v", max_score=0, mode="practice"
        )
        db.session.add(self.attempt)
        db.session.flush()

    def add(
        self, refs, is_correct: bool, grade: str | None = None, at=None, confidence=None, quiz_ref="q", item_ref=None
    ):
        """One answer counting for the competencies `refs`."""
        self.position += 1
        self.db.session.add(
            ItemResponse(
                attempt_id=self.attempt.id,
                user_id=self.user_id,
                quiz_ref=quiz_ref,
                item_ref=item_ref or f"i{self.position}",
                item_type="scenario",
                item_version="v",
                position=self.position,
                answer="a",
                grade=grade or ("best" if is_correct else "unhelpful"),
                score=2 if is_correct else 0,
                max_score=2,
                is_correct=is_correct,
                competency_refs=list(refs),
                confidence=confidence,
                answered_at=at or T0 + timedelta(minutes=self.position),
            )
        )

    def commit(self) -> None:
        """Store the answers, with the summaries the app keeps as answers are recorded."""
        summaries.rebuild(self.user_id)
        self.db.session.commit()


def visible_text(page: str) -> str:
    """The page's text as a person reads it: tags, the SVG's markup and attribute values dropped."""
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def table_row(page: str, name: str) -> list[str]:
    """The cells of the mastery table's row for the competency called `name`, as text."""
    table = page.split('id="mastery-table-caption"')[1].split("</table>")[0]
    row = re.search(rf"<tr>\s*<th scope=\"row\">{re.escape(str(escape(name)))}</th>(.*?)</tr>", table, re.S)
    assert row, f"no row for {name}"
    return [" ".join(visible_text(cell).split()) for cell in re.findall(r"<td>(.*?)</td>", row.group(1), re.S)]


def test_progress_page_without_answers_shows_every_competency_not_started(client, student, catalog):
    page = client.get("/learn/progress").text
    svg = re.search(r"<svg class=\"chart mastery-chart\".*?</svg>", page, re.S).group(0)
    assert 'role="img"' in svg and 'aria-labelledby="mastery-chart-title mastery-chart-desc"' in svg
    assert '<title id="mastery-chart-title">Right answers in your last 5 per competency</title>' in svg
    assert '<desc id="mastery-chart-desc">36 competencies in 7 areas.' in svg
    assert svg.count("no answers yet") == len(catalog.competencies)
    for competency in catalog.competencies:
        assert table_row(page, competency.name) == [
            "– no answers",
            "Not started",
            "none answered yet",
            "0",
            f"0 of {len(catalog.lessons_teaching(competency.id))}",
        ]
        assert f'href="/learn/practice/competencies/{competency.id}"' in page
    assert "Not started (36)" in page
    assert "You have no answers with a confidence yet." in page
    assert "You have not written a reflection yet." in page
    assert "A competency is mastered when at least 3 of your last 5 answers" in page
    assert page.count("<h1") == 1


def test_the_chart_table_and_list_give_the_rules_numbers_and_states_in_words(client, db, student, catalog):
    empathy, goals, bond, listening = (
        catalog.competency(c) for c in ("comm.empathy", "bordin.goals", "bordin.bond", "comm.active-listening")
    )
    record = Recorder(db, student.id)
    for right in (True, False, True, False, True):  # 3 of 5: mastered
        record.add([empathy.id, listening.id], right)
    record.add([goals.id], True)
    record.add([goals.id, bond.id], False, grade="harmful")  # answer 7, at 09:07
    record.add([bond.id], True)  # a later right answer on the bond only
    record.add([listening.id], False)
    record.commit()
    answers = db.session.execute(
        select(ItemResponse.competency_refs, ItemResponse.is_correct, ItemResponse.grade, ItemResponse.answered_at)
    ).all()
    expected = mastery.standings([Answer(tuple(r), c, g, a) for r, c, g, a in answers])
    page = client.get("/learn/progress").text

    assert table_row(page, empathy.name) == [
        "3 of 5",
        "Mastered",
        "3 of 5 (60%)",
        "0",
        table_row(page, empathy.name)[4],
    ]
    assert table_row(page, goals.name)[:4] == [
        "1 of 2",
        "Blocked by a harmful reply since 1 Mar 2025, 09:07 UTC",
        "1 of 2 (50%)",
        "1",
    ]
    assert table_row(page, bond.name)[:2] == ["1 of 2", "Learning"]
    assert table_row(page, listening.name)[:2] == ["2 of 5", "Learning"]  # the window moved past a right answer
    for ref, s in expected.items():
        name = catalog.competency(ref).name
        assert table_row(page, name)[0] == f"{s.correct_in_window} of {s.answers_in_window}"
        assert f"{escape(name)}</text>" in page  # the chart names it ...
    svg = re.search(r"<svg class=\"chart mastery-chart\".*?</svg>", page, re.S).group(0)
    assert "3 of 5 · Mastered" in svg and "1 of 2 · Blocked" in svg and "2 of 5 · Learning" in svg
    assert 'fill="url(#mastery-chart-hatch)"' in svg  # the blocked bar is hatched, not only coloured
    listed = visible_text(page.split('id="practise-heading"')[1])
    assert "Blocked by a harmful reply (1)" in listed and "Mastered (1)" in listed and "Learning (2)" in listed
    assert (
        f"{goals.name}: blocked by a harmful reply, 1 of your last 2 right; a harmful reply on 1 Mar 2025, 09:07 UTC blocks it until your next right answer."
        in " ".join(listed.split())
    )
    assert not re.search(r"\b(comm|bordin|sdm|pcc|org|ta|practice)\.[a-z-]+", visible_text(page)), "a raw id is shown"


def test_progress_page_runs_the_same_queries_for_no_answers_and_for_500(client, db, student, count_queries):
    def measured() -> int:
        with count_queries() as counted:
            assert client.get("/learn/progress").status_code == 200
        return counted.count

    empty = measured()
    record = Recorder(db, student.id)
    for n in range(500):
        record.add(["comm.empathy", "bordin.goals"], n % 3 != 0, confidence=1 + n % 3)
    record.commit()
    # The user, lesson and quiz summaries, answer summaries, observations, reflections.
    assert measured() == empty == 5


def test_answers_given_in_a_quiz_show_as_mastery_and_calibration(client, db, student, catalog, quiz):
    data = answers_by_grade(quiz, "best")
    for item in quiz.items:
        data[f"confidence-{item.id}"] = "3"
    attempt = client.post(f"/learn/quizzes/{quiz.id}/attempts").location
    assert client.post(attempt, data=data).status_code == 302
    page = client.get("/learn/progress").text
    ref = quiz.items[0].competencies[0]
    tagged = sum(1 for item in quiz.items if ref in item.competencies)
    assert table_row(page, catalog.competency(ref).name)[0] == f"{min(tagged, 5)} of {min(tagged, 5)}"
    calibration = page.split('id="calibration-heading"')[1].split("</section>")[0]
    very_sure = re.search(r"<th scope=\"row\">Very sure</th>(.*?)</tr>", calibration, re.S).group(1)
    cells = [visible_text(c).strip() for c in re.findall(r"<td>(.*?)</td>", very_sure, re.S)]
    assert cells[:3] == [str(len(quiz.items)), str(len(quiz.items)), "100%"]
    assert "Well judged" in cells[4]


def test_another_learners_answers_never_count(client, db, auth, catalog):
    alice = auth.create("student", email="alice@example.org")
    record = Recorder(db, alice.id)
    for _ in range(3):
        record.add(["comm.empathy"], True, confidence=3)
    record.commit()
    auth.as_role("student")
    page = client.get("/learn/progress").text
    assert table_row(page, catalog.competency("comm.empathy").name)[:2] == ["– no answers", "Not started"]
    assert "You have no answers with a confidence yet." in page


# --- the practise page


def test_practise_page_states_the_competency_standing_rule_and_set(client, db, student, catalog):
    competency = catalog.competency("comm.empathy")
    record = Recorder(db, student.id)
    record.add([competency.id], True)
    record.add([competency.id], False, grade="harmful", at=datetime(2025, 4, 1, 8, 0, tzinfo=UTC))
    record.commit()
    page = client.get(f"/learn/practice/competencies/{competency.id}").text
    assert f"<h1>Practise: {escape(competency.name)}</h1>" in page
    assert "Area: Communication skills" in page
    text = " ".join(visible_text(page).split())
    assert "Blocked by a harmful reply. You answered 1 of your last 2 answers on it rightly (1 of 2 in all)." in text
    assert "A harmful reply on 1 Apr 2025, 08:00 UTC blocks mastery" in text
    total = len(mastery.practice_items(catalog, competency.id))
    assert f"6 items, chosen from the {total} quiz items that assess this competency" in text
    assert "A competency is mastered when at least 3 of your last 5 answers" in text
    assert re.search(r'<form method="post" action="/learn/practice/competencies/comm.empathy">', page)


def test_starting_a_practice_set_prefers_unanswered_and_wrongly_answered_items(client, db, student, catalog):
    competency = catalog.competency("comm.empathy")
    tagged = mastery.practice_items(catalog, competency.id)
    assert len(tagged) > 8
    record = Recorder(db, student.id)
    # Every item answered rightly but the last two, answered wrongly: those two come first.
    for quiz_id, item_id in tagged:
        wrong = (quiz_id, item_id) in tagged[-2:]
        record.add(catalog.quiz(quiz_id).item(item_id).competencies, not wrong, quiz_ref=quiz_id, item_ref=item_id)
    record.commit()
    response = client.post(f"/learn/practice/competencies/{competency.id}")
    assert response.status_code == 302
    attempt_id = int(re.fullmatch(r"/learn/practice/attempts/(\d+)", response.location).group(1))
    attempt = db.session.get(QuizAttempt, attempt_id)
    keys = [f"{q}/{i}" for q, i in tagged]
    assert attempt.mode == "practice" and attempt.quiz_ref == f"practice/competency/{competency.id}"
    assert attempt.item_refs == keys[-2:] + keys[:4]  # the wrong ones, then the right ones answered longest ago
    assert client.post(f"/learn/practice/competencies/{competency.id}").location == response.location  # resumed
    assert client.get(response.location).status_code == 200


def test_unknown_competency_is_a_friendly_404(client, student):
    for method in ("GET", "POST"):
        response = client.open("/learn/practice/competencies/no.such-thing", method=method)
        assert response.status_code == 404
        assert "There is no competency at this address." in response.text


def test_a_competency_without_items_says_so_and_a_forged_start_is_refused(client, db, student, monkeypatch):
    monkeypatch.setattr(mastery, "practice_items", lambda catalog, competency_id, given=(): [])
    page = client.get("/learn/practice/competencies/comm.empathy").text
    assert "No quiz items assess this competency yet, so there is nothing to practise here." in page
    assert "Start practising" not in page
    forged = client.post("/learn/practice/competencies/comm.empathy")
    assert forged.status_code == 422
    assert "No quiz items assess this competency yet, so there is no practice set to start." in forged.text
    assert db.session.scalar(select(QuizAttempt.id)) is None
