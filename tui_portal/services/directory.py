"""Organisations, users and memberships as operators create and list them.

Creating a user also forgets any failed-attempt counter left under that name (a name
typed at sign-in before the account existed), so a new account never starts locked.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tui_portal.data.engine import Database
from tui_portal.data.models import Membership, Organisation, User
from tui_portal.errors import AlreadyExists
from tui_portal.security.passwords import Passwords
from tui_portal.services import validation as rules
from tui_portal.services.audit import AuditLog, Event, Where
from tui_portal.services.clock import Clock
from tui_portal.services.lookups import (
    as_role,
    bump_revision,
    find_org,
    find_user,
    get_org,
    get_user,
    load_account,
    mfa_active,
)
from tui_portal.services.results import Account, Operator, OrgId, OrgRole, UserListing
from tui_portal.services.results import Organisation as OrganisationResult
from tui_portal.services.throttling import ThrottleStore


class Directory:
    """Creates and lists organisations, users and memberships."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        passwords: Passwords,
        audit: AuditLog,
        throttles: ThrottleStore,
    ) -> None:
        self._db = db
        self._clock = clock
        self._passwords = passwords
        self._audit = audit
        self._throttles = throttles

    # -- creating ---------------------------------------------------------------------

    def create_organisation(self, name: str, *, operator: Operator) -> OrganisationResult:
        """A new organisation; its name must be new in any letter case."""
        name = rules.check_org_name(name)
        try:
            with self._db.write() as session:
                if find_org(session, name) is not None:
                    raise AlreadyExists(f"An organisation named {name!r} exists already")
                org = Organisation(
                    name=name,
                    name_key=rules.text_key(name),
                    created_at=self._clock(),
                    mfa_required=False,
                )
                session.add(org)
                session.flush()
                self._audit.record(
                    session, Event.ORGANISATION_CREATED, Where.of_operator(operator), org=org.name
                )
                return OrganisationResult(OrgId(org.id), org.name)
        except IntegrityError:
            raise AlreadyExists(f"An organisation named {name!r} exists already") from None

    def create_user(
        self,
        username: str,
        password: str,
        *,
        operator: Operator,
        name: str = "",
        email: str = "",
        account_manager: bool = False,
    ) -> Account:
        """A new user with an argon2id password hash; the username must be new in any case."""
        username = rules.check_username(username)
        rules.check_password(password)
        name = rules.check_display_name(name)
        email = rules.check_email(email)
        with self._db.read() as session:
            if find_user(session, username) is not None:
                raise AlreadyExists(f"A user named {username!r} exists already")
        password_hash = self._passwords.hash(password)
        try:
            with self._db.write() as session:
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
                    revision=0,
                    notified_through=0,
                )
                session.add(user)
                session.flush()
                self._throttles.clear(session, self._throttles.account(username, known=True))
                self._audit.record(
                    session,
                    Event.USER_CREATED,
                    Where.of_operator(operator),
                    target=username,
                    target_user_id=user.id,
                    detail="account manager" if account_manager else "",
                )
                return load_account(session, user.id)
        except IntegrityError:
            raise AlreadyExists(f"A user named {username!r} exists already") from None

    def add_member(self, org_name: str, username: str, role: str, *, operator: Operator) -> None:
        """Put a user in an organisation with a role; a user is in an organisation once."""
        checked_role = rules.check_role(role)
        try:
            with self._db.write() as session:
                org = get_org(session, org_name)
                user = get_user(session, username)
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
                bump_revision(session, user.id)
                self._audit.record(
                    session,
                    Event.MEMBERSHIP_CREATED,
                    Where.of_operator(operator),
                    target=user.username,
                    target_user_id=user.id,
                    org=org.name,
                    detail=f"role {checked_role}",
                )
        except IntegrityError:
            raise AlreadyExists(f"{username} is already a member of {org_name}") from None

    # -- reading ----------------------------------------------------------------------

    def organisations(self) -> list[OrganisationResult]:
        """Every organisation, by name."""
        with self._db.read() as session:
            rows = session.execute(
                select(Organisation.id, Organisation.name, Organisation.mfa_required).order_by(
                    Organisation.name_key
                )
            ).all()
            return [
                OrganisationResult(OrgId(org_id), name, bool(req)) for org_id, name, req in rows
            ]

    def list_users(self, org_name: str | None = None) -> list[UserListing]:
        """Users with their organisations, by username; only one organisation's if named."""
        with self._db.read() as session:
            query = select(User, mfa_active(User.id)).order_by(User.username_key)
            if org_name is not None:
                org = get_org(session, org_name)
                query = query.join(Membership, Membership.user_id == User.id).where(
                    Membership.org_id == org.id
                )
            users = session.execute(query).all()
            memberships: dict[int, list[OrgRole]] = {}
            for user_id, org_id, name, role, required in session.execute(
                select(
                    Membership.user_id,
                    Organisation.id,
                    Organisation.name,
                    Membership.role,
                    Organisation.mfa_required,
                )
                .join(Organisation, Organisation.id == Membership.org_id)
                .order_by(Organisation.name_key)
            ):
                memberships.setdefault(user_id, []).append(
                    OrgRole(OrgId(org_id), name, as_role(role), bool(required))
                )
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
