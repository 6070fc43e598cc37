"""Learner views: thin, they call services and commit once."""

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.exceptions import Gone

from app.content import catalog, conversation_lengths
from app.content.certainty import parse_level
from app.errors import not_found, refuse
from app.extensions import db
from app.learn import bp, fragments, links, progress_rows
from app.learn.forms import ReplyForm
from app.models.types import utcnow
from app.services import (
    authored_reach,
    conversations,
    courses,
    drafts,
    invitations,
    mastery,
    mastery_chart,
    progress,
    quizzes,
    reflections,
    review_queue,
    summaries,
)
from app.services import results as results_service


def _module_or_404(module_id: str):
    module = catalog().module(module_id)
    if module is None:
        not_found("There is no module at this address. It may have been renamed or removed.")
    return module


def _quiz_or_404(quiz_id: str):
    quiz = catalog().quiz(quiz_id)
    if quiz is None:
        not_found("There is no quiz at this address. It may have been renamed or removed.")
    return quiz


WITHDRAWN = (
    "“{title}” has been withdrawn, so it cannot be started any more. Attempts you already finished and "
    "their results are still on your progress page."
)


def refuse_if_withdrawn(content, mode: str = "assessed", can_resume: bool = True) -> None:
    """A clear 410 page instead of a new attempt at withdrawn authored content (an open attempt still resumes)."""
    if authored_reach.refuses_new_attempt(current_user.id, catalog(), content.id, mode, can_resume):
        refuse(Gone, WITHDRAWN.format(title=content.title))


@bp.get("/")
def home():
    """The learner's modules with progress, and where to continue."""
    standing = progress.modules_progress(current_user.id, catalog())
    assigned = courses.assigned_to(current_user.id, catalog(), utcnow().date())
    return render_template(
        "learn/home.html",
        standing=standing,
        module_links=links.by_id("learn.module", "module_id", (p.module.id for p in standing)),
        next_step=progress.home_step(standing, assigned),
        assigned=assigned,
        review_due=review_queue.due_count(current_user.id, catalog(), utcnow()),
        invitations=invitations.pending_for(current_user.id),
    )


@bp.get("/modules/<module_id>")
def module(module_id: str):
    """A module: objectives, lessons with their state, the paired quiz, references."""
    module = _module_or_404(module_id)
    # Every module's standing, in the same two queries: a finished module points at the next one.
    every = progress.modules_progress(current_user.id, catalog())
    standing = next(p for p in every if p.module.id == module.id)
    return render_template(
        "learn/module.html",
        module=module,
        standing=standing,
        next_step=standing.next_step(),
        next_module=progress.next_module(every, after=module) if standing.status == "completed" else None,
    )


def _lesson_or_404(module_id: str, lesson_id: str):
    module = _module_or_404(module_id)
    lesson = module.lesson(lesson_id)
    if lesson is None:
        not_found("This module has no such lesson.")
    return module, lesson


@bp.get("/modules/<module_id>/lessons/<lesson_id>")
def lesson(module_id: str, lesson_id: str):
    """A lesson page; opening it puts the lesson in progress."""
    module, lesson = _lesson_or_404(module_id, lesson_id)
    if request.method == "HEAD":
        # Link checkers and previews ask for headers only: that is not a learner reading.
        row = progress.lesson_row(current_user.id, module, lesson)
    else:
        row = progress.view_lesson(current_user.id, module, lesson)
        db.session.commit()
    previous, following = module.neighbours(lesson)
    return render_template(
        "learn/lesson.html",
        module=module,
        lesson=lesson,
        row=row,
        previous=previous,
        following=following,
        # Only the last lesson's "Next" leads to the quiz (looking it up walks every quiz).
        quiz=catalog().first_quiz_for(module.id) if following is None else None,
        parts=fragments.lesson(module, lesson),
    )


@bp.post("/modules/<module_id>/lessons/<lesson_id>/complete")
def complete_lesson(module_id: str, lesson_id: str):
    """Completion rule: a lesson is complete when the learner presses "Complete" at its end."""
    module, lesson = _lesson_or_404(module_id, lesson_id)
    progress.complete_lesson(current_user.id, module, lesson)
    db.session.commit()
    _, following = module.neighbours(lesson)
    if following is not None:
        flash(f"Lesson completed: {lesson.title}.", "success")
        return redirect(url_for(".lesson", module_id=module.id, lesson_id=following.id))
    (standing,) = progress.modules_progress(current_user.id, catalog(), (module,))
    quiz = standing.next_quiz()
    if quiz is not None:
        flash(f"Lesson completed: {lesson.title}. That was the last lesson of the module.", "success")
        return redirect(url_for(".quiz", quiz_id=quiz.id))
    if standing.status == "completed":
        flash(f"Lesson completed: {lesson.title}. You have completed the module {module.title}.", "success")
    else:
        flash(
            f"Lesson completed: {lesson.title}. That was the last lesson; the module page shows what is left.",
            "success",
        )
    return redirect(url_for(".module", module_id=module.id))


@bp.get("/quizzes/<quiz_id>")
def quiz(quiz_id: str):
    """A quiz's front page: what it is, the pass mark, past attempts, start or resume."""
    quiz = _quiz_or_404(quiz_id)
    practice = quizzes.practice_history(current_user.id, quiz.id)
    return render_template(
        "learn/quiz.html",
        quiz=quiz,
        module=catalog().module(quiz.module_id),
        history=quizzes.attempt_history(current_user.id, quiz.id),
        in_progress=drafts.in_progress(current_user.id, quiz),
        practice=practice,
        # The open practice (at most one) is among the latest: no query of its own.
        can_resume_practice=any(a.submitted_at is None and a.content_version == quiz.version for a in practice),
        is_withdrawn=quiz.id in catalog().withdrawn,
    )


@bp.post("/quizzes/<quiz_id>/attempts")
def start_attempt(quiz_id: str):
    """Begin (or resume) an attempt, then show its questions."""
    quiz = _quiz_or_404(quiz_id)
    refuse_if_withdrawn(quiz)
    attempt, carried = drafts.resume(current_user.id, quiz)
    db.session.commit()
    if carried is not None:
        flash(carried.message, "warning")
    return redirect(url_for(".attempt", attempt_id=attempt.id))


def _own_attempt_or_404(attempt_id: int):
    attempt = quizzes.get_own_attempt(current_user.id, attempt_id)
    if attempt is None:
        # Another learner's attempt answers exactly like a missing one: nothing leaks.
        not_found("There is no attempt of yours at this address.")
    return attempt


@bp.get("/attempts/<int:attempt_id>/results")
def results(attempt_id: int):
    """Every item with the option chosen, its grade, feedback and competencies; score and pass or fail."""
    attempt = _own_attempt_or_404(attempt_id)
    if attempt.is_practice:
        return redirect(url_for(".practice_attempt", attempt_id=attempt.id))
    if attempt.submitted_at is None or catalog().conversation(attempt.quiz_ref) is not None:
        return redirect(url_for(".attempt", attempt_id=attempt.id))
    if any(r.item_type == "reply" for r in attempt.responses):
        # A conversation no longer offered: its steps have no quiz results page.
        not_found("This conversation is no longer offered, so its debrief cannot be shown.")
    quiz = catalog().quiz(attempt.quiz_ref)
    # Feedback comes from the content, for every item still as it was when answered.
    items = quizzes.items_as_answered(quiz, attempt)
    summary = quizzes.summarise(attempt)
    return render_template(
        "learn/results.html",
        attempt=attempt,
        quiz=quiz,
        items=items,
        summary=summary,
        overview=results_service.overview(
            attempt,
            summary,
            {r.position: items[r.item_ref] for r in attempt.responses if r.item_ref in items},
            changed={r.position for r in attempt.responses if quiz and quiz.item(r.item_ref) and r.item_ref not in items},
        ),
        # After a pass the way on leads; only then is it worth its queries.
        next_step=results_service.next_after(current_user.id, catalog(), quiz, utcnow().date())
        if attempt.is_passed and quiz is not None
        else None,
        is_current=quiz is not None and quiz.version == attempt.content_version,
        module=catalog().module(attempt.module_ref),
    )


@bp.get("/progress")
def progress_page():
    """The learner's progress per module, mastery and calibration per competency, and their reflections."""
    standing = progress.modules_progress(current_user.id, catalog())
    rule = mastery.rule_from(current_app.config)
    # The learner's summaries, kept as answers are recorded: the same cost after 30 answers or 3,000.
    answered = summaries.read(current_user.id, rule)
    observed = mastery.observed(current_user.id, catalog())  # seen to do at observed stations, kept apart
    given = authored_reach.given_to(current_user.id, catalog())  # no query when nothing authored is published
    groups = mastery.groups(catalog(), answered.standings, standing, observed, given)
    when = current_app.jinja_env.filters["when"]  # dates as every page writes them
    return render_template(
        "learn/progress.html",
        standing=standing,
        rule=rule,
        groups=groups,
        chart=mastery_chart.svg(groups, rule, f"Right answers in your last {rule.window} per competency"),
        chart_description=mastery_chart.description(groups, rule),
        mastery_rows=progress_rows.table_bodies(groups, when),
        practise_lists=progress_rows.practise_lists(
            mastery.by_state(groups),
            links.by_id("learn.practise_competency", "competency_id", (c.id for c in catalog().competencies)),
            when,
        ),
        module_rows=progress_rows.module_rows(
            standing, links.by_id("learn.module", "module_id", (p.module.id for p in standing))
        ),
        calibration=answered.calibration,
        reflections=[
            (reflections.describe(catalog(), r.subject_ref), r) for r in reflections.for_user(current_user.id)
        ],
    )


def _conversation_or_404(conversation_id: str):
    conversation = catalog().conversation(conversation_id)
    if conversation is None:
        not_found("There is no conversation at this address. It may have been renamed or removed.")
    return conversation


def _play_address(attempt) -> str:
    """Where a conversation attempt is played; an open one opens at the patient's latest line."""
    still_open = attempt.submitted_at is None and attempt.abandoned_at is None and attempt.responses
    return url_for(".conversation_attempt", attempt_id=attempt.id, _anchor="now" if still_open else None)


@bp.get("/conversations/<conversation_id>")
def conversation(conversation_id: str):
    """A conversation's front page: the patient, the counters, past endings, start or resume."""
    conversation = _conversation_or_404(conversation_id)
    return render_template(
        "learn/conversation.html",
        conversation=conversation,
        module=catalog().module(conversation.module_id),
        history=quizzes.attempt_history(current_user.id, conversation.id),
        can_resume=quizzes.can_resume(current_user.id, conversation),
        practice=quizzes.practice_history(current_user.id, conversation.id),
        replies=conversation_lengths.remaining(conversation, conversation.initial()),
        is_withdrawn=conversation.id in catalog().withdrawn,
    )


@bp.post("/conversations/<conversation_id>/attempts")
def start_conversation(conversation_id: str):
    """Begin (or resume) a conversation."""
    conversation = _conversation_or_404(conversation_id)
    refuse_if_withdrawn(conversation)
    attempt = quizzes.start_attempt(current_user.id, conversation)
    db.session.commit()
    return redirect(_play_address(attempt))


@bp.post("/conversations/<conversation_id>/practice")
def practise_conversation(conversation_id: str):
    """Begin (or resume) a practice run of a conversation: it never counts towards grades."""
    conversation = _conversation_or_404(conversation_id)
    refuse_if_withdrawn(conversation, "practice")
    attempt = quizzes.start_attempt(current_user.id, conversation, mode="practice")
    db.session.commit()
    return redirect(_play_address(attempt))


@bp.route("/conversations/<conversation_id>/restart", methods=["GET", "POST"])
def restart_conversation(conversation_id: str):
    """Ask before "Start again" sets the unfinished conversation aside (GET); on the answer (POST), set it aside
    (it stays on record) and begin again, in the same mode."""
    conversation = _conversation_or_404(conversation_id)
    if request.method == "POST":
        mode = "practice" if request.form.get("mode") == "practice" else "assessed"
        refuse_if_withdrawn(conversation, mode, can_resume=False)  # starting again sets the open one aside
        attempt = conversations.restart(current_user.id, conversation, mode)
        db.session.commit()
        flash("You are starting the conversation again from the beginning.", "info")
        return redirect(url_for(".conversation_attempt", attempt_id=attempt.id))
    mode = "practice" if request.args.get("mode") == "practice" else "assessed"
    attempt = quizzes.open_attempt(current_user.id, conversation.id, mode)
    if attempt is not None and attempt.content_version != conversation.version:
        attempt = None  # an attempt on older content is replaced anyway: there is nothing to lose
    where = conversations.position(conversation, attempt) if attempt is not None else None
    return render_template(
        "learn/restart.html",
        conversation=conversation,
        module=catalog().module(conversation.module_id),
        attempt=attempt,
        mode=mode,
        where=where,
        about=conversation_lengths.about(conversation, len(where.steps), where.state) if where else None,
    )


@bp.route("/conversations/attempts/<int:attempt_id>", methods=["GET", "POST"])
def conversation_attempt(attempt_id: int):
    """Play a conversation one reply at a time; at an ending, its debrief."""
    attempt = _own_attempt_or_404(attempt_id)
    conversation = catalog().conversation(attempt.quiz_ref)
    if conversation is None:
        if catalog().quiz(attempt.quiz_ref) is not None:
            return redirect(url_for(".attempt", attempt_id=attempt.id))
        not_found("This conversation is no longer offered.")
    is_current = attempt.content_version == conversation.version
    if attempt.submitted_at is None and (attempt.abandoned_at is not None or not is_current):
        if is_current:
            flash("That conversation was set aside when you started again. Here is where you stand now.", "info")
        else:
            flash("This conversation was updated since you began it, so it starts again from the beginning.", "info")
        return redirect(url_for(".conversation", conversation_id=conversation.id))
    status, error, said = 200, None, {}
    if request.method == "POST":
        form = ReplyForm()
        if attempt.submitted_at is not None:
            flash("This conversation has already ended; here is its debrief.", "info")
            return redirect(url_for(".conversation_attempt", attempt_id=attempt.id))
        confidence = parse_level(request.form.get("confidence"))
        said = {"chosen_reply": form.reply.data, "chosen_confidence": confidence}
        if form.validate() and confidence is None:
            said["confidence_error"] = "Say how sure you are that this is the right thing to say."
            status = 422
        elif form.validate():
            try:
                conversations.reply(current_user.id, attempt, conversation, form.step.data, form.reply.data, confidence)
            except (conversations.StaleStep, conversations.AlreadySubmitted):
                db.session.rollback()
                flash("That reply was already recorded. Here is where the conversation stands.", "info")
                return redirect(_play_address(attempt))
            except conversations.UnknownReply:
                db.session.rollback()
                error, status = "That reply is not one of those on offer here; choose one below.", 422
            else:
                db.session.commit()
                # The page opens at the patient's answer to this reply (an ending opens at its debrief).
                return redirect(_play_address(attempt))
        elif form.step.errors:
            # Only a garbled or tampered page sends a step that is no step: record nothing, say so.
            error, status = "This page is out of date. Choose a reply below and press “Say it” again.", 422
        else:
            error, status = "Choose a reply, then press “Say it”.", 422
            if confidence is None:
                said["confidence_error"] = "Say how sure you are that this is the right thing to say."
    # The path is replayed on the content it was played on; after an update only the score stands.
    where = conversations.position(conversation, attempt) if is_current else None
    page = "learn/debrief.html" if attempt.submitted_at is not None else "learn/play.html"
    # "Step n of about m": m is worked out once per conversation from its content, never per request.
    about = conversation_lengths.about(conversation, len(where.steps), where.state) if where else None
    return render_template(
        page,
        conversation=conversation,
        attempt=attempt,
        where=where,
        error=error,
        module=catalog().module(conversation.module_id),
        is_current=is_current,
        about=about,
        summary=quizzes.summarise(attempt) if attempt.submitted_at is not None else None,
        **said,
    ), status


@bp.get("/glossary")
def glossary():
    """Every term the modules introduce, alphabetically, with where each is introduced and used."""
    return render_template("learn/glossary.html", catalog=catalog())
