"""What the API's handlers call: checks against the store, then the storage functions.

Nothing here knows HTTP; problems with a request raise
:class:`~monitor.api.services.errors.InvalidRequestError` with the field's location.
"""

from __future__ import annotations
