"""Learning records: the tracker's learning events as xAPI 1.0.3 statements (pure; no database)."""

from app.records.statements import UnknownEvent, build
from app.records.xapi import Site, statement_id

__all__ = ["Site", "UnknownEvent", "build", "statement_id"]
