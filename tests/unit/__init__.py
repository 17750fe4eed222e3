"""Service-layer and command-line tests: no UI, no sleeping, no real user folders."""
