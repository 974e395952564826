"""The platforms' API buckets in Redis (`shared.pacing.Pacer`): one per account for every
process on every host.

A token bucket kept as GCRA (the generic cell rate algorithm): one number per bucket, the
"theoretical arrival time" of the next call, moved by one Lua script that reads Redis's own
clock, so hosts whose clocks differ still share one rate. With `rate` per second and `burst`
saved up, a call may go at `tat - burst/rate`; each call moves `tat` on by `1/rate`. A
reservation never fails: it says how long to wait, so callers queue up in the order they asked.
"""

from __future__ import annotations

from redis import Redis

# KEYS[1] the bucket; ARGV: seconds per token, burst tolerance (seconds), hold (-1: reserve).
_GCRA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval, tolerance, hold = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local wait = 0
if hold >= 0 then
  tat = math.max(tat, now + tolerance + hold)
else
  tat = tat + interval
  wait = math.max(0, tat - tolerance - now)
end
redis.call('SET', KEYS[1], string.format('%.6f', tat), 'PX', math.ceil((tat - now) * 1000) + 1000)
return string.format('%.6f', wait)
"""


class RedisPacer:
    """`shared.pacing.Pacer` on the relay's Redis (a single server or a Sentinel set)."""

    def __init__(self, redis: Redis, prefix: str = "relay:pace:") -> None:
        self.redis, self.prefix = redis, prefix
        self._script = redis.register_script(_GCRA)

    def _run(self, key: str, rate: float, burst: float, hold: float) -> float:
        if rate <= 0 or burst < 1:
            raise ValueError(f"rate must be > 0 and burst >= 1, got {rate!r}, {burst!r}")
        interval = 1.0 / rate
        # a full bucket lets `burst` calls go at once
        tolerance = burst * interval
        answer = self._script(keys=[self.prefix + key], args=[interval, tolerance, hold])
        return float(answer.decode() if isinstance(answer, bytes) else answer)

    def reserve(self, key: str, rate: float, burst: float) -> float:
        """Take a token; seconds to wait before using it."""
        return self._run(key, rate, burst, -1.0)

    def hold(self, key: str, seconds: float, rate: float, burst: float) -> None:
        """No saved-up tokens, and nobody calls for `seconds` more."""
        self._run(key, rate, burst, max(0.0, seconds))
