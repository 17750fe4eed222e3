"""The service layer: everything the portal does, callable without any UI.

Screens, the command line and scripts all go through these services. They take plain
arguments and an injected clock, check authorisation themselves, and return frozen
dataclasses, never ORM objects. Nothing here imports ``textual``.
"""
