"""Serving the portal to people on other machines: over SSH and in a browser."""
