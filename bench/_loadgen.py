"""A lean HTTP load generator: N threads, one keep-alive connection each, for S seconds.

    python bench/_loadgen.py relay|jasmin URL SECONDS CONCURRENCY OUT_JSON [KEY_OR_USER:PASS]

`relay`: POST /v1/events, one `message.requested` per request (Bearer key), 202 counts as
accepted. `jasmin`: POST /send (form: username, password, to, content), a 200 whose body
starts with `Success` counts. Both get the same numbers and the same text, one message per
request, so the two gateways see the same work. Writes `{"requests", "accepted", "errors",
"seconds", "p50_ms", "p99_ms", "cpu_s"}`.
"""

from __future__ import annotations

import http.client
import json
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode, urlsplit

TEXT = "Order 727 shipped. Track: example.by/t/727"  # GSM 7-bit, one part


def main() -> None:
    kind, url, seconds, concurrency, out = sys.argv[1:6]
    cred = sys.argv[6] if len(sys.argv) > 6 else ""
    parts = urlsplit(url)
    run = uuid.uuid4().hex[:8]
    deadline = time.monotonic() + float(seconds)
    lock = threading.Lock()
    totals = {"requests": 0, "accepted": 0, "errors": 0}
    statuses: dict[str, int] = {}
    latencies: list[float] = []

    def client(tid: int) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        n = ok = bad = 0
        mine: list[float] = []
        while time.monotonic() < deadline:
            n += 1
            phone = f"3752912{(tid * 10_000 + n) % 100_000:05d}"  # valid Belarusian mobiles
            if kind == "relay":
                body = json.dumps({
                    "event_id": f"b-{run}-{tid}-{n}", "type": "message.requested",
                    "occurred_at": "2026-11-22T12:00:00+03:00",
                    "customer": {"phone": "+" + phone, "timezone": "Europe/Minsk"},
                    "message": {"text": TEXT, "channel": "sms", "category": "transactional"},
                }).encode()  # fmt: skip
                headers = {"Authorization": f"Bearer {cred}", "Content-Type": "application/json"}
                path = parts.path or "/v1/events"
            else:
                user, password = cred.split(":", 1)
                body = urlencode({"username": user, "password": password, "to": phone,
                                  "content": TEXT, "from": "SHOP"}).encode()  # fmt: skip
                headers = {"Content-Type": "application/x-www-form-urlencoded"}
                path = parts.path or "/send"
            t0 = time.perf_counter()
            try:
                conn.request("POST", path, body, headers)
                resp = conn.getresponse()
                data = resp.read()
            except (OSError, http.client.HTTPException):
                bad += 1
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
                continue
            mine.append(time.perf_counter() - t0)
            if (kind == "relay" and resp.status == 202) or (
                kind == "jasmin" and resp.status == 200 and data.startswith(b"Success")
            ):
                ok += 1
            else:
                bad += 1
                with lock:
                    key = f"{resp.status} {data[:60].decode('utf-8', 'replace')}"
                    statuses[key] = statuses.get(key, 0) + 1
        with lock:
            totals["requests"] += n
            totals["accepted"] += ok
            totals["errors"] += bad
            latencies.extend(mine)

    started, cpu0 = time.monotonic(), time.process_time()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(int(concurrency))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    latencies.sort()

    def pct(p: float) -> float:
        return round(1000 * latencies[min(len(latencies) - 1, int(p * len(latencies)))], 1)

    refused = dict(sorted(statuses.items())[:5])
    result = dict(
        totals,
        refused=refused,
        seconds=round(elapsed, 2),
        cpu_s=round(time.process_time() - cpu0, 2),
        p50_ms=pct(0.5) if latencies else None,
        p99_ms=pct(0.99) if latencies else None,
    )
    Path(out).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
