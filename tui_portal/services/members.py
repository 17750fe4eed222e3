"""What a signed-in person sees of accounts and organisations: their own account, the
organisations they can pick, and (for admins and account managers) one organisation's
members, paged and filtered by the database.

The Users screen reads one window of one organisation at a time: the database filters by a
case-insensitive prefix of username, name or email and returns a window in username order,
so an organisation of 100,000 members costs no more to open than one of ten.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, select, union
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.elements import ColumnElement

from tui_portal.data.engine import Database
from tui_portal.data.models import Membership, MfaCredential, Organisation, User
from tui_portal.errors import InvalidInput
from tui_portal.services import validation as rules
from tui_portal.services.authorisation import require_manager_of
from tui_portal.services.lookups import as_role, load_account, mfa_active
from tui_portal.services.results import (
    Account,
    Caller,
    MemberPage,
    MemberRow,
    OrgId,
    OrgSummary,
    UserId,
)
from tui_portal.services.results import (
    Organisation as OrganisationResult,
)
from tui_portal.services.sessions import Sessions

PAGE_SIZE_MAX = 500

MemberTuple = tuple[int, str, str, str, str, bool, datetime | None]
"""One row of a window as the database returns it: id, username, name, email, role, whether
MFA is active, the last sign-in."""


def prefix_range(column: InstrumentedAttribute[str], prefix: str) -> ColumnElement[bool]:
    """``column`` starts with ``prefix``, as an index-friendly range on every database."""
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return and_(column >= prefix, column < upper)


class Members:
    """Reads for a signed-in person: their account, their organisations, members' pages."""

    def __init__(self, db: Database, sessions: Sessions) -> None:
        self._db = db
        self._sessions = sessions

    def account(self, caller: Caller) -> Account:
        """The caller's account as it is now (roles and MFA are read afresh every time)."""
        with self._db.read() as session:
            user = self._sessions.require(session, caller, enrolling=True)
            return load_account(session, user.id)

    def picker_organisations(self, caller: Caller) -> list[OrganisationResult]:
        """The organisations a person can choose in the top bar: their own, and every
        organisation for an account manager."""
        with self._db.read() as session:
            user = self._sessions.require(session, caller)
            query = select(Organisation.id, Organisation.name, Organisation.mfa_required)
            if not user.is_account_manager:
                query = query.join(Membership, Membership.org_id == Organisation.id).where(
                    Membership.user_id == user.id
                )
            rows = session.execute(query.order_by(Organisation.name_key)).all()
            return [
                OrganisationResult(OrgId(org_id), name, bool(req)) for org_id, name, req in rows
            ]

    def manageable_organisations(self, caller: Caller) -> list[OrganisationResult]:
        """Organisations whose users the caller may manage: all for account managers,
        otherwise those where the caller is an admin."""
        with self._db.read() as session:
            user = self._sessions.require(session, caller)
            query = select(Organisation.id, Organisation.name, Organisation.mfa_required)
            if not user.is_account_manager:
                query = query.join(Membership, Membership.org_id == Organisation.id).where(
                    Membership.user_id == user.id, Membership.role == "admin"
                )
            rows = session.execute(query.order_by(Organisation.name_key)).all()
            return [
                OrganisationResult(OrgId(org_id), name, bool(req)) for org_id, name, req in rows
            ]

    def summary(self, caller: Caller, *, org_id: OrgId) -> OrgSummary:
        """The organisation's policy and how many of its members have no MFA."""
        with self._db.read() as session:
            org = require_manager_of(session, self._sessions.require(session, caller), org_id)
            members = (
                session.scalar(
                    select(func.count()).select_from(Membership).where(Membership.org_id == org_id)
                )
                or 0
            )
            with_mfa = (
                session.scalar(
                    select(func.count())
                    .select_from(MfaCredential)
                    .join(
                        Membership,
                        and_(
                            Membership.user_id == MfaCredential.user_id,
                            Membership.org_id == org_id,
                        ),
                    )
                    .where(MfaCredential.status == "active")
                )
                or 0
            )
            return OrgSummary(
                OrgId(org.id), org.name, org.mfa_required, members, members - with_mfa
            )

    def member_page(
        self,
        caller: Caller,
        *,
        org_id: OrgId,
        prefix: str = "",
        offset: int = 0,
        limit: int = 50,
        only_without_mfa: bool = False,
    ) -> MemberPage:
        """One window of an organisation's members, for an admin of it or an account manager.

        ``prefix`` matches the start of username, display name or email, ignoring case;
        ``only_without_mfa`` keeps just the members who have no MFA.
        """
        prefix = rules.check_filter(prefix)
        if offset < 0 or not 1 <= limit <= PAGE_SIZE_MAX:
            raise InvalidInput("That page is out of range")
        with self._db.read() as session:
            org = require_manager_of(session, self._sessions.require(session, caller), org_id)
            rows, total = _window(session, org_id, prefix, offset, limit, only_without_mfa)
            return MemberPage(
                org_id=org_id,
                org_name=org.name,
                prefix=prefix,
                offset=offset,
                total=total,
                rows=tuple(
                    MemberRow(
                        UserId(user_id), username, name, email, as_role(role), bool(mfa), last
                    )
                    for user_id, username, name, email, role, mfa, last in rows
                ),
                only_without_mfa=only_without_mfa,
            )


def _window(
    session: Session, org_id: int, prefix: str, offset: int, limit: int, only_without_mfa: bool
) -> tuple[list[MemberTuple], int]:
    """The rows of one window and the filtered total."""
    in_org = Membership.org_id == org_id
    if prefix:
        # Three index range scans find the matching users, so a filter costs what its
        # matches cost, whatever the size of the organisation.
        matching = union(
            select(User.id).where(prefix_range(User.username_key, prefix)),
            select(User.id).where(prefix_range(User.name_key, prefix)),
            select(User.id).where(prefix_range(User.email_key, prefix)),
        )
        counted = and_(in_org, Membership.user_id.in_(matching))
        shown = and_(in_org, User.id.in_(matching))
        # Sorting the matches by the users' copy of the key keeps the database from walking
        # the whole organisation in username order to find them.
        order_key: InstrumentedAttribute[str] = User.username_key
    else:
        counted = shown = in_org
        order_key = Membership.username_key
    if only_without_mfa:
        counted = and_(counted, ~mfa_active(Membership.user_id))
        shown = and_(shown, ~mfa_active(User.id))
    total = session.scalar(select(func.count()).select_from(Membership).where(counted)) or 0
    end = min(offset + limit, total)
    if end <= offset:
        return [], total
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
        # Nearer the end: read backwards from it (the last page costs what the first one
        # does), then put the rows back in order.
        query = query.order_by(order_key.desc()).offset(total - end)
        rows = session.execute(query.limit(end - offset)).all()
        return list(reversed(rows)), total
    query = query.order_by(order_key).offset(offset)
    return list(session.execute(query.limit(end - offset)).all()), total
