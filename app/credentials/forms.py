"""Forms of the credentials area: revoking a certificate, checking a badge file, what an assignment's certificate needs."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from app.converters import WholeNumberField
from app.credentials.issuing import MAX_REASON
from app.models.teaching import MAX_OBSERVED_STATIONS
from app.teach.forms import STATIONS_RANGE


class RevokeForm(FlaskForm):
    """The reason for revoking, shown on the certificate's public verification page."""

    reason = TextAreaField(
        "Reason (shown on the public verification page)",
        validators=[
            DataRequired("Give the reason for revoking: the verification page shows it."),
            Length(max=MAX_REASON, message=f"Keep the reason under {MAX_REASON} characters."),
        ],
    )
    submit = SubmitField("Revoke the certificate")


class CheckBadgeForm(FlaskForm):
    """An Open Badge file (.jwt) to verify, uploaded or pasted."""

    file = FileField("Badge file (.jwt)")
    token = TextAreaField(
        "Or paste the badge’s text", validators=[Length(max=65536, message="That is far longer than a badge.")]
    )
    submit = SubmitField("Check the badge")


class RequirementForm(FlaskForm):
    """How many observed stations of the cohort the certificate of an assigned course also needs."""

    observed_stations = WholeNumberField(
        "Observed stations to pass",
        validators=[
            InputRequired(STATIONS_RANGE),
            NumberRange(0, MAX_OBSERVED_STATIONS, message=STATIONS_RANGE),
        ],
        invalid_value_message=STATIONS_RANGE,
        render_kw={"class": "stations-needed", "min": 0, "max": MAX_OBSERVED_STATIONS},
    )
    submit = SubmitField("Save")
