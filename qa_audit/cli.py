"""Command line: `flask --app qa_audit users create|tokens create|demo load` (API.md)."""

from __future__ import annotations

import click
from flask import Flask
from sqlalchemy import select

from qa_audit.auth import services as account_rules
from qa_audit.auth.models import Role, User
from qa_audit.errors import InvalidInput
from qa_audit.extensions import db


def _fail(error: InvalidInput) -> None:
    for field, messages in error.errors.items():
        for message in messages:
            click.echo(f"Error: {field}: {message}", err=True)
    raise SystemExit(1)


users_cli = click.Group("users", help="Manage user accounts.")
tokens_cli = click.Group("tokens", help="Manage API tokens.")
demo_cli = click.Group("demo", help="Demo data.")


@users_cli.command("create")
@click.argument("email")
@click.option("--name", required=True, help="Full name.")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="At least 12 characters, not a common password. Asked for (hidden) when not given.",
)
def create_user(email: str, name: str, role: str, password: str) -> None:
    """Create a user who can sign in at once."""
    try:
        user = account_rules.create_user(email, name, role, password)
    except InvalidInput as error:
        _fail(error)
    click.echo(f"Created {user.email} ({user.role.value}) with id {user.id}")


@tokens_cli.command("create")
@click.argument("email")
@click.option("--name", default="Created on the command line", help="What the token is for.")
def create_token(email: str, name: str) -> None:
    """Create an API token for a user; the token is printed alone on the last line."""
    user = db.session.scalar(select(User).where(User.email == account_rules.normalise_email(email)))
    if user is None or not user.active:
        click.echo(f"Error: no active user with email {email}", err=True)
        raise SystemExit(1)
    try:
        plain, _ = account_rules.create_token(user, name)
    except InvalidInput as error:
        _fail(error)
    click.echo(f"Token for {user.email} (shown once; it is stored only as a hash):")
    click.echo(plain)


@demo_cli.command("load")
def load_demo() -> None:
    """Load the demo council (idempotent: running it again changes nothing)."""
    from qa_audit.demo import DEMO_PASSWORD, load

    summary = load()
    click.echo(summary)
    click.echo("")
    click.echo(f"Demo sign-ins (password for each: {DEMO_PASSWORD}):")
    for email, role in sorted((u.email, u.role.value) for u in db.session.scalars(select(User).where(User.email.like("%@demo.qa-audit.test")))):
        click.echo(f"  {role:<16} {email}")


def register(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(tokens_cli)
    app.cli.add_command(demo_cli)
