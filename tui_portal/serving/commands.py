"""The ``tui-portal serve`` commands: one per way of reaching the portal."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click

Command = TypeVar("Command", bound=Callable[..., object])

if TYPE_CHECKING:
    from tui_portal.invocation import Run

DEFAULT_SSH_LISTEN = "127.0.0.1:2222"
DEFAULT_WEB_LISTEN = "127.0.0.1:8000"
WEB_SIGN_IN_DEADLINE_ENV = "TUI_PORTAL_WEB_SIGN_IN_SECONDS"  # for testing: shortens the 2 min
SESSIONS_ENV = "TUI_PORTAL_SSH_SESSIONS"  # "cold": a new Python per session (to measure)
_LISTEN = re.compile(r"^(?:\[(?P<v6>[^\]]+)\]|(?P<host>[^:\[\]]+)):(?P<port>\d{1,5})$")


@click.group()
def serve() -> None:
    """Serve the portal to people on other machines."""


def parse_listen(value: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[V6]:PORT`` for IPv6) as host and port; a usage error otherwise."""
    match = _LISTEN.match(value.strip())
    if match is None:
        raise click.BadParameter(f"{value!r} is not HOST:PORT", param_hint="'--listen'")
    port = int(match["port"])
    if port > 65535:
        raise click.BadParameter(f"port {port} is out of range", param_hint="'--listen'")
    return match["v6"] or match["host"], port


def session_caps(command: Command) -> Command:
    """The session caps that both doors take: ``--max-sessions`` and ``--max-per-source``."""
    command = click.option(
        "--max-per-source",
        type=click.IntRange(min=1),
        default=10,
        show_default=True,
        help="Sessions at once from one address.",
    )(command)
    return click.option(
        "--max-sessions",
        type=click.IntRange(min=1),
        default=200,
        show_default=True,
        help="Sessions at once, in all.",
    )(command)


@serve.command("ssh")
@click.option(
    "--listen",
    default=DEFAULT_SSH_LISTEN,
    show_default=True,
    metavar="HOST:PORT",
    help="Address to listen on (port 0: any free port).",
)
@click.option(
    "--host-key",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="PATH",
    help="ed25519 host key, made on first start (default: in the user-config folder).",
)
@session_caps
@click.pass_context
def serve_ssh(
    ctx: click.Context,
    listen: str,
    host_key: Path | None,
    max_sessions: int,
    max_per_source: int,
) -> None:
    """Serve the portal over SSH: ssh -p PORT HOST, signing in with the portal's own sign-in."""
    from tui_portal.serving.limits import SessionLimits
    from tui_portal.serving.ssh.host_key import (
        HostKeyError,
        default_host_key_path,
        load_or_create_host_key,
    )
    from tui_portal.serving.ssh.launcher import ColdLauncher, LaunchError, TemplateLauncher
    from tui_portal.serving.ssh.server import ListenError, ServeOptions, serve_forever
    from tui_portal.serving.ssh.session_config import (
        SessionConfig,
        SessionConfigError,
        sign_in_deadline_from,
    )

    run: Run = ctx.obj
    host, port = parse_listen(listen)
    try:
        key = load_or_create_host_key((host_key or default_host_key_path()).expanduser())
        deadline = sign_in_deadline_from(os.environ)
    except (HostKeyError, SessionConfigError) as error:
        raise click.ClickException(str(error)) from None
    options = ServeOptions(
        host=host,
        port=port,
        host_key=key,
        limits=SessionLimits(max_sessions=max_sessions, max_per_source=max_per_source),
        config=SessionConfig(settings=run.ready_settings, demo=run.demo, sign_in_deadline=deadline),
    )
    cold = os.environ.get(SESSIONS_ENV) == "cold"
    try:
        serve_forever(options, ColdLauncher if cold else TemplateLauncher, say=click.echo)
    except (ListenError, LaunchError) as error:
        raise click.ClickException(str(error)) from None


@serve.command("web")
@click.option(
    "--listen",
    default=DEFAULT_WEB_LISTEN,
    show_default=True,
    metavar="HOST:PORT",
    help="Address to listen on (port 0: any free port).",
)
@click.option(
    "--public-url",
    metavar="URL",
    help="The address people open, scheme://host[:port] (default: http://HOST:PORT).",
)
@click.option(
    "--trust-proxy",
    is_flag=True,
    help="Every connection comes through a proxy that appends X-Forwarded-For.",
)
@session_caps
@click.pass_context
def serve_web(
    ctx: click.Context,
    listen: str,
    public_url: str | None,
    trust_proxy: bool,
    max_sessions: int,
    max_per_source: int,
) -> None:
    """Serve the portal in a browser: one portal session per tab."""
    from tui_portal.serving.limits import SessionLimits
    from tui_portal.serving.session_config import SessionConfig, SessionConfigError, deadline_from
    from tui_portal.serving.web.public_url import (
        PublicUrlError,
        default_public_url,
        listens_everywhere,
        parse_public_url,
    )
    from tui_portal.serving.web.server import ListenError, WebOptions, bind, serve_forever

    run: Run = ctx.obj
    host, port = parse_listen(listen)
    try:
        public = parse_public_url(public_url) if public_url is not None else None
        deadline = deadline_from(os.environ, WEB_SIGN_IN_DEADLINE_ENV)
    except (PublicUrlError, SessionConfigError) as error:
        raise click.ClickException(str(error)) from None
    if public is None and listens_everywhere(host):
        raise click.ClickException(
            f"--listen {listen} takes --public-url too: the address people open "
            "(the page connects back to it, and only pages from it may)"
        )
    try:
        sock = bind(host, port)
    except ListenError as error:
        raise click.ClickException(str(error)) from None
    try:
        prepare_database(run)
    except BaseException:
        sock.close()
        raise
    options = WebOptions(
        host=host,
        port=sock.getsockname()[1],
        public=public or default_public_url(host, sock.getsockname()[1]),
        trust_proxy=trust_proxy,
        limits=SessionLimits(max_sessions=max_sessions, max_per_source=max_per_source),
        config=SessionConfig(settings=run.ready_settings, demo=run.demo, sign_in_deadline=deadline),
    )
    serve_forever(options, sock, say=click.echo)


def prepare_database(run: Run) -> None:
    """Create or upgrade the schema, check the secrets key and seed the demo once, before
    any tab's portal process opens the database; leave nothing open. A database that cannot
    be opened is the command's ``error:`` line, not every tab's."""
    portal = run.portal_factory(run.ready_settings)
    try:
        if run.demo:
            from tui_portal.demo import seed_demo
            from tui_portal.services.clock import system_clock

            seed_demo(portal, system_clock)
    finally:
        portal.close()
