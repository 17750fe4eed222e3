"""The command line, run in-process: exit codes, one-line errors, JSON shapes, configuration."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import stat
import sys
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.world import importable_hash
from tui_portal import __version__
from tui_portal.cli import main
from tui_portal.config import Settings, operating_system_user, resolve_settings
from tui_portal.services.audit import Event
from tui_portal.services.clock import ManualClock
from tui_portal.services.portal import Portal, open_portal
from tui_portal.services.results import Operator, SignedIn

from .support import OPERATOR, SOURCE, START, account_of, cheap_passwords, enrol, new_key

PASSWORD_LINE = "cli password one\n"
PASSWORD = PASSWORD_LINE.rstrip("\n")


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


Run = Callable[..., Result]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Private data and config folders under tmp_path, and no TUI_PORTAL_* from outside."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for name in (
        "TUI_PORTAL_DB",
        "TUI_PORTAL_SECRET_KEY",
        "TUI_PORTAL_KEY_FILE",
        "TUI_PORTAL_ISSUER",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def cheap_portal(settings: Settings) -> Portal:
    """The portal as the command line opens it, with the same argon2id rules made cheaper."""
    return open_portal(settings, passwords=cheap_passwords())


@pytest.fixture
def default_db(home: Path) -> Path:
    return home / "data" / "tui-portal" / "portal.db"


@pytest.fixture
def run(home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Run:
    def run_cli(*args: str, stdin: str = "") -> Result:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = 0
        try:
            main(list(args), portal_factory=cheap_portal)
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run_cli


@pytest.fixture
def cli_portal(home: Path) -> Iterator[Callable[..., Portal]]:
    """Open the portal the command line uses (same database, same key), with a manual clock."""
    opened: list[Portal] = []

    def open_it(clock: ManualClock | None = None) -> Portal:
        clock = clock or ManualClock(START)
        portal = open_portal(resolve_settings(), clock=clock, passwords=cheap_passwords())
        opened.append(portal)
        return portal

    yield open_it
    for portal in opened:
        portal.close()


def enrol_alice(cli_portal: Callable[..., Portal]) -> int:
    """Give alice (created by the command line) an active authenticator; returns her id."""
    clock = ManualClock(START)
    portal = cli_portal(clock)
    signed_in = portal.sign_in.sign_in(username="alice", password=PASSWORD, source=SOURCE)
    assert isinstance(signed_in, SignedIn)
    enrol(portal, clock, signed_in.caller)
    assert account_of(portal, signed_in.account.id).mfa_enabled
    return signed_in.account.id


def ok(result: Result) -> Result:
    assert result.code == 0, result
    assert result.err == "", result
    return result


def one_error_line(result: Result) -> str:
    assert result.code != 0, result
    assert "Traceback" not in result.err
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("error: "), result.err
    return lines[0]


def count(db: Path, table: str) -> int:
    if not db.exists():
        return 0
    with closing(sqlite3.connect(db)) as connection:
        value = connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    assert isinstance(value, int)
    return value


@pytest.fixture
def seeded(run: Run, default_db: Path, schema_template: bytes) -> None:
    """Acme and Beta, and alice (admin of Acme) in the default database.

    Written through the services the command line uses, onto a copy of the migrated
    template; the commands themselves are exercised by the tests.
    """
    default_db.parent.mkdir(parents=True)
    descriptor = os.open(default_db, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(schema_template)
    portal = open_portal(resolve_settings(), passwords=cheap_passwords())
    try:
        portal.directory.create_organisation("Acme", operator=OPERATOR)
        portal.directory.create_organisation("Beta", operator=OPERATOR)
        portal.directory.create_user("alice", PASSWORD, operator=OPERATOR, name="Alice A")
        portal.directory.add_member("Acme", "alice", "admin", operator=OPERATOR)
    finally:
        portal.close()


# -- success --------------------------------------------------------------------------


def test_every_command_exits_zero(run: Run, default_db: Path, tmp_path: Path) -> None:
    assert ok(run("init")).out.startswith("database ready: sqlite:///")
    assert ok(run("org", "create", "Acme")).out == "created organisation Acme\n"
    ok(run("org", "create", "Beta"))
    created = ok(
        run(
            "user",
            "create",
            "Alice",
            "--name",
            "Alice Example",
            "--email",
            "alice@example.org",
            "--password-stdin",
            stdin=PASSWORD_LINE,
        )
    )
    assert created.out == "created user Alice\n"
    ok(run("user", "create", "erin", "--account-manager", "--password-stdin", stdin=PASSWORD_LINE))
    assert ok(run("org", "add-member", "acme", "alice", "--admin")).out.endswith("as admin\n")
    ok(run("org", "add-member", "Beta", "ALICE"))
    assert ok(run("org", "list")).out == "Acme\tMFA optional\nBeta\tMFA optional\n"
    assert json.loads(ok(run("org", "list", "--json")).out) == [
        {"name": "Acme", "mfa_required": False},
        {"name": "Beta", "mfa_required": False},
    ]
    listing = ok(run("user", "list")).out
    assert (
        "Alice\tAlice Example\talice@example.org\tMFA off\tAcme (admin), Beta (member)" in listing
    )
    assert ok(run("user", "list", "--org", "beta")).out.startswith("Alice\t")
    ok(run("user", "list", "--json"))
    hashed = importable_hash()
    csv_file = tmp_path / "people.csv"
    csv_file.write_text(
        f'username,name,email,org,role,password_hash\nivan,Ivan,,Beta,member,"{hashed}"\n',
        encoding="utf-8",
    )
    assert ok(run("user", "import", str(csv_file))).out == "imported 1 users and 1 memberships\n"
    assert ok(run("org", "set-role", "Beta", "ivan", "admin")).out == "ivan is now admin of Beta\n"
    assert ok(run("org", "remove-member", "Beta", "alice")).out == "removed alice from Beta\n"
    assert ok(run("org", "require-mfa", "Beta", "on")).out == "Beta requires MFA\n"
    assert ok(run("org", "require-mfa", "beta", "off")).out == "beta does not require MFA\n"
    assert ok(run("user", "set-password", "ivan", "--password-stdin", stdin=PASSWORD_LINE)).out == (
        "password set for ivan; 0 sessions ended\n"
    )
    assert "organisation_created" in ok(run("audit")).out
    assert ok(run("audit", "verify")).out.startswith("audit trail intact: ")
    beta_events = ok(run("audit", "--org", "Beta")).out.splitlines()
    assert [line.split("\t")[1] for line in beta_events] == [
        "organisation_created",
        "membership_created",
        "role_changed",
        "membership_removed",
        "mfa_policy_changed",
        "mfa_policy_changed",
    ]
    ok(run("audit", "--json"))
    assert ok(run("--version")).out.strip().endswith(__version__)
    assert default_db.exists()
    assert count(default_db, "users") == 3


def test_init_is_idempotent(run: Run, default_db: Path) -> None:
    ok(run("init"))
    ok(run("org", "create", "Acme"))
    ok(run("init"))
    ok(run("init"))
    assert ok(run("org", "list")).out == "Acme\tMFA optional\n"
    assert count(default_db, "organisations") == 1


def test_default_files_are_private_and_in_the_xdg_folders(run: Run, home: Path) -> None:
    ok(run("init"))
    db = home / "data" / "tui-portal" / "portal.db"
    key_file = home / "config" / "tui-portal" / "secret.key"
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text()
    ok(run("org", "create", "Acme"))
    assert key_file.read_text() == key


def test_a_db_value_without_scheme_is_a_sqlite_file(run: Run, home: Path, default_db: Path) -> None:
    ok(run("--db", "nested/dir/my.db", "org", "create", "Acme"))
    path = home / "nested" / "dir" / "my.db"
    assert path.read_bytes().startswith(b"SQLite format 3\x00")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not default_db.exists()
    # The same file through a URL.
    assert ok(run("--db", f"sqlite:///{path}", "org", "list")).out == "Acme\tMFA optional\n"


def test_the_database_comes_from_the_environment_unless_given(
    run: Run, home: Path, default_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from_env = home / "from-env.db"
    monkeypatch.setenv("TUI_PORTAL_DB", str(from_env))
    ok(run("org", "create", "FromEnv"))
    assert count(from_env, "organisations") == 1
    ok(run("--db", "flag.db", "org", "create", "FromFlag"))
    assert count(home / "flag.db", "organisations") == 1
    assert count(from_env, "organisations") == 1
    assert not default_db.exists()
    monkeypatch.setenv("TUI_PORTAL_DB", f"sqlite:///{from_env}")
    assert ok(run("org", "list")).out == "FromEnv\tMFA optional\n"


def test_the_key_comes_from_the_environment(
    run: Run, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TUI_PORTAL_SECRET_KEY", new_key())
    ok(run("init"))
    assert not (home / "config" / "tui-portal" / "secret.key").exists()
    monkeypatch.delenv("TUI_PORTAL_SECRET_KEY")
    key_file = home / "elsewhere" / "portal.key"
    monkeypatch.setenv("TUI_PORTAL_KEY_FILE", str(key_file))
    # No key file where the database needs one: an error, and no new key is made.
    assert "is missing" in one_error_line(run("org", "list"))
    assert not key_file.exists()
    # A different key from the one the database was set up with.
    key_file.parent.mkdir()
    key_file.write_text(new_key() + "\n")
    key_file.chmod(0o600)
    line = one_error_line(run("org", "list"))
    assert "not the key this database was set up with" in line


def test_password_stdin_reads_exactly_one_line(run: Run, cli_portal: Callable[..., Portal]) -> None:
    ok(run("user", "create", "alice", "--password-stdin", stdin="first line pw\nsecond line\n"))
    ok(run("user", "create", "bob", "--password-stdin", stdin="windows line\r\n"))
    ok(run("user", "create", "carol", "--password-stdin", stdin="  spaces kept  "))
    portal = cli_portal()
    assert isinstance(
        portal.sign_in.sign_in(username="alice", password="first line pw", source=SOURCE), SignedIn
    )
    assert isinstance(
        portal.sign_in.sign_in(username="bob", password="windows line", source=SOURCE), SignedIn
    )
    assert isinstance(
        portal.sign_in.sign_in(username="carol", password="  spaces kept  ", source=SOURCE),
        SignedIn,
    )


@pytest.mark.parametrize("length", [8, 256])
def test_password_length_limits_are_inclusive(run: Run, length: int) -> None:
    ok(run("user", "create", "alice", "--password-stdin", stdin="p" * length + "\n"))


def test_user_list_json_shape(
    run: Run, seeded: None, cli_portal: Callable[..., Portal], monkeypatch: pytest.MonkeyPatch
) -> None:
    ok(run("org", "add-member", "Beta", "alice"))
    ok(
        run(
            "user",
            "create",
            "bob",
            "--email",
            "bob@example.org",
            "--password-stdin",
            stdin=PASSWORD_LINE,
        )
    )
    enrol_alice(cli_portal)
    users = json.loads(ok(run("user", "list", "--json")).out)
    assert isinstance(users, list)
    by_name = {u["username"]: u for u in users}
    assert set(by_name) == {"alice", "bob"}
    for entry in users:
        assert {"username", "name", "email", "mfa_enabled", "organisations"} <= set(entry)
        assert isinstance(entry["mfa_enabled"], bool)
        assert isinstance(entry["organisations"], list)
        for org in entry["organisations"]:
            assert set(org) == {"name", "role"}
    assert by_name["alice"]["name"] == "Alice A"
    assert by_name["alice"]["mfa_enabled"] is True
    assert by_name["alice"]["organisations"] == [
        {"name": "Acme", "role": "admin"},
        {"name": "Beta", "role": "member"},
    ]
    assert by_name["bob"] == by_name["bob"] | {
        "name": "",
        "email": "bob@example.org",
        "mfa_enabled": False,
        "organisations": [],
    }
    only_beta = json.loads(ok(run("user", "list", "--org", "BETA", "--json")).out)
    assert [u["username"] for u in only_beta] == ["alice"]


def test_audit_json_is_oldest_first_in_utc(
    run: Run, seeded: None, home: Path, default_db: Path
) -> None:
    # Events written out of time order must still come out oldest first.
    portal = open_portal(
        resolve_settings(),
        clock=ManualClock(datetime(2001, 1, 1, tzinfo=UTC)),
        passwords=cheap_passwords(),
    )
    try:
        portal.directory.create_organisation("Ancient", operator=Operator("past"))
    finally:
        portal.close()
    records = json.loads(ok(run("audit", "--json")).out)
    assert records[0]["org"] == "Ancient"
    assert records[0]["at"] == "2001-01-01T00:00:00Z"
    moments = []
    for record in records:
        assert {"at", "event", "actor", "target", "org", "source"} <= set(record)
        moment = datetime.fromisoformat(record["at"])
        assert moment.utcoffset() == timedelta(0)
        moments.append(moment)
    assert moments == sorted(moments)
    assert [r["event"] for r in records[1:]] == [
        Event.ORGANISATION_CREATED,
        Event.ORGANISATION_CREATED,
        Event.USER_CREATED,
        Event.MEMBERSHIP_CREATED,
    ]
    assert records[-1] | {"at": ""} == records[-1] | {
        "at": "",
        "event": "membership_created",
        "target": "alice",
        "org": "Acme",
    }
    assert records[-1]["actor"].startswith("operator")
    assert PASSWORD not in json.dumps(records)
    acme_only = json.loads(ok(run("audit", "--org", "acme", "--json")).out)
    assert {r["org"] for r in acme_only} == {"Acme"}


def test_operator_disables_mfa_from_the_command_line(
    run: Run, seeded: None, cli_portal: Callable[..., Portal]
) -> None:
    alice_id = enrol_alice(cli_portal)
    assert ok(run("user", "disable-mfa", "ALICE")).out == "MFA disabled for alice\n"
    portal = cli_portal()
    assert not account_of(portal, alice_id).mfa_enabled
    resets = [r for r in portal.audit.trail() if r.event == Event.MFA_DISABLED_BY_OPERATOR]
    assert len(resets) == 1
    me = operating_system_user()
    assert (resets[0].actor, resets[0].source) == (f"operator:{me}", f"local:{me}")
    assert resets[0].target == "alice"
    # Once more: alice has no MFA now, which is said, and nothing is recorded.
    assert "alice has no MFA" in one_error_line(run("user", "disable-mfa", "alice"))
    assert len([r for r in cli_portal().audit.trail() if r.event.startswith("mfa_disabled")]) == 1


def test_markup_in_names_is_kept_literally(run: Run, seeded: None) -> None:
    ok(
        run(
            "user", "create", "bob", "--name", "[bold]x[/]", "--password-stdin", stdin=PASSWORD_LINE
        )
    )
    ok(run("org", "create", "[red]Org[/]"))
    ok(run("org", "add-member", "[red]Org[/]", "bob"))
    assert "bob\t[bold]x[/]\t" in ok(run("user", "list")).out
    users = json.loads(ok(run("user", "list", "--json")).out)
    bob = next(u for u in users if u["username"] == "bob")
    assert bob["name"] == "[bold]x[/]"
    assert bob["organisations"] == [{"name": "[red]Org[/]", "role": "member"}]
    assert "[red]Org[/]" in ok(run("org", "list")).out


def test_a_bom_at_the_start_of_an_import_is_ignored(run: Run, seeded: None, tmp_path: Path) -> None:
    hashed = importable_hash()
    csv_file = tmp_path / "bom.csv"
    csv_file.write_bytes(
        "\ufeffusername,name,email,org,role,password_hash\r\n".encode()
        + f'ivan,Ivan,,Acme,member,"{hashed}"\r\n'.encode()
    )
    ok(run("user", "import", str(csv_file)))


# -- errors ---------------------------------------------------------------------------


BAD_NAMES = [
    ("user", "create", "bob", "--name", "a\x1b[31mb", "--password-stdin"),
    ("user", "create", "bob", "--name", "line\nbreak", "--password-stdin"),
    ("user", "create", "bob", "--name", "right\u202eleft", "--password-stdin"),
    ("user", "create", "bob", "--name", "bell\x07", "--password-stdin"),
    ("user", "create", "bob", "--email", "bob\x00@example.org", "--password-stdin"),
]


@pytest.mark.parametrize("args", BAD_NAMES)
def test_control_characters_are_refused_and_nothing_written(
    run: Run, seeded: None, default_db: Path, args: tuple[str, ...]
) -> None:
    users = count(default_db, "users")
    line = one_error_line(run(*args, stdin=PASSWORD_LINE))
    assert "control characters" in line or "email" in line
    assert count(default_db, "users") == users


@pytest.mark.parametrize(
    "name", ["Acme\x1b[2J", "tab\there", "Acme\n", "\u200bhidden", "x" * 101, "   "]
)
def test_bad_organisation_names_are_refused(
    run: Run, seeded: None, default_db: Path, name: str
) -> None:
    one_error_line(run("org", "create", name))
    assert count(default_db, "organisations") == 2


@pytest.mark.parametrize(
    ("args", "stdin", "words"),
    [
        (("user", "disable-mfa", "nobody"), "", "No user named 'nobody'"),
        (("org", "add-member", "Acme", "nobody"), "", "No user named 'nobody'"),
        (("org", "add-member", "Nowhere", "alice"), "", "No organisation named 'Nowhere'"),
        (("org", "add-member", "acme", "ALICE"), "", "already a member"),
        (("user", "list", "--org", "Nowhere"), "", "No organisation"),
        (("audit", "--org", "Nowhere"), "", "No organisation"),
        (("org", "create", "acme"), "", "exists already"),
        (("org", "create", "ACME"), "", "exists already"),
        (("user", "create", "ALICE", "--password-stdin"), PASSWORD_LINE, "exists already"),
        (("user", "create", "Alice", "--password-stdin"), PASSWORD_LINE, "exists already"),
        (("user", "create", "bob", "--password-stdin"), "short12\n", "8 to 256"),
        (("user", "create", "bob", "--password-stdin"), "p" * 257 + "\n", "8 to 256"),
        (("user", "create", "bob", "--password-stdin"), "\n", "8 to 256"),
        (("user", "create", "bob", "--password-stdin"), "", "no password"),
        (("user", "create", "bob"), "", "--password-stdin"),  # no terminal to prompt on
        (("user", "create", "bad name", "--password-stdin"), PASSWORD_LINE, "Usernames"),
        (("user", "create", "x" * 65, "--password-stdin"), PASSWORD_LINE, "Usernames"),
        (("user", "create", "", "--password-stdin"), PASSWORD_LINE, "Usernames"),
        (("user", "create", "bøb", "--password-stdin"), PASSWORD_LINE, "Usernames"),
        (("user", "create", "bob", "--email", "nope", "--password-stdin"), PASSWORD_LINE, "email"),
        # Bytes that are not UTF-8 arrive as surrogate escapes, in arguments and on stdin.
        (("user", "disable-mfa", "\udcff"), "", "UTF-8"),
        (("user", "list", "--org", "\udcff"), "", "UTF-8"),
        (("audit", "--org", "Acme\udcff"), "", "UTF-8"),
        (("org", "add-member", "Acme", "al\udcffce"), "", "UTF-8"),
        (("user", "create", "bob", "--password-stdin"), "abcdefgh\udcff\n", "UTF-8"),
        (("frobnicate",), "", "No such command"),
        (("user", "frobnicate"), "", "No such command"),
        (("org", "create"), "", "Missing argument"),
        (("user", "list", "--bogus"), "", "No such option"),
        (("user", "import", "missing.csv"), "", "missing.csv"),
        (("--issuer", "a:b", "init"), "", "issuer"),
        (("--demo", "org", "list"), "", "--demo"),
    ],
)
def test_user_errors_are_one_line_and_write_nothing(
    run: Run, seeded: None, default_db: Path, args: tuple[str, ...], stdin: str, words: str
) -> None:
    before = {t: count(default_db, t) for t in ("users", "organisations", "memberships")}
    result = run(*args, stdin=stdin)
    line = one_error_line(result)
    assert words in line
    assert PASSWORD not in result.err
    assert result.out == ""
    assert {t: count(default_db, t) for t in before} == before


@pytest.mark.parametrize(
    "db",
    [
        "postgresql+psycopg://nobody@127.0.0.1:1/x",
        "/proc/x/y.db",
        "sqlite:////proc/x/y.db",
        "nonsense://whatever",
        "/proc/version",
    ],
)
def test_an_unreachable_database_is_one_line(run: Run, db: str) -> None:
    line = one_error_line(run("--db", db, "org", "list"))
    assert "database" in line


def test_a_multi_line_driver_message_is_still_one_line(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tui_portal.errors import DatabaseError

    def refuse(*args: object, **kwargs: object) -> Portal:
        raise DatabaseError(
            "cannot open database postgresql://db/x: connection refused\n"
            "\tIs the server running on that host and accepting TCP/IP connections?\n"
        )

    code = 0
    try:
        main(["org", "list"], portal_factory=refuse)
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else 1
    err = capsys.readouterr().err
    assert code != 0
    line = err.strip()
    assert line == (
        "error: cannot open database postgresql://db/x: connection refused "
        "Is the server running on that host and accepting TCP/IP connections?"
    )


def test_a_database_path_inside_a_file_or_naming_a_folder(run: Run, home: Path) -> None:
    (home / "plain-file").write_text("not a folder")
    line = one_error_line(run("--db", "plain-file/portal.db", "init"))
    assert str(home / "plain-file" / "portal.db") in line
    (home / "folder").mkdir()
    line = one_error_line(run("--db", "folder", "init"))
    assert "is a folder" in line


def test_a_wrong_secrets_key_is_one_line(
    run: Run, seeded: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TUI_PORTAL_SECRET_KEY", new_key())
    line = one_error_line(run("user", "list"))
    assert "not the key this database was set up with" in line


@pytest.mark.parametrize("value", ["abc", "!!!!", new_key()[:-4]])
def test_a_malformed_secrets_key_is_one_line(
    run: Run, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("TUI_PORTAL_SECRET_KEY", value)
    line = one_error_line(run("init"))
    assert "secrets key" in line
    assert "TUI_PORTAL_SECRET_KEY" in line


def test_import_errors_name_the_line_and_write_nothing(
    run: Run, seeded: None, default_db: Path, tmp_path: Path
) -> None:
    hashed = importable_hash()
    csv_file = tmp_path / "bad.csv"
    csv_file.write_text(
        "username,name,email,org,role,password_hash\n"
        f'ivan,Ivan,,Acme,member,"{hashed}"\n'
        f'olga,Olga,,Acme,owner,"{hashed}"\n',
        encoding="utf-8",
    )
    users = count(default_db, "users")
    line = one_error_line(run("user", "import", str(csv_file)))
    assert line.startswith("error: line 3:")
    assert "nothing was imported" in line
    assert count(default_db, "users") == users


def test_a_non_utf8_import_is_one_line(
    run: Run, seeded: None, default_db: Path, tmp_path: Path
) -> None:
    hashed = importable_hash()
    csv_file = tmp_path / "latin1.csv"
    csv_file.write_bytes(
        b"username,name,email,org,role,password_hash\n"
        + f'ivan,Ivan,,Acme,member,"{hashed}"\n'.encode()
        + f'jose,Jos\xe9,,Acme,member,"{hashed}"\n'.encode("latin-1")
    )
    users = count(default_db, "users")
    line = one_error_line(run("user", "import", str(csv_file)))
    assert "not UTF-8" in line
    assert count(default_db, "users") == users


def test_launching_on_a_database_that_cannot_open_says_so_after_the_ui_closes(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The UI explains the problem on screen; the shell is told again, in one line."""
    import tui_portal.launch

    launched: list[tuple[str, bool]] = []

    def fake_run_tui(settings: object, *, demo: bool = False) -> str | None:
        launched.append((getattr(settings, "database_url", ""), demo))
        return "cannot create database file /nowhere/portal.db: Permission denied"

    monkeypatch.setattr(tui_portal.launch, "run_tui", fake_run_tui)
    result = run("--db", "/nowhere/portal.db")
    assert result.code != 0
    assert result.err.splitlines() == [
        "error: cannot create database file /nowhere/portal.db: Permission denied"
    ]
    assert launched == [("sqlite:////nowhere/portal.db", False)]
    monkeypatch.setattr(tui_portal.launch, "run_tui", lambda settings, demo=False: None)
    assert run("--demo").code == 0


# -- the edges of the command line ------------------------------------------------------


def test_a_path_with_url_characters_stays_one_file(run: Run, home: Path) -> None:
    ok(run("--db", "odd/my?db#1.sqlite", "init"))
    made = home / "odd" / "my?db#1.sqlite"
    assert made.exists() and stat.S_IMODE(made.stat().st_mode) == 0o600
    assert not (home / "odd" / "my").exists()
    assert ok(run("--db", "odd/my?db#1.sqlite", "org", "list")).out == ""


def test_sqlite_uri_filenames_are_created_private(run: Run, home: Path) -> None:
    target = home / "uri.db"
    ok(run("--db", f"sqlite:///file:{target}?mode=rwc&uri=true", "init"))
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("db", "words"),
    [
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("postgresql+psycopg://user:pass@word@127.0.0.1/db", "%40"),
        ("postgresql+psycopg://user:secretpw@127.0.0.1:notaport/db", "port"),
        ("postgresql+psycopg://user:s3cr3t-value@127.0.0.1:1/db", "database"),
    ],
)
def test_a_bad_database_value_is_one_line_without_its_password(
    run: Run, default_db: Path, db: str, words: str
) -> None:
    result = run("--db", db, "org", "list")
    line = one_error_line(result)
    assert words in line
    for secret in ("word@", "secretpw", "s3cr3t-value"):
        assert secret not in result.err
    assert not default_db.exists()


def test_an_empty_database_variable_is_refused_not_defaulted(
    run: Run, default_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TUI_PORTAL_DB", "")
    assert "must not be empty" in one_error_line(run("org", "list"))
    assert not default_db.exists()


@pytest.mark.parametrize("issuer", ["a:b", "", "x" * 101, "tab\there"])
def test_the_issuer_variable_is_checked_like_the_flag(
    run: Run, monkeypatch: pytest.MonkeyPatch, issuer: str
) -> None:
    monkeypatch.setenv("TUI_PORTAL_ISSUER", issuer)
    assert "issuer" in one_error_line(run("init"))
    monkeypatch.delenv("TUI_PORTAL_ISSUER")
    assert "issuer" in one_error_line(run("--issuer", issuer, "init"))


def test_the_operator_is_the_real_user_not_an_environment_variable(
    run: Run, seeded: None, cli_portal: Callable[..., Portal], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOGNAME", "\x1b[2Jroot")
    monkeypatch.setenv("USER", "mallory")
    ok(run("org", "create", "Gamma"))
    created = [r for r in cli_portal().audit.trail() if r.org == "Gamma"]
    assert [r.actor for r in created] == [f"operator:{operating_system_user()}"]


def test_text_output_escapes_control_characters(
    run: Run, seeded: None, cli_portal: Callable[..., Portal]
) -> None:
    portal = cli_portal()
    portal.directory.create_organisation("Delta", operator=Operator("\x1b[31mevil\x07"))
    out = ok(run("audit")).out
    assert "\x1b" not in out and "\x07" not in out
    assert "operator:\\x1b[31mevil\\x07" in out


def test_audit_verify_names_the_first_broken_event(
    run: Run, seeded: None, default_db: Path
) -> None:
    assert ok(run("audit", "verify")).out.startswith("audit trail intact: 4 events\n")
    with closing(sqlite3.connect(default_db)) as connection:
        connection.execute("DROP TRIGGER audit_events_no_update")
        connection.execute("UPDATE audit_events SET target = 'mallory' WHERE seq = 3")
        connection.commit()
    line = one_error_line(run("audit", "verify"))
    assert line.startswith("error: audit trail broken at event 3:")


def test_the_last_admin_is_never_removed_or_demoted(
    run: Run, seeded: None, default_db: Path
) -> None:
    before = count(default_db, "memberships")
    assert "last admin" in one_error_line(run("org", "remove-member", "Acme", "alice"))
    assert "last admin" in one_error_line(run("org", "set-role", "Acme", "alice", "member"))
    assert count(default_db, "memberships") == before
    ok(run("user", "create", "bob", "--password-stdin", stdin=PASSWORD_LINE))
    ok(run("org", "add-member", "Acme", "bob", "--admin"))
    ok(run("org", "set-role", "Acme", "alice", "member"))
    assert "last admin" in one_error_line(run("org", "remove-member", "Acme", "bob"))
    ok(run("org", "remove-member", "Acme", "alice"))


@pytest.mark.parametrize(
    ("args", "stdin", "words"),
    [
        (("org", "remove-member", "Beta", "alice"), "", "not a member of Beta"),
        (("org", "remove-member", "Nowhere", "alice"), "", "No organisation"),
        (("org", "set-role", "Acme", "alice", "admin"), "", "already admin"),
        (("org", "set-role", "Acme", "alice", "owner"), "", "owner"),
        (("org", "set-role", "Acme", "nobody", "admin"), "", "No user named 'nobody'"),
        (("org", "require-mfa", "Acme", "maybe"), "", "maybe"),
        (("org", "require-mfa", "Acme", "off"), "", "does not require MFA"),
        (("org", "require-mfa", "Nowhere", "on"), "", "No organisation"),
        (("user", "unlock", "nobody"), "", "No user named 'nobody'"),
        (("user", "unlock", "alice"), "", "no failed attempts"),
        (("user", "set-password", "nobody", "--password-stdin"), PASSWORD_LINE, "No user"),
        (("user", "set-password", "alice", "--password-stdin"), "short\n", "8 to 256"),
        (("user", "set-password", "alice", "--password-stdin"), "password1\n", "less common"),
        (("user", "create", "bob", "--password-stdin"), "Password123\n", "less common"),
    ],
)
def test_governance_and_reset_errors_are_one_line_and_change_nothing(
    run: Run, seeded: None, default_db: Path, args: tuple[str, ...], stdin: str, words: str
) -> None:
    tables = ("users", "memberships", "audit_events", "organisations")
    before = {t: count(default_db, t) for t in tables}
    line = one_error_line(run(*args, stdin=stdin))
    assert words in line
    assert {t: count(default_db, t) for t in tables} == before


def test_set_password_ends_every_session_and_the_new_password_works(
    run: Run, seeded: None, cli_portal: Callable[..., Portal]
) -> None:
    portal = cli_portal()
    signed = portal.sign_in.sign_in(username="alice", password=PASSWORD, source=SOURCE)
    assert isinstance(signed, SignedIn)
    out = ok(run("user", "set-password", "alice", "--password-stdin", stdin="fresh start 2026\n"))
    assert out.out == "password set for alice; 1 session ended\n"
    status = portal.sessions.heartbeat(signed.caller, active=False)
    assert not status.live and status.ended_reason == "password_set"
    again = cli_portal().sign_in.sign_in(
        username="alice", password="fresh start 2026", source=SOURCE
    )
    assert isinstance(again, SignedIn)
