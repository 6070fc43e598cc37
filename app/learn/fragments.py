"""Parts of learner pages that are the same for every learner, rendered once per process.

A lesson's text (its sections, competency tags, key points and references) and the addresses on
its page depend only on the lesson's content and the app's script root, yet rendering them was
most of the page's template time on every view. They are kept here by the module's and lesson's
versions, so changed content is rendered afresh; a process holds at most one entry per lesson
version and script root.
"""

from dataclasses import dataclass

from flask import current_app, render_template, request, url_for
from markupsafe import Markup

from app.content import Lesson, Module


@dataclass(frozen=True)
class LessonParts:
    """A lesson's rendered text and the addresses its page links to."""

    body: Markup
    module_url: str
    previous_url: str | None
    following_url: str | None
    complete_url: str


def lesson(module: Module, lesson: Lesson) -> LessonParts:
    """The lesson's text and addresses, rendered on the first view of this version of it."""
    cache: dict[tuple, LessonParts] = current_app.extensions.setdefault("alliance.lesson_parts", {})
    key = (module.id, module.version, lesson.id, lesson.version, request.script_root)
    parts = cache.get(key)
    if parts is None:
        previous, following = module.neighbours(lesson)
        parts = cache[key] = LessonParts(
            body=Markup(
                render_template(
                    "learn/_lesson_body.html",
                    lesson=lesson,
                    cited=[module.reference(ref_id) for ref_id in lesson.cited],
                )
            ),
            module_url=url_for("learn.module", module_id=module.id),
            previous_url=url_for("learn.lesson", module_id=module.id, lesson_id=previous.id) if previous else None,
            following_url=url_for("learn.lesson", module_id=module.id, lesson_id=following.id) if following else None,
            complete_url=url_for("learn.complete_lesson", module_id=module.id, lesson_id=lesson.id),
        )
    return parts
