"""The queries every service shares: finding users and organisations, loading an account.

An account loads in two statements (the user with MFA state and recovery codes left, then
its organisations), whichever service asks.
"""

from __future__ import annotations

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.elements import ColumnElement

from tui_portal.data.models import Membership, MfaCredential, Organisation, RecoveryCode, User
from tui_portal.errors import NotFound
from tui_portal.services import validation as rules
from tui_portal.services.results import Account, OrgId, OrgRole, Role, UserId


def mfa_active(user_id: InstrumentedAttribute[int] | int) -> ColumnElement[bool]:
    """SQL for "this user has an active authenticator"."""
    return exists().where(MfaCredential.user_id == user_id, MfaCredential.status == "active")


def recovery_codes_left(user_id: InstrumentedAttribute[int] | int) -> ColumnElement[int]:
    """SQL for the number of the user's recovery codes not used yet."""
    return (
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
        .scalar_subquery()
    )


def find_user(session: Session, username: str) -> User | None:
    """The user with this username in any letter case."""
    return session.scalar(select(User).where(User.username_key == rules.username_key(username)))


def get_user(session: Session, username: str) -> User:
    """The user with this username in any letter case, or ``NotFound``."""
    user = find_user(session, username)
    if user is None:
        raise NotFound(f"No user named {username!r}")
    return user


def find_org(session: Session, name: str) -> Organisation | None:
    """The organisation with this name in any letter case."""
    return session.scalar(
        select(Organisation).where(Organisation.name_key == rules.text_key(name.strip()))
    )


def get_org(session: Session, name: str) -> Organisation:
    """The organisation with this name in any letter case, or ``NotFound``."""
    org = find_org(session, name)
    if org is None:
        raise NotFound(f"No organisation named {name!r}")
    return org


def has_mfa(session: Session, user_id: int) -> bool:
    """Whether the user has an active authenticator."""
    return bool(session.scalar(select(mfa_active(user_id))))


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


def org_roles(session: Session, user_id: int) -> tuple[OrgRole, ...]:
    """The user's organisations with roles and policies, by name."""
    rows = session.execute(
        select(Organisation.id, Organisation.name, Membership.role, Organisation.mfa_required)
        .join(Membership, Membership.org_id == Organisation.id)
        .where(Membership.user_id == user_id)
        .order_by(Organisation.name_key)
    ).all()
    return tuple(
        OrgRole(OrgId(org_id), name, as_role(role), bool(req)) for org_id, name, role, req in rows
    )


def loaded_user(session: Session, user_id: int) -> tuple[User, bool, int]:
    """The user row (read afresh), whether they have MFA, and their recovery codes left."""
    found = session.execute(
        select(User, mfa_active(User.id), recovery_codes_left(User.id))
        .where(User.id == user_id)
        .execution_options(populate_existing=True)
    ).first()
    if found is None:
        raise NotFound("No such user")
    user, mfa, codes_left = found
    return user, bool(mfa), int(codes_left or 0)


def account_from(
    user: User, mfa: bool, codes_left: int, organisations: tuple[OrgRole, ...]
) -> Account:
    """An :class:`Account` from what :func:`loaded_user` and :func:`org_roles` read."""
    return Account(
        id=UserId(user.id),
        username=user.username,
        name=user.name,
        email=user.email,
        is_account_manager=user.is_account_manager,
        mfa_enabled=mfa,
        last_sign_in_at=user.last_sign_in_at,
        organisations=organisations,
        recovery_codes_left=codes_left,
        revision=user.revision,
    )


def load_account(session: Session, user_id: int) -> Account:
    """A user as an :class:`Account`, with organisations, MFA state and codes left."""
    user, mfa, codes_left = loaded_user(session, user_id)
    return account_from(user, mfa, codes_left, org_roles(session, user_id))


def bump_revision(session: Session, *user_ids: int) -> None:
    """Tell the users' live sessions that what they show has changed (one atomic UPDATE)."""
    if user_ids:
        session.execute(
            update(User)
            .where(User.id.in_(user_ids))
            .values(revision=User.revision + 1)
            .execution_options(synchronize_session=False)
        )
