"""TOTP: the RFC vectors, the acceptance window, malformed codes and the clock-skew hint."""

from __future__ import annotations

import hashlib
from base64 import b32decode, b32encode
from collections.abc import Callable
from typing import Any

import pyotp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui_portal.security import totp

SHA1_SEED = b"12345678901234567890"
SHA256_SEED = b"12345678901234567890123456789012"
SHA512_SEED = b"1234567890123456789012345678901234567890123456789012345678901234"

# RFC 6238 Appendix B: (time, SHA1, SHA256, SHA512), 8 digits, 30-second steps.
RFC6238_VECTORS = [
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]

# RFC 4226 Appendix D: HOTP values for counters 0 to 9 with the 20-byte seed.
RFC4226_VECTORS = [
    "755224",
    "287082",
    "359152",
    "969429",
    "338314",
    "254676",
    "287922",
    "162583",
    "399871",
    "520489",
]

# A fixed secret and a fixed time, so every check below is deterministic.
SECRET = b32encode(b"tui-portal fixed key").decode("ascii")
NOW = 1_900_000_020.0  # the start of a step
NOW_STEP = totp.time_step(NOW)


def b32(seed: bytes) -> str:
    return b32encode(seed).decode("ascii")


@pytest.mark.parametrize(
    ("seed", "digest", "column"),
    [
        (SHA1_SEED, hashlib.sha1, 1),
        (SHA256_SEED, hashlib.sha256, 2),
        (SHA512_SEED, hashlib.sha512, 3),
    ],
    ids=["sha1", "sha256", "sha512"],
)
def test_rfc6238_appendix_b(seed: bytes, digest: Callable[..., Any], column: int) -> None:
    generator = pyotp.TOTP(b32(seed), digits=8, digest=digest, interval=totp.STEP_SECONDS)
    for row in RFC6238_VECTORS:
        unix_time = row[0]
        assert generator.at(unix_time) == row[column], (digest, unix_time)
        assert generator.generate_otp(totp.time_step(unix_time)) == row[column]


@pytest.mark.parametrize("counter", range(10))
def test_rfc4226_appendix_d_through_code_at_step(counter: int) -> None:
    # SHA1, 6 digits: the HOTP counter is the TOTP step.
    assert totp.code_at_step(b32(SHA1_SEED), counter) == RFC4226_VECTORS[counter]


@pytest.mark.parametrize("row", RFC6238_VECTORS, ids=lambda row: str(row[0]))
def test_check_code_accepts_the_rfc6238_sha1_vectors_at_six_digits(
    row: tuple[int, str, str, str],
) -> None:
    unix_time, sha1_code = row[0], row[1]
    # Truncation is modulo 10^digits, so the 6-digit code is the last six of the 8-digit one.
    check = totp.check_code(b32(SHA1_SEED), sha1_code[-6:], unix_time, last_step=-1)
    assert check.accepted
    assert check.step == totp.time_step(unix_time)


def test_constants_are_what_authenticator_apps_expect() -> None:
    assert (totp.STEP_SECONDS, totp.DIGITS, totp.SECRET_BYTES) == (30, 6, 20)


def test_new_secret_is_160_random_bits_in_base32() -> None:
    secrets_seen = {totp.new_secret() for _ in range(20)}
    assert len(secrets_seen) == 20
    for secret in secrets_seen:
        assert len(secret) == 32 and "=" not in secret
        assert len(b32decode(secret)) == 20


def test_group_secret_makes_groups_of_four() -> None:
    assert totp.group_secret("ABCDEFGHIJ") == "ABCD EFGH IJ"


# -- the acceptance window ------------------------------------------------------------


@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_current_step_and_one_either_side_are_accepted(offset: int) -> None:
    code = totp.code_at_step(SECRET, NOW_STEP + offset)
    check = totp.check_code(SECRET, code, NOW, last_step=-1)
    assert check.accepted
    assert check.step == NOW_STEP + offset
    assert not check.replayed and not check.malformed


@pytest.mark.parametrize("offset", [-2, 2])
def test_two_steps_away_is_rejected(offset: int) -> None:
    code = totp.code_at_step(SECRET, NOW_STEP + offset)
    check = totp.check_code(SECRET, code, NOW, last_step=-1)
    assert not check.accepted
    assert not check.malformed
    assert check.step is None


def test_anywhere_inside_a_step_is_the_same_step() -> None:
    code = totp.code_at_step(SECRET, NOW_STEP)
    for moment in (NOW, NOW + 15, NOW + 29.999):
        assert totp.check_code(SECRET, code, moment, last_step=-1).step == NOW_STEP


def test_a_step_at_or_before_the_last_accepted_one_is_a_replay() -> None:
    code = totp.code_at_step(SECRET, NOW_STEP)
    same = totp.check_code(SECRET, code, NOW, last_step=NOW_STEP)
    assert not same.accepted and same.replayed
    older = totp.check_code(SECRET, totp.code_at_step(SECRET, NOW_STEP - 1), NOW, NOW_STEP)
    assert not older.accepted and older.replayed
    newer = totp.check_code(SECRET, totp.code_at_step(SECRET, NOW_STEP + 1), NOW, NOW_STEP)
    assert newer.accepted and newer.step == NOW_STEP + 1


def test_a_wrong_code_is_rejected() -> None:
    window = {totp.code_at_step(SECRET, NOW_STEP + k) for k in range(-1, 2)}
    wrong = next(c for c in ("000000", "111111", "222222") if c not in window)
    check = totp.check_code(SECRET, wrong, NOW, last_step=-1)
    assert not check.accepted and not check.malformed and not check.replayed


@pytest.mark.parametrize(
    "code",
    [
        "",
        "12345",
        "1234567",
        "123 456",
        " 123456",
        "123456 ",
        "123456\n",
        "12345a",
        "abcdef",
        "١٢٣٤٥٦",  # Arabic-Indic digits
        "１２３４５６",  # fullwidth digits
        "12345٦",
        "+12345",
        "-12345",
        "9" * 10_000,
    ],
)
def test_malformed_codes_are_refused_as_malformed(code: str) -> None:
    check = totp.check_code(SECRET, code, NOW, last_step=-1, look_for_skew=True)
    assert not check.accepted
    assert check.malformed
    assert check.skew_steps is None
    assert not totp.is_well_formed(code)


def test_the_current_code_with_extra_characters_is_malformed() -> None:
    code = totp.code_at_step(SECRET, NOW_STEP)
    for variant in (code + "0", code[:5], f" {code}", f"{code}\t", code.replace(code[0], "٠")):
        if variant == code:
            continue
        assert totp.check_code(SECRET, variant, NOW, last_step=-1).malformed


# -- the clock-skew hint --------------------------------------------------------------


@pytest.mark.parametrize("distance", range(2, 11))
@pytest.mark.parametrize("sign", [1, -1], ids=["device-fast", "device-slow"])
def test_skew_hint_from_two_to_ten_steps(distance: int, sign: int) -> None:
    offset = sign * distance
    code = totp.code_at_step(SECRET, NOW_STEP + offset)
    check = totp.check_code(SECRET, code, NOW, last_step=-1, look_for_skew=True)
    assert not check.accepted
    assert check.skew_steps == offset
    assert check.skew_seconds == offset * 30
    # Without asking for a hint there is none.
    plain = totp.check_code(SECRET, code, NOW, last_step=-1)
    assert plain.skew_steps is None and not plain.accepted


@pytest.mark.parametrize("offset", [11, -11, 12, -15, 40, -100])
def test_no_skew_hint_beyond_ten_steps(offset: int) -> None:
    code = totp.code_at_step(SECRET, NOW_STEP + offset)
    check = totp.check_code(SECRET, code, NOW, last_step=-1, look_for_skew=True)
    assert not check.accepted
    assert check.skew_steps is None
    assert check.skew_seconds is None


def test_no_skew_hint_inside_the_window() -> None:
    code = totp.code_at_step(SECRET, NOW_STEP + 1)
    check = totp.check_code(SECRET, code, NOW, last_step=-1, look_for_skew=True)
    assert check.accepted and check.skew_steps is None


# -- properties -----------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=12))
def test_check_code_never_accepts_anything_but_six_ascii_digits(code: str) -> None:
    check = totp.check_code(SECRET, code, NOW, last_step=-1, look_for_skew=True)
    six_ascii_digits = len(code) == 6 and all(ch in "0123456789" for ch in code)
    if not six_ascii_digits:
        assert not check.accepted
        assert check.malformed
    else:
        assert not check.malformed


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=60, max_value=10**11), st.integers(min_value=-1, max_value=1))
def test_the_code_of_any_step_in_the_window_is_accepted(unix_time: int, offset: int) -> None:
    step = totp.time_step(unix_time)
    code = totp.code_at_step(SECRET, step + offset)
    check = totp.check_code(SECRET, code, unix_time, last_step=step - 2)
    assert check.accepted
    # The code may by chance also be the code of an earlier step in the window.
    assert check.step is not None and step - 1 <= check.step <= step + offset
