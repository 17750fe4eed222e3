"""Security primitives, each rule in one place: passwords, TOTP, secrets at rest, throttling."""
