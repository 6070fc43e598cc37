"""Forms for signing up and in, and for choosing a new password."""

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length, StopValidation, ValidationError

from app.services import accounts, addresses


def strip_spaces(value):
    """A typed value without the spaces around it (pasted addresses often carry some)."""
    return value.strip() if isinstance(value, str) else value


def plain_address(form, field) -> None:
    """WTForms validator: refuse an address that may not be the one it seems, saying why, before other checks.

    Its own message (an invisible or look-alike character) tells more than "not a valid address" would.
    """
    problem = addresses.problem(field.data or "")
    if problem:
        raise StopValidation(problem)


def check_new_password(password: str, *about_the_person: str) -> None:
    """The rules for every new password: the configured length, and not easy to guess (ValidationError)."""
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        raise ValidationError(f"Use at least {minimum} characters.")
    if len(password) > 256:
        raise ValidationError("Use at most 256 characters.")
    problem = accounts.password_problem(password, *about_the_person)
    if problem:
        raise ValidationError(problem)


class NewPasswordForm(FlaskForm):
    """A new password, twice; `about_the_person` (their email and name) must not make it up."""

    password = PasswordField("New password", validators=[DataRequired("Choose a password.")])
    confirm = PasswordField(
        "Repeat the password",
        validators=[DataRequired("Repeat the password."), EqualTo("password", "The two passwords differ.")],
    )
    about_the_person: tuple[str, ...] = ()

    def validate_password(self, field) -> None:
        """The same rules as signing up."""
        check_new_password(field.data, *self.about_the_person)


class SignUpForm(FlaskForm):
    """A new student account."""

    email = EmailField(
        "Email",
        validators=[
            DataRequired("Enter your email address."),
            Email("Enter a valid email address, like name@example.org."),
            Length(max=254, message="Email addresses have at most 254 characters."),
        ],
    )
    display_name = StringField(
        "Your name",
        validators=[
            DataRequired("Enter the name to show in the app."),
            Length(max=100, message="Keep your name under 100 characters."),
        ],
    )
    password = PasswordField("Password", validators=[DataRequired("Choose a password.")])
    confirm = PasswordField(
        "Repeat the password",
        validators=[DataRequired("Repeat the password."), EqualTo("password", "The two passwords differ.")],
    )
    submit = SubmitField("Create account")

    def validate_password(self, field) -> None:
        """The configured minimum length, a sane maximum, and not easy to guess (nor made of the email or name)."""
        check_new_password(field.data, self.email.data or "", self.display_name.data or "")


class SignInForm(FlaskForm):
    """Email and password."""

    email = EmailField("Email", validators=[DataRequired("Enter your email address.")])
    password = PasswordField("Password", validators=[DataRequired("Enter your password.")])
    remember = BooleanField("Keep me signed in on this device")
    submit = SubmitField("Sign in")


class ChangePasswordForm(FlaskForm):
    """The current password, then the new one twice (under the same rules as signing up)."""

    current_password = PasswordField(
        "Current password", validators=[DataRequired("Type the password you sign in with now.")]
    )
    password = PasswordField("New password", validators=[DataRequired("Choose a new password.")])
    confirm = PasswordField(
        "Repeat the new password",
        validators=[DataRequired("Repeat the new password."), EqualTo("password", "The two new passwords differ.")],
    )
    submit = SubmitField("Change password")
    about_the_person: tuple[str, ...] = ()

    def validate_password(self, field) -> None:
        """The same rules as signing up."""
        check_new_password(field.data, *self.about_the_person)
