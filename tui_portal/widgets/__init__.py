"""Reusable widgets: the half-block QR code, and the top bar with its user menu."""
