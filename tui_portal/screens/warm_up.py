"""Work done once, after the first frame, in idle moments: so that the screens people open
next (the MFA code screen, the profile, Users) appear without a stall.

Each step runs on its own turn of the event loop, after the screen has been drawn: first
the screens' modules are imported, then every stylesheet they and their widgets need is
parsed, one class at a time. Parsed rules are kept by the app's stylesheet, so showing a
screen later only applies them.
"""

from __future__ import annotations

import gc
import importlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from textual.dom import DOMNode

if TYPE_CHECKING:
    from textual.app import App

SCREEN_MODULES = (
    "tui_portal.screens.mfa_code",
    "tui_portal.screens.profile",
    "tui_portal.screens.enable_mfa",
    "tui_portal.screens.users",
    "tui_portal.screens.user_menu",
    "tui_portal.screens.help",
)
"""The screens after sign-in, in the order people reach them."""


def _styled_classes() -> Iterator[type[DOMNode]]:
    """Every widget and screen class the signed-in screens show."""
    from textual.widgets import Button, Footer, Input, Label, Markdown, OptionList, Select, Static
    from textual.widgets._footer import FooterKey
    from textual.widgets._toast import Toast, ToastRack

    from tui_portal.screens.confirm_password import ConfirmPasswordModal
    from tui_portal.screens.enable_mfa import EnableMfaScreen
    from tui_portal.screens.help import HelpScreen
    from tui_portal.screens.mfa_code import MfaCodeScreen
    from tui_portal.screens.profile import ProfileScreen
    from tui_portal.screens.user_menu import UserMenu
    from tui_portal.screens.users import UsersScreen
    from tui_portal.widgets.members_table import MembersTable
    from tui_portal.widgets.qr import QrCode
    from tui_portal.widgets.status_line import StatusLine
    from tui_portal.widgets.top_bar import TopBar

    yield from (MfaCodeScreen, Label, Static, Input, Button, Footer, FooterKey, StatusLine)
    yield from (ProfileScreen, TopBar, Select, ConfirmPasswordModal, Toast, ToastRack)
    yield from (EnableMfaScreen, QrCode, UsersScreen, MembersTable, UserMenu, OptionList)
    yield from (HelpScreen, Markdown)


def warm_up(app: App[None]) -> None:
    """Import the next screens and parse their styles, one small step per idle moment."""
    steps = _steps(app)

    def next_step() -> None:
        if not app.is_running:
            return
        if next(steps, None) is not None:
            app.set_timer(0.005, next_step)
        else:
            # What was built by now lives as long as the app: out of the cycle collector's
            # sight, full collections (which stop the event loop) need not walk it again.
            gc.freeze()

    app.set_timer(0.005, next_step)


def _steps(app: App[None]) -> Iterator[object]:
    for name in SCREEN_MODULES:
        importlib.import_module(name)
        yield name
    stylesheet = app.stylesheet
    for cls in _styled_classes():
        # As Textual does when a widget of the class is first mounted (Widget._post_register).
        for base in DOMNode._css_bases(cls):
            css = base.__dict__.get("DEFAULT_CSS", "")
            if css:
                stylesheet.add_source(
                    css,
                    read_from=_location(base),
                    is_default_css=True,
                    tie_breaker=-list(DOMNode._css_bases(cls)).index(base),
                    scope=base._css_type_name if base.__dict__.get("SCOPED_CSS", True) else "",
                )
        stylesheet.parse()
        yield cls


def _location(base: type[DOMNode]) -> tuple[str, str]:
    import inspect

    try:
        return (inspect.getfile(base), f"{base.__name__}.DEFAULT_CSS")
    except (TypeError, OSError):
        return ("", f"{base.__name__}.DEFAULT_CSS")
