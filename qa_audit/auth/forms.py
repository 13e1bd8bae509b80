from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput, GovTextInput
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, ValidationError


class NoSpaces:
    def __init__(self, message: str):
        self.message = message

    def __call__(self, form, field):
        value = (field.data or "").strip()
        if " " in value or "@" not in value:
            raise ValidationError(self.message)


class SignInForm(FlaskForm):
    email = StringField(
        "Email address",
        widget=GovTextInput(),
        validators=[
            InputRequired(message="Enter your email address"),
            Length(max=320, message="Email address must be 320 characters or fewer"),
            NoSpaces("Enter an email address in the correct format, like name@example.gov.uk"),
        ],
    )
    password = PasswordField(
        "Password",
        widget=GovPasswordInput(),
        validators=[
            InputRequired(message="Enter your password"),
            Length(max=256, message="Password must be 256 characters or fewer"),
        ],
    )
    submit = SubmitField("Sign in", widget=GovSubmitInput())


class TokenForm(FlaskForm):
    name = StringField(
        "Token name",
        description="For example, the report or system that will use it",
        widget=GovTextInput(),
        validators=[
            InputRequired(message="Enter a name for the token"),
            Length(max=200, message="Token name must be 200 characters or fewer"),
        ],
    )
    submit = SubmitField("Create token", widget=GovSubmitInput())
