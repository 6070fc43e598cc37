"""The conversation editor's views: start one, its settings, counters, endings and nodes, and its map.

Thin: the draft's edits are app/services/authored_conversations.py; drafts, publishing, versions and
sharing are the quiz editor's (a conversation is an authored quiz whose draft is a conversation file).
"""

import re

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.author import bp, stats
from app.author import conversation_fields as cf
from app.author.fields import MAX_TEXT, anchor
from app.author.routes import quiz_or_404
from app.content import catalog
from app.errors import not_found
from app.extensions import db
from app.services import authored_conversations as talks
from app.services import authoring

SETTINGS = {
    "title": "Title",
    "module": "Module",
    "pass_mark": "Pass mark",
    "intro": "Introduction",
    "patient": "Patient",
    "setting": "Setting",
    "start": "Starting node",
}
_NODE_PATH = re.compile(r"^nodes\.(\d+)(?:\.(.*))?$")


def conversation_or_404(conversation_id: int):
    """The authored conversation if the signed-in educator may edit it; a 404 otherwise."""
    found = quiz_or_404(conversation_id)
    if not found.is_conversation:
        not_found("There is no conversation of yours at this address; this is a quiz.")
    return found


def _counter_ids(draft: dict) -> list[str]:
    return [c["id"] for c in draft.get("counters") or [] if isinstance(c, dict) and isinstance(c.get("id"), str)]


def _known_page() -> set[str]:
    names = set(SETTINGS) | {"counters", "endings"}
    for n in range(talks.MAX_COUNTERS):
        names |= {f"counters.{n}", *(f"counters.{n}.{k}" for k in ("id", "label", "start", "min", "max"))}
    for n in range(cf.ENDINGS):
        names |= {f"endings.{n}", *(f"endings.{n}.{k}" for k in ("id", "title", "outcome", "debrief"))}
    return names


def summary(conversation, checked) -> list[tuple[str, str, str, bool]]:
    """Every problem for the summary: (where, message, link to its field, is_warning)."""
    entries, page = [], _known_page()
    nodes = conversation.draft.get("nodes") or []
    counters = _counter_ids(conversation.draft)
    for n, problem in enumerate(checked.problems):
        path = checked.fields.get(n, "")
        match = _NODE_PATH.match(path)
        if match and int(match[1]) < len(nodes) and isinstance(nodes[int(match[1])], dict):
            node_id = str(nodes[int(match[1])].get("id", ""))
            target = cf.nearest(cf.node_known(counters), match[2] or "")
            href = url_for(
                ".conversation_node", quiz_id=conversation.id, node_id=node_id, _anchor=anchor(target or "node")
            )
            where = f"Node ‘{node_id}’"
        elif cf.nearest(page, path):
            target = cf.nearest(page, path)
            href = f"#{anchor(target)}"
            where = SETTINGS.get(target) or ("Counters" if target.startswith("counters") else "Endings")
        else:
            href, where = "#settings-heading", "The conversation"
        entries.append((where, problem.message, href, problem.is_warning))
    return entries


def _page_problems(checked) -> dict[str, list]:
    found: dict[str, list] = {}
    page = _known_page()
    for n, problem in enumerate(checked.problems):
        path = checked.fields.get(n, "")
        if not path.startswith("nodes") and (target := cf.nearest(page, path)):
            found.setdefault(target, []).append(problem)
    return found


def _saved(checked) -> tuple[str, str]:
    if checked.errors:
        count = len(checked.errors)
        return (
            f"Saved. The checker finds {count} problem{'s' if count != 1 else ''}; they are listed at the top.",
            "warning",
        )
    return "Saved. The checker finds no problems.", "success"


@bp.route("/conversations/new", methods=["GET", "POST"])
def conversation_new():
    """Start a conversation: a title and the module it goes with."""
    values, errors = {"title": "", "module": ""}, {}
    if request.method == "POST":
        values = {"title": request.form.get("title", ""), "module": request.form.get("module", "")}
        title = " ".join(values["title"].split())
        if not title:
            errors["title"] = "Give the conversation a title."
        elif len(title) > 200:
            errors["title"] = "Keep the title to 200 characters or fewer."
        if catalog().module(values["module"]) is None:
            errors["module"] = "Choose the module the conversation goes with."
        if not errors:
            created = talks.create_conversation(current_user, title, values["module"])
            db.session.commit()
            flash("Conversation started. Write its opening node, its endings and the nodes between.", "success")
            return redirect(url_for(".conversation", quiz_id=created.id))
    modules = [(m.id, m.title) for m in catalog().modules]
    page = render_template("author/conversation_new.html", values=values, errors=errors, modules=modules)
    return page, 422 if errors else 200


def _settings_from_form() -> dict:
    text = {k: request.form.get(k, "").replace("\r\n", "\n").strip()[:MAX_TEXT] for k in SETTINGS}
    text["title"] = " ".join(text["title"].split())
    return {**text, "pass_mark": talks.number_or_text(text["pass_mark"]) if text["pass_mark"] else ""}


@bp.route("/<int:quiz_id>/conversation", methods=["GET", "POST"])
def conversation(quiz_id: int):
    """The conversation's page: settings, counters, endings, its nodes, and every problem the checker finds."""
    found = conversation_or_404(quiz_id)
    if request.method == "POST":
        talks.update_settings(found, _settings_from_form())
        db.session.commit()
        flash(*_saved(authoring.check(found, catalog())))
        return redirect(url_for(".conversation", quiz_id=found.id))
    checked = authoring.check(found, catalog())
    draft = found.draft
    return render_template(
        "author/conversation.html",
        quiz=found,
        checked=checked,
        summary=summary(found, checked),
        problems=_page_problems(checked),
        modules=[(m.id, m.title) for m in catalog().modules],
        values=cf.values({k: draft.get(k) for k in ("counters", "endings")}),
        nodes=talks.node_ids(draft),
        start_options=[(n, n) for n in talks.node_ids(draft)],
        node_problems=_node_problem_counts(found, checked),
        anchor=anchor,
        counter_slots=talks.MAX_COUNTERS,
        ending_slots=cf.ENDINGS,
        outcomes=cf.OUTCOMES,
        is_owner=found.owner_id == current_user.id,
    )


def _node_problem_counts(conversation, checked) -> dict[str, int]:
    nodes = conversation.draft.get("nodes") or []
    counts: dict[str, int] = {}
    for n, _problem in enumerate(checked.problems):
        match = _NODE_PATH.match(checked.fields.get(n, ""))
        if match and int(match[1]) < len(nodes) and isinstance(nodes[int(match[1])], dict):
            node_id = str(nodes[int(match[1])].get("id"))
            counts[node_id] = counts.get(node_id, 0) + 1
    return counts


@bp.post("/<int:quiz_id>/counters")
def conversation_counters(quiz_id: int):
    """Save the counters (up to four, each with a label and bounds)."""
    found = conversation_or_404(quiz_id)
    talks.update_counters(found, cf.counters_from_form(request.form))
    db.session.commit()
    flash(*_saved(authoring.check(found, catalog())))
    return redirect(url_for(".conversation", quiz_id=found.id, _anchor="counters-heading"))


@bp.post("/<int:quiz_id>/endings")
def conversation_endings(quiz_id: int):
    """Save the endings (each with a title, an outcome and a debrief)."""
    found = conversation_or_404(quiz_id)
    talks.update_endings(found, cf.endings_from_form(request.form))
    db.session.commit()
    flash(*_saved(authoring.check(found, catalog())))
    return redirect(url_for(".conversation", quiz_id=found.id, _anchor="endings-heading"))


@bp.post("/<int:quiz_id>/nodes")
def conversation_add_node(quiz_id: int):
    """Add an empty node, then open its form."""
    found = conversation_or_404(quiz_id)
    try:
        node_id = talks.add_node(found, request.form.get("id", ""))
    except authoring.AuthoringError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".conversation", quiz_id=found.id, _anchor="nodes-heading"))
    db.session.commit()
    flash(f"Node ‘{node_id}’ added. Write what the patient says and the replies.", "success")
    return redirect(url_for(".conversation_node", quiz_id=found.id, node_id=node_id))


def _node_or_404(conversation, node_id: str) -> tuple[int, dict]:
    index = talks.node_index(conversation.draft, node_id)
    if index is None:
        not_found("That node is not in this conversation any more. Its nodes are listed on its page.")
    return index, conversation.draft["nodes"][index]


@bp.route("/<int:quiz_id>/nodes/<node_id>", methods=["GET", "POST"])
def conversation_node(quiz_id: int, node_id: str):
    """A node's form: what the patient says, and each reply's grade, feedback, effects and routes."""
    found = conversation_or_404(quiz_id)
    index, node = _node_or_404(found, node_id)
    counters = _counter_ids(found.draft)
    if request.method == "POST":
        talks.update_node(found, node_id, cf.node_from_form(request.form, counters, node))
        db.session.commit()
        flash(*_saved(authoring.check(found, catalog())))
        return redirect(url_for(".conversation_node", quiz_id=found.id, node_id=node_id))
    checked = authoring.check(found, catalog())
    names = cf.node_known(counters)
    problems: dict[str, list] = {}
    for path, problem in checked.under(f"nodes.{index}"):
        problems.setdefault(cf.nearest(names, path[len(f"nodes.{index}") + 1 :]), []).append(problem)
    draft = found.draft
    return render_template(
        "author/conversation_node.html",
        quiz=found,
        node=node,
        node_id=node_id,
        values=cf.values({k: v for k, v in node.items() if k != "id"}),
        problems=problems,
        anchor=anchor,
        counters=[c for c in draft.get("counters") or [] if isinstance(c, dict) and isinstance(c.get("id"), str)],
        destinations=[(n, f"{n} (node)") for n in talks.node_ids(draft)]
        + [(e, f"{e} (ending)") for e in talks.ending_ids(draft)],
        grades=cf.GRADES,
        reply_slots=cf.REPLIES,
        route_slots=cf.ROUTES,
        competencies=catalog().competencies,
        leads_here=talks.routes_into(draft, node_id),
        breaks=talks.what_breaks(draft, node_id),
        checked=checked,
        reply_stats=stats.reply_statistics(current_user, found, node_id, node),
    )


@bp.post("/<int:quiz_id>/nodes/<node_id>/rename")
def conversation_rename_node(quiz_id: int, node_id: str):
    """Give a node a new id; replies leading to it follow."""
    found = conversation_or_404(quiz_id)
    _node_or_404(found, node_id)
    try:
        new_id = talks.rename_node(found, node_id, request.form.get("new_id", ""))
    except authoring.AuthoringError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".conversation_node", quiz_id=found.id, node_id=node_id, _anchor="rename-heading"))
    db.session.commit()
    flash(f"Node renamed ‘{new_id}’; every reply leading to it now says so.", "success")
    return redirect(url_for(".conversation_node", quiz_id=found.id, node_id=new_id))


@bp.route("/<int:quiz_id>/nodes/<node_id>/delete", methods=["GET", "POST"])
def conversation_delete_node(quiz_id: int, node_id: str):
    """Ask, then delete a node nothing leads to (or say what would break)."""
    found = conversation_or_404(quiz_id)
    _node_or_404(found, node_id)
    breaks = talks.what_breaks(found.draft, node_id)
    if request.method == "POST" and not breaks:
        talks.delete_node(found, node_id)
        db.session.commit()
        flash(f"Node ‘{node_id}’ deleted from the draft.", "success")
        return redirect(url_for(".conversation", quiz_id=found.id, _anchor="nodes-heading"))
    page = render_template("author/conversation_delete.html", quiz=found, node_id=node_id, breaks=breaks)
    return page, 409 if request.method == "POST" else 200


@bp.get("/<int:quiz_id>/map")
def conversation_map(quiz_id: int):
    """The conversation's map (SVG, each node a link to its form) with its text outline beside it."""
    import graphviz  # Graphviz and lxml load only when a map is drawn, not in every worker's start

    from app.author import maps

    found = conversation_or_404(quiz_id)
    checked = authoring.check(found, catalog())
    outline = maps.outline(found.draft, checked.quiz, checked.problems)
    try:
        svg = maps.draw(
            outline,
            lambda node_id: url_for(".conversation_node", quiz_id=found.id, node_id=node_id),
            url_for(".conversation", quiz_id=found.id, _anchor="endings-heading"),
        )
    except (ValueError, graphviz.ExecutableNotFound, graphviz.CalledProcessError):
        # The outline says everything the map does; a map that cannot be drawn safely is left out.
        current_app.logger.exception("the map of authored conversation %s could not be drawn", found.ref)
        svg = None
    return render_template("author/conversation_map.html", quiz=found, svg=svg, outline=outline, checked=checked)
