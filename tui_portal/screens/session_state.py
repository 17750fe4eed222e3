"""The signed-in session as the screens see it: one frozen value the app holds as a reactive.

Every screen that shows something of the session watches the app's ``session`` and redraws
from it, whether it is on top or under a modal, so what a screen shows and what it acts on
never drift apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the sign-in screen, drawn first, imports this module: keep it light
    from tui_portal.services.results import (
        Account,
        Caller,
        Organisation,
        OrgId,
        SecurityNotice,
        SignedIn,
    )


@dataclass(frozen=True)
class PortalSession:
    """Who is signed in, in which session, and which organisation they have chosen."""

    caller: Caller
    account: Account
    organisations: tuple[Organisation, ...]
    """The organisations the top bar's picker offers (every one for an account manager)."""
    org_id: OrgId | None
    """The organisation chosen in the picker; the Users screen shows it."""
    notice: SecurityNotice | None = None
    """What happened to the account since its last sign-in, for the first screen to say;
    gone once the person has dismissed it."""
    enrolling: bool = False
    """Whether this session may do nothing but enrol MFA (an organisation requires it and
    the account had none at sign-in), until MFA is enabled."""

    @classmethod
    def start(cls, signed: SignedIn, organisations: Sequence[Organisation]) -> PortalSession:
        """The session a completed sign-in opens, with its first organisation chosen."""
        offered = tuple(organisations)
        return cls(
            caller=signed.caller,
            account=signed.account,
            organisations=offered,
            org_id=first_choice(signed.account, offered, None),
            notice=signed.notice,
            enrolling=bool(signed.account.mfa_required_by),
        )

    @property
    def organisation(self) -> Organisation | None:
        """The chosen organisation, if there is one."""
        return next((o for o in self.organisations if o.id == self.org_id), None)

    @property
    def must_enrol(self) -> bool:
        """Whether the session may do nothing but enrol MFA.

        It is decided at sign-in, as the session's row in the database has it: a policy
        turned on later holds the account to it at its next sign-in, not in the middle of
        this session. It ends when MFA is enabled.
        """
        return self.enrolling

    @property
    def required_by(self) -> tuple[str, ...]:
        """The organisations that require MFA of this session (while it must enrol)."""
        return self.account.mfa_required_by if self.enrolling else ()

    def without_notice(self) -> PortalSession:
        """This session once its sign-in notice has been read and dismissed."""
        return replace(self, notice=None) if self.notice is not None else self

    def choosing(self, org_id: OrgId) -> PortalSession:
        """This session with ``org_id`` chosen, if it is one of the picker's."""
        if org_id == self.org_id or not any(o.id == org_id for o in self.organisations):
            return self
        return replace(self, org_id=org_id)

    def reloaded(self, account: Account, organisations: Sequence[Organisation]) -> PortalSession:
        """This session after the account changed (roles, memberships, MFA): the chosen
        organisation stays chosen while it is still offered."""
        offered = tuple(organisations)
        return replace(
            self,
            account=account,
            organisations=offered,
            org_id=first_choice(account, offered, self.org_id),
            enrolling=self.enrolling and not account.mfa_enabled,
        )


def first_choice(
    account: Account, organisations: tuple[Organisation, ...], current: OrgId | None
) -> OrgId | None:
    """The organisation to choose: the current one if still offered, else the first the
    account belongs to, else the first offered."""
    offered = {o.id for o in organisations}
    if current in offered:
        return current
    own = [o.org_id for o in account.organisations if o.org_id in offered]
    if own:
        return own[0]
    return organisations[0].id if organisations else None
