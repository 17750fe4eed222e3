"""The half-block QR code decodes, with a real QR reader, to exactly the URI it was given.

The pure tests decode the text of :func:`qr_rows`; the Pilot tests decode what a running app
actually draws on its screen, and check the colours, the quiet zone and the fallback message.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import zxingcpp
from rich.color_triplet import ColorTriplet
from rich.segment import Segment
from textual.app import App, ComposeResult
from textual.strip import Strip
from textual.widgets import Footer, Header

from tui_portal.security.totp import provisioning_uri
from tui_portal.widgets.qr import (
    QUIET_ZONE_COMFORTABLE,
    QUIET_ZONE_COMPACT,
    QrCode,
    qr_rows,
    qr_size,
)

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
TYPICAL_URI = provisioning_uri(SECRET, "alice", "Developer Portal")
URIS = {
    "short": "otpauth://totp/P:a?secret=JBSWY3DPEHPK3PXP",
    "typical": TYPICAL_URI,
    "long-username": provisioning_uri(SECRET, "u" * 64, "Developer Portal"),
    "issuer-with-spaces": provisioning_uri(SECRET, "bob", "Acme Corp Internal Developer Portal"),
}

# Glyph -> (top module dark, bottom module dark).
HALF_BLOCKS = {"█": (True, True), "▀": (True, False), "▄": (False, True), " ": (False, False)}
PIXELS_PER_MODULE = 6
BLACK = ColorTriplet(0, 0, 0)
WHITE = ColorTriplet(255, 255, 255)


def to_modules(lines: list[str]) -> list[list[bool]]:
    """Turn half-block text back into module rows (True = dark), two per line."""
    modules: list[list[bool]] = []
    for line in lines:
        top, bottom = [], []
        for glyph in line:
            assert glyph in HALF_BLOCKS, f"unexpected character {glyph!r} in the code"
            upper, lower = HALF_BLOCKS[glyph]
            top.append(upper)
            bottom.append(lower)
        modules += [top, bottom]
    return modules


def decode(modules: list[list[bool]]) -> list[str]:
    """Rasterise modules (dark = 0, light = 255) and read every QR code in the image.

    Inverted codes are not tried, so light-on-dark output does not decode.
    """
    height = len(modules) * PIXELS_PER_MODULE
    width = len(modules[0]) * PIXELS_PER_MODULE
    pixels = bytearray()
    for row in modules:
        assert len(row) * PIXELS_PER_MODULE == width, "ragged rows"
        line = bytes(0 if dark else 255 for dark in row for _ in range(PIXELS_PER_MODULE))
        pixels += line * PIXELS_PER_MODULE
    image = memoryview(bytes(pixels)).cast("B", (height, width))
    barcodes = zxingcpp.read_barcodes(
        image, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode), try_invert=False
    )
    return [barcode.text for barcode in barcodes]


def quiet_zone(modules: list[list[bool]]) -> tuple[int, int, int, int]:
    """Light modules around the code: (top, right, bottom, left)."""
    dark_rows = [y for y, row in enumerate(modules) if any(row)]
    dark_columns = [x for x in range(len(modules[0])) if any(row[x] for row in modules)]
    return (
        dark_rows[0],
        len(modules[0]) - 1 - dark_columns[-1],
        len(modules) - 1 - dark_rows[-1],
        dark_columns[0],
    )


# Pure rendering ----------------------------------------------------------------------------


@pytest.mark.parametrize("border", [QUIET_ZONE_COMPACT, QUIET_ZONE_COMFORTABLE])
@pytest.mark.parametrize("uri", list(URIS.values()), ids=list(URIS))
def test_rows_decode_to_the_exact_uri(uri: str, border: int) -> None:
    rows = qr_rows(uri, border)
    assert decode(to_modules(rows)) == [uri]
    assert qr_size(uri, border) == (len(rows[0]), len(rows))
    assert {len(row) for row in rows} == {len(rows[0])}


@pytest.mark.parametrize("uri", list(URIS.values()), ids=list(URIS))
def test_rows_have_the_requested_quiet_zone(uri: str) -> None:
    for border in (0, 1, 2, 4):
        modules = to_modules(qr_rows(uri, border))
        top, right, bottom, left = quiet_zone(modules)
        symbol = len(modules[0]) - 2 * border
        assert (top, right, left) == (border, border, border)
        # An odd number of module rows is finished with one light row.
        assert bottom == border + (symbol + 2 * border) % 2


def test_typical_uri_fits_an_80x24_screen_only_with_the_compact_quiet_zone() -> None:
    # 1 header row + 1 footer row leave 22 rows for the code.
    assert qr_size(TYPICAL_URI, QUIET_ZONE_COMPACT) == (41, 21)
    assert qr_size(TYPICAL_URI, QUIET_ZONE_COMFORTABLE) == (45, 23)


def test_negative_border_is_refused() -> None:
    with pytest.raises(ValueError, match="border"):
        qr_rows(TYPICAL_URI, -1)


# In a running app ----------------------------------------------------------------------------


class QrHost(App[None]):
    """A one-row header, the code, a one-row footer: the Enable MFA screen's frame."""

    def __init__(self, uri: str) -> None:
        super().__init__()
        self.uri = uri

    def compose(self) -> ComposeResult:
        yield Header()
        yield QrCode(self.uri, id="qr")
        yield Footer()


def drawn_cells(app: App[None], widget: QrCode) -> list[list[Segment]]:
    """The cells of ``widget``'s region as composed on the screen: one segment per cell."""
    screen_lines: list[Strip] = app.screen._compositor.render_strips()
    region = widget.region
    cells: list[list[Segment]] = []
    for y in range(region.y, region.bottom):
        line = screen_lines[y].crop(region.x, region.right)
        row = [
            Segment(char, segment.style)
            for segment in line
            if not segment.control
            for char in segment.text
        ]
        assert len(row) == region.width
        cells.append(row)
    return cells


@dataclass(frozen=True)
class Drawn:
    """What the code widget reported and drew, captured while the app ran."""

    fits: bool
    quiet_zone: int | None
    size: tuple[int, int]
    cells: list[list[Segment]]

    @property
    def lines(self) -> list[str]:
        return ["".join(cell.text for cell in row) for row in self.cells]


def capture(app: App[None]) -> Drawn:
    widget = app.query_one("#qr", QrCode)
    return Drawn(
        fits=widget.fits,
        quiet_zone=widget.quiet_zone,
        size=(widget.region.width, widget.region.height),
        cells=drawn_cells(app, widget),
    )


async def draw(uri: str, size: tuple[int, int], theme: str | None = None) -> Drawn:
    """Run the host app at ``size`` and read back what the code widget draws."""
    app = QrHost(uri)
    async with app.run_test(size=size) as pilot:
        if theme is not None:
            app.theme = theme
        await pilot.pause()
        return capture(app)


def assert_black_on_white(cells: list[list[Segment]]) -> None:
    for y, row in enumerate(cells):
        for x, cell in enumerate(row):
            style = cell.style
            assert style is not None, (x, y)
            assert style.color is not None and style.bgcolor is not None, (x, y)
            assert style.color.get_truecolor() == BLACK, (x, y, style)
            assert style.bgcolor.get_truecolor() == WHITE, (x, y, style)
            assert not (style.reverse or style.dim), (x, y, style)


@pytest.mark.parametrize(
    ("size", "border"),
    [((80, 24), QUIET_ZONE_COMPACT), ((120, 40), QUIET_ZONE_COMFORTABLE)],
)
async def test_drawn_code_decodes_black_on_white(size: tuple[int, int], border: int) -> None:
    drawn = await draw(TYPICAL_URI, size)

    assert drawn.fits is True
    assert drawn.quiet_zone == border
    # Exactly as large as the code, no padding rows or columns beyond the quiet zone.
    assert drawn.size == qr_size(TYPICAL_URI, border)
    assert drawn.lines == qr_rows(TYPICAL_URI, border)
    modules = to_modules(drawn.lines)
    assert decode(modules) == [TYPICAL_URI]
    top, right, _bottom, left = quiet_zone(modules)
    assert (top, right, left) == (border, border, border)
    assert_black_on_white(drawn.cells)


@pytest.mark.parametrize("theme", ["textual-light", "textual-dark", "nord"])
async def test_drawn_code_is_black_on_white_whatever_the_theme(theme: str) -> None:
    drawn = await draw(TYPICAL_URI, (80, 24), theme)

    assert decode(to_modules(drawn.lines)) == [TYPICAL_URI]
    assert_black_on_white(drawn.cells)


async def test_too_small_shows_the_message_and_no_code() -> None:
    drawn = await draw(TYPICAL_URI, (30, 10))

    assert drawn.fits is False
    assert drawn.quiet_zone is None
    text = " ".join(line.strip() for line in drawn.lines)
    assert "Make the terminal larger to show the QR code" in text
    assert "41\N{MULTIPLICATION SIGN}21" in text
    assert not set(text) & set("▀▄█")
    assert drawn.size[1] <= 8


async def test_code_too_large_for_80x24_shows_the_message() -> None:
    long_uri = URIS["long-username"]
    assert qr_size(long_uri, QUIET_ZONE_COMPACT)[1] > 22
    drawn = await draw(long_uri, (80, 24))

    assert drawn.fits is False
    text = "".join(drawn.lines)
    assert "Make the terminal larger" in text
    assert not set(text) & set("▀▄█")


async def test_resizing_switches_between_renderings() -> None:
    app = QrHost(TYPICAL_URI)
    async with app.run_test(size=(120, 40)) as pilot:
        widget = app.query_one("#qr", QrCode)
        await pilot.pause()
        assert (widget.fits, widget.quiet_zone) == (True, QUIET_ZONE_COMFORTABLE)
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert (widget.fits, widget.quiet_zone) == (True, QUIET_ZONE_COMPACT)
        await pilot.resize_terminal(40, 20)
        await pilot.pause()
        assert (widget.fits, widget.quiet_zone) == (False, None)
        assert not set("".join(capture(app).lines)) & set("▀▄█")
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        drawn = capture(app)
    assert (drawn.fits, drawn.quiet_zone) == (True, QUIET_ZONE_COMFORTABLE)
    assert decode(to_modules(drawn.lines)) == [TYPICAL_URI]
    assert_black_on_white(drawn.cells)
