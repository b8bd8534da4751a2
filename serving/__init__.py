"""The co-packaged batched inference server (Open Inference Protocol v2).

Empty until the serving issue lands; hands finished batches to a tap and never imports
:mod:`storage` or :mod:`monitor`.
"""

from __future__ import annotations
