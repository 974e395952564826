"""One bound SMPP transceiver connection, shared by the threads of one provider instance.

smpplib's `Client` is synchronous: `send_message` returns before the answer and `listen()`
reads everything in one loop. A transceiver gets requests (deliver_sm, enquire_link, unbind)
interleaved with the answers to its own submits, so here a single reader thread reads every
PDU: answers are matched to their request by sequence number and wake the waiting sender;
requests are answered at once. The same thread sends enquire_link when the link has been
idle for `enquire_link_interval` and declares the link dead when one goes unanswered.

Writes (from senders and from the reader) share one lock; sequence numbers are taken under it.
"""

from __future__ import annotations

import logging
import select
import socket
import struct
import threading
import time
from collections.abc import Callable
from typing import Any

from smpplib import consts, exceptions, smpp
from smpplib.client import Client

log = logging.getLogger("relay.providers.smpp")

ESME_RINVCMDID, ESME_RSYSERR, ESME_RX_T_APPN = 0x03, 0x08, 0x64
MAX_PDU = 64 * 1024  # anything larger is a broken stream, not a PDU

DeliverHandler = Callable[[Any], int]


class SmppLinkError(Exception):
    """The connection is down or could not be made; a request was NOT written."""


class SmppNoAnswer(SmppLinkError):
    """A request WAS written but its answer never came (no answer in time, or the link was
    lost while waiting): the SMSC may have acted on it, so a submit_sm must not be resent."""


class SmppBindError(Exception):
    """The SMSC refused the bind with a command_status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class _Unparsable(Exception):
    """A whole PDU was read but smpplib could not parse it (unknown command or TLV)."""

    def __init__(self, header: bytes) -> None:
        super().__init__("unparsable PDU")
        self.command_id, self.sequence = struct.unpack(">L4xL", header[4:16])


class _Client(Client):
    """smpplib's client, reading a whole PDU before parsing so a bad one keeps us in sync."""

    def read_pdu(self) -> Any:
        raw_len = self._recv_exact(4)
        (length,) = struct.unpack(">L", raw_len)
        if not 16 <= length <= MAX_PDU:
            raise exceptions.ConnectionError(f"broken stream: PDU length {length}")
        raw = raw_len + self._recv_exact(length - 4)
        try:
            pdu = smpp.parse_pdu(raw, client=self, allow_unknown_opt_params=True)
        except (exceptions.UnknownCommandError, KeyError, ValueError, struct.error) as exc:
            raise _Unparsable(raw[:16]) from exc
        if pdu is None:
            raise _Unparsable(raw[:16])
        if not pdu.is_error() and pdu.command in consts.STATE_SETTERS:
            self.state = consts.STATE_SETTERS[pdu.command]
        return pdu


class _Waiter:
    __slots__ = ("event", "pdu", "error")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.pdu: Any = None
        self.error: Exception | None = None


class SmppSession:
    """A transceiver bind: `bind()`, then `start()` the reader, `request()`, `close()`."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        timeout: float,
        enquire_link_interval: float,
        on_deliver: DeliverHandler,
        name: str = "smpp",
    ) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.enquire_link_interval = enquire_link_interval
        self.on_deliver = on_deliver
        self.name = name
        self.client = _Client(
            host,
            port,
            timeout=timeout,
            allow_unknown_opt_params=True,
            logger_name=f"relay.providers.smpp.{name}",
        )
        self._wlock = threading.Lock()
        self._plock = threading.Lock()
        self._pending: dict[int, _Waiter] = {}
        self._bound = False
        self.system_id = ""  # the SMSC's, from bind_transceiver_resp
        self._dead = threading.Event()
        self._closing = False
        self._reader: threading.Thread | None = None
        self._last_io = time.monotonic()
        self._enquire: tuple[int, float] | None = None  # (sequence, sent at) while outstanding

    @property
    def alive(self) -> bool:
        """Bound and not (yet) found dead."""
        return self._bound and not self._dead.is_set()

    def bind(self, system_id: str, password: str, system_type: str = "") -> str:
        """Connect and bind_transceiver; the SMSC's system_id. SmppLinkError / SmppBindError."""
        try:
            self.client.connect()
            resp = self.client.bind_transceiver(
                system_id=system_id,
                password=password,
                system_type=system_type or None,
            )
        except exceptions.PDUError as exc:
            self._drop()
            status = exc.args[1] if len(exc.args) > 1 else ESME_RSYSERR
            raise SmppBindError(int(status), str(exc.args[0])) from exc
        except (exceptions.ConnectionError, OSError, _Unparsable) as exc:
            self._drop()
            raise SmppLinkError(f"cannot bind to {self.host}:{self.port}: {exc!r}") from exc
        self._bound = True
        self._last_io = time.monotonic()
        self.system_id = as_text(resp.system_id)
        return self.system_id

    def start(self) -> None:
        """Start the reader thread (daemon: it never holds a process open)."""
        self._reader = threading.Thread(
            target=self._read_loop, daemon=True, name=f"smpp-reader-{self.name}"
        )
        self._reader.start()

    def request(self, command: str, timeout: float | None = None, **fields: Any) -> Any:
        """Send a request PDU and wait for its answer (any command_status)."""
        if not self.alive:
            raise SmppLinkError("not bound")
        waiter = _Waiter()
        with self._wlock:
            if self._dead.is_set():  # lost since the check above: nothing written yet
                raise SmppLinkError("not bound")
            pdu = smpp.make_pdu(command, client=self.client, **fields)
            with self._plock:
                self._pending[pdu.sequence] = waiter
            try:
                self._write(pdu)
            except SmppLinkError:
                with self._plock:
                    self._pending.pop(pdu.sequence, None)
                raise
        if not waiter.event.wait(self.timeout if timeout is None else timeout):
            with self._plock:
                self._pending.pop(pdu.sequence, None)
            raise SmppNoAnswer(f"no answer to {command} within {timeout or self.timeout} s")
        if waiter.error is not None:
            raise waiter.error
        return waiter.pdu

    def close(self, unbind: bool = True) -> None:
        """Unbind (politely, briefly), stop the reader and close the socket."""
        self._closing = True  # the SMSC closing after unbind_resp is expected, not a loss
        if unbind and self.alive:
            try:
                self.request("unbind", timeout=min(self.timeout, 2.0))
            except (SmppLinkError, exceptions.PDUError) as exc:
                log.debug("unbind failed: %r", exc)
        self._dead.set()
        reader = self._reader
        if reader is None:
            self._drop()
            return
        sock = self.client._socket
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes the reader's select with EOF
            except OSError:
                pass
        if reader is not threading.current_thread():
            reader.join(self.timeout + 1)

    # --- internals -------------------------------------------------------------------------

    def _write(self, pdu: Any) -> None:
        try:
            self.client.send_pdu(pdu)
        except (exceptions.ConnectionError, exceptions.PDUError, OSError, AttributeError) as exc:
            self._dead.set()
            raise SmppLinkError(f"send failed: {exc!r}") from exc
        self._last_io = time.monotonic()

    def _answer(self, command: str, sequence: int, status: int = 0) -> None:
        with self._wlock:
            pdu = smpp.make_pdu(command, client=self.client, status=status)
            pdu.sequence = sequence
            self._write(pdu)

    def _read_loop(self) -> None:
        tick = max(0.02, min(0.25, self.enquire_link_interval / 3))
        error: Exception | None = None
        try:
            while not self._dead.is_set():
                sock = self.client._socket
                if sock is None:
                    break
                ready, _, _ = select.select([sock], [], [], tick)
                if not ready:
                    self._keepalive()
                    continue
                try:
                    pdu = self.client.read_pdu()
                except _Unparsable as bad:
                    if not bad.command_id & 0x80000000:  # a request we must still answer
                        self._answer("generic_nack", bad.sequence, ESME_RINVCMDID)
                    continue
                self._last_io = time.monotonic()
                self._dispatch(pdu)
        except (exceptions.ConnectionError, SmppLinkError, OSError, ValueError) as exc:
            error = exc
        finally:
            if not (self._dead.is_set() or self._closing):
                log.warning("smpp link %s lost: %r", self.name, error)
            self._dead.set()
            self._fail_pending(SmppNoAnswer(f"connection lost while waiting: {error!r}"))
            self._drop()

    def _dispatch(self, pdu: Any) -> None:
        if pdu.is_response():
            with self._plock:
                waiter = self._pending.pop(pdu.sequence, None)
            if self._enquire and self._enquire[0] == pdu.sequence:
                self._enquire = None
            if waiter is not None:
                waiter.pdu = pdu
                waiter.event.set()
            return
        if pdu.command == "deliver_sm":
            try:
                status = self.on_deliver(pdu)
            except Exception:  # the hook failed: ask the SMSC to redeliver later
                log.exception("smpp deliver_sm handler failed")
                status = ESME_RX_T_APPN
            self._answer("deliver_sm_resp", pdu.sequence, status)
        elif pdu.command == "enquire_link":
            self._answer("enquire_link_resp", pdu.sequence)
        elif pdu.command == "unbind":
            self._answer("unbind_resp", pdu.sequence)
            raise SmppLinkError("unbound by the SMSC")
        elif pdu.command != "alert_notification":
            self._answer("generic_nack", pdu.sequence, ESME_RINVCMDID)

    def _keepalive(self) -> None:
        now = time.monotonic()
        if self._enquire is not None:
            if now - self._enquire[1] > self.timeout:
                raise SmppLinkError("enquire_link unanswered")
            return
        if now - self._last_io >= self.enquire_link_interval:
            with self._wlock:
                pdu = smpp.make_pdu("enquire_link", client=self.client)
                self._enquire = (pdu.sequence, now)
                self._write(pdu)

    def _fail_pending(self, error: Exception) -> None:
        with self._plock:
            waiters, self._pending = list(self._pending.values()), {}
        for waiter in waiters:
            waiter.error = error
            waiter.event.set()

    def _drop(self) -> None:
        with self._wlock:
            if self.client._socket is not None:
                self.client.state = consts.SMPP_CLIENT_STATE_OPEN  # no "closed while bound" noise
                self.client.disconnect()
            self.client.state = consts.SMPP_CLIENT_STATE_CLOSED


def as_text(value: Any) -> str:
    """smpplib gives C-octet strings as bytes when parsed, str when set by us."""
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return "" if value is None else str(value)
