"""Reusable widgets: the half-block QR code, the top bar with its user menu, and the Users
table that draws only the members in view."""
