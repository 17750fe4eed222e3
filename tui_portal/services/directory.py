"""Organisations, users and memberships: creating them, listing them, and paging members.

The Users screen reads one page of one organisation at a time: the database filters by a
case-insensitive prefix of username, name or email and returns a window in username order,
so an organisation of 100,000 members costs no more to open than one of ten.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, exists, func, select, union
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from tui_portal.data.models import Membership, MfaCredential, Organisation, User
from tui_portal.errors import AlreadyExists, InvalidInput, NotFound, PermissionDenied
from tui_portal.security.passwords import Passwords
from tui_portal.services import validation as rules
from tui_portal.services.audit import AuditLog, Event
from tui_portal.services.clock import Clock
from tui_portal.services.results import (
    Account,
    MemberPage,
    MemberRow,
    OrgRole,
    Role,
    UserListing,
)
from tui_portal.services.results import (
    Organisation as OrganisationResult,
)

PAGE_SIZE_MAX = 500


def mfa_active(user_id: InstrumentedAttribute[int]) -> ColumnElement[bool]:
    """SQL for "this user has an active authenticator"."""
    return exists().where(MfaCredential.user_id == user_id, MfaCredential.status == "active")


def find_user(session: Session, username: str) -> User | None:
    """The user with this username in any letter case."""
    return session.scalar(select(User).where(User.username_key == rules.username_key(username)))


def find_org(session: Session, name: str) -> Organisation | None:
    """The organisation with this name in any letter case."""
    return session.scalar(
        select(Organisation).where(Organisation.name_key == rules.text_key(name.strip()))
    )


def load_account(session: Session, user_id: int) -> Account:
    """A user as an :class:`Account`, with organisations and MFA state."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such user")
    organisations = session.execute(
        select(Organisation.id, Organisation.name, Membership.role)
        .join(Membership, Membership.org_id == Organisation.id)
        .where(Membership.user_id == user_id)
        .order_by(Organisation.name_key)
    ).all()
    has_mfa = bool(session.execute(select(mfa_active(User.id)).where(User.id == user_id)).scalar())
    return Account(
        id=user.id,
        username=user.username,
        name=user.name,
        email=user.email,
        is_account_manager=user.is_account_manager,
        mfa_enabled=has_mfa,
        last_sign_in_at=user.last_sign_in_at,
        organisations=tuple(
            OrgRole(org_id, name, as_role(role)) for org_id, name, role in organisations
        ),
    )


def prefix_range(column: InstrumentedAttribute[str], prefix: str) -> ColumnElement[bool]:
    """``column`` starts with ``prefix``, as an index-friendly range on every database."""
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return and_(column >= prefix, column < upper)


class Directory:
    """Creates and lists organisations, users and memberships; pages an organisation's members."""

    def __init__(
        self, sessions: sessionmaker[Session], clock: Clock, passwords: Passwords, audit: AuditLog
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._passwords = passwords
        self._audit = audit

    # -- creating ---------------------------------------------------------------------

    def create_organisation(self, name: str, *, actor: str) -> OrganisationResult:
        """A new organisation; its name must be new in any letter case."""
        name = rules.check_org_name(name)
        try:
            with self._sessions.begin() as session:
                if find_org(session, name) is not None:
                    raise AlreadyExists(f"An organisation named {name!r} exists already")
                org = Organisation(
                    name=name, name_key=rules.text_key(name), created_at=self._clock()
                )
                session.add(org)
                session.flush()
                self._audit.record(session, Event.ORGANISATION_CREATED, actor=actor, org=name)
                return OrganisationResult(org.id, org.name)
        except IntegrityError:
            raise AlreadyExists(f"An organisation named {name!r} exists already") from None

    def create_user(
        self,
        username: str,
        password: str,
        *,
        actor: str,
        name: str = "",
        email: str = "",
        account_manager: bool = False,
    ) -> Account:
        """A new user with an argon2id password hash; the username must be new in any case."""
        username = rules.check_username(username)
        rules.check_password(password)
        name = rules.check_display_name(name)
        email = rules.check_email(email)
        with self._sessions() as session:
            if find_user(session, username) is not None:
                raise AlreadyExists(f"A user named {username!r} exists already")
        password_hash = self._passwords.hash(password)
        try:
            with self._sessions.begin() as session:
                user = User(
                    username=username,
                    username_key=rules.username_key(username),
                    name=name,
                    name_key=rules.text_key(name),
                    email=email,
                    email_key=rules.text_key(email),
                    password_hash=password_hash,
                    is_account_manager=account_manager,
                    created_at=self._clock(),
                )
                session.add(user)
                session.flush()
                detail = "account manager" if account_manager else ""
                self._audit.record(
                    session, Event.USER_CREATED, actor=actor, target=username, detail=detail
                )
                return load_account(session, user.id)
        except IntegrityError:
            raise AlreadyExists(f"A user named {username!r} exists already") from None

    def add_member(self, org_name: str, username: str, role: str, *, actor: str) -> None:
        """Put a user in an organisation with a role; a user is in an organisation once."""
        checked_role = rules.check_role(role)
        try:
            with self._sessions.begin() as session:
                org = find_org(session, org_name)
                if org is None:
                    raise NotFound(f"No organisation named {org_name!r}")
                user = find_user(session, username)
                if user is None:
                    raise NotFound(f"No user named {username!r}")
                if session.get(Membership, (org.id, user.id)) is not None:
                    raise AlreadyExists(f"{user.username} is already a member of {org.name}")
                session.add(
                    Membership(
                        org_id=org.id,
                        user_id=user.id,
                        role=checked_role,
                        username_key=user.username_key,
                    )
                )
                self._audit.record(
                    session,
                    Event.MEMBERSHIP_CREATED,
                    actor=actor,
                    target=user.username,
                    org=org.name,
                    detail=f"role {checked_role}",
                )
        except IntegrityError:
            raise AlreadyExists(f"{username} is already a member of {org_name}") from None

    # -- reading ----------------------------------------------------------------------

    def account(self, user_id: int) -> Account:
        """A user's account as it is now (roles and MFA are read afresh every time)."""
        with self._sessions() as session:
            return load_account(session, user_id)

    def organisations(self) -> list[OrganisationResult]:
        """Every organisation, by name."""
        with self._sessions() as session:
            rows = session.execute(
                select(Organisation.id, Organisation.name).order_by(Organisation.name_key)
            ).all()
            return [OrganisationResult(org_id, name) for org_id, name in rows]

    def manageable_organisations(self, actor_id: int) -> list[OrganisationResult]:
        """Organisations whose users the actor may manage: all for account managers,
        otherwise those where the actor is an admin."""
        with self._sessions() as session:
            actor = session.get(User, actor_id)
            if actor is None:
                raise PermissionDenied("You are not signed in")
            query = select(Organisation.id, Organisation.name).order_by(Organisation.name_key)
            if not actor.is_account_manager:
                query = query.join(Membership, Membership.org_id == Organisation.id).where(
                    Membership.user_id == actor_id, Membership.role == "admin"
                )
            return [OrganisationResult(org_id, name) for org_id, name in session.execute(query)]

    def picker_organisations(self, actor_id: int) -> list[OrganisationResult]:
        """The organisations a person can choose in the top bar: their own, and every
        organisation for an account manager."""
        account = self.account(actor_id)
        if account.is_account_manager:
            return self.organisations()
        return [OrganisationResult(o.org_id, o.name) for o in account.organisations]

    def list_users(self, org_name: str | None = None) -> list[UserListing]:
        """Users with their organisations, by username; only one organisation's if named."""
        with self._sessions() as session:
            query = select(User, mfa_active(User.id)).order_by(User.username_key)
            if org_name is not None:
                org = find_org(session, org_name)
                if org is None:
                    raise NotFound(f"No organisation named {org_name!r}")
                query = query.join(Membership, Membership.user_id == User.id).where(
                    Membership.org_id == org.id
                )
            users = session.execute(query).all()
            memberships: dict[int, list[OrgRole]] = {}
            for user_id, org_id, name, role in session.execute(
                select(Membership.user_id, Organisation.id, Organisation.name, Membership.role)
                .join(Organisation, Organisation.id == Membership.org_id)
                .order_by(Organisation.name_key)
            ):
                memberships.setdefault(user_id, []).append(OrgRole(org_id, name, as_role(role)))
            return [
                UserListing(
                    username=user.username,
                    name=user.name,
                    email=user.email,
                    is_account_manager=user.is_account_manager,
                    mfa_enabled=bool(has_mfa),
                    organisations=tuple(memberships.get(user.id, ())),
                )
                for user, has_mfa in users
            ]

    def member_page(
        self, actor_id: int, org_id: int, *, prefix: str = "", offset: int = 0, limit: int = 50
    ) -> MemberPage:
        """One window of an organisation's members, for an admin of it or an account manager.

        ``prefix`` matches the start of username, display name or email, ignoring case.
        """
        prefix = rules.check_filter(prefix)
        if offset < 0 or not 1 <= limit <= PAGE_SIZE_MAX:
            raise InvalidInput("That page is out of range")
        with self._sessions() as session:
            self.require_manager_of(session, actor_id, org_id)
            in_org = Membership.org_id == org_id
            if prefix:
                # Three index range scans find the matching users, so a filter costs what
                # its matches cost, whatever the size of the organisation.
                matching = union(
                    select(User.id).where(prefix_range(User.username_key, prefix)),
                    select(User.id).where(prefix_range(User.name_key, prefix)),
                    select(User.id).where(prefix_range(User.email_key, prefix)),
                )
                counted = and_(in_org, Membership.user_id.in_(matching))
                shown = and_(in_org, User.id.in_(matching))
                # Sorting the matches by the users' copy of the key keeps the database from
                # walking the whole organisation in username order to find them.
                order_key: InstrumentedAttribute[str] = User.username_key
            else:
                counted = shown = in_org
                order_key = Membership.username_key
            total = session.scalar(select(func.count()).select_from(Membership).where(counted)) or 0
            end = min(offset + limit, total)
            rows: list[Any] = []
            if end > offset:
                query = (
                    select(
                        User.id,
                        User.username,
                        User.name,
                        User.email,
                        Membership.role,
                        mfa_active(User.id),
                        User.last_sign_in_at,
                    )
                    .join(User, User.id == Membership.user_id)
                    .where(shown)
                )
                if offset > total - end:
                    # Nearer the end: read backwards from it (the last page costs what the
                    # first one does), then put the rows back in order.
                    query = query.order_by(order_key.desc()).offset(total - end)
                    rows = list(reversed(session.execute(query.limit(end - offset)).all()))
                else:
                    query = query.order_by(order_key).offset(offset)
                    rows = list(session.execute(query.limit(end - offset)).all())
            return MemberPage(
                org_id=org_id,
                prefix=prefix,
                offset=offset,
                total=total,
                rows=tuple(
                    MemberRow(user_id, username, name, email, as_role(role), bool(mfa), last)
                    for user_id, username, name, email, role, mfa, last in rows
                ),
            )

    # -- authorisation ----------------------------------------------------------------

    @staticmethod
    def require_manager_of(session: Session, actor_id: int, org_id: int) -> User:
        """The actor, if they may manage users of ``org_id``; otherwise PermissionDenied."""
        actor = session.get(User, actor_id)
        if actor is None:
            raise PermissionDenied("You are not signed in")
        if session.get(Organisation, org_id) is None:
            raise NotFound("No such organisation")
        if actor.is_account_manager:
            return actor
        membership = session.get(Membership, (org_id, actor_id))
        if membership is None or membership.role != "admin":
            raise PermissionDenied("Only admins of this organisation can manage its users")
        return actor


def as_role(value: str) -> Role:
    """A stored role as the :data:`Role` type; the schema only ever holds these two."""
    if value == "admin":
        return "admin"
    if value == "member":
        return "member"
    raise ValueError(f"unknown role {value!r}")


def role_of(session: Session, org_id: int, user_id: int) -> Role | None:
    """The user's role in the organisation, or ``None`` when not a member."""
    membership = session.get(Membership, (org_id, user_id))
    return None if membership is None else as_role(membership.role)
