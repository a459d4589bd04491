"""Shared by the statements beyond inference (consent, training, link,
audit): the canonical statement JSON, its digest, and how it is bound into
the transcript before the first challenge (`statement.py`).

Imports: data (canonical JSON), transcript and below."""
