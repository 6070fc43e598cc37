"""Forms of the admin's screens. Forms that change something carry a CSRF token; the search does not."""

from flask_wtf import FlaskForm
from wtforms import EmailField, SearchField, SelectField, StringField, SubmitField
from wtforms.validators import AnyOf, DataRequired, Email, Length, Optional

from app.auth.forms import plain_address, strip_spaces
from app.models import ROLES
from app.services.admin import STATUSES

try:  # WTForms 3.3 deprecates choices given as tuples
    from wtforms.fields.choices import SelectChoice as Choice
except ImportError:  # pragma: no cover - older WTForms

    def Choice(value: str, label: str) -> tuple[str, str]:  # noqa: N802
        return value, label


ROLE_LABELS = {"student": "Student", "educator": "Educator", "admin": "Admin"}
STATUS_LABELS = {"active": "Active", "deactivated": "Deactivated"}


class UserSearchForm(FlaskForm):
    """Search accounts by name or email, filtered by role and status (a GET form: nothing changes)."""

    class Meta:
        csrf = False

    q = SearchField(
        "Name or email contains",
        validators=[Optional(), Length(max=254, message="Search for at most 254 characters.")],
    )
    role = SelectField(
        "Role",
        choices=[Choice("", "Any role"), *(Choice(role, ROLE_LABELS[role]) for role in ROLES)],
        validators=[Optional(), AnyOf(ROLES, message="Choose a role from the list.")],
        validate_choice=False,  # AnyOf says it in words a person understands
    )
    status = SelectField(
        "Status",
        choices=[Choice("", "Active or deactivated"), *(Choice(status, STATUS_LABELS[status]) for status in STATUSES)],
        validators=[Optional(), AnyOf(STATUSES, message="Choose active or deactivated.")],
        validate_choice=False,
    )


class RoleForm(FlaskForm):
    """Change an account's role."""

    # AnyOf, not DataRequired: the list always has a role chosen, and a `required` select would need an empty option.
    role = SelectField(
        "Role",
        choices=[Choice(role, ROLE_LABELS[role]) for role in ROLES],
        validators=[AnyOf(ROLES, message="Choose a role from the list.")],
        validate_choice=False,
    )
    submit = SubmitField("Change role")


class NewAccountForm(FlaskForm):
    """A new account: the person's name and email, and their role."""

    display_name = StringField(
        "Name",
        validators=[
            DataRequired("Enter the person's name, as the app should show it."),
            Length(max=100, message="Keep the name under 100 characters."),
        ],
    )
    email = EmailField(
        "Email",
        filters=[strip_spaces],
        validators=[
            DataRequired("Enter the person's email address: they sign in with it."),
            plain_address,
            Email("Enter a valid email address, like name@example.org."),
            Length(max=254, message="Email addresses have at most 254 characters."),
        ],
    )
    role = SelectField(
        "Role",
        choices=[Choice(role, ROLE_LABELS[role]) for role in ROLES],
        default="student",
        validators=[AnyOf(ROLES, message="Choose a role from the list.")],
        validate_choice=False,
    )
    submit = SubmitField("Create account")
