"""The server's SSH host key: an ed25519 key made on first start, mode 0600, and refused
when other users can read it, as OpenSSH refuses such keys.

Its fingerprint is printed when the server starts, exactly as ``ssh-keygen -lf`` prints
it, so the operator can publish it and people can check it on their first connection.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import asyncssh

from tui_portal.config import user_config_dir

HOST_KEY_NAME = "ssh_host_ed25519_key"


class HostKeyError(Exception):
    """The host key cannot be used; the message says why and what to do."""


def default_host_key_path() -> Path:
    """``ssh_host_ed25519_key`` in the user-config folder."""
    return user_config_dir() / HOST_KEY_NAME


def fingerprint(key: asyncssh.SSHKey) -> str:
    """``SHA256:…``, as ``ssh-keygen -lf`` prints it."""
    return key.get_fingerprint("sha256")


def load_or_create_host_key(path: Path) -> asyncssh.SSHKey:
    """The host key at ``path``, made (ed25519, mode 0600) when there is none yet."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return _create(path)
    except OSError as error:
        raise HostKeyError(f"cannot read the host key {path}: {error.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise HostKeyError(f"the host key {path} is not a file")
    if info.st_mode & 0o077:
        raise HostKeyError(
            f"the host key {path} can be read by other users "
            f"(mode {stat.S_IMODE(info.st_mode):04o}); run: chmod 600 {path}"
        )
    try:
        return asyncssh.read_private_key(path)
    except OSError as error:
        raise HostKeyError(f"cannot read the host key {path}: {error.strerror}") from None
    except (asyncssh.KeyImportError, ValueError):
        raise HostKeyError(f"the host key {path} is not an SSH private key") from None


def _create(path: Path) -> asyncssh.SSHKey:
    key = asyncssh.generate_private_key("ssh-ed25519", comment="tui-portal host key")
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another server made it a moment ago: use that one
        return load_or_create_host_key(path)
    except OSError as error:
        raise HostKeyError(f"cannot create the host key {path}: {error.strerror}") from None
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key.export_private_key("openssh"))
    public = path.with_name(path.name + ".pub")
    public.write_bytes(key.export_public_key("openssh"))
    return key
