"""The administrators' pages for learning platforms: register, list, remove, and make registration links."""

import json

from flask import flash, redirect, render_template, request, url_for

from app.errors import not_found
from app.extensions import db
from app.lti import admin_bp, platforms, registration
from app.lti.forms import PlatformForm
from app.lti.routes import configuration


def _page(form: PlatformForm | None = None, problem: str | None = None, link: str | None = None, status: int = 200):
    return render_template(
        "lti/platforms.html",
        platforms=platforms.all_platforms(),
        form=form or PlatformForm(formdata=None),
        problem=problem,
        link=link,
        configuration=json.dumps(configuration(), indent=2),
    ), status


@admin_bp.route("/", methods=["GET", "POST"])
def platforms_page():
    """The registered platforms, the form to register one (posted here), and what to paste into a platform."""
    if request.method == "GET":
        return _page()
    form = PlatformForm()
    if not form.validate():
        return _page(form, status=422)
    try:
        platform = platforms.add(
            platforms.NewPlatform(
                name=form.name.data,
                issuer=form.issuer.data,
                client_id=form.client_id.data,
                deployment_ids=tuple(form.deployment_ids.data.replace(",", " ").split()),
                auth_login_url=form.auth_login_url.data,
                auth_token_url=form.auth_token_url.data,
                keyset_url=form.keyset_url.data,
                frame_origins=form.frame_origins.data or "",
            )
        )
    except platforms.PlatformError as exc:
        db.session.rollback()
        return _page(form, problem=str(exc), status=422)
    db.session.commit()
    flash(f"{platform.name} is registered: its instructors can now add Alliance activities.", "success")
    return redirect(url_for(".platforms_page"))


@admin_bp.post("/registration-link")
def registration_link():
    """A one-time address for a platform's dynamic registration, shown once."""
    link = registration.new_link()
    db.session.commit()
    return _page(link=link)


def _platform_or_404(platform_id: int):
    platform = platforms.get(platform_id)
    if platform is None:
        not_found("There is no such platform. The registered platforms are listed on the platforms page.")
    return platform


@admin_bp.route("/<int:platform_id>/remove", methods=["GET", "POST"])
def remove_platform(platform_id: int):
    """Ask, then unregister a platform (its cohorts and accounts stay; grades not yet sent are dropped)."""
    platform = _platform_or_404(platform_id)
    if request.method == "GET":
        return render_template("lti/platform_remove.html", platform=platform)
    name = platform.name
    platforms.remove(platform)
    db.session.commit()
    flash(f"{name} is no longer registered: its launches are refused from now on.", "success")
    return redirect(url_for(".platforms_page"))
