"""The educators' download of a module's SCORM package (a link on the module page, shown to staff)."""

from flask import Blueprint, Response
from flask_login import current_user, login_required
from werkzeug.exceptions import Forbidden

from app.content import catalog
from app.errors import not_found, refuse
from app.exchange.scorm import package

bp = Blueprint("scorm", __name__, template_folder="site_templates")


@bp.before_request
@login_required
def _guard() -> None:
    """Educators and admins only, as on the teaching pages."""
    if not current_user.is_educator:
        refuse(Forbidden, "SCORM packages are for educators. Your own learning is under “My learning”.")


@bp.get("/modules/<module_id>/scorm-<version>.zip")
def download(module_id: str, version: str):
    """The module's SCORM package of this version as a zip attachment."""
    if catalog().module(module_id) is None:
        not_found("There is no module at this address. It may have been renamed or removed.")
    if version not in ("12", "2004"):
        not_found("SCORM packages come as version 1.2 (scorm-12.zip) or 2004 (scorm-2004.zip).")
    scorm_version = "1.2" if version == "12" else "2004"
    try:
        data = package.build(catalog(), module_id, scorm_version)
    except package.ExportError as exc:
        refuse(Forbidden, str(exc))
    name = package.filename(module_id, scorm_version)
    return Response(
        data,
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )
