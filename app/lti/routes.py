"""The protocol's endpoints (login initiation, launch, key set) and the cohort page's roster sync.

Platforms post to /lti/login and /lti/launch from another site, so those carry no CSRF token: the
OIDC state (a cookie set at login) and the nonce (kept in the database, usable once) do that job,
checked by pylti1p3 with the platform's signature, issuer, deployment and expiry. pylti1p3 is imported by
the endpoints when they run, never when the app is built (app/lti/protocol.py).
"""

from datetime import timedelta

from flask import flash, jsonify, redirect, render_template, session, url_for
from flask_login import current_user, login_required
from werkzeug.exceptions import Forbidden

from app.auth.routes import sign_in_as
from app.content import catalog
from app.errors import not_found, refuse
from app.extensions import csrf, db
from app.lti import bp, frames, keys, launches, roster, tool
from app.services import accounts, cohorts

#: How long a login's nonce and a deep linking launch are kept (the picker may stay open a while).
LAUNCH_LIFETIME = 3600

# What a refused launch means for the person in front of it, by pylti1p3's reason.
_REASONS = (
    ("nonce", "This launch was used already. Each launch works once, so refreshing or going back to it is refused."),
    ("state", "This launch did not start in this browser, or the browser blocked Alliance's cookie inside the frame."),
    ("expired", "This launch waited too long and expired."),
    ("registration", "Alliance does not know this platform (or this client of it)."),
    ("deployment", "Alliance does not know this deployment of the platform."),
    ("client id", "Alliance does not know this client of the platform."),
    ("signature", "The launch's signature does not match the platform's keys."),
    ("public key", "The launch was signed with a key the platform does not publish."),
    ("jwt", "The launch could not be read: it is not a complete signed token."),
)


def refused(detail: str, status: int = 400, platform_name: str | None = None):
    """A friendly page for a launch Alliance will not act on: what happened and what to do."""
    lowered = detail.lower()
    reason = next((text for word, text in _REASONS if word in lowered), "The launch could not be verified.")
    return render_template(
        "lti/refused.html", reason=reason, detail=detail, platform_name=platform_name or "your learning platform"
    ), status


@bp.route("/login", methods=["GET", "POST"])
@csrf.exempt
def login():
    """OIDC login initiation: check the platform is registered, then send the browser back to it with state and nonce."""
    from pylti1p3.contrib.flask import FlaskOIDCLogin, FlaskRequest
    from pylti1p3.exception import LtiException, OIDCException

    from app.lti.protocol import DatabaseLaunchStorage, DatabaseToolConf

    oidc = FlaskOIDCLogin(FlaskRequest(), DatabaseToolConf())
    oidc.set_launch_data_storage(DatabaseLaunchStorage())
    oidc.set_launch_data_lifetime(LAUNCH_LIFETIME)
    try:
        response = oidc.redirect(tool.site_url("/lti/launch"))
    except (OIDCException, LtiException) as exc:
        db.session.rollback()
        return refused(str(exc))
    db.session.commit()
    return response


@bp.post("/launch")
@csrf.exempt
def launch():
    """A platform's signed launch: verify it, then open the linked item (or the deep linking picker)."""
    from pylti1p3.contrib.flask import FlaskMessageLaunch, FlaskRequest
    from pylti1p3.exception import LtiException, OIDCException

    from app.lti.protocol import DatabaseLaunchStorage, DatabaseToolConf, TimedSession

    message = FlaskMessageLaunch(
        FlaskRequest(),
        DatabaseToolConf(),
        launch_data_storage=DatabaseLaunchStorage(),
        requests_session=TimedSession(10),
    )
    message.set_launch_data_lifetime(LAUNCH_LIFETIME)
    try:
        claims = message.get_launch_data()
    except (LtiException, OIDCException, KeyError, TypeError, ValueError) as exc:
        db.session.commit()  # a nonce checked stays used, even by a launch refused later on
        return refused(str(exc) or type(exc).__name__)
    platform = tool.find_platform(message.get_iss(), message.get_client_id())
    if platform is None:  # unregistered while the launch was on its way
        db.session.commit()
        return refused("Registration not found.")
    try:
        launched = launches.resource_launch(platform, claims, catalog())
    except (launches.LaunchError, accounts.AccountError, cohorts.CohortError) as exc:
        db.session.rollback()
        return refused(str(exc), 403, platform.name)
    if message.is_deep_link_launch():
        if launches.role_for(claims.get(launches.ROLES_CLAIM)) != "educator" or not launched.user.is_educator:
            db.session.commit()
            return refused("Only instructors choose Alliance activities for a course.", 403, platform.name)
        tool.put_state(
            "picker-" + message.get_launch_id(),
            {"user_id": launched.user.id, "platform_id": platform.id},
            timedelta(seconds=LAUNCH_LIFETIME),
        )
        target = url_for("lti.picker", launch_id=message.get_launch_id())
    elif message.is_resource_launch():
        target = launched.target
    else:
        db.session.commit()
        return refused("Alliance opens resource links and deep linking requests only.", 400, platform.name)
    sign_in_as(launched.user, remember=False)  # commits
    session[frames.SESSION_KEY] = launches.frame_origins(platform)
    return redirect(target)


@bp.get("/jwks")
def jwks():
    """The tool's public keys (the current one and, during a rotation, the previous one)."""
    response = jsonify(keys.jwks())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.app_template_global("lti_roster_of")
def lti_roster_of(cohort_id: int):
    """For the cohort page: the platform course the cohort stands for, with its platform, or None."""
    return roster.context_of(cohort_id)


@bp.route("/cohorts/<int:cohort_id>/roster", methods=["POST"])
@login_required
def sync_roster(cohort_id: int):
    """Bring the platform course's roster into its cohort (educators teaching the cohort)."""
    if not current_user.is_educator:
        refuse(Forbidden, "Only the cohort's educators sync its roster.")
    cohort = cohorts.get_for(current_user, cohort_id)
    linked = roster.context_of(cohort.id) if cohort else None
    if linked is None:
        not_found("This cohort does not come from a learning platform, so it has no roster to sync.")
    context, platform = linked
    try:
        members = roster.fetch_members(context, platform)
    except roster.RosterError as exc:
        flash(str(exc), "error")
        return redirect(url_for("teach.cohort", cohort_id=cohort.id, _anchor="members"))
    result = roster.sync(cohort, context, platform, members, by=current_user._get_current_object())
    db.session.commit()
    said = f"Roster synced from {platform.name}: {result.added} added, {result.already} already here"
    said += f", {result.instructors} instructor{'s' if result.instructors != 1 else ''}"
    said += f" ({result.invited} newly invited to co-teach: they accept by opening Alliance from the course, or under Teaching)."
    if result.skipped:
        said += " Not added: " + "; ".join(result.skipped[:5]) + ("…" if len(result.skipped) > 5 else ".")
    flash(said, "success")
    return redirect(url_for("teach.cohort", cohort_id=cohort.id, _anchor="members"))


@bp.get("/config")
def config():
    """The tool's configuration for platforms, as JSON (the same as `alliance lti config`)."""
    return jsonify(configuration())


def configuration() -> dict:
    """What an administrator pastes into a platform to register Alliance."""
    return {
        "title": "Alliance",
        **tool.urls(),
        "scopes": list(tool.SCOPES),
        "custom_parameters": {"alliance_item": "kind:id, set by deep linking (e.g. quiz:q-empathy)"},
        "messages": ["LtiResourceLinkRequest", "LtiDeepLinkingRequest"],
    }
