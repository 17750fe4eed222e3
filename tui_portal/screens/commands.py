"""The command palette's commands, shown literally.

Textual's own provider reads every command title as markup, so an organisation named
``R&D [/] Ops`` would stop the app and ``[link=…]`` would put a link in the palette. This
provider shows each title and help as plain text and highlights the letters that match
what was typed, over the same ``get_system_commands`` list.
"""

from __future__ import annotations

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.markup import escape


class LiteralCommands(Provider):
    """The app's commands (``App.get_system_commands``), every word of them plain text."""

    async def discover(self) -> Hits:
        """Every command, in title order, when nothing has been typed yet."""
        commands = sorted(self.app.get_system_commands(self.screen), key=lambda c: c.title)
        for command in commands:
            if command.discover:
                yield DiscoveryHit(
                    Content(command.title),
                    command.callback,
                    text=command.title,
                    help=_help(command.help),
                )

    async def search(self, query: str) -> Hits:
        """The commands whose title matches ``query``, best first."""
        matcher = self.matcher(query)
        for command in self.app.get_system_commands(self.screen):
            score, offsets = matcher.fuzzy_search.match(matcher.query, command.title)
            if score > 0:
                title = Content(command.title)
                for offset in offsets:
                    if not command.title[offset].isspace():
                        title = title.stylize(matcher.match_style, offset, offset + 1)
                yield Hit(
                    score, title, command.callback, text=command.title, help=_help(command.help)
                )


def _help(text: str) -> str:
    """Help text that the palette may read as markup without changing a word of it."""
    return escape(text)
