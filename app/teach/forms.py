"""Forms of the educator's screens; each carries a CSRF token."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, EmailField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional

from app.converters import WholeNumberField
from app.models.teaching import MAX_OBSERVED_STATIONS

#: What a date field says when the browser sent something that is not a date (a browser without a date picker).
NOT_A_DATE = "Enter the date as year, month and day, for example 2027-01-31."
#: What the observed-stations field says about anything but a whole number it can keep.
STATIONS_RANGE = (
    "Enter how many observed stations the certificate needs as a whole number "
    f"from 0 (none) to {MAX_OBSERVED_STATIONS}."
)


class CourseForm(FlaskForm):
    """A course's title and description."""

    title = StringField(
        "Title",
        validators=[
            DataRequired("Give the course a title."),
            Length(max=200, message="Keep the title under 200 characters."),
        ],
    )
    description = TextAreaField(
        "Description",
        validators=[Optional(), Length(max=5000, message="Keep the description under 5,000 characters.")],
        description="What students will do and why.",
    )


class AddItemsForm(FlaskForm):
    """Add one or more modules, quizzes and conversations from the catalogue (ticked in a grouped list)."""

    # The values are checked against the catalogue by the course service, which says what is wrong in words;
    # WTForms' own check would answer "'x' is not a valid choice for this field."
    choice = SelectMultipleField(
        "Content to add",
        validators=[DataRequired("Tick at least one module, quiz or conversation to add.")],
        validate_choice=False,
    )
    is_required = BooleanField("Required for completion", default=True)


class CohortForm(FlaskForm):
    """A cohort's name."""

    name = StringField(
        "Cohort name",
        validators=[
            DataRequired("Give the cohort a name."),
            Length(max=200, message="Keep the name under 200 characters."),
        ],
    )


class ShareForm(FlaskForm):
    """Share a cohort with a co-educator."""

    email = EmailField(
        "Co-educator's email",
        validators=[
            DataRequired("Enter the email of the educator to share with."),
            Email("Enter a valid email address."),
            Length(max=254, message="Email addresses have at most 254 characters."),
        ],
    )


class AssignForm(FlaskForm):
    """Assign a course to a cohort, with optional dates; a due date in the past needs `confirm_past_due`."""

    # Checked in the view, which can say why a course cannot be assigned (a draft) instead of "Not a valid choice."
    course = SelectField("Course", validators=[DataRequired("Choose a course to assign.")], validate_choice=False)
    starts_on = DateField("Start date (optional)", validators=[Optional()], invalid_value_message=NOT_A_DATE)
    due_on = DateField("Due date (optional)", validators=[Optional()], invalid_value_message=NOT_A_DATE)
    # Sent only by the "Assign with this past due date" button, shown after the warning.
    confirm_past_due = BooleanField("Assign with this past due date")
    # What the certificate also needs (app/credentials); starts at the site's default, empty keeps that default.
    observed_stations = WholeNumberField(
        "Observed stations to pass for the certificate",
        validators=[Optional(), NumberRange(0, MAX_OBSERVED_STATIONS, message=STATIONS_RANGE)],
        invalid_value_message=STATIONS_RANGE,
        render_kw={"class": "stations-needed", "min": 0, "max": MAX_OBSERVED_STATIONS},
    )
