"""Fixtures: one throwaway PostgreSQL cluster for the session, a fresh database for each test.

The tests need the PostgreSQL server programs (Debian's ``postgresql``); without them they
fail, saying which package to install, rather than pass by being skipped.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tui_portal.services.clock import ManualClock
from tui_portal.services.portal import Portal

from .cluster import Cluster, find_server_binaries
from .support import START, World, build_world, new_key, open_on

_database_numbers = itertools.count(1)
_started: list[str] = []


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster]:
    """A PostgreSQL cluster of its own, started once and always stopped."""
    binaries = find_server_binaries()
    if binaries is None:
        pytest.fail(
            "the PostgreSQL server programs (initdb, pg_ctl, postgres) are not installed: "
            "not on PATH and not in /usr/lib/postgresql/*/bin; install Debian's postgresql "
            "(apt-get install postgresql)",
            pytrace=False,
        )
    cluster = Cluster(binaries)
    try:
        cluster.start()
        _started.append(
            f"throwaway PostgreSQL cluster ({cluster.binaries}) started in "
            f"{cluster.started_seconds:.1f} s as {cluster.run_as or 'the current user'}, "
            f"on 127.0.0.1:{cluster.port}"
        )
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def pg_url(postgres_cluster: Cluster) -> Iterator[str]:
    """The URL of a new, empty database; dropped after the test."""
    name = f"portal_test_{next(_database_numbers)}"
    with psycopg.connect(postgres_cluster.conninfo(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield postgres_cluster.url(name)
    finally:
        with psycopg.connect(postgres_cluster.conninfo(), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def key() -> str:
    return new_key()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def pg_portal(pg_url: str, key: str, clock: ManualClock, tmp_path: Path) -> Iterator[Portal]:
    """A portal over a new PostgreSQL database (the schema is made on opening)."""
    portal = open_on(pg_url, key, clock, tmp_path)
    try:
        yield portal
    finally:
        portal.close()


@pytest.fixture
def pg_world(pg_url: str, tmp_path: Path) -> Iterator[World]:
    """Two organisations and people in every role, on PostgreSQL."""
    world = build_world(pg_url, tmp_path)
    try:
        yield world
    finally:
        world.portal.close()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for line in _started:
        terminalreporter.write_line(line)
