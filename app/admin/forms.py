"""Forms of the admin's screens. Forms that change something carry a CSRF token; the search does not."""

from flask_wtf import FlaskForm
from wtforms import SearchField, SelectField, SubmitField
from wtforms.validators import AnyOf, DataRequired, Length, Optional

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

    role = SelectField(
        "Role",
        choices=[Choice(role, ROLE_LABELS[role]) for role in ROLES],
        validators=[DataRequired("Choose a role."), AnyOf(ROLES, message="Choose a role from the list.")],
        validate_choice=False,
    )
    submit = SubmitField("Change role")
