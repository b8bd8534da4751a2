"""Web pages for people, Grafana and Prometheus files, Evidently reports.

Empty until the dashboards issue lands; may import :mod:`storage` (read side) and
:mod:`detectors`.
"""

from __future__ import annotations
