"""Forms for signing up and in."""

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError


class SignUpForm(FlaskForm):
    """A new student account."""

    email = EmailField(
        "Email",
        validators=[
            DataRequired("Enter your email address."),
            Email("Enter a valid email address, like name@example.org."),
            Length(max=254),
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
        """Enforce the configured minimum length (and a sane maximum)."""
        minimum = current_app.config["PASSWORD_MIN_LENGTH"]
        if len(field.data) < minimum:
            raise ValidationError(f"Use at least {minimum} characters.")
        if len(field.data) > 256:
            raise ValidationError("Use at most 256 characters.")


class SignInForm(FlaskForm):
    """Email and password."""

    email = EmailField("Email", validators=[DataRequired("Enter your email address.")])
    password = PasswordField("Password", validators=[DataRequired("Enter your password.")])
    remember = BooleanField("Keep me signed in on this device")
    submit = SubmitField("Sign in")
