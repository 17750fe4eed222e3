"""mypy catches a call from a screen to a service with its arguments swapped (ids too, by
keyword: accounts and organisations have distinct id types), misspelt or passed by
position, and a modal whose result does not match what its opener expects.

Each snippet is checked by mypy --strict beside the package, as the screens are; the clean
snippet proves the check is not simply failing on everything.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from mypy import api

ROOT = Path(__file__).resolve().parents[2]

PRELUDE = """\
from tui_portal.screens.confirm_password import ConfirmPasswordModal
from tui_portal.services.portal import Portal
from tui_portal.services.results import Account, Caller, Enrolment, OrgId, UserId


def opened(result: Enrolment | None) -> None: ...


def call(
    portal: Portal, caller: Caller, password: str, user_id: UserId, org_id: OrgId, n: int
) -> Account:
"""

CLEAN = """\
    modal: ConfirmPasswordModal[Account] = ConfirmPasswordModal(
        "Disable MFA", lambda p, pw: p.mfa.disable_for_user(
            caller, password=pw, target_user_id=user_id, org_id=org_id
        )
    )
    return portal.mfa.disable_for_user(
        caller, password=password, target_user_id=user_id, org_id=org_id
    )
"""

MISTAKES = {
    "positional ids": (
        "    return portal.mfa.disable_for_user(caller, password, user_id, org_id)\n",
        "Too many positional arguments",
    ),
    "swapped caller and password": (
        "    return portal.mfa.disable_for_user(\n"
        "        password, password=caller, target_user_id=user_id, org_id=org_id\n    )\n",
        'incompatible type "str"; expected "Caller"',
    ),
    "ids swapped by keyword": (
        "    return portal.mfa.disable_for_user(\n"
        "        caller, password=password, target_user_id=org_id, org_id=user_id\n    )\n",
        'Argument "target_user_id" to "disable_for_user" of "MfaService" has incompatible '
        'type "OrgId"; expected "UserId"',
    ),
    "a plain number for an organisation's id": (
        "    return portal.mfa.disable_for_user(\n"
        "        caller, password=password, target_user_id=user_id, org_id=n\n    )\n",
        'incompatible type "int"; expected "OrgId"',
    ),
    "misspelt keyword": (
        "    return portal.mfa.disable_for_user(\n"
        "        caller, password=password, target_user=user_id, org_id=org_id\n    )\n",
        'Unexpected keyword argument "target_user"',
    ),
    "swapped modal arguments": (
        "    ConfirmPasswordModal(lambda p, pw: p.mfa.disable_own(caller, password=pw), 'x')\n"
        "    raise SystemExit\n",
        "ConfirmPasswordModal",
    ),
    "a modal's result given to the wrong callback": (
        "    from textual.app import App\n"
        "    modal: ConfirmPasswordModal[Account] = ConfirmPasswordModal(\n"
        "        'x', lambda p, pw: p.mfa.disable_own(caller, password=pw)\n    )\n"
        "    App[None]().push_screen(modal, opened)\n"
        "    raise SystemExit\n",
        "push_screen",
    ),
}


def check(body: str, folder: Path) -> tuple[int, str]:
    snippet = folder / "snippet.py"
    snippet.write_text(PRELUDE + body, encoding="utf-8")
    out, err, status = api.run(
        [
            "--strict",
            "--no-error-summary",
            "--cache-dir",
            str(ROOT / ".mypy_cache"),
            str(snippet),
        ]
    )
    return status, out + err


def test_a_clean_call_passes(tmp_path: Path) -> None:
    status, output = check(CLEAN, tmp_path)
    assert status == 0, output


@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_mypy_reports_the_mistake(tmp_path: Path, mistake: str) -> None:
    body, expected = MISTAKES[mistake]
    status, output = check(body, tmp_path)
    assert status == 1, output
    assert expected in output, output
