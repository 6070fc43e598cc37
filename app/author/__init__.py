"""Writing quizzes in the browser: drafts, the checker at every field, preview, publish, versions, files in and out.

Educators and admins only (one guard for the whole area); within it, only a quiz's owner and
co-editors may open it (admins may make a published one site-wide). See docs/authoring-in-the-browser.md.
"""

from flask import Blueprint
from flask_login import current_user, login_required
from werkzeug.exceptions import Forbidden

from app.errors import refuse

bp = Blueprint("author", __name__)


@bp.before_request
@login_required
def _guard() -> None:
    """One access guard for the whole area: educators and admins; students are refused."""
    if not current_user.is_educator:
        refuse(Forbidden, "Writing quizzes is for educators. Your own learning is under “My learning”.")


# Routes attach themselves to bp; conversation_play and conversations are the conversation editor.
from app.author import conversation_play, conversations, files, observations, publishing, routes  # noqa: E402,F401
