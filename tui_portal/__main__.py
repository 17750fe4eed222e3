"""``python -m tui_portal``: the same command line as ``tui-portal``."""

from tui_portal.cli import main

if __name__ == "__main__":
    main()
