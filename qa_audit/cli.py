"""Command line: `flask --app qa_audit users create|tokens create|demo load|reminders send|backup|restore` (API.md)."""

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
reminders_cli = click.Group("reminders", help="Reminders by email about actions (run daily from cron).")


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


@reminders_cli.command("send")
@click.option("--digest", is_flag=True, help="Send heads of service their weekly digest today, not only on Mondays.")
def send_reminders(digest: bool) -> None:
    """Email owners their overdue and due-soon actions, and (on Mondays) heads of
    service their weekly digest. Never sends the same reminder twice in a day."""
    from qa_audit.actions.reminders import send_reminders as send

    sent = send(digest=True if digest else None)
    click.echo(
        f"Sent {sent.reminders} {'reminder' if sent.reminders == 1 else 'reminders'} to action owners"
        f" and {sent.digests} weekly {'digest' if sent.digests == 1 else 'digests'} to heads of service."
    )
    if sent.already_sent:
        click.echo(f"{sent.already_sent} had already been sent today by another run.")
    for failure in sent.failed:
        click.echo(f"Error: not sent: {failure}", err=True)
    if sent.failed:
        raise SystemExit(1)


@click.command("backup")
@click.argument("path", type=click.Path(path_type=str))
def backup_command(path: str) -> None:
    """Back up the database and the evidence files into one .tar.gz archive: PATH is a
    folder (the archive gets a dated name) or a file name ending in .tar.gz. Safe while
    the app runs. README.md's Backups section describes the archive."""
    from qa_audit import backup

    try:
        done = backup.backup(path)
    except backup.BackupError as error:
        click.echo(f"Error: {error.message}", err=True)
        raise SystemExit(1) from None
    manifest = done.manifest
    rows = sum(manifest["tables"].values())
    click.echo(
        f"Backed up the {backup.KIND_LABELS[manifest['database']]} database at migration {manifest['alembic_revision']}: "
        f"{backup.plural(rows, 'row')} in {backup.plural(len(manifest['tables']), 'table')}."
    )
    evidence = manifest["evidence"]
    click.echo(f"Backed up {backup.plural(evidence['files'], 'evidence file')} ({backup.size_label(evidence['bytes'])}).")
    click.echo(f"Wrote {done.path} ({backup.size_label(done.size)}), SHA-256 {done.sha256}.")
    if done.not_listed:
        click.echo(f"Left out {backup.plural(done.not_listed, 'file')} in the evidence folder that the database does not list.")
    if done.missing:
        click.echo(
            f"Warning: {backup.plural(len(done.missing), 'evidence file')} listed in the database "
            f"{'was' if len(done.missing) == 1 else 'were'} not in the evidence folder, so not backed up: {', '.join(done.missing)}",
            err=True,
        )


@click.command("restore")
@click.argument("path", type=click.Path(path_type=str))
@click.option("--yes", is_flag=True, help="Yes, replace the whole database and every evidence file with the backup's.")
def restore_command(path: str, yes: bool) -> None:
    """Replace the database and the evidence files with those in a backup made by
    `backup`, then run the migrations up to the newest. Stop the app first."""
    from qa_audit import backup

    if not yes:
        click.echo(
            "Error: restore replaces the whole database and every evidence file with the backup's, "
            "and cannot be undone. Nothing was changed. If that is what you want, run it again with --yes.",
            err=True,
        )
        raise SystemExit(1)
    try:
        done = backup.restore(path)
    except backup.BackupError as error:
        click.echo(f"Error: {error.message}", err=True)
        raise SystemExit(1) from None
    manifest = done.manifest
    rows = sum(manifest["tables"].values())
    click.echo(
        f"Checked {done.path}: made at {manifest['created_at']} by qa_audit {manifest.get('app_version', 'unknown')}; "
        f"every checksum matches."
    )
    click.echo(
        f"Restored the {backup.KIND_LABELS[manifest['database']]} database at migration {manifest['alembic_revision']}: "
        f"{backup.plural(rows, 'row')} in {backup.plural(len(manifest['tables']), 'table')}, as the backup's manifest lists."
    )
    if done.dropped_tables:
        click.echo(
            f"Dropped {backup.plural(len(done.dropped_tables), 'table')} the backup does not have "
            f"(newer migrations make them again, empty): {', '.join(done.dropped_tables)}."
        )
    evidence = manifest["evidence"]
    click.echo(
        f"Restored {backup.plural(evidence['files'], 'evidence file')} ({backup.size_label(evidence['bytes'])}) to {done.evidence_folder}, "
        f"which held {backup.plural(done.evidence_before, 'file')} before."
    )
    if evidence.get("missing"):
        click.echo(
            f"Warning: {backup.plural(len(evidence['missing']), 'evidence file')} listed in the database "
            f"{'was' if len(evidence['missing']) == 1 else 'were'} already missing when the backup was made: {', '.join(evidence['missing'])}",
            err=True,
        )
    if done.revision_now == manifest["alembic_revision"]:
        click.echo(f"The database is at migration {done.revision_now}, the newest.")
    else:
        click.echo(f"Upgraded the database from migration {manifest['alembic_revision']} to {done.revision_now}, the newest.")


def register(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(tokens_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(reminders_cli)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
