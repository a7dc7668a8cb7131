"""Business hours: when a site's team answers, in the site's own time zone.

Plain data in, plain data out (no I/O): `parse_hours` validates what an admin typed and returns a
`BusinessHours`; `is_open(t)`, `next_open(t)` and `next_change(t)` answer for an aware instant.

The stored (and wire) form is JSON:

    {"time_zone": "Europe/Berlin",
     "weekly": {"mon": [["09:00", "17:30"]], "fri": [["09:00", "12:00"], ["13:00", "17:00"]],
                "sat": [["22:00", "02:00"]]},
     "holidays": ["2026-12-25", "2026-12-26"]}

- Ranges are local wall-clock times, `HH:MM` from 00:00 to 24:00; an end before its start runs past
  midnight into the next day (22:00-02:00). Ranges may not overlap, within a day or across
  midnight (Sunday's overnight range runs into Monday).
- A holiday is a local date on which no range *starts*: an overnight range begun the day before
  still finishes.
- A day missing from `weekly` is closed. `None` (no hours set) means always open: the desk then
  judges availability by agents online alone, as before.
- Daylight saving time is the zone's (zoneinfo): 09:00 stays 09:00 local on both sides of a change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_RANGES_PER_DAY = 6
MAX_HOLIDAYS = 366
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ZONE = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+){0,2}$")
WEEK = 7 * 24 * 60


class HoursError(ValueError):
    """Hours that cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class BusinessHours:
    time_zone: str
    weekly: dict[str, tuple[tuple[int, int], ...]]  # day -> (start minute, end minute); end may pass 1440
    holidays: frozenset[date]

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def to_json(self) -> dict[str, Any]:
        return {"time_zone": self.time_zone,
                "weekly": {d: [[_hhmm(s), _hhmm(e % 1440 if e > 1440 else e)] for s, e in self.weekly[d]]
                           for d in DAYS if self.weekly.get(d)},
                "holidays": sorted(h.isoformat() for h in self.holidays)}

    # ------------------------------------------------------------------ questions
    def _ranges_around(self, local_day: date) -> list[tuple[datetime, datetime]]:
        """The open intervals (aware, in the zone) that start on `local_day`."""
        if local_day in self.holidays:
            return []
        out = []
        for start, end in self.weekly.get(DAYS[local_day.weekday()], ()):
            out.append((_at(local_day, start, self.zone), _at(local_day, end, self.zone)))
        return out

    def _interval_at(self, t: datetime) -> tuple[datetime, datetime] | None:
        local = t.astimezone(self.zone).date()
        for day in (local - timedelta(days=1), local):  # yesterday's overnight range may still run
            for start, end in self._ranges_around(day):
                if start <= t < end:
                    return start, end
        return None

    def is_open(self, t: datetime) -> bool:
        return self._interval_at(_aware(t)) is not None

    def next_open(self, t: datetime) -> datetime | None:
        """`t` itself when open, else the next opening; None when no range is ever open again
        (every day empty, or only holidays ahead for the next year)."""
        t = _aware(t)
        if self.is_open(t):
            return t
        local = t.astimezone(self.zone).date()
        for offset in range(0, 7 + len(self.holidays) + 2):
            day = local + timedelta(days=offset)
            for start, _ in sorted(self._ranges_around(day)):
                if start > t:
                    return start.astimezone(timezone.utc)
        return None

    def next_change(self, t: datetime) -> datetime | None:
        """When `is_open` next changes after `t`: the close when open (ranges that touch count as
        one), else the next opening."""
        t = _aware(t)
        interval = self._interval_at(t)
        if interval is None:
            return self.next_open(t)
        end = interval[1]
        for _ in range(MAX_RANGES_PER_DAY * 7 * 2):
            following = self._interval_at(end)
            if following is None or following[1] <= end:
                break
            end = following[1]
        return end.astimezone(timezone.utc)


def _aware(t: datetime) -> datetime:
    if t.tzinfo is None:
        raise ValueError("business hours need an aware datetime")
    return t


def _at(day: date, minute: int, zone: ZoneInfo) -> datetime:
    """Local wall-clock `minute` after midnight of `day` (may pass midnight), as an aware time. A
    time skipped by a DST change (02:30 on a spring-forward night) lands just after the gap."""
    day = day + timedelta(days=minute // 1440)
    minute %= 1440
    wall = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone)
    back = wall.astimezone(timezone.utc).astimezone(zone)
    if back.replace(tzinfo=None) != wall.replace(tzinfo=None):  # a nonexistent wall time
        wall = wall.replace(fold=1)
    return wall


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _minute(value: Any, where: str) -> int:
    if not isinstance(value, str) or not _HHMM.match(value):
        raise HoursError(f"{where}: {str(value)[:20]!r} is not a time HH:MM (00:00 to 24:00)")
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def valid_zone(name: Any) -> str:
    if not isinstance(name, str) or len(name) > 64 or not _ZONE.match(name):
        raise HoursError("time_zone must be an IANA zone name such as Europe/Berlin")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise HoursError(f"unknown time zone {name!r}") from None
    return name


def parse_hours(raw: Any) -> BusinessHours | None:
    """Validate hours as typed (the JSON form above); None clears them. Bounded: at most
    MAX_RANGES_PER_DAY ranges a day and MAX_HOLIDAYS holidays."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) - {"time_zone", "weekly", "holidays"}:
        raise HoursError("hours are {time_zone, weekly, holidays}")
    zone = valid_zone(raw.get("time_zone"))
    weekly_raw = raw.get("weekly") or {}
    if not isinstance(weekly_raw, dict) or set(weekly_raw) - set(DAYS):
        raise HoursError(f"weekly is keyed by day: {', '.join(DAYS)}")
    weekly: dict[str, tuple[tuple[int, int], ...]] = {}
    spans: list[tuple[int, int, str]] = []  # minutes of the week, for the overlap check
    for index, day in enumerate(DAYS):
        ranges = weekly_raw.get(day) or []
        if not isinstance(ranges, list) or len(ranges) > MAX_RANGES_PER_DAY:
            raise HoursError(f"{day}: a list of at most {MAX_RANGES_PER_DAY} [start, end] ranges")
        parsed = []
        for r in ranges:
            if not isinstance(r, (list, tuple)) or len(r) != 2:
                raise HoursError(f"{day}: each range is [\"HH:MM\", \"HH:MM\"]")
            start, end = _minute(r[0], day), _minute(r[1], day)
            if start == 1440:
                raise HoursError(f"{day}: a range cannot start at 24:00")
            if end == start:
                raise HoursError(f"{day}: {r[0]}-{r[1]} is empty")
            if end < start:
                end += 1440  # past midnight into the next day
            parsed.append((start, end))
            spans.append((index * 1440 + start, index * 1440 + end, f"{day} {r[0]}-{r[1]}"))
        if parsed:
            weekly[day] = tuple(sorted(parsed))
    _check_overlaps(spans)
    holidays_raw = raw.get("holidays") or []
    if not isinstance(holidays_raw, list) or len(holidays_raw) > MAX_HOLIDAYS:
        raise HoursError(f"holidays: a list of at most {MAX_HOLIDAYS} dates YYYY-MM-DD")
    holidays = set()
    for value in holidays_raw:
        if not isinstance(value, str) or not _DATE.match(value):
            raise HoursError(f"holiday {str(value)[:20]!r} is not a date YYYY-MM-DD")
        try:
            holidays.add(date.fromisoformat(value))
        except ValueError:
            raise HoursError(f"holiday {value!r} is not a date") from None
    return BusinessHours(zone, weekly, frozenset(holidays))


def _check_overlaps(spans: list[tuple[int, int, str]]) -> None:
    # Sunday's range past midnight wraps to Monday: compare each span with the next, and the last
    # one with the first moved a week on.
    spans = sorted(spans)
    for a, b in zip(spans, spans[1:] + [(s + WEEK, e + WEEK, n) for s, e, n in spans[:1]]):
        if b[0] < a[1]:
            raise HoursError(f"{a[2]} overlaps {b[2]}")


def weekly_from_specs(specs: list[str]) -> dict[str, list[list[str]]]:
    """`["mon-fri 09:00-17:00", "sat 10:00-14:00", "sun 22:00-02:00"]` (the command line's form) as
    the `weekly` JSON; parse_hours validates the result."""
    weekly: dict[str, list[list[str]]] = {}
    for spec in specs[:7 * MAX_RANGES_PER_DAY]:
        days, _, span = spec.strip().partition(" ")
        start, sep, end = span.strip().partition("-")
        first, _, last = days.lower().partition("-")
        if not sep or first not in DAYS or (last and last not in DAYS):
            raise HoursError(f"{spec[:40]!r}: write DAY[-DAY] HH:MM-HH:MM, e.g. mon-fri 09:00-17:00")
        i, j = DAYS.index(first), DAYS.index(last or first)
        for k in range(i, (j if j >= i else j + 7) + 1):
            weekly.setdefault(DAYS[k % 7], []).append([start.strip(), end.strip()])
    return weekly


def describe(hours: BusinessHours | None) -> str:
    """One line for lists: "Europe/Berlin: mon 09:00-17:00, ...; 2 holidays" or "always open"."""
    if hours is None:
        return "always open"
    data = hours.to_json()
    days = ", ".join(f"{d} " + " ".join(f"{s}-{e}" for s, e in r) for d, r in data["weekly"].items()) or "closed"
    extra = f"; {len(data['holidays'])} holiday(s)" if data["holidays"] else ""
    return f"{hours.time_zone}: {days}{extra}"


def hours_from_json(stored: Any) -> BusinessHours | None:
    """Hours as stored with a site (already validated once; a broken value counts as none)."""
    try:
        return parse_hours(stored)
    except HoursError:
        return None
