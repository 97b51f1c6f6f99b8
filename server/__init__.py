"""Central server: catalog, patients, registrations, payments (no Qt)."""
