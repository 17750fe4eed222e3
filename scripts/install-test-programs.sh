#!/bin/sh
# The programs the tests drive from the outside, installed when missing (Debian or Ubuntu
# package names): an ssh client, the PostgreSQL server programs, Chromium, and the
# libatomic1 that Playwright's driver needs. As root it runs apt-get itself; otherwise
# through sudo.
set -eu
missing=""
{ command -v ssh && command -v ssh-keygen; } >/dev/null 2>&1 || missing="$missing openssh-client"
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 \
    || missing="$missing postgresql"
[ -x /usr/bin/chromium ] || missing="$missing chromium"
ldconfig -p | grep 'libatomic\.so\.1' >/dev/null || missing="$missing libatomic1"
[ -n "$missing" ] || exit 0
as_root=""
[ "$(id -u)" -eq 0 ] || as_root="sudo"
$as_root apt-get update -qq
# shellcheck disable=SC2086  # one word per package
$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
