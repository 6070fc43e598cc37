"""Results people can read: certainty-based marking shown as Moodle shows it, an overview of the answers at the top,
the next step after a pass, patient names in practice and review summaries, and a learner's words throughout."""

import re

import pytest
from fsrs import Rating
from markupsafe import escape
from sqlalchemy import update

from app.content import certainty
from app.models import QuizProgress, ReviewCard
from app.models.types import utcnow
from app.services import cohorts, courses, events, practice, progress, quizzes, results, review
from tests.helpers import answers_by_grade

MINUS = "\u2212"


@pytest.fixture
def student(auth):
    """A signed-in student."""
    return auth.as_role("student")


@pytest.fixture
def cbm_quiz(catalog):
    """The shipped quiz marked by certainty."""
    return next(q for q in catalog.quizzes if q.marking == "certainty")


def submit(client, quiz, data: dict) -> str:
    """Start an attempt through the quiz page, send the form, and return the results page's text."""
    url = client.post(f"/learn/quizzes/{quiz.id}/attempts").location
    response = client.post(url, data=data)
    assert response.status_code == 302, response.text
    page = client.get(response.location)
    assert page.status_code == 200
    return page.text


def answer(item, right: bool) -> dict:
    """Form data for one item: its key, or a wrong answer worth nothing (a scenario's unhelpful or harmful reply)."""
    handler = item.handler
    if right:
        return handler.form_data(item, handler.right_answer(item))
    option = next(o for o in item.options if o.score == 0)
    return handler.form_data(item, option.id)


def mixed(quiz, wrong: set[int], right_at: int, wrong_at: int) -> dict:
    """Every item answered, the scenario items numbered in `wrong` wrongly; confidences by rightness."""
    data = {}
    for number, item in enumerate(quiz.items):
        is_wrong = number in wrong
        data.update(answer(item, not is_wrong))
        data[f"confidence-{item.id}"] = str(wrong_at if is_wrong else right_at)
    return data


def figure(page: str, name: str) -> str:
    """The value of one of the certainty-based figures, as shown in bold."""
    found = re.search(rf"<dt>{re.escape(name)}</dt>\s*<dd><strong>([^<]+)</strong>", page)
    assert found, f"no figure {name!r} on the page"
    return found.group(1)


def section(page: str, start: str) -> str:
    """The HTML of the section or element that begins with `start`, up to its closing tag."""
    found = re.search(re.escape(start) + r".*?</section>", page, re.S)
    assert found, f"nothing starting {start!r}"
    return found.group(0)


# --- the figures, as pure rules (Moodle's qbehaviour_deferredcbm_type::calculate_bonus)


@pytest.mark.parametrize(
    ("accuracy", "average", "bonus"),
    [
        (1.0, 3.0, 0.0),  # all right at "Very sure": nothing to gain
        (1.0, 1.0, -0.2),  # all right at "Not sure": under-confidence costs
        (0.75, 0.0, -0.1),  # right three times in four; the best single level (fairly sure) would average 1
        (0.0, -6.0, -0.6),  # all wrong at "Very sure"
        (0.5, 1.0, 0.05),  # right half the time, sure only when right: a bonus over "not sure" throughout (0.5)
    ],
)
def test_the_bonus_is_a_tenth_of_the_average_beyond_the_best_single_level(accuracy, average, bonus):
    assert certainty.bonus(average, accuracy) == pytest.approx(bonus)
    figures = certainty.Figures(accuracy, average)
    assert figures.with_bonus == pytest.approx(accuracy + bonus)


def test_figures_are_per_point_of_the_items():
    figures = certainty.figures(raw=18, marked=30, weight=24)
    assert (figures.accuracy, figures.average) == (0.75, 1.25)
    assert certainty.figures(0, 0, 0) == certainty.Figures(0.0, 0.0)


@pytest.mark.parametrize(
    ("value", "shown"),
    [(1.0, "100%"), (0.725, "72.5%"), (0.0, "0%"), (0.0004, "less than 0.1%"), (0.99996, "more than 99.9%")],
)
def test_a_share_is_never_rounded_to_a_bare_0_or_100_percent(value, shown):
    assert certainty.share(value) == shown


def test_numbers_carry_a_true_minus_sign_and_no_needless_decimals():
    assert certainty.signed(6, 2) == "+6" and certainty.signed(-12, 2) == f"{MINUS}12"
    assert certainty.signed(1.5, 2) == "+1.5" and certainty.signed(0.0) == "0"
    assert certainty.signed(-4.25, 1, "%") == f"{MINUS}4.2%"
    assert certainty.average_text(-1.38) == f"{MINUS}1.38" and certainty.average_text(0.7) == "0.70"
    assert certainty.average_text(-0.001) == "0.00"  # never "−0.00"


def test_a_stored_percent_is_described_under_its_marking():
    assert certainty.describe(-138, "certainty") == f"average mark {MINUS}1.38 ({MINUS}6 to 3)"
    assert certainty.describe(300, "certainty") == "average mark 3.00 (−6 to 3)"
    assert certainty.describe(70.4, "standard") == "70%"
    assert certainty.describe(None, "certainty") == ""


def test_a_small_miscalibration_is_told_apart_from_a_clear_one():
    few = {row.level: row for row in certainty.calibration([(3, True), (3, False)])}
    many = {row.level: row for row in certainty.calibration([(3, True)] * 4 + [(3, False)] * 6)}
    assert few[3].verdict == many[3].verdict == "over-confident"
    assert few[3].is_slight and not many[3].is_slight


# --- an assessed quiz under certainty-based marking


def test_a_cbm_quiz_shows_accuracy_the_average_mark_and_the_bonus_never_a_bare_0_percent(client, student, cbm_quiz):
    # Right three times in four at "Fairly sure", wrong at "Very sure": the marks cancel out. The old page said
    # "Your certainty-based mark is 0%" beside "Accuracy 75%".
    scenarios = [n for n, item in enumerate(cbm_quiz.items) if item.type == "scenario"]
    wrong = set(scenarios[: len(cbm_quiz.items) // 4])
    assert len(cbm_quiz.items) == 4 * len(wrong)
    page = submit(client, cbm_quiz, mixed(cbm_quiz, wrong, right_at=2, wrong_at=3))
    assert figure(page, "Accuracy") == "75%"
    assert figure(page, "Average certainty-based mark") == "0.00"
    assert "Per item, on a scale from −6 to 3" in page
    assert figure(page, "Certainty bonus") == f"{MINUS}10%"  # 0.1 × (0 − 1)
    assert figure(page, "Accuracy with the bonus") == "65%"
    assert "<strong>Not passed</strong>" in page
    assert "at least 0.70 per item (the pass mark of 70%), and you averaged 0.00." in page
    assert "<strong>0%</strong>" not in page and "Your certainty-based mark is" not in page


def test_a_failed_cbm_quiz_never_shows_a_negative_percentage_grade(client, student, cbm_quiz):
    page = submit(client, cbm_quiz, answers_by_grade(cbm_quiz, "harmful", fallback="unhelpful", confidence=3))
    assert figure(page, "Average certainty-based mark") == f"{MINUS}6.00"
    assert figure(page, "Accuracy with the bonus") == f"{MINUS}60%"
    assert "It is below zero because mistakes you were sure of cost more than your right answers earned." in page
    assert "<strong>Not passed</strong>" in page
    assert not re.search(r"[-−]600%", page)
    # The retake leads; there is no next module to go on to.
    assert '<button type="submit" class="button">Retake the quiz</button>' in page
    assert "Next module" not in page


def test_a_passed_cbm_quiz_says_so_with_its_average(client, student, cbm_quiz):
    page = submit(client, cbm_quiz, answers_by_grade(cbm_quiz, "best", confidence=3))
    assert "<strong>Passed</strong>: you needed an average certainty-based mark of at least 0.70" in page
    assert figure(page, "Average certainty-based mark") == "3.00"
    assert figure(page, "Certainty bonus") == "0%"
    assert "neither added to your accuracy nor took anything off it" in page
    assert "300%" not in page


def test_each_card_keeps_its_confidence_and_mark_inside_it(client, student, cbm_quiz):
    page = submit(client, cbm_quiz, answers_by_grade(cbm_quiz, "best", confidence=3))
    for item in cbm_quiz.items:
        card = card_of(page, item.id)
        assert "You said you were <strong>very sure</strong>: your 2 of 2 points became a certainty-based mark of" in card
        assert "<strong>+6</strong>" in card
    assert page.count("You said you were") == len(cbm_quiz.items)


def card_of(page: str, item_id: str) -> str:
    """The result card of one item."""
    found = re.search(rf'<section class="item result[^"]*" id="item-{re.escape(item_id)}".*?</section>', page, re.S)
    assert found, f"no card for {item_id}"
    return found.group(0)


def test_the_chosen_replys_card_holds_how_sure_the_learner_was(client, student, quiz):
    page = submit(client, quiz, answers_by_grade(quiz, "best", confidence=1))
    for item in quiz.items:
        assert "You said you were <strong>not sure</strong>." in card_of(page, item.id)
    # Once per card, and nowhere outside the cards.
    assert page.count("You said you were") == len(quiz.items)


# --- the overview at the top


def test_the_overview_lists_every_item_by_patient_with_a_link_to_its_card(client, student, quiz):
    page = submit(client, quiz, answers_by_grade(quiz, "best", confidence=2))
    overview = section(page, '<section aria-labelledby="overview-heading">')
    assert page.index("overview-heading") < page.index('class="item result')
    links = re.findall(r'<a href="#(item-[^"]+)">(\d+)\. ([^<]+)</a>', overview)
    assert [int(number) for _, number, _ in links] == list(range(1, len(quiz.items) + 1))
    for (anchor, _, title), item in zip(links, quiz.items, strict=True):
        assert f'id="{anchor}"' in page
        assert title == str(escape(results.item_title(item)))
    scenario = next(item for item in quiz.items if item.type == "scenario")
    assert item_name(scenario) in overview
    assert "What do you say?" not in overview
    # Grade, points and the confidence, in columns; no certainty-based mark on a standard quiz.
    assert "<th scope=\"col\">You said</th>" in overview and "Fairly sure" in overview
    assert "<th scope=\"col\">Mark</th>" not in overview


def item_name(item) -> str:
    """The patient's name, as the vignette starts."""
    return item.vignette.patient.split(",")[0]


def test_without_any_confidence_there_is_no_calibration_and_no_confidence_column(db, client, student, quiz):
    # Confidence is optional where the marking does not need it: an attempt recorded without any.
    attempt = quizzes.start_attempt(student.id, quiz)
    answers = quizzes.read_answers(quiz, answers_by_grade(quiz, "best", confidence=None))
    quizzes.submit_attempt(student.id, attempt, quiz, answers.given, {})
    db.session.commit()
    page = client.get(f"/learn/attempts/{attempt.id}/results").text
    assert "How well you judged your answers" not in page
    assert "<th scope=\"col\">You said</th>" not in page
    assert "You said you were" not in page
    assert "You scored <strong>100%</strong>" in page


def test_the_calibration_table_uses_a_learners_words(client, student, quiz):
    page = submit(client, quiz, answers_by_grade(quiz, "best", confidence=1))
    assert "How well you judged your answers" in page
    assert "pays best" not in page.lower() and "Under-confident" in page


# --- the way on after a pass


def test_after_a_pass_the_next_module_leads_and_the_retake_is_secondary(client, student, catalog, quiz):
    page = submit(client, quiz, answers_by_grade(quiz, "best"))
    here = [m.id for m in catalog.modules].index(quiz.module_id)
    following = catalog.modules[here + 1]
    actions = re.search(r'<div class="actions">.*?</div>', page, re.S).group(0)
    assert re.search(
        rf'<a class="button" href="/learn/modules/{following.id}">Next module: {re.escape(str(escape(following.title)))}</a>',
        actions,
    )
    assert '<button type="submit" class="button secondary">Retake the quiz</button>' in actions
    assert actions.index("Next module") < actions.index("Retake the quiz")


def test_after_a_pass_the_next_item_of_an_assigned_course_leads(db, client, auth, student, catalog, quiz):
    educator = auth.create("educator", email="teacher@example.org")
    course = courses.create(educator, "Foundations", "Start here.")
    courses.add_item(catalog, course, f"quiz:{quiz.id}")
    conversation = catalog.conversations[-1]
    courses.add_item(catalog, course, f"conversation:{conversation.id}")
    courses.set_published(course, True)
    cohort = cohorts.create(educator, "Ward 7")
    cohorts.add_member(cohort, student.id, "code")
    cohorts.assign(cohort, course, educator, None, None)
    db.session.commit()
    page = submit(client, quiz, answers_by_grade(quiz, "best"))
    assert (
        f'<a class="button" href="/learn/conversations/{conversation.id}">Next in your course: '
        f"{escape(conversation.title)}</a>" in page
    )


def test_when_everything_is_done_there_is_no_next_step(db, student, catalog, quiz):
    for module in catalog.modules:
        for lesson in module.lessons:
            progress.complete_lesson(student.id, module, lesson)
        for other in catalog.quizzes_for(module.id):
            attempt = quizzes.start_attempt(student.id, other)
            answers = quizzes.read_answers(other, answers_by_grade(other, "best"))
            quizzes.submit_attempt(student.id, attempt, other, answers.given, answers.confidence)
    db.session.commit()
    assert results.next_after(student.id, catalog, quiz, utcnow().date()) is None


def test_after_the_last_pass_the_way_on_is_the_progress_page(db, client, student, catalog):
    last = catalog.quizzes_for(catalog.modules[-1].id)[0]
    for module in catalog.modules:
        for lesson in module.lessons:
            progress.complete_lesson(student.id, module, lesson)
        for other in catalog.quizzes_for(module.id):
            if other.id != last.id:
                attempt = quizzes.start_attempt(student.id, other)
                answers = quizzes.read_answers(other, answers_by_grade(other, "best"))
                quizzes.submit_attempt(student.id, attempt, other, answers.given, answers.confidence)
    db.session.commit()
    page = submit(client, last, answers_by_grade(last, "best"))
    assert '<a class="button" href="/learn/progress">See your progress: every module is done</a>' in page


def test_the_results_page_reads_a_fixed_number_of_queries_whatever_the_history(client, student, quiz, count_queries):
    url = client.post(f"/learn/quizzes/{quiz.id}/attempts").location
    client.post(url, data=answers_by_grade(quiz, "best"))
    with count_queries() as first:
        assert client.get(f"{url}/results").status_code == 200
    for _ in range(3):
        again = client.post(f"/learn/quizzes/{quiz.id}/attempts").location
        client.post(again, data=answers_by_grade(quiz, "best"))
    with count_queries() as later:
        assert client.get(f"{url}/results").status_code == 200
    assert first.count == later.count
    # The user, the attempt, its responses, the learner's reflection; after a pass, the way on: assigned courses
    # and the modules' summaries.
    assert later.count <= 9, [s.split("\n")[0][:60] for s in later.statements]


# --- practice and review summaries


def practise_all(client, quiz, confidence: int = 2) -> str:
    """Practise every item of a quiz rightly; the summary page's text."""
    url = client.post(f"/learn/quizzes/{quiz.id}/practice").location
    for position, item in enumerate(quiz.items, start=1):
        data = {"position": str(position), **answer(item, True), f"confidence-{item.id}": str(confidence)}
        assert client.post(url, data=data).status_code == 302
    return client.get(url).text


def test_a_practice_summary_names_each_patient_instead_of_what_do_you_say(client, student, quiz):
    page = practise_all(client, quiz)
    overview = section(page, '<section aria-labelledby="overview-heading">')
    for position, item in enumerate(quiz.items, start=1):
        assert f">{position}. {escape(results.item_title(item))}</a>" in overview
    assert "What do you say?" not in page
    assert f"{len(quiz.items)} of {len(quiz.items)} items right" in page
    # Each row leads to that item's feedback page.
    assert 'href="/learn/practice/attempts/' in overview and "/items/1\"" in overview


def test_a_cbm_practice_summary_shows_the_figures(client, student, cbm_quiz):
    page = practise_all(client, cbm_quiz, confidence=2)
    assert figure(page, "Average certainty-based mark") == "2.00"
    assert figure(page, "Accuracy") == "100%"
    assert figure(page, "Certainty bonus") == f"{MINUS}10%"  # right every time: "Very sure" would average 3
    assert "200%" not in page


def test_a_review_session_summary_names_each_patient(db, client, student, catalog, quiz):
    items = [item for item in quiz.items if item.type == "scenario"][:3]
    attempt = practice.start_set(student.id, events.REVIEW_SET, [f"{quiz.id}/{i.id}" for i in items], catalog)
    db.session.commit()
    url = f"/learn/practice/attempts/{attempt.id}"
    for position, item in enumerate(items, start=1):
        data = {"position": str(position), **answer(item, position != 2), f"confidence-{item.id}": "1"}
        assert client.post(url, data=data).status_code == 302
    page = client.get(url).text
    assert "<h1>Review session: summary</h1>" in page
    for item in items:
        assert item_name(item) in page
    assert "What do you say?" not in page
    assert "2 of 3 items right" in page


def test_the_review_page_names_patients_and_never_shows_the_schedulers_ratings(db, client, student, quiz):
    scenario = next(item for item in quiz.items if item.type == "scenario")
    review.record_answers(student.id, [review.Answered(quiz.id, scenario.id, False, 2)], utcnow())
    db.session.execute(update(ReviewCard).values(due_at=utcnow()))
    db.session.commit()
    page = client.get("/learn/review").text
    assert f"<h3>{escape(results.item_title(scenario))}</h3>" in page
    for rating in Rating:
        assert f">{rating.name}<" not in page
    # Times a validator accepts: whole seconds in UTC, no microseconds.
    for stamp in re.findall(r'<time datetime="([^"]+)"', page):
        assert re.fullmatch(r"\d{4}-\d\d-\d\d(T\d\d:\d\d:\d\dZ)?", stamp), stamp
    # The day-by-day table follows its chart's figure rather than sitting after its caption inside it.
    figure_html = re.search(r'<figure class="chart-figure".*?</figure>', page, re.S).group(0)
    assert "<table" not in figure_html


# --- the educator's matrix


def test_the_matrix_writes_a_cbm_best_score_as_an_average_mark(db, client, auth, catalog, cbm_quiz):
    educator = auth.create("educator", email="teacher@example.org")
    learner = auth.create("student", email="learner@example.org", name="Lee")
    course = courses.create(educator, "Evidence", "Read the studies well.")
    courses.add_item(catalog, course, f"quiz:{cbm_quiz.id}")
    courses.set_published(course, True)
    cohort = cohorts.create(educator, "Ward 7")
    cohorts.add_member(cohort, learner.id, "code")
    cohorts.assign(cohort, course, educator, None, None)
    attempt = quizzes.start_attempt(learner.id, cbm_quiz)
    answers = quizzes.read_answers(cbm_quiz, answers_by_grade(cbm_quiz, "harmful", fallback="unhelpful", confidence=2))
    quizzes.submit_attempt(learner.id, attempt, cbm_quiz, answers.given, answers.confidence)
    db.session.commit()
    # A best of -138% (the score Moodle would show as a grade) reads as an average mark of -1.38.
    db.session.execute(update(QuizProgress).values(best_percent=-138.0))
    db.session.commit()
    auth.sign_in("teacher@example.org")
    page = client.get(f"/teach/cohorts/{cohort.id}/courses/{course.id}/report").text
    assert f"best average mark {MINUS}1.38 ({MINUS}6 to 3), 1 attempt" in page
    assert "138%" not in page
