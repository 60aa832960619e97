"""The waiting room (SPEC §16): at most ADMISSION_CAPACITY booking journeys in flight; the
others wait, first come first served, by the number of their ticket.

The state is shared by every node through Redis (one Lua script a call, so that two nodes
never hand out the same number nor admit past the capacity), or kept in the process when no
Redis is configured (one node). Keys, under a prefix:

- `next`: the last ticket number handed out; `served`: the last number admitted;
- `active`: a sorted set of the admitted tickets, scored by when their place is given back:
  a journey that goes quiet for ADMISSION_IDLE_SECONDS (or an admitted ticket never used
  for ADMISSION_CLAIM_SECONDS) frees its place for the next in line; a booking made frees it
  at once;
- `spent`: tickets that booked (one ticket, one booking);
- `admitted:<minute>`: how many were admitted that minute (the waiting page's estimate);
- `slow`: until when a node said it answers slowly (`auto`'s brake: meanwhile at most
  `brake` tickets are admitted a second, counted in `braked:<second>`).

Admission is never taken back: a ticket admitted stays good for one booking during
ADMISSION_JOURNEY_SECONDS, even if its place in `active` lapsed meanwhile (a citizen slow to
type is not sent back to the line). Times are the service's clock (`booking.clock`), passed
to the scripts, so tests can move them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Final, Protocol

import redis

ADVANCE: Final = """
local prefix, now = KEYS[1], tonumber(ARGV[1])
local capacity, claim = tonumber(ARGV[2]), tonumber(ARGV[3])
local take, ticket, extend = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local slow, brake = tonumber(ARGV[7]), tonumber(ARGV[8])
local active = prefix .. 'active'
redis.call('ZREMRANGEBYSCORE', active, '-inf', now)
if slow == 1 then redis.call('SET', prefix .. 'slow', now + 2, 'EX', 10) end
local second = prefix .. 'braked:' .. math.floor(now)
local issued = tonumber(redis.call('GET', prefix .. 'next') or '0')
if take == 1 then
  issued = redis.call('INCR', prefix .. 'next')
  ticket = issued
end
local served = tonumber(redis.call('GET', prefix .. 'served') or '0')
local free = capacity - redis.call('ZCARD', active)
if tonumber(redis.call('GET', prefix .. 'slow') or '0') > now then
  free = math.min(free, brake - tonumber(redis.call('GET', second) or '0'))
end
local admitted = 0
while free > 0 and served < issued do
  served = served + 1
  redis.call('ZADD', active, now + claim, served)
  free = free - 1
  admitted = admitted + 1
end
if admitted > 0 then
  redis.call('INCRBY', second, admitted)
  redis.call('EXPIRE', second, 5)
  redis.call('SET', prefix .. 'served', served)
  local minute = prefix .. 'admitted:' .. math.floor(now / 60)
  redis.call('INCRBY', minute, admitted)
  redis.call('EXPIRE', minute, 180)
end
local present = 0
if ticket > 0 and redis.call('ZSCORE', active, ticket) then present = 1 end
if ticket > 0 and ticket <= served and extend > 0 and present == 1 then
  redis.call('ZADD', active, now + extend, ticket)
end
local spent = 0
if ticket > 0 then spent = redis.call('SISMEMBER', prefix .. 'spent', ticket) end
local rate = tonumber(redis.call('GET', prefix .. 'admitted:' .. (math.floor(now / 60) - 1)) or '0')
return {ticket, served, issued, redis.call('ZCARD', active), spent, rate, present}
"""

SPEND: Final = """
redis.call('ZREM', KEYS[1] .. 'active', ARGV[1])
return redis.call('SADD', KEYS[1] .. 'spent', ARGV[1])
"""


@dataclass(frozen=True)
class Rules:
    """How the line moves: journeys in flight at most; how long an admitted ticket keeps
    its place unused, and a journey when quiet; whether a node is overloaded now, and then
    how many may be admitted a second at most (the brake of `auto`)."""

    capacity: int
    claim: int
    idle: int
    slow: bool = False
    brake: int = 0


@dataclass(frozen=True)
class Place:
    """Where a ticket stands: its number, the last admitted, how many are in flight, whether
    it already booked, and how many were admitted in the last whole minute."""

    ticket: int
    served: int
    issued: int
    active: int
    spent: bool
    per_minute: int
    holding: bool  # its place among those in flight is still kept for it

    @property
    def admitted(self) -> bool:
        return 0 < self.ticket <= self.served

    @property
    def ahead(self) -> int:
        """Tickets before this one still waiting (0 once admitted)."""
        return max(0, self.ticket - self.served - 1)

    @property
    def waiting(self) -> int:
        """Tickets handed out and not yet admitted: the length of the line."""
        return max(0, self.issued - self.served)


class Store(Protocol):
    def advance(self, now: float, rules: Rules, take: bool, ticket: int) -> Place: ...

    def spend(self, ticket: int) -> None: ...


class RedisStore:
    """The line shared by every node."""

    def __init__(self, url: str, prefix: str = "rdv:admission:") -> None:
        self.client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        self.prefix = prefix
        self._advance = self.client.register_script(ADVANCE)
        self._spend = self.client.register_script(SPEND)

    def advance(self, now: float, rules: Rules, take: bool, ticket: int) -> Place:
        args = [now, rules.capacity, rules.claim, int(take), ticket, rules.idle]
        values = self._advance(keys=[self.prefix], args=[*args, int(rules.slow), rules.brake])
        n = [int(value) for value in values]
        return Place(n[0], n[1], n[2], n[3], bool(n[4]), n[5], bool(n[6]))

    def spend(self, ticket: int) -> None:
        self._spend(keys=[self.prefix], args=[ticket])


class MemoryStore:
    """The same line in one process (no Redis: one node, or tests)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.issued = 0
        self.served = 0
        self.active: dict[int, float] = {}
        self.spent: set[int] = set()
        self.minutes: dict[int, int] = {}
        self.slow_until = 0.0
        self.braked: dict[int, int] = {}

    def advance(self, now: float, rules: Rules, take: bool, ticket: int) -> Place:
        with self.lock:
            self.active = {n: until for n, until in self.active.items() if until > now}
            if take:
                self.issued += 1
                ticket = self.issued
            if rules.slow:
                self.slow_until = now + 2
            second = int(now)
            free = rules.capacity - len(self.active)
            if now < self.slow_until:
                free = min(free, rules.brake - self.braked.get(second, 0))
            while free > 0 and self.served < self.issued:
                self.served += 1
                self.active[self.served] = now + rules.claim
                self.braked[second] = self.braked.get(second, 0) + 1
                self.minutes[int(now // 60)] = self.minutes.get(int(now // 60), 0) + 1
                free -= 1
            holding = ticket in self.active
            if 0 < ticket <= self.served and rules.idle > 0 and holding:
                self.active[ticket] = now + rules.idle
            rate = self.minutes.get(int(now // 60) - 1, 0)
            spent = ticket in self.spent
            return Place(ticket, self.served, self.issued, len(self.active), spent, rate, holding)

    def spend(self, ticket: int) -> None:
        with self.lock:
            self.active.pop(ticket, None)
            self.spent.add(ticket)


def store_for(config: dict[str, Any]) -> Store | None:
    """The line of this configuration: None when the waiting room is off."""
    mode = config["ADMISSION"]
    url = config["ADMISSION_REDIS_URL"]
    if mode == "off" or (mode == "auto" and not url):
        return None
    return RedisStore(url, config["ADMISSION_PREFIX"]) if url else MemoryStore()
