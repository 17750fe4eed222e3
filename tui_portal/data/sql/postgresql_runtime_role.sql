-- A runtime role for the portal on PostgreSQL, run once by the role that owns the schema
-- (the one `tui-portal init` migrates as), after `tui-portal init`. Replace portal_app with
-- your role's name. The runtime role reads and writes what the portal keeps, but may only
-- add to and read the audit trail: it cannot update, delete, truncate it or switch off its
-- triggers, which only the table's owner could.
GRANT USAGE ON SCHEMA public TO portal_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON
    organisations, users, memberships, mfa_credentials, throttles, sessions,
    recovery_codes, portal_meta
    TO portal_app;
GRANT SELECT ON alembic_version TO portal_app;
GRANT SELECT, INSERT ON audit_events TO portal_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO portal_app;
