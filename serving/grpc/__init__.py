"""The Open Inference Protocol v2 over gRPC: ``inference.GRPCInferenceService``.

It serves the same models as the REST app, through the same
:class:`~serving.inference.InferenceService` (batchers, metrics and tap alike). Importing this
package imports nothing heavy; :mod:`serving.grpc.server` imports ``grpc`` and is only loaded
when a gRPC port is configured.
"""

from __future__ import annotations
