"""Business rules. Services flush but never commit: the request (or CLI command) commits once."""
