"""Serving the portal in a browser: each tab gets its own portal process, driven through
textual-serve's protocol over a WebSocket, from a page that asks nothing of any other host.

``server`` runs the aiohttp application and stops it in order; ``guard`` adds the security
headers and checks the WebSocket's origin; ``client_address`` says where a tab is;
``page`` serves the page, its assets and the fonts textual-serve ships; ``session`` relays
one tab to its portal process and says why it ended; ``child`` and ``driver`` are what that
process runs; ``public_url`` is the address people open.
"""
