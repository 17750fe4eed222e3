"""Who may disable whose MFA, and who may page an organisation's members."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tui_portal.errors import (
    IncorrectPassword,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from tui_portal.services.audit import Event
from tui_portal.services.clock import ManualClock
from tui_portal.services.portal import Portal, open_portal
from tui_portal.services.results import Account

from .support import (
    OTHER_PASSWORD,
    PASSWORD,
    START,
    cheap_passwords,
    create_user,
    enrol,
    make_settings,
    new_key,
)


@dataclass(frozen=True)
class People:
    acme: int
    beta: int
    alice: Account  # admin of Acme
    bob: Account  # member of Acme, MFA on
    mallory: Account  # member of Acme
    carol: Account  # admin of Beta
    dave: Account  # member of Beta, MFA on
    erin: Account  # account manager, member of no organisation
    frank: Account  # admin of Acme and Beta, MFA on


@pytest.fixture
def people(portal: Portal, clock: ManualClock) -> People:
    alice = create_user(portal, "alice", orgs={"Acme": "admin"}, password=OTHER_PASSWORD)
    bob = create_user(portal, "bob", orgs={"Acme": "member"})
    mallory = create_user(portal, "mallory", orgs={"Acme": "member"})
    carol = create_user(portal, "carol", orgs={"Beta": "admin"})
    dave = create_user(portal, "dave", orgs={"Beta": "member"})
    erin = create_user(portal, "erin", account_manager=True)
    frank = create_user(portal, "frank", orgs={"Acme": "admin", "Beta": "admin"})
    for account in (bob, dave, frank):
        enrol(portal, clock, account.id)
    orgs = {o.name: o.id for o in portal.directory.organisations()}
    return People(orgs["Acme"], orgs["Beta"], alice, bob, mallory, carol, dave, erin, frank)


def mfa_on(portal: Portal, account: Account) -> bool:
    return portal.directory.account(account.id).mfa_enabled


def events(portal: Portal, event: Event) -> list[tuple[str, str, str]]:
    return [(r.actor, r.target, r.org) for r in portal.audit.trail() if r.event == event]


def test_a_plain_member_may_not_disable_anothers_mfa(portal: Portal, people: People) -> None:
    with pytest.raises(PermissionDenied):
        portal.mfa.disable_for_user(people.mallory.id, PASSWORD, people.bob.id, people.acme)
    assert mfa_on(portal, people.bob)
    assert events(portal, Event.MFA_DISABLED_BY_ADMIN) == []


def test_an_admin_of_the_same_organisation_may(portal: Portal, people: People) -> None:
    account = portal.mfa.disable_for_user(
        people.alice.id, OTHER_PASSWORD, people.bob.id, people.acme
    )
    assert account.id == people.bob.id
    assert not account.mfa_enabled
    assert not mfa_on(portal, people.bob)
    assert events(portal, Event.MFA_DISABLED_BY_ADMIN) == [("alice", "bob", "Acme")]


def test_the_admin_must_give_their_own_password(portal: Portal, people: People) -> None:
    trail_before = len(portal.audit.trail())
    for wrong in (PASSWORD, "", "wrong password"):  # PASSWORD is bob's, not alice's
        with pytest.raises(IncorrectPassword):
            portal.mfa.disable_for_user(people.alice.id, wrong, people.bob.id, people.acme)
    assert mfa_on(portal, people.bob)
    assert events(portal, Event.MFA_DISABLED_BY_ADMIN) == []
    trail = portal.audit.trail()[trail_before:]
    assert [(r.event, r.actor) for r in trail] == [(Event.PASSWORD_CONFIRM_FAILED, "alice")] * 3


def test_an_admin_of_another_organisation_may_not(portal: Portal, people: People) -> None:
    with pytest.raises(PermissionDenied):
        portal.mfa.disable_for_user(people.carol.id, PASSWORD, people.bob.id, people.acme)
    with pytest.raises(PermissionDenied):
        portal.mfa.disable_for_user(people.carol.id, PASSWORD, people.bob.id, people.beta)
    assert mfa_on(portal, people.bob)


def test_an_admin_naming_their_organisation_for_an_outsider_may_not(
    portal: Portal, people: People
) -> None:
    with pytest.raises(PermissionDenied):
        portal.mfa.disable_for_user(people.alice.id, OTHER_PASSWORD, people.dave.id, people.acme)
    assert mfa_on(portal, people.dave)
    # No password was asked for, so nothing counted against alice.
    assert events(portal, Event.PASSWORD_CONFIRM_FAILED) == []


def test_a_permission_check_comes_before_the_password(portal: Portal, people: People) -> None:
    with pytest.raises(PermissionDenied):
        portal.mfa.disable_for_user(people.mallory.id, "wrong password", people.bob.id, people.acme)
    assert events(portal, Event.PASSWORD_CONFIRM_FAILED) == []


def test_an_account_manager_may_disable_anyones(portal: Portal, people: People) -> None:
    portal.mfa.disable_for_user(people.erin.id, PASSWORD, people.dave.id, people.beta)
    portal.mfa.disable_for_user(people.erin.id, PASSWORD, people.bob.id, people.acme)
    assert not mfa_on(portal, people.dave)
    assert not mfa_on(portal, people.bob)
    assert events(portal, Event.MFA_DISABLED_BY_ACCOUNT_MANAGER) == [
        ("erin", "dave", "Beta"),
        ("erin", "bob", "Acme"),
    ]


def test_an_account_manager_still_names_a_membership_org(portal: Portal, people: People) -> None:
    with pytest.raises(PermissionDenied):
        portal.mfa.disable_for_user(people.erin.id, PASSWORD, people.dave.id, people.acme)
    with pytest.raises(IncorrectPassword):
        portal.mfa.disable_for_user(people.erin.id, OTHER_PASSWORD, people.dave.id, people.beta)
    assert mfa_on(portal, people.dave)


def test_an_admin_of_both_organisations_acts_in_either(portal: Portal, people: People) -> None:
    portal.mfa.disable_for_user(people.frank.id, PASSWORD, people.dave.id, people.beta)
    assert events(portal, Event.MFA_DISABLED_BY_ADMIN) == [("frank", "dave", "Beta")]


def test_an_unknown_organisation_is_not_found(portal: Portal, people: People) -> None:
    with pytest.raises(NotFound):
        portal.mfa.disable_for_user(people.erin.id, PASSWORD, people.bob.id, 999_999)
    assert mfa_on(portal, people.bob)


def test_disabling_ones_own(portal: Portal, people: People) -> None:
    with pytest.raises(IncorrectPassword):
        portal.mfa.disable_own(people.bob.id, OTHER_PASSWORD)
    assert mfa_on(portal, people.bob)
    account = portal.mfa.disable_own(people.bob.id, PASSWORD)
    assert not account.mfa_enabled
    assert events(portal, Event.MFA_DISABLED_BY_SELF) == [("bob", "bob", "")]


def test_the_operator_disables_anyones(portal: Portal, people: People) -> None:
    account = portal.mfa.disable_by_operator("DAVE", operator="operator:root")
    assert account.username == "dave"
    assert not account.mfa_enabled
    assert events(portal, Event.MFA_DISABLED_BY_OPERATOR) == [("operator:root", "dave", "")]
    with pytest.raises(NotFound):
        portal.mfa.disable_by_operator("nobody", operator="operator:root")


# -- paging an organisation's members -------------------------------------------------


def test_members_may_not_page_their_organisation(portal: Portal, people: People) -> None:
    with pytest.raises(PermissionDenied):
        portal.directory.member_page(people.mallory.id, people.acme)
    with pytest.raises(PermissionDenied):
        portal.directory.member_page(people.carol.id, people.acme)  # admin of Beta only
    with pytest.raises(PermissionDenied):
        portal.directory.member_page(999_999, people.acme)  # nobody
    with pytest.raises(NotFound):
        portal.directory.member_page(people.alice.id, 999_999)


def test_admins_and_account_managers_page_members(portal: Portal, people: People) -> None:
    as_admin = portal.directory.member_page(people.alice.id, people.acme)
    as_manager = portal.directory.member_page(people.erin.id, people.acme)
    assert as_admin == as_manager
    assert as_admin.total == 4
    assert [(r.username, r.role, r.mfa_enabled) for r in as_admin.rows] == [
        ("alice", "admin", False),
        ("bob", "member", True),
        ("frank", "admin", True),
        ("mallory", "member", False),
    ]


def test_manageable_organisations(portal: Portal, people: People) -> None:
    names = {
        who: [o.name for o in portal.directory.manageable_organisations(account.id)]
        for who, account in [
            ("alice", people.alice),
            ("mallory", people.mallory),
            ("carol", people.carol),
            ("erin", people.erin),
            ("frank", people.frank),
        ]
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
    admin_id: int
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
        admin = create_user(portal, "root-admin", orgs={"Crowd": "admin"})
        for username, name, email in CROWD:
            create_user(portal, username, name=name, email=email, orgs={"Crowd": "member"})
        # Someone outside the organisation who would match every filter.
        create_user(
            portal, "aaron", name="Aaron A", email="aaron@example.org", orgs={"Other": "member"}
        )
        crowd_id = next(o.id for o in portal.directory.organisations() if o.name == "Crowd")
        yield Crowd(portal, admin.id, crowd_id)
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
    page = crowd.portal.directory.member_page(crowd.admin_id, crowd.org_id, prefix=prefix)
    assert [r.username for r in page.rows] == expected
    assert page.total == len(expected)


def test_member_pages_are_windows_with_the_filtered_total(crowd: Crowd) -> None:
    directory, admin_id, crowd_id = crowd.portal.directory, crowd.admin_id, crowd.org_id
    pages = [
        directory.member_page(admin_id, crowd_id, offset=offset, limit=3) for offset in (0, 3, 6, 9)
    ]
    assert [p.total for p in pages] == [8, 8, 8, 8]
    assert [[r.username for r in p.rows] for p in pages] == [
        ["amy", "Anna", "bob"],
        ["carl", "dora", "ed"],
        ["root-admin", "zed"],
        [],
    ]
    filtered = directory.member_page(admin_id, crowd_id, prefix="a", offset=2, limit=2)
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
        crowd.portal.directory.member_page(
            crowd.admin_id, crowd.org_id, prefix=prefix, offset=offset, limit=limit
        )
