"""Forms of the station pages that have fixed fields (the rating forms are read by the ratings service)."""

from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional


class StationForm(FlaskForm):
    """A new station: the observation form it uses and, optionally, its own title."""

    # Checked against the catalogue by the view, which says what is wrong in words.
    form_ref = SelectField(
        "Observation form", validators=[DataRequired("Choose an observation form.")], validate_choice=False
    )
    title = StringField(
        "Station title (optional)",
        validators=[Optional(), Length(max=200, message="Keep the title under 200 characters.")],
        description="For example “Station 3: first consultation, Tuesday”. Left empty, the form's title is used.",
    )


class ExaminerForm(FlaskForm):
    """An examiner to add to the cohort, by their educator account's address."""

    email = EmailField(
        "Examiner's email address",
        validators=[
            DataRequired("Enter the examiner's email address."),
            Email("Enter an email address like name@example.org."),
        ],
        description="Their educator account's address. Examiners rate at this cohort's stations and see nothing else of it.",
    )
