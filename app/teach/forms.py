"""Forms of the educator's screens; each carries a CSRF token."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, EmailField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional


class CourseForm(FlaskForm):
    """A course's title and description."""

    title = StringField("Title", validators=[DataRequired("Give the course a title."), Length(max=200)])
    description = TextAreaField(
        "Description", validators=[Optional(), Length(max=5000)], description="What students will do and why."
    )


class AddItemForm(FlaskForm):
    """Add a module, quiz or conversation from the catalogue."""

    choice = SelectField("Content to add", validators=[DataRequired("Choose the content to add.")])
    is_required = BooleanField("Required for completion", default=True)


class CohortForm(FlaskForm):
    """A cohort's name."""

    name = StringField("Cohort name", validators=[DataRequired("Give the cohort a name."), Length(max=200)])


class ShareForm(FlaskForm):
    """Share a cohort with a co-educator."""

    email = EmailField(
        "Co-educator's email",
        validators=[
            DataRequired("Enter the email of the educator to share with."),
            Email("Enter a valid email address."),
            Length(max=254),
        ],
    )


class AssignForm(FlaskForm):
    """Assign a course to a cohort, with optional dates."""

    course = SelectField("Course", validators=[DataRequired("Choose a course to assign.")])
    starts_on = DateField("Start date (optional)", validators=[Optional()])
    due_on = DateField("Due date (optional)", validators=[Optional()])
