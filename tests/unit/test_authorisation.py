"""Who may disable whose MFA, and who may page an organisation's members.

The reset matrix: an account manager may reset anyone's MFA (naming an organisation the
person belongs to); an admin only a plain member every one of whose organisations the admin
administers; nobody resets their own through the admin path; members reset nobody.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from tui_portal.errors import (
    IncorrectPassword,
    InvalidInput,
    NotFound,
    NothingToChange,
    OnlyAccountManagerCanReset,
    PermissionDenied,
)
from tui_portal.services.audit import Event
from tui_portal.services.clock import ManualClock
from tui_portal.services.portal import Portal, open_portal
from tui_portal.services.results import Caller

from .support import (
    OPERATOR,
    OTHER_PASSWORD,
    PASSWORD,
    START,
    account_of,
    cheap_passwords,
    create_user,
    enrolled,
    make_settings,
    new_key,
    session_for,
)

# username: (organisations and roles, account manager, has MFA)
CAST: dict[str, tuple[dict[str, str], bool, bool]] = {
    "alice": ({"Acme": "admin"}, False, True),  # admin of Acme
    "bob": ({"Acme": "member"}, False, True),  # plain member of Acme
    "mallory": ({"Acme": "member"}, False, True),  # plain member of Acme
    "carol": ({"Beta": "admin"}, False, False),  # admin of Beta
    "dave": ({"Beta": "member"}, False, True),  # plain member of Beta
    "erin": ({}, True, False),  # account manager, in no organisation
    "frank": ({"Acme": "admin", "Beta": "admin"}, False, True),  # admin of both
    "gina": ({"Acme": "member", "Beta": "member"}, False, True),  # member of both
    "hank": ({"Acme": "member", "Beta": "admin"}, False, True),  # member here, admin there
    "ivy": ({"Acme": "member"}, True, True),  # account manager who is a member of Acme
    "jack": ({"Acme": "admin"}, False, True),  # a fellow admin of Acme
    "nomfa": ({"Acme": "member"}, False, False),  # a member with no MFA
}


@dataclass
class People:
    portal: Portal
    clock: ManualClock
    ids: dict[str, int] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    orgs: dict[str, int] = field(default_factory=dict)

    def session(self, username: str) -> Caller:
        password = OTHER_PASSWORD if username == "alice" else PASSWORD
        return session_for(
            self.portal,
            username,
            password=password,
            secret=self.secrets.get(username),
            clock=self.clock,
        )

    def mfa_on(self, username: str) -> bool:
        return account_of(self.portal, self.ids[username]).mfa_enabled


@pytest.fixture
def people(portal: Portal, clock: ManualClock) -> People:
    cast = People(portal, clock)
    for username, (orgs, manager, _mfa) in CAST.items():
        password = OTHER_PASSWORD if username == "alice" else PASSWORD
        account = create_user(
            portal, username, orgs=orgs, account_manager=manager, password=password
        )
        cast.ids[username] = account.id
    for username, (_orgs, _manager, mfa) in CAST.items():
        if mfa:
            password = OTHER_PASSWORD if username == "alice" else PASSWORD
            cast.secrets[username] = enrolled(portal, clock, username, password)
    cast.orgs = {o.name: o.id for o in portal.directory.organisations()}
    return cast


def events(portal: Portal, event: Event) -> list[tuple[str, str, str]]:
    return [(r.actor, r.target, r.org) for r in portal.audit.trail() if r.event == event]


def disable(people: People, actor: str, target: str, org: str, password: str | None = None):  # type: ignore[no-untyped-def]
    if password is None:
        password = OTHER_PASSWORD if actor == "alice" else PASSWORD
    return people.portal.mfa.disable_for_user(
        people.session(actor),
        password=password,
        target_user_id=people.ids[target],
        org_id=people.orgs[org],
    )


ALLOWED_AS_ADMIN = "mfa_disabled_by_admin"
ALLOWED_AS_ACCOUNT_MANAGER = "mfa_disabled_by_account_manager"
ONLY_AN_ACCOUNT_MANAGER = "only an account manager"
DENIED = "denied"

MATRIX = [
    # an admin: plain members all of whose organisations they administer, and nobody else
    ("alice", "bob", "Acme", ALLOWED_AS_ADMIN),
    ("alice", "mallory", "Acme", ALLOWED_AS_ADMIN),
    ("alice", "gina", "Acme", ONLY_AN_ACCOUNT_MANAGER),  # also in Beta, which alice does not run
    ("alice", "hank", "Acme", ONLY_AN_ACCOUNT_MANAGER),  # an admin elsewhere
    ("alice", "jack", "Acme", ONLY_AN_ACCOUNT_MANAGER),  # a fellow admin
    ("alice", "frank", "Acme", ONLY_AN_ACCOUNT_MANAGER),  # an admin of both
    ("alice", "ivy", "Acme", ONLY_AN_ACCOUNT_MANAGER),  # staff
    ("alice", "dave", "Acme", DENIED),  # not a member of Acme
    ("alice", "dave", "Beta", DENIED),  # alice is no admin of Beta
    ("alice", "alice", "Acme", DENIED),  # oneself: use the profile
    ("frank", "gina", "Acme", ALLOWED_AS_ADMIN),  # frank runs both of gina's organisations
    ("frank", "gina", "Beta", ALLOWED_AS_ADMIN),
    ("frank", "dave", "Beta", ALLOWED_AS_ADMIN),
    ("frank", "hank", "Beta", ONLY_AN_ACCOUNT_MANAGER),  # hank is an admin of Beta
    ("frank", "alice", "Acme", ONLY_AN_ACCOUNT_MANAGER),
    ("carol", "dave", "Beta", ALLOWED_AS_ADMIN),
    ("carol", "gina", "Beta", ONLY_AN_ACCOUNT_MANAGER),  # also in Acme
    ("carol", "bob", "Acme", DENIED),
    ("carol", "bob", "Beta", DENIED),
    ("jack", "alice", "Acme", ONLY_AN_ACCOUNT_MANAGER),
    # an account manager: anyone, in an organisation the person belongs to
    ("erin", "bob", "Acme", ALLOWED_AS_ACCOUNT_MANAGER),
    ("erin", "hank", "Beta", ALLOWED_AS_ACCOUNT_MANAGER),
    ("erin", "frank", "Acme", ALLOWED_AS_ACCOUNT_MANAGER),
    ("erin", "ivy", "Acme", ALLOWED_AS_ACCOUNT_MANAGER),  # another account manager
    ("erin", "dave", "Acme", DENIED),  # dave is not in Acme
    ("ivy", "alice", "Acme", ALLOWED_AS_ACCOUNT_MANAGER),
    ("ivy", "ivy", "Acme", DENIED),  # oneself: use the profile
    # members: nobody
    ("bob", "mallory", "Acme", DENIED),
    ("mallory", "bob", "Acme", DENIED),
    ("gina", "dave", "Beta", DENIED),
]


@pytest.mark.parametrize(("actor", "target", "org", "outcome"), MATRIX)
def test_every_cell_of_the_reset_matrix(
    people: People, actor: str, target: str, org: str, outcome: str
) -> None:
    portal = people.portal
    if outcome in (ALLOWED_AS_ADMIN, ALLOWED_AS_ACCOUNT_MANAGER):
        account = disable(people, actor, target, org)
        assert account.id == people.ids[target] and not account.mfa_enabled
        assert not people.mfa_on(target)
        assert events(portal, Event(outcome)) == [(actor, target, org)]
        return
    if outcome == ONLY_AN_ACCOUNT_MANAGER:
        with pytest.raises(OnlyAccountManagerCanReset) as raised:
            disable(people, actor, target, org)
        assert str(raised.value) == "Only an account manager can reset this account"
    else:
        with pytest.raises(PermissionDenied) as denied:
            disable(people, actor, target, org)
        assert not isinstance(denied.value, OnlyAccountManagerCanReset)
    assert people.mfa_on(target)
    assert not [r for r in portal.audit.trail() if r.event.startswith("mfa_disabled")]
    # The permission is checked before the password: nothing counted against the actor.
    assert events(portal, Event.PASSWORD_CONFIRM_FAILED) == []


def test_the_admin_must_give_their_own_password(people: People) -> None:
    portal = people.portal
    trail_before = len(portal.audit.trail())
    for wrong in (PASSWORD, "", "wrong password"):  # PASSWORD is bob's, not alice's
        with pytest.raises(IncorrectPassword):
            disable(people, "alice", "bob", "Acme", password=wrong)
    assert people.mfa_on("bob")
    assert events(portal, Event.MFA_DISABLED_BY_ADMIN) == []
    failed = [r for r in portal.audit.trail()[trail_before:] if r.event != "sign_in_succeeded"]
    assert [(r.event, r.actor) for r in failed] == [(Event.PASSWORD_CONFIRM_FAILED, "alice")] * 3


def test_a_reset_of_someone_without_mfa_says_so_and_records_nothing(people: People) -> None:
    portal = people.portal
    before = len(portal.audit.trail())
    with pytest.raises(NothingToChange, match="nomfa has no MFA"):
        disable(people, "alice", "nomfa", "Acme")
    with pytest.raises(NothingToChange, match="nomfa has no MFA"):
        portal.mfa.disable_by_operator(username="nomfa", operator=OPERATOR)
    kinds = {r.event for r in portal.audit.trail()[before:]}
    assert kinds <= {"sign_in_succeeded"}  # the actor's sign-in, nothing else


def test_a_reset_ends_the_targets_sessions(people: People) -> None:
    portal = people.portal
    bobs = people.session("bob")
    assert portal.sessions.heartbeat(bobs, active=False).live
    disable(people, "alice", "bob", "Acme")
    status = portal.sessions.heartbeat(bobs, active=False)
    assert not status.live and status.ended_reason == "mfa_disabled"


def test_an_unknown_organisation_is_not_found(people: People) -> None:
    portal = people.portal
    with pytest.raises(NotFound):
        portal.mfa.disable_for_user(
            people.session("erin"),
            password=PASSWORD,
            target_user_id=people.ids["bob"],
            org_id=999_999,
        )
    assert people.mfa_on("bob")


def test_disabling_ones_own(people: People) -> None:
    portal = people.portal
    bob = people.session("bob")
    with pytest.raises(IncorrectPassword):
        portal.mfa.disable_own(bob, password=OTHER_PASSWORD)
    assert people.mfa_on("bob")
    account = portal.mfa.disable_own(bob, password=PASSWORD)
    assert not account.mfa_enabled
    assert events(portal, Event.MFA_DISABLED_BY_SELF) == [("bob", "bob", "")]
    with pytest.raises(NothingToChange):
        portal.mfa.disable_own(bob, password=PASSWORD)


def test_the_operator_disables_anyones(people: People) -> None:
    portal = people.portal
    account = portal.mfa.disable_by_operator(username="DAVE", operator=OPERATOR)
    assert account.username == "dave"
    assert not account.mfa_enabled
    assert events(portal, Event.MFA_DISABLED_BY_OPERATOR) == [("operator:test", "dave", "")]
    with pytest.raises(NotFound):
        portal.mfa.disable_by_operator(username="nobody", operator=OPERATOR)


# -- paging an organisation's members -------------------------------------------------


def test_members_may_not_page_their_organisation(people: People) -> None:
    portal, acme = people.portal, people.orgs["Acme"]
    with pytest.raises(PermissionDenied):
        portal.members.member_page(people.session("mallory"), org_id=acme)
    with pytest.raises(PermissionDenied):
        portal.members.member_page(people.session("carol"), org_id=acme)  # admin of Beta only
    with pytest.raises(PermissionDenied):
        portal.members.member_page(Caller(999_999, "no-such-session", "local:x"), org_id=acme)
    with pytest.raises(NotFound):
        portal.members.member_page(people.session("alice"), org_id=999_999)


def test_admins_and_account_managers_page_members(people: People) -> None:
    portal, acme = people.portal, people.orgs["Acme"]
    as_admin = portal.members.member_page(people.session("alice"), org_id=acme)
    as_manager = portal.members.member_page(people.session("erin"), org_id=acme)
    assert as_admin == as_manager
    assert as_admin.org_name == "Acme"
    assert [(r.username, r.role, r.mfa_enabled) for r in as_admin.rows] == [
        ("alice", "admin", True),
        ("bob", "member", True),
        ("frank", "admin", True),
        ("gina", "member", True),
        ("hank", "member", True),
        ("ivy", "member", True),
        ("jack", "admin", True),
        ("mallory", "member", True),
        ("nomfa", "member", False),
    ]
    without = portal.members.member_page(
        people.session("alice"), org_id=acme, only_without_mfa=True
    )
    assert [r.username for r in without.rows] == ["nomfa"] and without.total == 1
    summary = portal.members.summary(people.session("alice"), org_id=acme)
    assert (summary.members, summary.without_mfa, summary.mfa_required) == (9, 1, False)


def test_manageable_organisations(people: People) -> None:
    names = {
        who: [o.name for o in people.portal.members.manageable_organisations(people.session(who))]
        for who in ("alice", "mallory", "carol", "erin", "frank")
    }
    assert names == {
        "alice": ["Acme"],
        "mallory": [],
        "carol": ["Beta"],
        "erin": ["Acme", "Beta"],
        "frank": ["Acme", "Beta"],
    }


CROWD = [
    ("amy", "Zoe Amsel", "zoe@example.org"),
    ("Anna", "Bea Cole", "bea@example.org"),
    ("bob", "Álvaro Díaz", "ALVARO@example.org"),
    ("carl", "Carl Anders", "anders@example.org"),
    ("dora", "Dora Eve", "dora@amsterdam.example"),
    ("ed", "", ""),
    ("zed", "zed", "zed@zed.example"),
]


@dataclass(frozen=True)
class Crowd:
    portal: Portal
    admin: Caller
    org_id: int


@pytest.fixture(scope="module")
def crowd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crowd]:
    """An organisation whose members' usernames, names and emails start differently.

    Shared by the read-only paging tests of this module.
    """
    path = tmp_path_factory.mktemp("crowd") / "crowd.db"
    portal = open_portal(
        make_settings(path, new_key()), clock=ManualClock(START), passwords=cheap_passwords()
    )
    try:
        create_user(portal, "root-admin", orgs={"Crowd": "admin"})
        for username, name, email in CROWD:
            create_user(portal, username, name=name, email=email, orgs={"Crowd": "member"})
        # Someone outside the organisation who would match every filter.
        create_user(
            portal, "aaron", name="Aaron A", email="aaron@example.org", orgs={"Other": "member"}
        )
        crowd_id = next(o.id for o in portal.directory.organisations() if o.name == "Crowd")
        yield Crowd(portal, session_for(portal, "root-admin"), crowd_id)
    finally:
        portal.close()


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("", ["amy", "Anna", "bob", "carl", "dora", "ed", "root-admin", "zed"]),
        ("a", ["amy", "Anna", "bob", "carl"]),  # username, username, email, email
        ("A", ["amy", "Anna", "bob", "carl"]),
        ("d", ["dora"]),  # not bob ("Álvaro Díaz"): only the start of a field counts
        ("AN", ["Anna", "carl"]),
        ("ám", []),
        ("ál", ["bob"]),
        ("ÁLVARO", ["bob"]),
        ("zoe", ["amy"]),
        ("Z", ["amy", "zed"]),
        ("zed@", ["zed"]),
        ("  bea  ", ["Anna"]),
        ("root-", ["root-admin"]),
        ("x", []),
        ("aaron", []),
    ],
)
def test_member_filter_is_a_case_insensitive_prefix(
    crowd: Crowd, prefix: str, expected: list[str]
) -> None:
    page = crowd.portal.members.member_page(crowd.admin, org_id=crowd.org_id, prefix=prefix)
    assert [r.username for r in page.rows] == expected
    assert page.total == len(expected)


def test_member_pages_are_windows_with_the_filtered_total(crowd: Crowd) -> None:
    members, admin, crowd_id = crowd.portal.members, crowd.admin, crowd.org_id
    pages = [
        members.member_page(admin, org_id=crowd_id, offset=offset, limit=3)
        for offset in (0, 3, 6, 9)
    ]
    assert [p.total for p in pages] == [8, 8, 8, 8]
    assert [[r.username for r in p.rows] for p in pages] == [
        ["amy", "Anna", "bob"],
        ["carl", "dora", "ed"],
        ["root-admin", "zed"],
        [],
    ]
    filtered = members.member_page(admin, org_id=crowd_id, prefix="a", offset=2, limit=2)
    assert filtered.total == 4
    assert [r.username for r in filtered.rows] == ["bob", "carl"]


@pytest.mark.parametrize(
    ("prefix", "offset", "limit"),
    [
        ("a\x00", 0, 50),
        ("a\u202e", 0, 50),
        ("x" * 101, 0, 50),
        ("", -1, 50),
        ("", 0, 0),
        ("", 0, 501),
    ],
)
def test_member_page_refuses_bad_requests(
    crowd: Crowd, prefix: str, offset: int, limit: int
) -> None:
    with pytest.raises(InvalidInput):
        crowd.portal.members.member_page(
            crowd.admin, org_id=crowd.org_id, prefix=prefix, offset=offset, limit=limit
        )
