"""The anchor for the SSH benchmark: the same SSH transport with nothing behind it.

An asyncssh server with the same options as the portal's (ed25519 host key, no SSH
authentication) that runs each exec request's command as OpenSSH's server does, through
``/bin/sh -c``. ``ssh -p PORT 127.0.0.1 true`` against it costs what connecting costs.

    python benchmarks/ssh_anchor.py HOST_KEY   (prints "listening on 127.0.0.1:PORT")
"""

from __future__ import annotations

import asyncio
import signal
import sys

import asyncssh


class Open(asyncssh.SSHServer):
    """Everyone in, as the portal lets everyone in."""

    def begin_auth(self, username: str) -> bool:
        return False


async def run_command(process: asyncssh.SSHServerProcess[bytes]) -> None:
    """``/bin/sh -c COMMAND``, its output to the client, its exit status as the session's."""
    child = await asyncio.create_subprocess_exec(
        "/bin/sh",
        "-c",
        process.command or "true",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    await process.redirect(stdout=child.stdout, stderr=child.stderr)
    process.exit(await child.wait())


async def main(key_path: str) -> None:
    key = asyncssh.read_private_key(key_path)
    acceptor = await asyncssh.listen(
        "127.0.0.1",
        0,
        server_factory=Open,
        server_host_keys=[key],
        process_factory=run_command,
        encoding=None,
        line_editor=False,
    )
    print(f"listening on 127.0.0.1:{acceptor.get_port()}", flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    acceptor.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
