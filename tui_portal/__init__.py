"""tui-portal: a keyboard-driven developer portal for account security in the terminal."""

__version__ = "0.1.0"
