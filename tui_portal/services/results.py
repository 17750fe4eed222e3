"""Frozen dataclasses that services hand to screens, the command line and scripts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Role = Literal["member", "admin"]
ROLES: tuple[Role, ...] = ("member", "admin")


@dataclass(frozen=True)
class OrgRole:
    """One organisation a user belongs to, and the role held there."""

    org_id: int
    name: str
    role: Role


@dataclass(frozen=True)
class Organisation:
    """An organisation."""

    id: int
    name: str


@dataclass(frozen=True)
class Account:
    """A user as the portal shows them; never holds a password hash or secret."""

    id: int
    username: str
    name: str
    email: str
    is_account_manager: bool
    mfa_enabled: bool
    last_sign_in_at: datetime | None
    organisations: tuple[OrgRole, ...]

    @property
    def display_name(self) -> str:
        """The name to show: the display name, or the username when there is none."""
        return self.name or self.username

    @property
    def can_manage_users(self) -> bool:
        """Whether the Users screen applies: account managers and organisation admins."""
        return self.is_account_manager or any(o.role == "admin" for o in self.organisations)

    def role_in(self, org_id: int) -> Role | None:
        """The role held in one organisation, if any."""
        return next((o.role for o in self.organisations if o.org_id == org_id), None)


@dataclass(frozen=True)
class MemberRow:
    """One row of the Users table: a member of the selected organisation."""

    user_id: int
    username: str
    name: str
    email: str
    role: Role
    mfa_enabled: bool
    last_sign_in_at: datetime | None


@dataclass(frozen=True)
class MemberPage:
    """A window of an organisation's members, in username order, with the filtered total."""

    org_id: int
    prefix: str
    offset: int
    total: int
    rows: tuple[MemberRow, ...]


@dataclass(frozen=True)
class SignedIn:
    """Sign-in is complete."""

    account: Account


@dataclass(frozen=True)
class CodeRequired:
    """The password was right and the account has MFA: a code is needed within 5 minutes.

    ``token`` names this pending sign-in; it is used once and expires at ``expires_at``.
    """

    token: str
    username: str
    expires_at: datetime


SignInStep = SignedIn | CodeRequired


@dataclass(frozen=True)
class Enrolment:
    """A pending authenticator: what the Enable MFA screen shows until a code confirms it.

    ``secret`` is here only so the person can scan or type it; it is never logged or stored
    in plain text.
    """

    credential_id: str
    secret: str
    uri: str
    expires_at: datetime
    replaces_existing: bool

    def __repr__(self) -> str:
        return (
            f"Enrolment(credential_id={self.credential_id!r}, secret=<hidden>, "
            f"expires_at={self.expires_at!r}, replaces_existing={self.replaces_existing})"
        )


@dataclass(frozen=True)
class UserListing:
    """A user with their organisations, as ``user list`` prints them."""

    username: str
    name: str
    email: str
    is_account_manager: bool
    mfa_enabled: bool
    organisations: tuple[OrgRole, ...]


@dataclass(frozen=True)
class AuditRecord:
    """One security event as the audit trail shows it."""

    at: datetime
    event: str
    actor: str
    target: str
    org: str
    detail: str
