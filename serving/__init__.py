"""The co-packaged batched inference server (Open Inference Protocol v2, REST and gRPC).

Runtimes load models, a batcher per model version groups concurrent requests, and every
finished batch is handed to a tap without blocking the request. It never imports
:mod:`storage` or :mod:`monitor`; :mod:`serving.grpc` is imported only when a gRPC port is set.
"""

from __future__ import annotations
