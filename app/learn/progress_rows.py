"""The progress page's rows (per module, per competency in the mastery table and the "What to practise" lists), in one pass.

Every module and every competency of the framework appears on every progress page, the
competencies twice. Written with Jinja these rows cost half the page: each value goes through the
autoescape, and the names are escaped anew on every request. Here the names, which come from the
catalog, are escaped once per process, and only the learner's numbers are formatted per request.
The markup is what templates/learn/progress.html wrote for these rows; the page's structure stays
in the template.
"""

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from functools import lru_cache

from markupsafe import Markup, escape

from app.content.certainty import describe as score_text
from app.services.mastery import Group, Row, Standing
from app.services.progress import ModuleProgress

_NO_ANSWERS = '–<span class="visually-hidden"> no answers</span>'
_NOT_OBSERVED = '–<span class="visually-hidden"> not observed</span>'


@lru_cache(maxsize=4096)
def _text(value: str) -> str:
    """A catalog string (a name, a title, an address) escaped as Jinja escapes it; catalog strings are few, so each once."""
    return str(escape(value))


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


def _quiz_text(q) -> str:
    """A paired quiz's result in words."""
    marking, summary = q.quiz.marking, q.summary
    if q.is_passed:
        return f"{_text(q.quiz.title)}: passed, best {_text(score_text(summary.best_percent, marking))}"
    if summary:
        return (
            f"{_text(q.quiz.title)}: not passed yet: best {_text(score_text(summary.best_percent, marking))} in "
            f"{_plural(summary.attempt_count, 'attempt')}; the pass mark is now {q.quiz.pass_mark}%"
        )
    return f"{_text(q.quiz.title)}: not taken"


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.0f}%"


def _conversation_text(c) -> str:
    """A paired conversation's result in words."""
    summary = c.summary
    if c.is_passed:
        return f"<br>{_text(c.quiz.title)} (conversation): passed, best {_percent(summary.best_percent)}"
    if summary:
        return (
            f"<br>{_text(c.quiz.title)} (conversation): best {_percent(summary.best_percent)} in "
            f"{_plural(summary.attempt_count, 'play')}"
        )
    return f"<br>{_text(c.quiz.title)} (conversation): not played"


def module_rows(standing: Sequence[ModuleProgress], links: Mapping[str, str]) -> Markup:
    """The "By module" table's rows: the module, its progress bar, lessons completed, its quizzes' and conversations' results."""
    parts = []
    for p in standing:
        title = _text(p.module.title)
        parts.append(
            f'      <tr>\n        <th scope="row"><a href="{_text(links[p.module.id])}">{title}</a></th>\n'
            f'        <td><div class="progress">\n  <progress max="100" value="{p.percent}" '
            f'aria-label="Progress in {title}">{p.percent}%</progress>\n'
            f'  <span class="progress-text">{p.percent}% · {p.steps_done} of {p.steps_total} steps</span>\n</div>\n</td>\n'
            f"        <td>{p.lessons_done} of {len(p.module.lessons)}</td>\n"
            f"        <td>{'<br>'.join(_quiz_text(q) for q in p.quizzes)}"
            f"{''.join(_conversation_text(c) for c in p.conversations)}</td>\n      </tr>\n"
        )
    return Markup("".join(parts))


def _observed(observed) -> str:
    if not observed:
        return _NOT_OBSERVED
    stations = observed.stations
    return f"{int(round(observed.percent))}% of marks, {stations} station{'s' if stations != 1 else ''}"


def _table_row(row: Row, when: Callable[[datetime | None], str]) -> str:
    s: Standing = row.standing
    if s.total:
        window = f"{s.correct_in_window} of {s.answers_in_window}"
        overall = f"{s.total_correct} of {s.total} ({s.percent_correct}%)"
    else:
        window, overall = _NO_ANSWERS, "none answered yet"
    state = s.label + (f" since {_text(when(s.blocked_since))}" if s.blocked_since else "")
    return (
        f'      <tr>\n        <th scope="row">{_text(row.competency.name)}</th>\n'
        f"        <td>{window}</td>\n        <td>{state}</td>\n        <td>{overall}</td>\n"
        f"        <td>{s.harmful}</td>\n        <td>{row.lessons_done} of {row.lessons_total}</td>\n"
        f'        <td class="observed">{_observed(row.observed)}</td>\n      </tr>\n'
    )


def table_bodies(groups: Sequence[Group], when: Callable[[datetime | None], str]) -> Markup:
    """The mastery table's <tbody> elements: an area's heading row, then a row per competency."""
    parts = []
    for group in groups:
        parts.append(
            f'    <tbody>\n      <tr><th scope="rowgroup" colspan="7" class="group-heading">{_text(group.name)}</th></tr>\n'
        )
        parts.extend(_table_row(row, when) for row in group.rows)
        parts.append("    </tbody>\n")
    return Markup("".join(parts))


def _list_item(row: Row, links: Mapping[str, str], when: Callable[[datetime | None], str]) -> str:
    s: Standing = row.standing
    name = _text(row.competency.name)
    text = f"{name}: {s.label.lower()}"
    if s.total:
        text += f", {s.correct_in_window} of your last {s.answers_in_window} right"
    if s.blocked_since:
        text += f"; a harmful reply on {_text(when(s.blocked_since))} blocks it until your next right answer"
    if row.practice_items:
        action = (
            f'<a href="{_text(links[row.competency.id])}">Practise this'
            f'<span class="visually-hidden">: {name}</span></a>'
        )
    else:
        action = '<span class="meta">No quiz items to practise yet.</span>'
    return f"    <li>{text}.\n      {action}</li>\n"


def practise_lists(
    practise: Sequence[tuple[str, str, list[Row]]], links: Mapping[str, str], when: Callable[[datetime | None], str]
) -> Markup:
    """The "What to practise" lists: per state, a heading with its count and the list of its competencies."""
    parts = []
    for state, label, rows in practise:
        parts.append(f'  <h3 id="practise-{state}">{_text(label)} ({len(rows)})</h3>\n  <ul class="mastery-list">\n')
        parts.extend(_list_item(row, links, when) for row in rows)
        parts.append("  </ul>\n")
    return Markup("".join(parts))
