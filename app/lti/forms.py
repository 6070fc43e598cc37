"""Forms of the LTI pages: registering a platform, and the deep linking picker's choices."""

from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.auth.forms import strip_spaces


class PlatformForm(FlaskForm):
    """A platform's registration, as its administrator reads it off the platform's tool settings."""

    name = StringField(
        "Name",
        filters=[strip_spaces],
        validators=[DataRequired("Give the platform a name people recognise."), Length(max=200)],
    )
    issuer = StringField("Issuer (platform ID)", filters=[strip_spaces], validators=[DataRequired("Give the issuer.")])
    client_id = StringField("Client ID", filters=[strip_spaces], validators=[DataRequired("Give the client ID.")])
    deployment_ids = StringField(
        "Deployment ID",
        filters=[strip_spaces],
        validators=[DataRequired("Give the deployment ID."), Length(max=2000)],
    )
    auth_login_url = StringField(
        "Authentication request URL", filters=[strip_spaces], validators=[DataRequired("Give the authentication URL.")]
    )
    auth_token_url = StringField(
        "Access token URL", filters=[strip_spaces], validators=[DataRequired("Give the access token URL.")]
    )
    keyset_url = StringField(
        "Public keyset URL", filters=[strip_spaces], validators=[DataRequired("Give the public keyset URL.")]
    )
    frame_origins = TextAreaField(
        "Other addresses that show Alliance in a frame (optional)",
        filters=[strip_spaces],
        validators=[Optional(), Length(max=2000)],
    )
    submit = SubmitField("Register the platform")
