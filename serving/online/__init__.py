"""Models that learn online from their delayed labels, safely.

- :mod:`~serving.online.config`: the settings (``learning: online`` in the project file);
- :mod:`~serving.online.models`: river models and ``partial_fit`` estimators behind one
  batch interface;
- :mod:`~serving.online.runtime`: serving a frozen snapshot of one;
- :mod:`~serving.online.guard`: the prequential test and the drift detector that stop it;
- :mod:`~serving.online.learner`: the loop (test, then train; record; snapshot);
- :mod:`~serving.online.store`: what the loop needs from the store (implemented in
  :mod:`monitor`, since serving never imports :mod:`storage`);
- :mod:`~serving.online.snapshots`: snapshot files and the pointer followers read;
- :mod:`~serving.online.service`: the learner's thread, the followers and the admin routes.

Nothing is re-exported here: :mod:`serving.config` imports :mod:`serving.online.config`, so
this package must not import the modules that import :mod:`serving.config` back.
"""

from __future__ import annotations
