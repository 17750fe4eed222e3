"""The ``tui-portal`` command line: the operator's commands, and the launcher of the UI.

Every command exits 0 on success; on failure it prints one ``error:`` line to stderr and
exits non-zero, with no traceback for anything a person can get wrong.
"""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import click

from tui_portal import __version__
from tui_portal.config import Settings, resolve_settings
from tui_portal.errors import PortalError, message_for, one_line

EXIT_USER_ERROR = 1
EXIT_USAGE = 2
DEMO = "tui_portal.demo"  # ctx.meta key: whether --demo was given


def fail(message: str, code: int = EXIT_USER_ERROR) -> NoReturn:
    """Print one ``error:`` line and leave."""
    click.echo(f"error: {one_line(message)}", err=True)
    sys.exit(code)


def operator_name() -> str:
    """Who is running the command, as the audit trail records an operator."""
    try:
        return f"operator:{getpass.getuser()}"
    except Exception:
        return "operator"


def iso_utc(moment: datetime) -> str:
    """ISO-8601 in UTC with a ``Z``."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@contextmanager
def opened(ctx: click.Context) -> Iterator[Any]:
    """Open the portal for one command, and close it afterwards."""
    from tui_portal.services.portal import open_portal

    portal = open_portal(ctx.obj)
    try:
        yield portal
    finally:
        portal.close()


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", "db", metavar="URL_OR_PATH", help="Database URL or SQLite file path.")
@click.option("--issuer", metavar="TEXT", help="Issuer name shown in authenticator apps.")
@click.option("--demo", is_flag=True, help="Launch on the demo database.")
@click.version_option(__version__, prog_name="tui-portal")
@click.pass_context
def cli(ctx: click.Context, db: str | None, issuer: str | None, demo: bool) -> None:
    """tui-portal: account security for developers, in the terminal."""
    if issuer is not None and (not issuer.strip() or ":" in issuer or len(issuer) > 100):
        fail("the issuer must be 1 to 100 characters without ':'", EXIT_USAGE)
    ctx.obj = resolve_settings(db=db, issuer=issuer, demo=demo)
    ctx.meta[DEMO] = demo
    if ctx.invoked_subcommand is None:
        from tui_portal.launch import run_tui

        problem = run_tui(ctx.obj, demo=demo)
        if problem is not None:
            fail(problem)
    elif demo and ctx.invoked_subcommand != "serve":
        fail("--demo launches or serves the demo; it takes no other command", EXIT_USAGE)


@cli.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create or upgrade the schema (safe to run again)."""
    with opened(ctx):
        settings: Settings = ctx.obj
        from tui_portal.data.engine import make_url_safe

        click.echo(f"database ready: {make_url_safe(settings.database_url)}")


# -- organisations ------------------------------------------------------------------------


@cli.group()
def org() -> None:
    """Organisations and their members."""


@org.command("create")
@click.argument("name")
@click.pass_context
def org_create(ctx: click.Context, name: str) -> None:
    """Create an organisation."""
    with opened(ctx) as portal:
        created = portal.directory.create_organisation(name, actor=operator_name())
        click.echo(f"created organisation {created.name}")


@org.command("add-member")
@click.argument("org_name", metavar="ORG")
@click.argument("username")
@click.option("--admin", is_flag=True, help="Make the user an admin of the organisation.")
@click.pass_context
def org_add_member(ctx: click.Context, org_name: str, username: str, admin: bool) -> None:
    """Add a user to an organisation, as a member or an admin."""
    role = "admin" if admin else "member"
    with opened(ctx) as portal:
        portal.directory.add_member(org_name, username, role, actor=operator_name())
        click.echo(f"added {username} to {org_name} as {role}")


@org.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.pass_context
def org_list(ctx: click.Context, as_json: bool) -> None:
    """List organisations."""
    with opened(ctx) as portal:
        orgs = portal.directory.organisations()
    if as_json:
        click.echo(json.dumps([{"name": o.name} for o in orgs], indent=2, ensure_ascii=False))
    else:
        for o in orgs:
            click.echo(o.name)


# -- users --------------------------------------------------------------------------------


@cli.group()
def user() -> None:
    """Users: create, list, import, and reset MFA."""


def read_password(from_stdin: bool) -> str:
    """One line from standard input, or a hidden prompt asked twice."""
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            fail("--password-stdin: no password on standard input")
        return line.removesuffix("\n").removesuffix("\r")
    if not sys.stdin.isatty():
        fail("no terminal to ask for the password; use --password-stdin")
    password: str = click.prompt(
        "Password", hide_input=True, confirmation_prompt="Repeat password", err=True
    )
    return password


@user.command("create")
@click.argument("username")
@click.option("--name", default="", metavar="TEXT", help="Display name.")
@click.option("--email", default="", metavar="TEXT", help="Email address.")
@click.option("--account-manager", is_flag=True, help="Staff who may reset MFA for anyone.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_context
def user_create(
    ctx: click.Context,
    username: str,
    name: str,
    email: str,
    account_manager: bool,
    password_stdin: bool,
) -> None:
    """Create a user; the password is asked for twice, hidden."""
    from tui_portal.services import validation as rules

    rules.check_username(username)
    rules.check_display_name(name)
    rules.check_email(email)
    password = read_password(password_stdin)
    with opened(ctx) as portal:
        created = portal.directory.create_user(
            username,
            password,
            actor=operator_name(),
            name=name,
            email=email,
            account_manager=account_manager,
        )
        click.echo(f"created user {created.username}")


@user.command("list")
@click.option("--org", "org_name", metavar="ORG", help="Only members of this organisation.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.pass_context
def user_list(ctx: click.Context, org_name: str | None, as_json: bool) -> None:
    """List users with their organisations and MFA state."""
    with opened(ctx) as portal:
        users = portal.directory.list_users(org_name)
    if as_json:
        payload = [
            {
                "username": u.username,
                "name": u.name,
                "email": u.email,
                "mfa_enabled": u.mfa_enabled,
                "account_manager": u.is_account_manager,
                "organisations": [{"name": o.name, "role": o.role} for o in u.organisations],
            }
            for u in users
        ]
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    for u in users:
        orgs = ", ".join(f"{o.name} ({o.role})" for o in u.organisations) or "-"
        mfa = "MFA on" if u.mfa_enabled else "MFA off"
        click.echo(f"{u.username}\t{u.name}\t{u.email}\t{mfa}\t{orgs}")


@user.command("import")
@click.argument("csv_file", metavar="FILE.csv", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def user_import(ctx: click.Context, csv_file: Path) -> None:
    """Import users from a CSV of argon2 hashes; all rows or none."""
    try:
        handle = csv_file.open(encoding="utf-8-sig", newline="")
    except OSError as error:
        fail(f"cannot read {csv_file}: {error.strerror}")
    with handle, opened(ctx) as portal:
        try:
            summary = portal.importer.import_rows(handle, actor=operator_name())
        except UnicodeDecodeError:
            fail(f"{csv_file} is not UTF-8 text; nothing was imported")
        except PortalError as error:
            fail(f"{message_for(error)}; nothing was imported")
    click.echo(f"imported {summary.users} users and {summary.memberships} memberships")


@user.command("disable-mfa")
@click.argument("username")
@click.pass_context
def user_disable_mfa(ctx: click.Context, username: str) -> None:
    """Break-glass: turn off a user's MFA so they can sign in and enrol again."""
    with opened(ctx) as portal:
        account = portal.mfa.disable_by_operator(username, operator=operator_name())
        click.echo(f"MFA disabled for {account.username}")


# -- audit --------------------------------------------------------------------------------


@cli.command()
@click.option("--org", "org_name", metavar="ORG", help="Only events of this organisation.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.pass_context
def audit(ctx: click.Context, org_name: str | None, as_json: bool) -> None:
    """Print the audit trail, oldest first."""
    with opened(ctx) as portal:
        records = portal.audit.trail(org_name)
    if as_json:
        payload = [
            {
                "at": iso_utc(r.at),
                "event": r.event,
                "actor": r.actor,
                "target": r.target,
                "org": r.org,
                "detail": r.detail,
            }
            for r in records
        ]
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    for r in records:
        fields = [iso_utc(r.at), r.event, r.actor or "-", r.target or "-", r.org or "-"]
        click.echo("\t".join(fields + ([r.detail] if r.detail else [])))


# -- serving ------------------------------------------------------------------------------


def _register_serve() -> None:
    from tui_portal.serving.commands import serve

    cli.add_command(serve)


_register_serve()


# -- entry point --------------------------------------------------------------------------


def main(argv: list[str] | None = None, entry: click.Command = cli) -> None:
    """Run the command line; turn every user error into one ``error:`` line."""
    try:
        entry.main(args=argv, prog_name="tui-portal", standalone_mode=False)
    except click.exceptions.Abort:
        fail("aborted")
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.ClickException as error:
        fail(error.format_message(), error.exit_code)
    except PortalError as error:
        fail(message_for(error))
    except UnicodeError:  # bytes that are not UTF-8 in an argument or on standard input
        fail("the input is not valid UTF-8 text")
    except OSError as error:
        fail(f"{error.strerror or error}")
    except Exception as error:
        from sqlalchemy.exc import SQLAlchemyError

        if isinstance(error, SQLAlchemyError):
            fail(f"database error: {getattr(error, 'orig', None) or error.__class__.__name__}")
        raise
