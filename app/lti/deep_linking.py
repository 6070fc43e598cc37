"""Deep Linking 2.0: the instructor picks Alliance items for their course; a signed response takes them back.

The picker opens after a deep linking launch, for the instructor that launch signed in only. Each
chosen module, quiz, conversation or course becomes an `ltiResourceLink` whose custom parameter
names it; quizzes, conversations and courses also ask the platform for a grade column (line item).
The picker offers what the instructor's course builder offers: the shipped catalogue, the quizzes and
conversations written in the browser that are theirs, shared with them or offered site-wide (app/author),
and published courses; a choice outside that list is refused.
The response is signed by pylti1p3 with the tool's key and posted back to the platform by the
browser (a form, submitted by script at once, or by the instructor's click without script). pylti1p3 is
imported when the picker answers, never when the app is built.
"""

from flask import abort, render_template, request
from flask_login import current_user, login_required

from app.content import catalog
from app.errors import not_found
from app.lti import bp, launches, tool
from app.lti.routes import refused
from app.models.lti import GRADED_KINDS
from app.services import authoring, courses

#: Line items are out of 100: the platform scales each score (given out of its own maximum) to it.
LINE_ITEM_MAXIMUM = 100


def _picker_state(launch_id: str) -> dict:
    """The picker's launch, for the instructor it signed in; anyone else gets a 404."""
    state = tool.get_state("picker-" + launch_id) if len(launch_id) <= 100 else None
    if not state or state.get("user_id") != current_user.id:
        not_found("This choice of activities has ended. Open “Add an Alliance activity” in your course again.")
    return state


def _choices() -> tuple[list, list]:
    """The catalogue grouped by module, and the courses the instructor may link (their own and published ones)."""
    groups = [(g.title, [(e.value, e.kind, e.content.title) for e in g.entries]) for g in _catalogue_groups()]
    linkable = [c for c in courses.visible_courses(current_user) if c.is_published]
    return groups, linkable


def _catalogue_groups():
    class _NoCourse:
        items: list = []

    return courses.catalogue_groups(catalog(), _NoCourse(), authoring.offered_to(current_user))


def _resource(kind: str, ref: str, title: str):
    """The chosen item as pylti1p3's DeepLinkResource, with a line item when it is graded."""
    from pylti1p3.deep_link_resource import DeepLinkResource
    from pylti1p3.lineitem import LineItem

    resource = (
        DeepLinkResource()
        .set_url(tool.site_url("/lti/launch"))
        .set_title(title)
        .set_custom_params({launches.ITEM_PARAMETER: f"{kind}:{ref}"})
    )
    if kind in GRADED_KINDS:
        resource.set_lineitem(
            LineItem()
            .set_score_maximum(LINE_ITEM_MAXIMUM)
            .set_label(title)
            .set_resource_id(f"{kind}:{ref}")
            .set_tag("alliance")
        )
    return resource


@bp.route("/deep-link/<launch_id>", methods=["GET", "POST"])
@login_required
def picker(launch_id: str):
    """Pick the items to add to the platform's course; the POST answers with the signed response."""
    _picker_state(launch_id)
    groups, linkable = _choices()
    if request.method == "GET":
        return render_template("lti/picker.html", groups=groups, courses=linkable, launch_id=launch_id, problem=None)
    from pylti1p3.contrib.flask import FlaskMessageLaunch, FlaskRequest
    from pylti1p3.exception import LtiException

    from app.lti.protocol import DatabaseLaunchStorage, DatabaseToolConf

    try:
        message = FlaskMessageLaunch.from_cache(
            launch_id, FlaskRequest(), DatabaseToolConf(), launch_data_storage=DatabaseLaunchStorage()
        )
        settings = message.get_launch_data().get("https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings")
        deep_link = message.get_deep_link()
    except LtiException as exc:
        return refused(str(exc))
    offered = {value for _title, entries in groups for value, *_ in entries}
    chosen, problem = _chosen(request.form.getlist("item"), offered, linkable, settings or {})
    if problem:
        return render_template(
            "lti/picker.html", groups=groups, courses=linkable, launch_id=launch_id, problem=problem
        ), 422
    token = deep_link.get_response_jwt([_resource(*item) for item in chosen])
    return_url = settings["deep_link_return_url"]
    response = render_template("lti/deep_link_return.html", return_url=return_url, token=token, chosen=chosen)
    # The page's form goes to the platform: the policy names its origin (every other page posts to itself only).
    origin = tool.origin(return_url)
    if origin is None:
        abort(400)
    return response, 200, {"Content-Security-Policy": _policy_posting_to(origin)}


def _chosen(
    values: list[str], offered: set[str], linkable: list, settings: dict
) -> tuple[list[tuple[str, str, str]], str | None]:
    """The items picked as (kind, ref, title), or a problem to show; `offered` holds the catalogue's values."""
    by_course = {str(c.id): c.title for c in linkable}
    chosen = []
    for value in dict.fromkeys(values):
        item = launches.parse_item(value)
        title = None
        if item and item[0] == "course":
            title = by_course.get(item[1])
        elif item and value in offered:
            title = launches.item_title(catalog(), *item)
        if title is None:
            return [], "One of the choices is no longer offered. Choose again from the list."
        chosen.append((item[0], item[1], title))
    if not chosen:
        return [], "Choose at least one activity or course."
    if len(chosen) > 1 and str(settings.get("accept_multiple", True)).lower() == "false":
        return [], "This place in your course takes one activity: choose one."
    if "ltiResourceLink" not in (settings.get("accept_types") or ["ltiResourceLink"]):
        return [], "The platform asked for something other than activity links, which Alliance does not offer."
    return chosen, None


def _policy_posting_to(origin: str) -> str:
    """The site's content security policy, with form posts allowed to `origin` too."""
    from app import _SECURITY_HEADERS

    return _SECURITY_HEADERS["Content-Security-Policy"].replace("form-action 'self'", f"form-action 'self' {origin}")
