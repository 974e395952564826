"""A real Kannel 1.4.5 (bearerbox + smsbox) with its fake SMSC, for tests and benchmarks.

`KannelHarness` picks free loopback ports, writes a kannel.conf into a directory, starts both
boxes and plays the SMSC itself: bearerbox (`smsc = fake`, `port = N`) listens on N and whatever
connects is the SMSC, one line per message, `sender receiver type payload`.

What the fake SMSC of 1.4.5 does (checked against the binary, see test_kannel_harness.py):
- MT arrive as `text <raw text>` for 7-bit (Kannel's UTF-8), `ucs-2 <url-encoded UTF-16BE>`
  (a space byte written `+`), and a concatenated part as `udh <udh> data <payload>`, both
  url-encoded, with no word on the coding.
- The delivery report comes on its own: as bearerbox writes an MT to the SMSC socket it reports
  8 (submitted) and then 1 (delivered). The line protocol has no way to send a DLR, so a
  failed report cannot come from here. To hold reports back, `hold()` disconnects the SMSC
  (MT wait in bearerbox, sendsms answers "3: Queued for later delivery"); `release()`
  reconnects, and the held MT and their reports flow.
- MO must be `text` with UTF-8 (`ucs-2` is "invalid message syntax"; 1.4.5 takes `ucs2`).
"""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SBIN = Path(os.environ.get("RELAY_KANNEL_SBIN", "/usr/sbin"))
REQUIRE_ENV = "RELAY_TEST_REQUIRE_KANNEL"
USERNAME, PASSWORD, ADMIN_PASSWORD = "relay", "kannel-test-pass", "kannel-admin-pass"


def binaries() -> tuple[Path, Path] | None:
    """(bearerbox, smsbox) when installed, else None."""
    found = tuple(SBIN / name for name in ("bearerbox", "smsbox"))
    if all(p.is_file() and os.access(p, os.X_OK) for p in found):
        return found  # type: ignore[return-value]
    return None


def require_kannel() -> None:
    """Skip without Kannel; fail instead when RELAY_TEST_REQUIRE_KANNEL=1 (CI must run these)."""
    import pytest  # here, not at the top: the bench imports this module where pytest is absent

    if binaries() is not None:
        return
    message = f"Kannel's bearerbox/smsbox not found in {SBIN}: run .ci/install-kannel.sh"
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def decode_payload(payload: bytes) -> bytes:
    """Kannel's url-encoding back to bytes: `%XX` escapes, and `+` for a 0x20 byte."""
    return urllib.parse.unquote_to_bytes(payload.replace(b"+", b"%20"))


def concat_info(udh: bytes) -> tuple[int, int, int] | None:
    """(reference, total, sequence) from a concatenation UDH (IE 0x00 or 0x08), else None."""
    i, end = 1, min(len(udh), udh[0] + 1) if udh else 0
    while i + 1 < end:
        iei, length = udh[i], udh[i + 1]
        data = udh[i + 2 : i + 2 + length]
        if iei == 0x00 and length == 3:
            return data[0], data[1], data[2]
        if iei == 0x08 and length == 4:
            return (data[0] << 8) | data[1], data[2], data[3]
        i += 2 + length
    return None


@dataclass(frozen=True)
class SmscLine:
    """One MT line as the SMSC got it; `data` is the payload bytes, decoded from the wire."""

    sender: str
    receiver: str
    type: str  # "text", "ucs-2", "data" or "udh"
    data: bytes
    udh: bytes = b""
    raw: bytes = b""

    @classmethod
    def parse(cls, line: bytes) -> SmscLine:
        """Parse `sender receiver type payload` (and `udh U data D`)."""
        sender, receiver, kind, rest = line.rstrip(b"\n").split(b" ", 3)
        names = sender.decode(), receiver.decode(), kind.decode()
        if kind == b"udh":
            udh, _data_word, payload = rest.split(b" ", 2)
            return cls(*names, decode_payload(payload), decode_payload(udh), line)
        if kind == b"text":
            return cls(*names, rest, raw=line)
        return cls(*names, decode_payload(rest), raw=line)

    def text(self, encoding: str | None = None) -> str:
        """The payload as text: `ucs-2` is UTF-16BE, `text` Kannel's UTF-8; for `udh`/`data`
        the line does not say, so pass "ucs2" or "gsm7" (default)."""
        if self.type == "ucs-2" or encoding == "ucs2":
            return self.data.decode("utf-16-be")
        return self.data.decode("utf-8")


@dataclass(frozen=True)
class SmscMessage:
    """A whole MT: one line, or every part of a concatenated message in order."""

    parts: tuple[SmscLine, ...]

    def text(self, encoding: str | None = None) -> str:
        """The joined text (see SmscLine.text for `encoding`)."""
        return "".join(p.text(encoding) for p in self.parts)


class KannelHarness:
    """Writes kannel.conf, runs bearerbox and smsbox, and plays the fake SMSC."""

    def __init__(
        self, workdir: Path, *, sendsms_max_messages: int | None = 10, service_max_messages: int = 1
    ) -> None:
        self.workdir = Path(workdir)
        self.admin_port, self.box_port = free_port(), free_port()
        self.smsc_port, self.sendsms_port = free_port(), free_port()
        self.sendsms_max_messages = sendsms_max_messages
        # Kannel's default 1, so an answer with a body WOULD go back as an SMS: the adapter's
        # empty answer (plus omit-empty) is what keeps the subscriber from getting one
        self.service_max_messages = service_max_messages
        self.lines: queue.Queue[bytes] = queue.Queue()
        self._procs: list[subprocess.Popen[bytes]] = []
        self._sock: socket.socket | None = None
        self._reader: threading.Thread | None = None

    @property
    def sendsms_url(self) -> str:
        return f"http://127.0.0.1:{self.sendsms_port}/cgi-bin/sendsms"

    @property
    def pids(self) -> list[int]:
        """Process ids of the running boxes (bearerbox, smsbox)."""
        return [p.pid for p in self._procs if p.poll() is None]

    @property
    def admin_url(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}"

    def provider_config(self, **extra: object) -> dict[str, object]:
        """A `kannel` provider config for this gateway."""
        return {
            "sendsms_url": self.sendsms_url,
            "username": USERNAME,
            "password": PASSWORD,
            "default_sender": "SHOP",
            **extra,
        }

    def config_text(self, inbound_url: str) -> str:
        """kannel.conf; `inbound_url` is the relay's inbound callback (sms-service get-url)."""
        get_url = inbound_url + "?from=%p&to=%P&text=%a&coding=%c&charset=%C&ts=%T&smsc=%i&id=%I"
        d = self.workdir
        # None: Kannel's defaults (one part, the rest cut off) for the test that shows them
        limits = self.sendsms_max_messages
        sendsms_limits = (
            "" if limits is None else f"max-messages = {limits}\nconcatenation = true\n"
        )
        return f"""group = core
admin-port = {self.admin_port}
admin-password = {ADMIN_PASSWORD}
admin-allow-ip = "127.0.0.1"
smsbox-port = {self.box_port}
box-allow-ip = "127.0.0.1"
log-file = "{d}/bearerbox.log"
log-level = 1
access-log = "{d}/access.log"
dlr-storage = internal

group = smsc
smsc = fake
smsc-id = fake
port = {self.smsc_port}
connect-allow-ip = "127.0.0.1"

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {self.box_port}
sendsms-port = {self.sendsms_port}
sendsms-interface = 127.0.0.1
mo-recode = true
log-file = "{d}/smsbox.log"
log-level = 1

group = sendsms-user
username = {USERNAME}
password = {PASSWORD}
{sendsms_limits}
group = sms-service
keyword = default
get-url = "{get_url}"
omit-empty = true
max-messages = {self.service_max_messages}
"""

    def start(self, inbound_url: str, *, connect: bool = True, timeout: float = 20) -> None:
        """Start both boxes; wait for sendsms to answer and (by default) the SMSC link."""
        found = binaries()
        if found is None:
            raise RuntimeError("Kannel is not installed: run .ci/install-kannel.sh")
        self.workdir.mkdir(parents=True, exist_ok=True)
        conf = self.workdir / "kannel.conf"
        conf.write_text(self.config_text(inbound_url))
        try:
            for binary in found:
                with open(self.workdir / f"{binary.name}.out", "wb") as out:
                    self._procs.append(
                        subprocess.Popen(
                            [str(binary), str(conf)],
                            stdout=out,
                            stderr=subprocess.STDOUT,
                            cwd=self.workdir,
                            start_new_session=True,
                        )
                    )
                port = self.admin_port if binary.name == "bearerbox" else self.sendsms_port
                self._wait(lambda p=port: _port_open(p), timeout, f"{binary.name} port")
            self._wait(lambda: self._http_status(self.sendsms_url) == 403, timeout, "sendsms")
            if connect:
                self.release(timeout)
        except BaseException:
            self.stop()
            raise

    def release(self, timeout: float = 10) -> None:
        """Connect as the SMSC (held MT, and then their reports, start to flow)."""
        sock = socket.create_connection(("127.0.0.1", self.smsc_port), timeout=5)
        sock.settimeout(None)
        self._sock = sock
        self._reader = threading.Thread(target=self._read, args=(sock,), daemon=True)
        self._reader.start()
        self._wait(lambda: self.smsc_status().startswith("online"), timeout, "SMSC online")

    def hold(self, timeout: float = 10) -> None:
        """Disconnect the SMSC: bearerbox keeps new MT (and so their reports) until release."""
        if self._sock is not None:
            self._sock.shutdown(socket.SHUT_RDWR)
            self._sock.close()
            self._sock = None
        if self._reader is not None:
            self._reader.join(5)
        self._wait(lambda: not self.smsc_status().startswith("online"), timeout, "SMSC down")

    def _read(self, sock: socket.socket) -> None:
        with sock.makefile("rb") as stream:
            try:
                for line in stream:
                    self.lines.put(line)
            except (OSError, ValueError):
                pass  # closed by hold()/stop()

    def read_line(self, timeout: float = 10) -> SmscLine:
        """The next MT line the SMSC got; AssertionError when none comes in time."""
        try:
            return SmscLine.parse(self.lines.get(timeout=timeout))
        except queue.Empty:
            raise AssertionError(f"no MT reached the fake SMSC within {timeout} s") from None

    def read_message(self, timeout: float = 10) -> SmscMessage:
        """The next whole MT, reassembling concatenated parts."""
        first = self.read_line(timeout)
        info = concat_info(first.udh) if first.type == "udh" else None
        if info is None:
            return SmscMessage((first,))
        ref, total, _seq = info
        parts = {info[2]: first}
        while len(parts) < total:
            line = self.read_line(timeout)
            other = concat_info(line.udh) if line.type == "udh" else None
            assert other is not None and other[0] == ref, f"interleaved MT: {line.raw!r}"
            parts[other[2]] = line
        return SmscMessage(tuple(parts[i] for i in sorted(parts)))

    def assert_no_line(self, wait: float = 1.0) -> None:
        """Nothing (more) reaches the SMSC within `wait` seconds."""
        try:
            line = self.lines.get(timeout=wait)
        except queue.Empty:
            return
        raise AssertionError(f"unexpected MT on the fake SMSC: {line!r}")

    def send_mo(self, sender: str, receiver: str, text: str) -> None:
        """A subscriber's message, as the SMSC sends it: a `text` line in UTF-8."""
        if "\n" in text or " " in sender + receiver:
            raise ValueError("one line per message: no newline in text, no space in numbers")
        assert self._sock is not None, "the SMSC is not connected (release() first)"
        self._sock.sendall(f"{sender} {receiver} text {text}\n".encode())

    def smsc_status(self) -> str:
        """The fake SMSC's state in bearerbox's status.xml ("online 3s", "re-connecting" …)."""
        url = f"{self.admin_url}/status.xml?password={ADMIN_PASSWORD}"
        with urllib.request.urlopen(url, timeout=5) as resp:
            body = resp.read().decode()
        start = body.find("<status>", body.find("<smsc>"))
        return body[start + 8 : body.find("</status>", start)] if start > 0 else ""

    def logs(self, lines: int = 40) -> str:
        """The last lines of both boxes' logs, for failure messages."""
        out = []
        for name in ("bearerbox.log", "smsbox.log", "bearerbox.out", "smsbox.out"):
            path = self.workdir / name
            if path.exists():
                tail = path.read_text(errors="replace").splitlines()[-lines:]
                out.append(f"--- {name}\n" + "\n".join(tail))
        return "\n".join(out)

    def stop(self) -> None:
        """Terminate both boxes (smsbox first), always; kill what does not stop in 10 s."""
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None
        for proc in reversed(self._procs):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in reversed(self._procs):
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        self._procs.clear()

    def __enter__(self) -> KannelHarness:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @staticmethod
    def _http_status(url: str) -> int | None:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                return resp.status
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError:
            return None

    def _wait(self, ready: object, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for proc in self._procs:
                if proc.poll() is not None:
                    raise RuntimeError(
                        f"a Kannel box exited ({proc.args[0]}, "
                        f"code {proc.returncode}):\n{self.logs()}"
                    )
            try:
                if ready():  # type: ignore[operator]
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"Kannel: {what} not ready in {timeout} s:\n{self.logs()}")


class SendsmsStandIn(ThreadingHTTPServer):
    """A stand-in for smsbox's sendsms (and bearerbox's status.xml) on 127.0.0.1:0, for unit
    tests: keeps connections alive like smsbox, records each request with the client's
    address, answers `answers[to]` (default 202 Accepted) after `delay` and `before_answer`."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _StandInHandler)
        self.requests: list[dict[str, object]] = []
        self.answers: dict[str, tuple[int, str]] = {}
        self.delay = 0.0
        self.before_answer: Callable[[dict[str, str]], None] | None = None
        self.in_flight = self.max_in_flight = 0
        self.lock = threading.Lock()
        self.admin_url = f"http://127.0.0.1:{self.server_port}"
        self.url = f"{self.admin_url}/cgi-bin/sendsms"

    def __enter__(self) -> SendsmsStandIn:
        threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()


class _StandInHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as smsbox does
    disable_nagle_algorithm = True  # headers and body go in two writes: no 40 ms stalls
    server: SendsmsStandIn

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        path, _, query = self.path.partition("?")
        args = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
        self.server.requests.append(
            {"path": path, "query": query, "args": args, "peer": self.client_address}
        )
        with self.server.lock:
            self.server.in_flight += 1
            self.server.max_in_flight = max(self.server.max_in_flight, self.server.in_flight)
        time.sleep(self.server.delay)
        with self.server.lock:
            self.server.in_flight -= 1
        if self.server.before_answer is not None:
            self.server.before_answer(args)
        key = "status.xml" if path.endswith("status.xml") else args.get("to", "")
        status, body = self.server.answers.get(key, (202, "0: Accepted for delivery"))
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


__all__ = ["KannelHarness", "SendsmsStandIn", "SmscLine", "SmscMessage", "require_kannel"]
