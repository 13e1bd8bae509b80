from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovPasswordInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import SelectChoice, BooleanField, HiddenField, PasswordField, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from qa_audit.auth.forms import NoSpaces
from qa_audit.auth.models import Role

ROLE_CHOICES = [SelectChoice(role.value, role.label) for role in Role]


class UserForm(FlaskForm):
    name = StringField(
        "Full name",
        widget=GovTextInput(),
        validators=[InputRequired(message="Enter a name"), Length(max=200, message="Name must be 200 characters or fewer")],
    )
    role = RadioField(
        "Role",
        choices=ROLE_CHOICES,
        widget=GovRadioInput(),
        validators=[InputRequired(message="Select a role")],
    )
    version = HiddenField()
    submit = SubmitField("Save", widget=GovSubmitInput())


class NewUserForm(UserForm):
    email = StringField(
        "Email address",
        widget=GovTextInput(),
        validators=[
            InputRequired(message="Enter an email address"),
            Length(max=320, message="Email address must be 320 characters or fewer"),
            NoSpaces("Enter an email address in the correct format, like name@example.gov.uk"),
        ],
    )
    password = PasswordField(
        "Password",
        description="At least 12 characters. Not a common password. Tell the user to change it",
        widget=GovPasswordInput(),
        validators=[InputRequired(message="Enter a password"), Length(max=256, message="Password must be 256 characters or fewer")],
    )
    submit = SubmitField("Add user", widget=GovSubmitInput())


class ResetPasswordForm(FlaskForm):
    password = PasswordField(
        "New password",
        description="At least 12 characters. Not a common password",
        widget=GovPasswordInput(),
        validators=[InputRequired(message="Enter a new password"), Length(max=256, message="Password must be 256 characters or fewer")],
    )
    submit = SubmitField("Reset password", widget=GovSubmitInput())


class ServiceForm(FlaskForm):
    name = StringField(
        "Name",
        description="The team or function audited, for example Multi-Agency Safeguarding Hub (MASH)",
        widget=GovTextInput(),
        validators=[InputRequired(message="Enter the name of the service"), Length(max=200, message="Name must be 200 characters or fewer")],
    )
    description = TextAreaField(
        "Description (optional)",
        widget=GovTextArea(),
        validators=[Optional(), Length(max=2000, message="Description must be 2,000 characters or fewer")],
    )
    head_of_service_id = SelectField("Head of service", widget=GovSelect(), validators=[Optional()], coerce=str)
    active = BooleanField("Still audited (uncheck to retire the service)", widget=GovCheckboxInput(), default=True)
    version = HiddenField()
    submit = SubmitField("Save service", widget=GovSubmitInput())
