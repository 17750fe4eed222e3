"""Each screen's stylesheet, read from the ``.tcss`` file beside its module.

A screen's rules become its ``DEFAULT_CSS``, which Textual scopes to the screen's type: a
rule written for one screen can never reach another, however the screens are visited. And
unlike a ``CSS_PATH``, which makes Textual parse every stylesheet of the app again the first
time the screen is shown, default styles are parsed once, on their own.
"""

from __future__ import annotations

from pathlib import Path


def beside(module_file: str, name: str) -> str:
    """The text of the stylesheet ``name`` in the folder of ``module_file``."""
    return Path(module_file).with_name(name).read_text(encoding="utf-8")
