"""Friendly error pages: every error is a page that says what happened and what to do."""

from functools import wraps
from typing import NoReturn

from flask import Flask, current_app, g, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DatabaseError, DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import BadRequest, HTTPException, NotFound

from app.content import ContentError
from app.extensions import db, login_manager

_ADVICE = {
    400: "The request could not be understood. Go back, reload the page and try again.",
    401: "Please sign in to see this page.",
    403: "Your account does not have access to this page.",
    404: "Nothing is at this address. Check the link, or start again from your home page.",
    405: "This page cannot do that: the link or button that brought you here may be out of date. "
    "Go back, reload the page and try again.",
    406: "This page cannot be sent in the form your browser asked for. Open it in an ordinary web browser.",
    408: "Your browser took too long to send the request, so nothing was saved. Please try again.",
    409: "Someone else changed this at the same moment, so nothing was saved. Reload the page and try again.",
    410: "What was at this address has been taken away. Start again from your home page.",
    413: "What you sent is too large, so none of it was read or saved. Send less at a time, or a smaller file.",
    414: "The address is too long to open. Check the link, or start again from your home page.",
    415: "That kind of file cannot be used here. Check what the page asks for and try again.",
    429: "Too many attempts in a short time. Wait a minute, then try again.",
    500: "Something went wrong on our side and nothing was saved. Please try again in a moment.",
    501: "This page cannot do that. Go back and choose one of the page's own buttons or links.",
    502: "Alliance cannot answer just now, so nothing was saved. Please try again in a minute.",
    503: "Alliance cannot answer just now, so nothing was saved. Please try again in a minute.",
    504: "Alliance took too long to answer, so nothing may have been saved. Please try again in a minute.",
}

#: Headings in the app's own voice: never Werkzeug's names ("Not Found", "Method Not Allowed", ...), which are
#: HTTP jargon. Codes not listed read as the closest of these (see `title_for`).
_TITLES = {
    400: "That request could not be read",
    401: "Please sign in",
    403: "You don’t have access to this page",
    404: "Page not found",
    405: "That can’t be done here",
    406: "That form of the page is not offered",
    408: "That took too long",
    409: "That clashed with another change",
    410: "This page has gone",
    413: "Too large",
    414: "That address is too long",
    415: "That kind of file can’t be used",
    418: "That can’t be done here",
    423: "That is locked just now",
    429: "Too many attempts",
    431: "Too large",
    451: "Not available here",
    500: "Something went wrong",
    501: "That can’t be done here",
    502: "Temporarily unavailable",
    503: "Temporarily unavailable",
    504: "Temporarily unavailable",
}


def title_for(code: int) -> str:
    """The heading of the error page for an HTTP status, in the app's own words."""
    if code in _TITLES:
        return _TITLES[code]
    return "Something went wrong" if code >= 500 else "That request could not be read"


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


#: Seconds people are asked to wait before trying again while the database cannot be used.
RETRY_AFTER_SECONDS = 30
UNAVAILABLE = (
    "Alliance cannot use its database just now, so this page cannot be shown and nothing was saved. "
    "Please try again in a minute."
)


#: SQLite's words for a write the disk has no room for (or a connection opened read-only while it had none).
_NO_ROOM = ("database or disk is full", "disk i/o error", "attempt to write a readonly database", "write-ahead log")
CANNOT_SAVE = (
    "Alliance cannot save anything just now because the server's disk is full, so nothing was saved. Pages that "
    "only show things still work. Please try again later; if this goes on, tell whoever runs Alliance."
)


def database_unavailable(error: BaseException) -> bool:
    """Whether an error means the database cannot be used just now: down, unreachable, locked, full or unreadable."""
    if isinstance(error, OperationalError | InterfaceError | PoolTimeout):
        return True
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    # The driver's bare DatabaseError (not one of its subclasses, such as a broken constraint):
    # SQLite's "file is not a database", a file that cannot be read as one.
    return type(error) is DatabaseError


def _unavailable(error: BaseException):
    """The 503 page, made without the database: nobody is treated as signed in, nothing is read."""
    detail = str(getattr(error, "orig", None) or error).strip()
    reason = detail.splitlines()[0] if detail else type(error).__name__
    current_app.logger.error("The database cannot be used (%s): %s", request.path, reason)
    try:
        db.session.rollback()
    except SQLAlchemyError:
        pass  # the connection is gone; the pool replaces it once the database is back
    # Flask-Login keeps the request's user here: anonymous, so the page's header reads nothing.
    # The browser's session is untouched: people are still signed in once the database is back.
    g._login_user = login_manager.anonymous_user()
    message = CANNOT_SAVE if any(words in reason.lower() for words in _NO_ROOM) else UNAVAILABLE
    page = render_template("errors/error.html", code=503, title="Temporarily unavailable", message=message)
    response = make_response(page, 503)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response


def _unless_database_down(handler):
    """An error handler that answers the 503 page instead when the database fails while it renders."""

    @wraps(handler)
    def handle(error):
        try:
            return handler(error)
        except SQLAlchemyError as failure:  # the page's header loads the signed-in person
            if not database_unavailable(failure):
                raise
            return _unavailable(failure)

    return handle


def _reject_nul_characters() -> None:
    """Refuse input holding a NUL character: no person types one, and PostgreSQL cannot store it."""
    in_address = any("\x00" in str(value) for value in (request.view_args or {}).values())
    if in_address or any("\x00" in value for values in (request.args, request.form) for value in values.values()):
        refuse(BadRequest, "What you sent contains a character that is not allowed. Remove it and try again.")


def register(app: Flask) -> None:
    """Attach the error handlers, and the guard against unstorable input, to the app."""
    app.before_request(_reject_nul_characters)

    @app.errorhandler(CSRFError)
    @_unless_database_down
    def csrf_error(error: CSRFError):
        message = "This form has expired or was sent from elsewhere. Nothing was saved: go back, reload the page and send it again."
        return render_template("errors/error.html", code=400, title="Form expired", message=message), 400

    @app.errorhandler(HTTPException)
    @_unless_database_down
    def http_error(error: HTTPException):
        # Flask wraps an error raised outside a view (in an after-request step) in a 500.
        original = getattr(error, "original_exception", None)
        if original is not None and database_unavailable(original):
            return _unavailable(original)
        code = error.code or 500
        # Our views abort with a description written for people; Werkzeug's and extensions' are not.
        # So is a rate limit's own error_message (flask-limiter puts it in the description).
        for_people = getattr(error, "is_for_people", False) or getattr(getattr(error, "limit", None), "error_message", None)
        described = error.description if for_people else None
        message = described or _ADVICE.get(code, "Something went wrong with this request.")
        response = make_response(
            render_template("errors/error.html", code=code, title=title_for(code), message=message), code
        )
        # Keep what the error says about itself (Allow on a 405, Retry-After on a 429).
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    @_unless_database_down
    def server_error(error: Exception):
        if database_unavailable(error):
            return _unavailable(error)
        app.logger.exception("Unhandled error")
        # Whatever the failed request flushed must not reach a later commit.
        db.session.rollback()
        return render_template("errors/error.html", code=500, title=title_for(500), message=_ADVICE[500]), 500
