"""Friendly error pages: every error is a page that says what happened and what to do."""

from typing import NoReturn

from flask import Flask, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import BadRequest, HTTPException, NotFound

from app.content import ContentError
from app.extensions import db

_ADVICE = {
    400: "The request could not be understood. Go back, reload the page and try again.",
    403: "Your account does not have access to this page.",
    404: "Nothing is at this address. Check the link, or start again from your home page.",
    405: "This address does not accept that kind of request.",
    413: "What you sent is too large, so none of it was read or saved. Send less at a time, or a smaller file.",
    429: "Too many attempts in a short time. Wait a minute, then try again.",
}

#: Headings in the app's own voice where Werkzeug's names are jargon.
_TITLES = {413: "Too large"}


def refuse(error_class: type[HTTPException], message: str) -> NoReturn:
    """Answer with this HTTP error, showing `message`, written for the person who sent the request."""
    error = error_class(message)
    error.is_for_people = True
    raise error


def not_found(message: str) -> NoReturn:
    """Answer 404 with a message for the person who followed the link."""
    refuse(NotFound, message)


def startup_failure(exc: Exception) -> str:
    """Why the app cannot start (invalid content or settings), as an operator should read it."""
    if isinstance(exc, ContentError):
        return f"Alliance cannot start: the content has problems.\n{exc.report()}"
    return f"Alliance cannot start: {exc}"


def _reject_nul_characters() -> None:
    """Refuse input holding a NUL character: no person types one, and PostgreSQL cannot store it."""
    in_address = any("\x00" in str(value) for value in (request.view_args or {}).values())
    if in_address or any("\x00" in value for values in (request.args, request.form) for value in values.values()):
        refuse(BadRequest, "What you sent contains a character that is not allowed. Remove it and try again.")


def register(app: Flask) -> None:
    """Attach the error handlers, and the guard against unstorable input, to the app."""
    app.before_request(_reject_nul_characters)

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        message = "This form has expired or was sent from elsewhere. Nothing was saved: go back, reload the page and send it again."
        return render_template("errors/error.html", code=400, title="Form expired", message=message), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = error.code or 500
        # Our views abort with a description written for people; Werkzeug's and extensions' are not.
        # So is a rate limit's own error_message (flask-limiter puts it in the description).
        for_people = getattr(error, "is_for_people", False) or getattr(getattr(error, "limit", None), "error_message", None)
        described = error.description if for_people else None
        message = described or _ADVICE.get(code, "Something went wrong with this request.")
        response = make_response(
            render_template("errors/error.html", code=code, title=_TITLES.get(code, error.name), message=message), code
        )
        # Keep what the error says about itself (Allow on a 405, Retry-After on a 429).
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def server_error(error: Exception):
        app.logger.exception("Unhandled error")
        # Whatever the failed request flushed must not reach a later commit.
        db.session.rollback()
        message = "Something went wrong on our side and nothing was saved. Please try again in a moment."
        return render_template("errors/error.html", code=500, title="Server error", message=message), 500
