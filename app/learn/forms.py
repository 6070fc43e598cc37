"""Forms of the learner's screens; each carries a CSRF token."""

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, InputRequired, NumberRange

from app.converters import WholeNumberField


class ReplyForm(FlaskForm):
    """One reply in a branching conversation, with the step it answers so a resubmission is caught."""

    # ASCII digits in the database's range only: a 309-digit step overflowed NumberRange's float check.
    step = WholeNumberField(validators=[InputRequired(), NumberRange(min=1, max=10_000)])
    reply = StringField(validators=[DataRequired()])
