"""Read and write paths over the ORM models, one module per aggregate."""

from __future__ import annotations
