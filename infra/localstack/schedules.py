"""The stack's clock and the schedules that fire when it is advanced (nothing time-driven fires in moto).

``AWS::Events::Rule`` with a ``ScheduleExpression`` and ``AWS::Scheduler::Schedule`` become
:class:`Schedule` objects; :meth:`Scheduler.advance` moves the clock forward and fires every schedule
that fell due, in time order, through the stack's EventBridge delivery.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from infra.localstack.process import iso
from infra.template import ACCOUNT_ID

LOG = logging.getLogger("infra.localstack")


class StackClock:
    """Wall-clock time plus an offset that :meth:`Scheduler.advance` moves forward.

    The offset is mirrored into ``accessflow.adapters.clock.set_offset`` (when that module exists)
    so the application's "now" and the stack's "now" agree.
    """

    def __init__(self) -> None:
        self.offset = timedelta(0)
        self._moved = threading.Condition()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def wait_until(self, when: datetime, still_waiting: Callable[[], bool], poll: float = 0.5) -> bool:
        """Block until the clock shows ``when`` (real time passing or :meth:`Scheduler.advance`), or
        until ``still_waiting()`` turns false (checked at least every ``poll`` seconds). True if the
        time came. Used by the Step Functions Wait states (``stepfunctions.clock_wait``)."""
        with self._moved:
            while still_waiting():
                remaining = (when - self.now()).total_seconds()
                if remaining <= 0:
                    return True
                self._moved.wait(min(remaining, poll))
        return False

    def _set_offset(self, offset: timedelta) -> None:
        with self._moved:
            self.offset = offset
            self._moved.notify_all()
        try:
            from accessflow.adapters import clock as app_clock  # type: ignore[import-not-found]
        except ImportError:
            return
        setter = getattr(app_clock, "set_offset", None)
        if callable(setter):
            setter(offset)


_RATE = re.compile(r"rate\(\s*(\d+)\s+(minutes?|hours?|days?)\s*\)")
_CRON = re.compile(r"cron\((.+)\)")
_MONTHS = {m: i + 1 for i, m in enumerate(
    ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"])}
_DAYS = {d: i + 1 for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])}


def schedule_period(expression: str) -> timedelta | None:
    """Period of a ``rate()`` expression, else ``None``."""
    m = _RATE.fullmatch(expression.strip())
    if not m:
        return None
    n, unit = int(m.group(1)), m.group(2).rstrip("s")
    return {"minute": timedelta(minutes=n), "hour": timedelta(hours=n), "day": timedelta(days=n)}[unit]


def _cron_field(text: str, lo: int, hi: int, names: dict[str, int] | None = None) -> set[int] | None:
    """Values of one cron field; ``None`` means any (``*`` / ``?``)."""
    if text in ("*", "?"):
        return None
    values: set[int] = set()
    for part in text.split(","):
        rng, _, step = part.partition("/")
        if rng in ("*", "?"):
            a, b = lo, hi
        elif "-" in rng:
            x, y = rng.split("-", 1)
            a, b = (names or {}).get(x.upper()) or int(x), (names or {}).get(y.upper()) or int(y)
        else:
            a = (names or {}).get(rng.upper()) or int(rng)
            b = hi if step else a
        values.update(range(a, b + 1, int(step or 1)))
    return values


class CronExpression:
    """EventBridge ``cron(min hour day-of-month month day-of-week year)`` in UTC.

    Supports numbers, names, ``*``, ``?``, lists, ranges and steps; not ``L``, ``W`` or ``#``.
    """

    def __init__(self, expression: str) -> None:
        m = _CRON.fullmatch(expression.strip())
        if not m or len(m.group(1).split()) != 6:
            raise ValueError(f"not a cron expression: {expression}")
        f = m.group(1).split()
        if any(ch in "".join(f) for ch in "LW#"):
            raise ValueError(f"cron features L/W/# are not supported locally: {expression}")
        self.minutes = _cron_field(f[0], 0, 59)
        self.hours = _cron_field(f[1], 0, 23)
        self.dom = _cron_field(f[2], 1, 31)
        self.months = _cron_field(f[3], 1, 12, _MONTHS)
        self.dow = _cron_field(f[4], 1, 7, _DAYS)
        self.years = _cron_field(f[5], 1970, 2199)

    def next_after(self, after: datetime, until: datetime) -> datetime | None:
        """First firing time strictly after ``after`` and not later than ``until``."""
        start = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
        day = start.replace(hour=0, minute=0)
        while day <= until:
            aws_dow = (day.weekday() + 1) % 7 + 1
            if ((self.years is None or day.year in self.years) and (self.months is None or day.month in self.months)
                    and (self.dom is None or day.day in self.dom) and (self.dow is None or aws_dow in self.dow)):
                for h in sorted(self.hours) if self.hours is not None else range(24):
                    for mi in sorted(self.minutes) if self.minutes is not None else range(60):
                        t = day.replace(hour=h, minute=mi)
                        if t > until:
                            return None
                        if t >= start:
                            return t
            day += timedelta(days=1)
        return None


@dataclass
class Schedule:
    logical_id: str
    name: str
    arn: str
    expression: str
    targets: list[dict[str, Any]]
    kind: str  # "rule" (AWS::Events::Rule) or "scheduler" (AWS::Scheduler::Schedule)
    enabled: bool = True
    period: timedelta | None = None
    cron: CronExpression | None = None
    next_due: datetime | None = None
    cursor: datetime | None = None  # cron: searched up to here without a firing

    def due(self, until: datetime) -> datetime | None:
        """Next firing time not later than ``until`` (``None`` if none)."""
        if not self.enabled:
            return None
        if self.cron is not None and self.next_due is None and self.cursor is not None:
            self.next_due = self.cron.next_after(self.cursor, until)
            if self.next_due is None:
                self.cursor = until
        return self.next_due if self.next_due is not None and self.next_due <= until else None

    def fired(self, at: datetime) -> None:
        if self.period is not None:
            assert self.next_due is not None
            self.next_due += self.period
        else:
            self.next_due, self.cursor = None, at


#: Hands one (source ARN, target, event) delivery to EventBridge's delivery (see ``eventbridge``).
Deliver = Callable[[str, dict[str, Any], dict[str, Any]], None]


class Scheduler:
    """The template's schedules against the stack's clock."""

    def __init__(self, clock: StackClock, region: str, dispatch: Callable[[Callable[[], None]], None],
                 deliver: Deliver, wait_idle: Callable[[], bool]) -> None:
        self.clock = clock
        self.region = region
        self.schedules: dict[str, Schedule] = {}
        self._dispatch = dispatch
        self._deliver = deliver
        self._wait_idle = wait_idle

    def add(self, schedule: Schedule) -> None:
        schedule.period = schedule_period(schedule.expression)
        if schedule.period is not None:
            schedule.next_due = self.clock.now() + schedule.period
        else:
            try:
                schedule.cron = CronExpression(schedule.expression)
                schedule.cursor = self.clock.now()
            except ValueError as exc:
                LOG.info("schedule %s fires only through run_schedule(): %s", schedule.logical_id, exc)
        self.schedules[schedule.logical_id] = schedule

    def advance(self, delta: timedelta, *, coalesce: bool = False) -> list[str]:
        """Move the clock forward, firing every rate()/cron() schedule that fell due, in time order.

        Each firing happens with the clock set to its due time. With ``coalesce=True`` a schedule
        that fell due several times fires once, at its last due time. Returns the logical ids fired.
        """
        if delta < timedelta(0):
            raise ValueError("time only moves forward")
        end = self.clock.now() + delta
        fired: list[str] = []
        while True:
            due = [(when, s) for s in self.schedules.values() if (when := s.due(end)) is not None]
            if not due:
                break
            when, sched = min(due, key=lambda pair: pair[0])
            if coalesce:
                while True:
                    sched.fired(when)
                    later = sched.due(end)
                    if later is None:
                        break
                    when = later
                sched.next_due = when
            self._set_clock(when)
            sched.fired(when)
            self._fire(sched)
            self._wait_idle()  # async delivery: let the target run while the clock shows its due time
            fired.append(sched.logical_id)
        self._set_clock(end)
        return fired

    def _set_clock(self, when: datetime) -> None:
        offset = when - datetime.now(UTC)
        if offset > self.clock.offset:
            self.clock._set_offset(offset)

    def run_schedule(self, logical_id_or_name: str) -> None:
        """Fire one schedule now (by logical id or rule/schedule name)."""
        for sched in self.schedules.values():
            if logical_id_or_name in (sched.logical_id, sched.name):
                self._fire(sched)
                return
        raise KeyError(f"no schedule {logical_id_or_name!r}; have {sorted(self.schedules)}")

    def _fire(self, sched: Schedule) -> None:
        event = {
            "version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
            "account": ACCOUNT_ID, "time": iso(self.clock.now()), "region": self.region,
            "resources": [sched.arn], "detail": {},
        }
        for target in sched.targets:
            if sched.kind == "scheduler" and "Input" not in target:
                target = {**target, "Input": "{}"}  # EventBridge Scheduler's default payload
            self._dispatch(functools.partial(self._deliver, sched.arn, target, event))
