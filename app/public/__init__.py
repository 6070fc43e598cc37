"""Pages anyone may see: the landing page with the catalogue."""

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from app.content import catalog

bp = Blueprint("public", __name__)


@bp.get("/")
def index():
    """The landing page; signed-in people go straight to their home."""
    if current_user.is_authenticated:
        return redirect(url_for("learn.home"))
    return render_template("public/index.html", modules=catalog().modules)
