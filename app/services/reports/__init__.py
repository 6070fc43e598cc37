"""Educators' reports on a cohort, read from the tracker's summary rows.

Every report runs a fixed number of queries whatever the cohort's size: the cohort's current
students are named by the `cohorts.member_ids` subquery inside each statement, never by a list
of ids built in Python, and each table is read once per page. One module a report; this package
names them all, so views write `reports.matrix(...)`; transcripts are `reports.transcript`.
"""
# ruff: noqa: F401  (the package re-exports its modules' public names)

from app.services.reports import pdf, transcript
from app.services.reports.analysis import (
    FAILED_ATTEMPTS_FLAG,
    GROUP_SHARE,
    LOW_DISCRIMINATION,
    LOW_FACILITY,
    MIN_FOR_DISCRIMINATION,
    Analysis,
    ItemStats,
    StudentFlags,
    WrongChoice,
    item_analysis,
)
from app.services.reports.csvsafe import FORMULA_STARTS, csv_chunks, filename, neutralise, to_csv
from app.services.reports.exports import ATTEMPT_CSV_HEADER, attempt_csv_rows
from app.services.reports.heatmap import (
    GROUP_NAMES,
    HEATMAP_PAGE_SIZE,
    SHADE_BANDS,
    SHADES,
    HeatCell,
    HeatColumn,
    Heatmap,
    heat_columns,
    heatmap,
    heatmap_svg,
    shade,
)
from app.services.reports.learner import (
    ATTEMPTS_PAGE_SIZE,
    RESULTS,
    ActivityGroup,
    AttemptView,
    LearnerReport,
    LessonView,
    ModuleLessons,
    ResponseView,
    learner,
)
from app.services.reports.matrix import (
    MATRIX_PAGE_SIZE,
    REPORT_STATE_LABELS,
    REPORT_STATES,
    SHOW_LABELS,
    Cell,
    Column,
    Matrix,
    MatrixRow,
    cell_detail,
    every_row,
    matrix,
    matrix_csv_rows,
    report_state,
)
from app.services.reports.people import Student, assigned_course, assigned_courses, current_member, students
from app.services.reports.scope import AssignedWork, assigned_work, work_of
from app.services.reports.standing import CourseStanding, Standing, standing
from app.services.reports.text import (
    activity,
    activity_kind,
    activity_title,
    answer_text,
    describe_answer,
    duration_text,
    grade_label,
    item_label,
    item_text,
    number,
    pass_text,
    percent_of,
    plain,
    score_text,
    shorten,
    timestamp,
)
