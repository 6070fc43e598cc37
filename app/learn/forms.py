"""Forms of the learner's screens; each carries a CSRF token."""

from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField
from wtforms.validators import DataRequired, InputRequired, NumberRange


class ReplyForm(FlaskForm):
    """One reply in a branching conversation, with the step it answers so a resubmission is caught."""

    step = IntegerField(validators=[InputRequired(), NumberRange(min=1, max=10_000)])
    reply = StringField(validators=[DataRequired()])
