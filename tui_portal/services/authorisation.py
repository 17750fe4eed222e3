"""Who may manage whose account: the rules, checked here whatever the screen shows.

- An organisation's admins, and account managers (staff), see its members in Users.
- Resetting someone else's MFA: an account manager may reset anyone's. An admin may reset
  only a member who is neither an account manager nor an admin of any organisation, and
  every one of whose organisations the admin administers; anyone else is reset by an
  account manager or the operator ("Only an account manager can reset this account"). The
  admin path never applies to oneself: one's own MFA is disabled from one's own profile.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from tui_portal.data.models import Membership, Organisation, User
from tui_portal.errors import NotFound, OnlyAccountManagerCanReset, PermissionDenied

ResetAuthority = Literal["admin", "account manager"]


@dataclass(frozen=True)
class ResetGrant:
    """A reset that may go ahead: the organisation it is made in, and by what authority."""

    org: Organisation
    authority: ResetAuthority


def require_manager_of(session: Session, actor: User, org_id: int) -> Organisation:
    """The organisation, if ``actor`` may manage its users; otherwise ``PermissionDenied``."""
    org = session.get(Organisation, org_id)
    if org is None:
        raise NotFound("No such organisation")
    if actor.is_account_manager:
        return org
    membership = session.get(Membership, (org_id, actor.id))
    if membership is None or membership.role != "admin":
        raise PermissionDenied(f"Only admins of {org.name} can manage its users")
    return org


def admin_of(session: Session, actor: User) -> set[int]:
    """The organisations ``actor`` is an admin of."""
    return set(
        session.scalars(
            select(Membership.org_id).where(
                Membership.user_id == actor.id, Membership.role == "admin"
            )
        )
    )


def authorise_reset(session: Session, actor: User, target: User, org_id: int) -> ResetGrant:
    """May ``actor`` reset ``target``'s MFA, acting in ``org_id``? Raises when not."""
    if actor.id == target.id:
        raise PermissionDenied("Disable your own MFA from your profile")
    org = session.get(Organisation, org_id)
    if org is None:
        raise NotFound("No such organisation")
    administered = admin_of(session, actor)
    if not actor.is_account_manager and org_id not in administered:
        raise PermissionDenied(f"Only admins of {org.name} can manage its users")
    roles: dict[int, str] = {
        org_id: role
        for org_id, role in session.execute(
            select(Membership.org_id, Membership.role).where(Membership.user_id == target.id)
        )
    }
    if org_id not in roles:
        raise PermissionDenied(f"That user is not a member of {org.name}")
    if actor.is_account_manager:
        return ResetGrant(org, "account manager")
    if target.is_account_manager or "admin" in roles.values():
        raise OnlyAccountManagerCanReset()
    if not set(roles) <= administered:
        raise OnlyAccountManagerCanReset()
    return ResetGrant(org, "admin")
