"""How organisations govern their members: who belongs, who administers, whether MFA is a must.

- An organisation can require MFA: its members without MFA enrol at their next sign-in
  and can do nothing else until they have. A member of several organisations is held to
  the strictest.
- Membership and roles change from the command line. No change leaves an organisation
  without an admin: removing or demoting its last admin is refused, and concurrent changes
  take turns on the organisation's row, so two of them cannot each remove "the other" admin.
- Every change is audited and moves the affected accounts' revision on, so their live
  sessions (the org picker, Users, the palette) follow within seconds.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tui_portal.data.engine import Database
from tui_portal.data.models import Membership, Organisation, User
from tui_portal.errors import InvalidInput, NotFound, NothingToChange
from tui_portal.services import validation as rules
from tui_portal.services.audit import AuditLog, Event, Where
from tui_portal.services.authorisation import require_manager_of
from tui_portal.services.confirmation import PasswordConfirmation
from tui_portal.services.lookups import as_role, bump_revision, get_org, get_user
from tui_portal.services.results import Caller, Operator, OrgId, Role
from tui_portal.services.sessions import Sessions


class Governance:
    """Membership, roles and the MFA policy of organisations."""

    def __init__(
        self,
        db: Database,
        sessions: Sessions,
        confirmation: PasswordConfirmation,
        audit: AuditLog,
    ) -> None:
        self._db = db
        self._sessions = sessions
        self._confirmation = confirmation
        self._audit = audit

    # -- membership and roles (operators) ---------------------------------------------

    def remove_member(self, org_name: str, username: str, *, operator: Operator) -> None:
        """Take a user out of an organisation; never its last admin."""
        with self._db.write() as session:
            org, user, membership = _membership(session, org_name, username)
            _keep_an_admin(session, org, user, membership)
            session.delete(membership)
            bump_revision(session, user.id, *_admin_ids(session, org.id))
            self._audit.record(
                session,
                Event.MEMBERSHIP_REMOVED,
                Where.of_operator(operator),
                target=user.username,
                target_user_id=user.id,
                org=org.name,
                detail=f"was {membership.role}",
            )

    def set_role(self, org_name: str, username: str, role: str, *, operator: Operator) -> Role:
        """Make a member an admin, or an admin a member; never demote the last admin."""
        new_role = as_role(rules.check_role(role))
        with self._db.write() as session:
            org, user, membership = _membership(session, org_name, username)
            if membership.role == new_role:
                raise NothingToChange(f"{user.username} is already {new_role} of {org.name}")
            _keep_an_admin(session, org, user, membership)
            old_role = membership.role
            membership.role = new_role
            bump_revision(session, user.id)
            self._audit.record(
                session,
                Event.ROLE_CHANGED,
                Where.of_operator(operator),
                target=user.username,
                target_user_id=user.id,
                org=org.name,
                detail=f"{old_role} to {new_role}",
            )
            return new_role

    # -- the MFA policy ---------------------------------------------------------------

    def set_mfa_policy(self, org_name: str, required: bool, *, operator: Operator) -> None:
        """The operator turns the organisation's MFA requirement on or off."""
        with self._db.write() as session:
            org = _locked(session, get_org(session, org_name).id)
            self._apply_policy(session, org, required, Where.of_operator(operator))

    def set_mfa_policy_for(
        self, caller: Caller, *, org_id: OrgId, required: bool, password: str
    ) -> None:
        """An admin of the organisation (or an account manager) turns its MFA requirement
        on or off, after confirming their own password."""
        with self._db.read() as session:
            actor = self._sessions.require(session, caller)
            require_manager_of(session, actor, org_id)
        claim = self._confirmation.confirm(caller, password, account=actor)
        with self._db.write() as session:
            actor = self._sessions.require(session, caller)
            org = _locked(session, require_manager_of(session, actor, org_id).id)
            self._confirmation.settle_in(session, claim)
            self._apply_policy(session, org, required, Where.of_caller(caller, actor.username))

    def _apply_policy(
        self, session: Session, org: Organisation, required: bool, where: Where
    ) -> None:
        if org.mfa_required == required:
            state = "requires" if required else "does not require"
            raise NothingToChange(f"{org.name} already {state} MFA")
        org.mfa_required = required
        bump_revision(session, *_admin_ids(session, org.id))
        self._audit.record(
            session,
            Event.MFA_POLICY_CHANGED,
            where,
            org=org.name,
            detail="MFA required" if required else "MFA not required",
        )


def _membership(
    session: Session, org_name: str, username: str
) -> tuple[Organisation, User, Membership]:
    """The organisation (locked until the transaction ends), the user and the membership."""
    org = _locked(session, get_org(session, org_name).id)
    user = get_user(session, username)
    membership = session.get(Membership, (org.id, user.id))
    if membership is None:
        raise NotFound(f"{user.username} is not a member of {org.name}")
    return org, user, membership


def _keep_an_admin(session: Session, org: Organisation, user: User, membership: Membership) -> None:
    """Refuse a change that would leave the organisation without an admin."""
    if membership.role == "admin" and _admins(session, org.id) <= 1:
        raise InvalidInput(
            f"{user.username} is the last admin of {org.name}; make someone else an admin first"
        )


def _locked(session: Session, org_id: int) -> Organisation:
    """The organisation's row, held until this transaction ends (``FOR UPDATE``)."""
    org = session.scalar(
        select(Organisation)
        .where(Organisation.id == org_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if org is None:
        raise NotFound("No such organisation")
    return org


def _admins(session: Session, org_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Membership)
            .where(Membership.org_id == org_id, Membership.role == "admin")
        )
        or 0
    )


def _admin_ids(session: Session, org_id: int) -> list[int]:
    return list(
        session.scalars(
            select(User.id)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.org_id == org_id, Membership.role == "admin")
        )
    )
