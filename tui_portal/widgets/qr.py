"""A QR code drawn in the terminal with half-block characters.

Authenticator apps enrol by scanning the ``otpauth://`` URI as a QR code. A terminal cell is
roughly twice as tall as it is wide, so each character cell shows two QR modules stacked
vertically: the top half of a cell is module row ``2k`` and the bottom half is row ``2k + 1``.
A filled half-cell is a dark module:

====  ==========================
Char  Modules (top, bottom)
====  ==========================
█     dark, dark
▀     dark, light
▄     light, dark
(sp)  light, light
====  ==========================

The glyphs are painted black on white with explicit true colours, so the code reads as
dark-on-light (what phone cameras expect) whatever the theme or the terminal's palette.

The code is never scaled, wrapped or cropped: :class:`QrCode` chooses a comfortable quiet zone
of four modules when there is room, a compact one of two modules otherwise, and when even
that does not fit it shows a short message instead (and sets :attr:`QrCode.fits` to ``False``)
so the user can type the key by hand.
"""

from __future__ import annotations

from collections.abc import Sequence

import segno
from rich.segment import Segment
from rich.style import Style
from textual.content import Content
from textual.geometry import Size
from textual.reactive import var
from textual.strip import Strip
from textual.widget import Widget

__all__ = [
    "QR_STYLE",
    "QUIET_ZONE_COMFORTABLE",
    "QUIET_ZONE_COMPACT",
    "QrCode",
    "QrRenderings",
    "qr_renderings",
    "qr_rows",
    "qr_size",
]

QUIET_ZONE_COMFORTABLE = 4
"""Quiet zone, in modules, used when there is room: the width the QR standard asks for."""

QUIET_ZONE_COMPACT = 2
"""Quiet zone, in modules, used on small terminals; phone cameras still read it reliably."""

MESSAGE_WIDTH = 30
"""The widest the "make the terminal larger" message is laid out."""

QR_STYLE = Style(color="#000000", bgcolor="#ffffff")
"""Dark modules black, light modules white, as true colours the terminal palette cannot remap."""

# (top dark, bottom dark) -> glyph.
_GLYPHS: dict[tuple[bool, bool], str] = {
    (True, True): "█",
    (True, False): "▀",
    (False, True): "▄",
    (False, False): " ",
}


def _encode(uri: str) -> segno.QRCode:
    """Encode ``uri`` as a regular (not micro) QR code at error-correction level L.

    segno raises the error-correction level for free when it fits the same version.
    """
    return segno.make(uri, error="l", micro=False, boost_error=True)


def _draw(qr: segno.QRCode, border: int) -> list[str]:
    """Draw an encoded QR code as half-block text with a quiet zone of ``border`` modules."""
    if border < 0:
        raise ValueError(f"border must not be negative, got {border}")
    modules = [[bool(module) for module in row] for row in qr.matrix_iter(scale=1, border=border)]
    if len(modules) % 2:
        # Each text row covers two module rows: finish with a light half-row.
        modules.append([False] * len(modules[0]))
    return [
        "".join(_GLYPHS[top, bottom] for top, bottom in zip(upper, lower, strict=True))
        for upper, lower in zip(modules[::2], modules[1::2], strict=True)
    ]


def qr_rows(uri: str, border: int) -> list[str]:
    """The QR code of ``uri`` drawn as lines of half-block characters.

    Each line covers two module rows (a cell's top half is row ``2k``, its bottom half row
    ``2k + 1``) and a filled half-cell means a dark module. The quiet zone of ``border``
    light modules is included; an odd number of module rows is finished with a light row.

    Args:
        uri: The text to encode, typically an ``otpauth://totp/…`` provisioning URI.
        border: Width of the quiet zone in modules.

    Returns:
        Equal-length lines of ``"█"``, ``"▀"``, ``"▄"`` and ``" "``.

    Raises:
        ValueError: If ``border`` is negative.
    """
    return _draw(_encode(uri), border)


def qr_size(uri: str, border: int) -> tuple[int, int]:
    """The size of :func:`qr_rows` for ``uri`` and ``border`` as ``(columns, text rows)``."""
    width, height = _encode(uri).symbol_size(scale=1, border=border)
    return int(width), (int(height) + 1) // 2


QrRenderings = dict[int, list[str]]
"""The code drawn with each quiet zone, largest first: the first that fits is shown."""


def qr_renderings(uri: str) -> QrRenderings:
    """``uri`` as a QR code, drawn with the comfortable and the compact quiet zone."""
    qr = _encode(uri)
    return {border: _draw(qr, border) for border in (QUIET_ZONE_COMFORTABLE, QUIET_ZONE_COMPACT)}


class QrCode(Widget):
    """Shows a URI as a scannable QR code, black on white, at one cell per two modules.

    With ``width: auto`` and ``height: auto`` (the default) the widget takes exactly the size
    of the rendering it chooses for the room its container gives it:

    * a quiet zone of :data:`QUIET_ZONE_COMFORTABLE` modules if that fits,
    * else a quiet zone of :data:`QUIET_ZONE_COMPACT` modules if that fits,
    * else no code at all, but a short message asking for a larger terminal.

    The choice is re-made on every resize. :attr:`fits` and :attr:`quiet_zone` report the
    current choice and can be watched. Put the widget in a container with a definite height
    (for example ``height: 1fr``): while a container measures itself with an open-ended
    height the widget can only assume the compact rendering, sized against the whole screen.
    """

    DEFAULT_CSS = """
    QrCode {
        width: auto;
        height: auto;
    }
    """

    fits: var[bool] = var(False, init=False)
    """Whether the code is shown; ``False`` while the message is shown instead."""

    quiet_zone: var[int | None] = var[int | None](None, init=False)
    """The quiet zone of the code on show, in modules, or ``None`` when it is not shown."""

    def __init__(
        self,
        uri: str,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
        renderings: QrRenderings | None = None,
    ) -> None:
        """Draw ``uri`` as a QR code.

        Args:
            uri: The text to encode, typically an ``otpauth://totp/…`` provisioning URI.
            renderings: ``qr_renderings(uri)``, when it was made ahead (in a thread: it
                takes a few milliseconds).
            name: The name of the widget.
            id: The ID of the widget in the DOM.
            classes: Space-separated CSS classes.
            disabled: Whether the widget is disabled.
        """
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self._uri = uri
        self._renderings = renderings if renderings is not None else qr_renderings(uri)
        self._strip_cache: tuple[tuple[int, Size, Style], list[Strip]] | None = None

    @property
    def uri(self) -> str:
        """The encoded text."""
        return self._uri

    @property
    def message(self) -> str:
        """What is shown in place of the code when it does not fit."""
        width, height = self._rendering_size(QUIET_ZONE_COMPACT)
        return (
            "Make the terminal larger to show the QR code "
            f"(it needs {width}\N{MULTIPLICATION SIGN}{height}); or type the key below."
        )

    def _rendering_size(self, border: int) -> Size:
        """The size of the rendering with a quiet zone of ``border`` modules."""
        rows = self._renderings[border]
        return Size(len(rows[0]), len(rows))

    def _quiet_zone_within(self, room: Size, candidates: Sequence[int] | None = None) -> int | None:
        """The largest quiet zone whose rendering fits ``room``, or ``None`` if none does."""
        for border in self._renderings if candidates is None else candidates:
            width, height = self._rendering_size(border)
            if width <= room.width and height <= room.height:
                return border
        return None

    def _quiet_zone_for_container(self, container: Size, viewport: Size) -> int | None:
        """The quiet zone to lay out for, given the room its container offers.

        A container that is measuring itself passes 0 for an open-ended dimension; then the
        viewport bounds the room and only the compact rendering is considered, so a taller
        choice cannot push the container past the screen.
        """
        if container.width > 0 and container.height > 0:
            return self._quiet_zone_within(container)
        room = Size(container.width or viewport.width, container.height or viewport.height)
        return self._quiet_zone_within(room, (QUIET_ZONE_COMPACT,))

    def get_content_width(self, container: Size, viewport: Size) -> int:
        """The width of the rendering chosen for ``container``, or of the message."""
        border = self._quiet_zone_for_container(container, viewport)
        if border is not None:
            return self._rendering_size(border).width
        # The message wraps in a narrow column, so whatever stands beside the code (the
        # key to type by hand) keeps its room.
        room = container.width or viewport.width
        return max(1, min(MESSAGE_WIDTH, len(self.message), room))

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        """The height of the rendering chosen for ``container``, or of the wrapped message."""
        border = self._quiet_zone_for_container(container, viewport)
        if border is not None:
            return self._rendering_size(border).height
        return super().get_content_height(container, viewport, width)

    def render(self) -> Content:
        """The message shown when the code does not fit (the code itself is drawn by lines)."""
        return Content(self.message)

    def render_line(self, y: int) -> Strip:
        """Line ``y`` of the code, centred in the widget, or of the message if it won't fit."""
        size = self.size
        border = self._quiet_zone_within(size)
        if border is None:
            return super().render_line(y)
        strips = self._strips(border, size)
        if 0 <= y < len(strips):
            return strips[y]
        return Strip.blank(size.width, self.visual_style.rich_style)

    def _strips(self, border: int, size: Size) -> list[Strip]:
        """The lines of the code with a ``border`` quiet zone, centred in ``size`` (cached)."""
        background = self.visual_style.rich_style
        key = (border, size, background)
        if self._strip_cache is not None and self._strip_cache[0] == key:
            return self._strip_cache[1]
        rows = self._renderings[border]
        code_width, code_height = self._rendering_size(border)
        left = (size.width - code_width) // 2
        right = size.width - code_width - left
        top = (size.height - code_height) // 2
        blank = Strip.blank(size.width, background)
        strips = [blank] * top
        for row in rows:
            segments = [Segment(row, QR_STYLE)]
            if left:
                segments.insert(0, Segment(" " * left, background))
            if right:
                segments.append(Segment(" " * right, background))
            strips.append(Strip(segments, size.width))
        strips.extend([blank] * (size.height - len(strips)))
        self._strip_cache = (key, strips)
        return strips

    def on_resize(self) -> None:
        """Re-make the choice between the comfortable and compact code, or the message."""
        border = self._quiet_zone_within(self.size)
        self.quiet_zone = border
        self.fits = border is not None
