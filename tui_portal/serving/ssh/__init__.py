"""Serving the portal over SSH: each connection gets its own portal process on its own
pseudo-terminal, started from a template process that has already loaded the portal.

``server`` accepts connections (asyncssh) and decides what is refused; ``session`` relays
one connection to its process's terminal; ``launcher`` starts those processes (through the
``template``, or cold); ``child`` is what a session process runs; ``host_key``,
``connection_log`` and ``refusals`` hold one job each.
"""
