"""Friendly error pages: every error is a page that says what happened and what to do."""

from typing import NoReturn

from flask import Flask, make_response, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, NotFound

from app.extensions import db

_ADVICE = {
    400: "The request could not be understood. Go back, reload the page and try again.",
    403: "Your account does not have access to this page.",
    404: "Nothing is at this address. Check the link, or start again from your home page.",
    405: "This address does not accept that kind of request.",
    413: "What you sent is too large.",
    429: "Too many attempts in a short time. Wait a minute, then try again.",
}


def not_found(message: str) -> NoReturn:
    """Answer 404 with a message written for the person who followed the link."""
    error = NotFound(message)
    error.is_for_people = True
    raise error


def register(app: Flask) -> None:
    """Attach the error handlers to the app."""

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        message = "This form has expired or was sent from elsewhere. Nothing was saved: go back, reload the page and send it again."
        return render_template("errors/error.html", code=400, title="Form expired", message=message), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = error.code or 500
        # Our views abort with a description written for people; Werkzeug's and extensions' are not.
        described = error.description if getattr(error, "is_for_people", False) else None
        message = described or _ADVICE.get(code, "Something went wrong with this request.")
        response = make_response(
            render_template("errors/error.html", code=code, title=error.name, message=message), code
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
