"""The ``tui-portal`` command line: the operator's commands, and the launcher of the UI.

Every command exits 0 on success; on failure it prints one ``error:`` line to stderr and
exits non-zero, with no traceback for anything a person can get wrong. The operator named
in the audit trail is the process's real user, from the operating system's account
database. Text output shows control characters escaped, never raw.

Tests and scripts pass their own way of opening the portal to :func:`main`
(``portal_factory``), so nothing needs to be patched.
"""

from __future__ import annotations

import json
import sys
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from tui_portal import __version__
from tui_portal.config import operating_system_user, resolve_settings
from tui_portal.errors import InvalidInput, PortalError, message_for, one_line
from tui_portal.invocation import PortalFactory, Run, default_portal_factory

if TYPE_CHECKING:
    from tui_portal.services.portal import Portal
    from tui_portal.services.results import AuditRecord, Operator

EXIT_USER_ERROR = 1
EXIT_USAGE = 2
_UNPRINTABLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def fail(message: str, code: int = EXIT_USER_ERROR) -> NoReturn:
    """Print one ``error:`` line and leave."""
    click.echo(f"error: {escape_controls(one_line(message))}", err=True)
    sys.exit(code)


def escape_controls(text: str) -> str:
    """``text`` with control, format and other invisible characters written as escapes,
    so that nothing stored (an operator's name, say) can drive the terminal."""
    if text.isascii() and text.isprintable():
        return text
    out: list[str] = []
    for ch in text:
        if unicodedata.category(ch) in _UNPRINTABLE and ch != "\u200d":
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


def say(*fields: str) -> None:
    """One line of text output, fields separated by tabs, control characters escaped."""
    click.echo("\t".join(escape_controls(field) for field in fields))


def operator() -> Operator:
    """Who is running the command, as the audit trail records an operator."""
    from tui_portal.services.results import Operator

    return Operator(operating_system_user())


def iso_utc(moment: datetime) -> str:
    """ISO-8601 in UTC with a ``Z``."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@contextmanager
def opened(ctx: click.Context) -> Iterator[Portal]:
    """Open the portal for one command, and close it afterwards."""
    run: Run = ctx.obj
    portal = run.portal_factory(run.ready_settings)
    try:
        yield portal
    finally:
        portal.close()


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", "db", metavar="URL_OR_PATH", help="Database URL or SQLite file path.")
@click.option("--issuer", metavar="TEXT", help="Issuer name shown in authenticator apps.")
@click.option("--demo", is_flag=True, help="Launch (or serve) the demo database.")
@click.version_option(__version__, prog_name="tui-portal")
@click.pass_context
def cli(ctx: click.Context, db: str | None, issuer: str | None, demo: bool) -> None:
    """tui-portal: account security for developers, in the terminal."""
    run: Run = ctx.ensure_object(Run)
    try:
        run.settings = resolve_settings(db=db, issuer=issuer, demo=demo)
    except InvalidInput as error:
        fail(message_for(error), EXIT_USAGE)
    run.demo = demo
    if ctx.invoked_subcommand is None:
        from tui_portal.launch import run_tui

        problem = run_tui(run.ready_settings, demo=demo)
        if problem is not None:
            fail(problem)
    elif demo and ctx.invoked_subcommand != "serve":
        fail("--demo launches or serves the demo; it takes no other command", EXIT_USAGE)


@cli.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create or upgrade the schema (safe to run again)."""
    with opened(ctx):
        from tui_portal.data.engine import make_url_safe

        say(f"database ready: {make_url_safe(ctx.obj.ready_settings.database_url)}")


# -- organisations ------------------------------------------------------------------------


@cli.group()
def org() -> None:
    """Organisations, their members and their MFA policy."""


@org.command("create")
@click.argument("name")
@click.pass_context
def org_create(ctx: click.Context, name: str) -> None:
    """Create an organisation."""
    with opened(ctx) as portal:
        created = portal.directory.create_organisation(name, operator=operator())
        say(f"created organisation {created.name}")


@org.command("add-member")
@click.argument("org_name", metavar="ORG")
@click.argument("username")
@click.option("--admin", is_flag=True, help="Make the user an admin of the organisation.")
@click.pass_context
def org_add_member(ctx: click.Context, org_name: str, username: str, admin: bool) -> None:
    """Add a user to an organisation, as a member or an admin."""
    role = "admin" if admin else "member"
    with opened(ctx) as portal:
        portal.directory.add_member(org_name, username, role, operator=operator())
        say(f"added {username} to {org_name} as {role}")


@org.command("remove-member")
@click.argument("org_name", metavar="ORG")
@click.argument("username")
@click.pass_context
def org_remove_member(ctx: click.Context, org_name: str, username: str) -> None:
    """Take a user out of an organisation (never its last admin)."""
    with opened(ctx) as portal:
        portal.governance.remove_member(org_name, username, operator=operator())
        say(f"removed {username} from {org_name}")


@org.command("set-role")
@click.argument("org_name", metavar="ORG")
@click.argument("username")
@click.argument("role", type=click.Choice(["member", "admin"]))
@click.pass_context
def org_set_role(ctx: click.Context, org_name: str, username: str, role: str) -> None:
    """Make a member an admin, or an admin a member (never the last admin)."""
    with opened(ctx) as portal:
        portal.governance.set_role(org_name, username, role, operator=operator())
        say(f"{username} is now {role} of {org_name}")


@org.command("require-mfa")
@click.argument("org_name", metavar="ORG")
@click.argument("setting", type=click.Choice(["on", "off"]))
@click.pass_context
def org_require_mfa(ctx: click.Context, org_name: str, setting: str) -> None:
    """Require MFA of the organisation's members (on), or stop requiring it (off)."""
    with opened(ctx) as portal:
        portal.governance.set_mfa_policy(org_name, setting == "on", operator=operator())
        say(f"{org_name} {'requires' if setting == 'on' else 'does not require'} MFA")


@org.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.pass_context
def org_list(ctx: click.Context, as_json: bool) -> None:
    """List organisations."""
    with opened(ctx) as portal:
        orgs = portal.directory.organisations()
    if as_json:
        payload = [{"name": o.name, "mfa_required": o.mfa_required} for o in orgs]
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    for o in orgs:
        say(o.name, "MFA required" if o.mfa_required else "MFA optional")


# -- users --------------------------------------------------------------------------------


@cli.group()
def user() -> None:
    """Users: create, list, import, reset MFA and passwords, unlock."""


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
    rules.check_password(password)
    with opened(ctx) as portal:
        created = portal.directory.create_user(
            username,
            password,
            operator=operator(),
            name=name,
            email=email,
            account_manager=account_manager,
        )
        say(f"created user {created.username}")


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
        say(u.username, u.name, u.email, "MFA on" if u.mfa_enabled else "MFA off", orgs)


@user.command("import")
@click.argument("csv_file", metavar="FILE.csv", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def user_import(ctx: click.Context, csv_file: Path) -> None:
    """Import users from a CSV of argon2id hashes; all rows or none."""
    try:
        handle = csv_file.open(encoding="utf-8-sig", newline="")
    except OSError as error:
        fail(f"cannot read {csv_file}: {error.strerror}")
    with handle, opened(ctx) as portal:
        try:
            summary = portal.importer.import_rows(handle, operator=operator())
        except UnicodeDecodeError:
            fail(f"{csv_file} is not UTF-8 text; nothing was imported")
        except PortalError as error:
            fail(f"{message_for(error)}; nothing was imported")
    say(f"imported {summary.users} users and {summary.memberships} memberships")


@user.command("disable-mfa")
@click.argument("username")
@click.pass_context
def user_disable_mfa(ctx: click.Context, username: str) -> None:
    """Break-glass: turn off a user's MFA so they can sign in and enrol again."""
    with opened(ctx) as portal:
        account = portal.mfa.disable_by_operator(username=username, operator=operator())
        say(f"MFA disabled for {account.username}")


@user.command("unlock")
@click.argument("username")
@click.pass_context
def user_unlock(ctx: click.Context, username: str) -> None:
    """End a user's sign-in throttle or lock."""
    with opened(ctx) as portal:
        portal.accounts.unlock(username, operator=operator())
        say(f"unlocked {username}")


@user.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_context
def user_set_password(ctx: click.Context, username: str, password_stdin: bool) -> None:
    """Set a user's password (asked for twice, hidden); ends all of their sessions."""
    from tui_portal.services import validation as rules

    rules.check_username(username)
    password = read_password(password_stdin)
    rules.check_password(password)
    with opened(ctx) as portal:
        ended = portal.accounts.set_password(username, password, operator=operator())
        say(f"password set for {username}; {ended} session{'' if ended == 1 else 's'} ended")


# -- audit --------------------------------------------------------------------------------


@cli.group(invoke_without_command=True)
@click.option("--org", "org_name", metavar="ORG", help="Only events of this organisation.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.pass_context
def audit(ctx: click.Context, org_name: str | None, as_json: bool) -> None:
    """Print the audit trail, oldest first (``audit verify`` checks its chain)."""
    if ctx.invoked_subcommand is not None:
        return
    with opened(ctx) as portal:
        records = portal.audit.trail(org_name)
    if as_json:
        click.echo(json.dumps([_as_json(r) for r in records], indent=2, ensure_ascii=False))
        return
    for r in records:
        fields = [iso_utc(r.at), r.event, r.actor or "-", r.target or "-", r.org or "-"]
        say(*fields, r.source or "-", *([r.detail] if r.detail else []))


def _as_json(record: AuditRecord) -> dict[str, object]:
    return {
        "seq": record.seq,
        "at": iso_utc(record.at),
        "event": record.event,
        "actor": record.actor,
        "target": record.target,
        "org": record.org,
        "source": record.source,
        "detail": record.detail,
    }


@audit.command("verify")
@click.pass_context
def audit_verify(ctx: click.Context) -> None:
    """Check that every event chains to the one before it."""
    with opened(ctx) as portal:
        report = portal.audit.verify()
    if not report.intact:
        fail(
            f"audit trail broken at event {report.broken_at}: {report.problem} "
            f"({report.events} events before it chain correctly)"
        )
    say(f"audit trail intact: {report.events} events")
    say(f"last hash {report.last_hash}")


# -- serving ------------------------------------------------------------------------------


def _register_serve() -> None:
    from tui_portal.serving.commands import serve

    cli.add_command(serve)


_register_serve()


# -- entry point --------------------------------------------------------------------------


def main(
    argv: Sequence[str] | None = None,
    *,
    portal_factory: PortalFactory = default_portal_factory,
) -> None:
    """Run the command line; turn every user error into one ``error:`` line."""
    try:
        cli.main(
            args=list(argv) if argv is not None else None,
            prog_name="tui-portal",
            standalone_mode=False,
            obj=Run(portal_factory),
        )
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
