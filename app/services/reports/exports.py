"""Every response of a cohort, row by row, for a spreadsheet (streamed: see app.teach.reports._csv)."""

import json
from collections.abc import Iterable

from sqlalchemy import Text, cast, select

from app.content import Catalog
from app.extensions import db
from app.models import (
    ItemResponse,
    QuizAttempt,
    User,
)
from app.services.cohorts import member_ids
from app.services.reports.scope import assigned_work
from app.services.reports.text import activity_kind, activity_title, answer_text, grade_label, item_label, timestamp

# --- 5. every response of the cohort, for a spreadsheet

ATTEMPT_CSV_HEADER = [
    "Student",
    "Email",
    "Activity",
    "Kind",
    "Attempt",
    "Started at (UTC)",
    "Submitted at (UTC)",
    "Item",
    "Answer",
    "Grade",
    "Score",
    "Max",
]


#: Rows read per round trip while the CSV is written.
FETCH_ROWS = 1000
#: Distinct answers whose text is kept while a CSV is written (emptied past this: memory stays flat).
MAX_KEPT_ANSWERS = 10_000


def attempt_csv_rows(catalog: Catalog, cohort_id: int) -> Iterable[list]:
    """One row per response of every marked attempt at the cohort's assigned work by its current students, read a
    batch at a time: two statements, and memory flat whatever the number of responses."""
    yield ATTEMPT_CSV_HEADER
    seen = assigned_work(cohort_id).attempts()
    query = (
        select(
            User.display_name,
            User.email,
            QuizAttempt.quiz_ref.label("set_ref"),
            QuizAttempt.mode,
            QuizAttempt.id,
            QuizAttempt.started_at,
            QuizAttempt.submitted_at,
            ItemResponse.quiz_ref,
            ItemResponse.position,
            ItemResponse.item_ref,
            # As stored (JSON text): decoded only the first time each distinct answer is met.
            cast(ItemResponse.answer, Text).label("answer"),
            ItemResponse.grade,
            ItemResponse.score,
            ItemResponse.max_score,
        )
        .join(QuizAttempt, QuizAttempt.id == ItemResponse.attempt_id)
        .join(User, User.id == ItemResponse.user_id)
        .where(ItemResponse.user_id.in_(member_ids(cohort_id)), seen)
        .order_by(User.display_name, User.id, QuizAttempt.started_at, QuizAttempt.id, ItemResponse.position)
    )
    # Answers repeat across a cohort: each item's label and each distinct answer's text are worked out once.
    labels: dict[tuple[str, str, int], str] = {}
    activities: dict[tuple[str, str], tuple[str, str]] = {}
    texts: dict[tuple[str, str, str], str] = {}
    # An attempt's rows come together: its times are formatted once, for its first response.
    attempt_id, stamps = None, ("", "")
    # Read from the database in batches: a large cohort's rows are never all loaded at once.
    for row in db.session.execute(query.execution_options(yield_per=FETCH_ROWS)):
        if row.id != attempt_id:
            attempt_id, stamps = row.id, (timestamp(row.started_at), timestamp(row.submitted_at))
        key = (row.quiz_ref, row.item_ref, row.position)
        if key not in labels:
            labels[key] = item_label(catalog, *key)
        # A practice set draws items from several quizzes: the attempt names the set, the response its quiz.
        activity = (row.set_ref, row.mode)
        if activity not in activities:
            kind = "Practice" if row.mode == "practice" else activity_kind(catalog, row.set_ref)
            activities[activity] = (activity_title(catalog, row.set_ref), kind)
        said = (row.quiz_ref, row.item_ref, row.answer)
        if said not in texts:
            if len(texts) >= MAX_KEPT_ANSWERS:  # free-text answers may all differ: a cache, not a store
                texts.clear()
            texts[said] = answer_text(catalog, row.quiz_ref, row.item_ref, json.loads(row.answer))
        yield [
            row.display_name,
            row.email,
            *activities[activity],
            row.id,
            *stamps,
            labels[key],
            texts[said],
            grade_label(row.grade),
            row.score,
            row.max_score,
        ]
