"""Sidecar collectors: the tap, push receiver, reverse proxy, ingest API, spool and writer.

Empty until the collectors issue lands; may import :mod:`storage`, never :mod:`monitor`.
"""

from __future__ import annotations
