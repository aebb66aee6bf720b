"""IANA time zone names, checked against the time zone database."""

from __future__ import annotations

import re
import zoneinfo
from functools import cache
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

from schemas.channels import invalid
from schemas.suggest import closest

_ZONE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$")
# Files in a zoneinfo directory that are not IANA zone names: they depend on the machine.
_NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})


@cache
def _zone_names() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


def known_zone(name: str) -> str:
    try:
        if _ZONE_NAME.match(name) and name not in _NOT_ZONES:
            zoneinfo.ZoneInfo(name)
            return name
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        pass
    close = closest(name, _zone_names())
    hint = f" (did you mean {close}?)" if close else ""
    raise invalid(
        "time_zone", f"unknown time zone{hint}; expected an IANA name such as Europe/Paris"
    )


TimeZoneName = Annotated[str, StringConstraints(max_length=64), AfterValidator(known_zone)]
