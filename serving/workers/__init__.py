"""Several worker processes serving one set of ports, under a supervisor.

``driftline serve --workers N`` runs :class:`Supervisor`: it claims the REST (and gRPC) port,
starts N worker processes that each listen on them with ``SO_REUSEPORT`` (the kernel spreads
connections over them), restarts a worker that dies, relays the model repository API to every
worker, and on SIGTERM lets them finish what is in flight. Each worker is a whole server: its
own event loop, models, batchers and tap. Metrics are summed over the workers through
``prometheus_client``'s multiprocess mode.
"""

from __future__ import annotations

from serving.workers.errors import PortTakenError, WorkersFailedError, WorkerStartupError
from serving.workers.plan import RestartPolicy, WorkerContext, WorkerPlan
from serving.workers.supervisor import Supervisor

__all__ = [
    "PortTakenError",
    "RestartPolicy",
    "Supervisor",
    "WorkerContext",
    "WorkerPlan",
    "WorkerStartupError",
    "WorkersFailedError",
]
