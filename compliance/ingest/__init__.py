"""Ingestion: export bundles (contract section 1) into a DuckDB audit database (docs/database.md)."""
