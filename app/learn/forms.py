"""Forms of the learner's screens; each carries a CSRF token."""

from flask_wtf import FlaskForm


class ActionForm(FlaskForm):
    """A button that changes state (complete a lesson, start a quiz): only its CSRF token matters."""


class QuizForm(FlaskForm):
    """A quiz submission; item answers are read by their item types from the raw form data."""
