"""Parameter types shared by the routers: names in paths, instants in queries."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Final

from fastapi import Path
from pydantic import AfterValidator, AwareDatetime

from monitor.api.validation import CONTROL_FREE

__all__ = ["MAX_NAME", "ModelName", "MonitorName", "ReferenceName", "UtcDatetime"]

#: Longest name a path or query parameter may hold (the widest name column is 255).
MAX_NAME: Final = 255


def _to_utc(value: dt.datetime) -> dt.datetime:
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        msg = f"{value.isoformat()} is out of range once converted to UTC"
        raise ValueError(msg) from None


#: An ISO-8601 instant with a timezone, converted to UTC.
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]

ModelName = Annotated[
    str,
    Path(description="The model's name.", max_length=MAX_NAME, pattern=CONTROL_FREE),
]
MonitorName = Annotated[
    str,
    Path(description="The monitor's name.", max_length=MAX_NAME, pattern=CONTROL_FREE),
]
ReferenceName = Annotated[
    str,
    Path(description="The reference dataset's name.", max_length=MAX_NAME, pattern=CONTROL_FREE),
]
