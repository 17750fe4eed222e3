"""Frozen dataclasses that services take and hand back to screens, the command line and scripts.

Nothing here is an ORM object: what leaves the service layer cannot reach the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, NewType

UserId = NewType("UserId", int)
"""The id of an account. A distinct type, so that mypy refuses an organisation's id (or any
other number) where an account's is meant, even when the two are passed by keyword."""

OrgId = NewType("OrgId", int)
"""The id of an organisation (see :data:`UserId`)."""

Role = Literal["member", "admin"]
ROLES: tuple[Role, ...] = ("member", "admin")

SessionEndReason = Literal[
    "signed_out",
    "idle",
    "expired",
    "signed_out_elsewhere",
    "mfa_disabled",
    "password_changed",
    "password_set",
]


# -- who acts -------------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    """A signed-in person acting in one of their sessions, and where they are.

    Every service call made for a signed-in person takes one. The services check that the
    session is still live (not signed out, revoked or past its 12 hours) before anything
    else, so a session ended elsewhere can do nothing more.
    """

    user_id: UserId
    session_id: str
    source: str


@dataclass(frozen=True)
class Operator:
    """Someone at the shell running a ``tui-portal`` command, named by the operating system."""

    name: str

    @property
    def actor(self) -> str:
        """How the audit trail names them: ``operator:NAME``."""
        return f"operator:{self.name}"

    @property
    def source(self) -> str:
        """Where they are: ``local:NAME``."""
        return f"local:{self.name}"


# -- accounts and organisations -------------------------------------------------------


@dataclass(frozen=True)
class OrgRole:
    """One organisation a user belongs to, and the role held there."""

    org_id: OrgId
    name: str
    role: Role
    mfa_required: bool = False


@dataclass(frozen=True)
class Organisation:
    """An organisation, and whether it requires its members to use MFA."""

    id: OrgId
    name: str
    mfa_required: bool = False


@dataclass(frozen=True)
class Account:
    """A user as the portal shows them; never holds a password hash or secret.

    ``revision`` changes whenever roles, memberships or MFA change, so a session can tell
    that what it shows is out of date.
    """

    id: UserId
    username: str
    name: str
    email: str
    is_account_manager: bool
    mfa_enabled: bool
    last_sign_in_at: datetime | None
    organisations: tuple[OrgRole, ...]
    recovery_codes_left: int = 0
    revision: int = 0

    @property
    def display_name(self) -> str:
        """The name to show: the display name, or the username when there is none."""
        return self.name or self.username

    @property
    def can_manage_users(self) -> bool:
        """Whether the Users screen applies: account managers and organisation admins."""
        return self.is_account_manager or any(o.role == "admin" for o in self.organisations)

    def role_in(self, org_id: OrgId) -> Role | None:
        """The role held in one organisation, if any."""
        return next((o.role for o in self.organisations if o.org_id == org_id), None)

    @property
    def organisations_requiring_mfa(self) -> tuple[str, ...]:
        """The person's organisations that require MFA of their members."""
        return tuple(o.name for o in self.organisations if o.mfa_required)

    @property
    def mfa_required_by(self) -> tuple[str, ...]:
        """The organisations that require this person to use MFA, when they have none."""
        return () if self.mfa_enabled else self.organisations_requiring_mfa


@dataclass(frozen=True)
class MemberRow:
    """One row of the Users table: a member of the selected organisation."""

    user_id: UserId
    username: str
    name: str
    email: str
    role: Role
    mfa_enabled: bool
    last_sign_in_at: datetime | None


@dataclass(frozen=True)
class MemberPage:
    """A window of an organisation's members, in username order, with the filtered total.

    ``org_id``, ``prefix`` and ``only_without_mfa`` say which question this page answers,
    so a screen acts on the organisation of the rows it shows and drops answers to older
    questions.
    """

    org_id: OrgId
    org_name: str
    prefix: str
    offset: int
    total: int
    rows: tuple[MemberRow, ...]
    only_without_mfa: bool = False


@dataclass(frozen=True)
class OrgSummary:
    """An organisation as its Users screen heads it: its policy and who has no MFA."""

    org_id: OrgId
    name: str
    mfa_required: bool
    members: int
    without_mfa: int


@dataclass(frozen=True)
class UserListing:
    """A user with their organisations, as ``user list`` prints them."""

    username: str
    name: str
    email: str
    is_account_manager: bool
    mfa_enabled: bool
    organisations: tuple[OrgRole, ...]


# -- signing in -----------------------------------------------------------------------


@dataclass(frozen=True)
class SecurityNotice:
    """What happened to an account since its last sign-in, in plain words, one per line."""

    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        """The whole notice: a heading, then one line per kind of event."""
        return "\n".join(("Since your last sign-in:", *(f"• {line}" for line in self.lines)))


@dataclass(frozen=True)
class SignedIn:
    """Sign-in is complete: the account, and the session it now acts in.

    ``notice`` says what happened to the account since its last sign-in (or ``None``).
    ``account.mfa_required_by`` non-empty means the session may do nothing but enrol MFA.
    """

    account: Account
    caller: Caller
    notice: SecurityNotice | None = None


@dataclass(frozen=True)
class CodeRequired:
    """The password was right and the account has MFA: a code is needed within 5 minutes.

    ``token`` names this pending sign-in; it is used once and expires at ``expires_at``.
    """

    token: str
    username: str
    expires_at: datetime

    def __repr__(self) -> str:
        return f"CodeRequired(token=<hidden>, username={self.username!r})"


SignInStep = SignedIn | CodeRequired


@dataclass(frozen=True)
class SessionStatus:
    """What a live session reads of its own row every few seconds."""

    live: bool
    ended_reason: SessionEndReason | None
    revision: int
    expires_at: datetime


@dataclass(frozen=True)
class SessionSummary:
    """One of an account's live sessions, as the profile lists them."""

    id: str
    started_at: datetime
    last_seen_at: datetime
    source: str
    method: str
    current: bool


# -- MFA ------------------------------------------------------------------------------


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
class RecoveryCodes:
    """A new set of recovery codes: shown once, stored only as hashes."""

    codes: tuple[str, ...]

    def __repr__(self) -> str:
        return f"RecoveryCodes(<{len(self.codes)} hidden>)"


@dataclass(frozen=True)
class MfaEnabled:
    """An authenticator was confirmed; ``recovery_codes`` when a new set was made with it."""

    account: Account
    recovery_codes: RecoveryCodes | None


# -- the trail ------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditRecord:
    """One security event as the audit trail shows it."""

    seq: int
    at: datetime
    event: str
    actor: str
    target: str
    org: str
    source: str
    detail: str


@dataclass(frozen=True)
class ChainReport:
    """What ``audit verify`` found: how many events chain, and the first that does not."""

    events: int
    last_hash: str
    broken_at: int | None = None
    problem: str = ""

    @property
    def intact(self) -> bool:
        """Whether every event chains to the one before it."""
        return self.broken_at is None


@dataclass(frozen=True)
class ActivityEntry:
    """One event in an account's own "Security activity", in plain words.

    ``attempt`` marks an attempt made with the account's name by whoever typed it (a
    failed sign-in, a wrong or reused code, a refusal while throttled, the lock it caused):
    ``by`` names the account then, not someone known to have made it.
    """

    seq: int
    at: datetime
    what: str
    by: str
    source: str
    attempt: bool = False


@dataclass(frozen=True)
class ActivityPage:
    """A page of an account's activity, newest first; ``older`` continues it when set."""

    entries: tuple[ActivityEntry, ...]
    older: int | None
