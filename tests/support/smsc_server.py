"""A small but real SMSC for tests: SMPP 3.4 over TCP on 127.0.0.1, served from threads.

It speaks the wire protocol (PDUs built and parsed with smpplib's PDU classes, framed by
hand), so the adapter under test goes through a real socket, a real bind and real sequence
numbers. It records what it is sent and can be told to misbehave:

    with FakeSmsc(system_id="relay", password="secret") as smsc:
        smsc.throttle_next(1)            # the next submit_sm gets ESME_RTHROTTLED
        smsc.answer_next(0x0B)           # the next submit_sm is refused with that status
        smsc.hang_next(1)                # takes the next submit_sm and never answers it
        smsc.drop_after_next(1)          # takes it, then cuts the connection unanswered
        smsc.refuse_binds(2, 0x0D)       # the next two binds get ESME_RBINDFAIL
        smsc.push_receipt("msg-1")       # deliver_sm receipt to the bound client
        smsc.push_mo("79161234567", "900", "STOP")
        smsc.push("unbind")              # any request PDU; answers land in smsc.responses
        smsc.drop_connections()          # like a network failure
        smsc.wait_for(lambda: smsc.binds >= 2)

Every socket has a timeout and every thread stops on `stop()` (also on leaving the `with`).
"""

from __future__ import annotations

import itertools
import select
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from smpplib import smpp
from smpplib.client import SimpleSequenceGenerator

ESME_ROK, ESME_RINVPASWD, ESME_RINVSYSID, ESME_RTHROTTLED = 0x00, 0x0E, 0x0F, 0x58
ESME_RBINDFAIL = 0x0D
# what the SMSC does with a submit_sm it took (status ESME_ROK, an id given): answers it, or
# never answers ("hang"), or cuts the connection before answering ("drop")
ANSWERED, HUNG, DROPPED = "answered", "hung", "dropped"


@dataclass(frozen=True)
class Submit:
    """One submit_sm as the SMSC saw it."""

    source_addr: str
    source_addr_ton: int
    source_addr_npi: int
    destination_addr: str
    dest_addr_ton: int
    dest_addr_npi: int
    esm_class: int
    data_coding: int
    registered_delivery: int
    short_message: bytes
    status: int
    message_id: str | None
    fate: str = ANSWERED

    @property
    def taken(self) -> bool:
        """The SMSC took it (to deliver and bill), whether or not the client heard so."""
        return self.status == ESME_ROK

    @property
    def first_part(self) -> bool:
        """A whole message or the first part of a concatenated one (UDH part number 1)."""
        return not self.esm_class & 0x40 or self.short_message[5:6] == b"\x01"


def _s(value: Any) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else (value or "")


class _Conn:
    """One client connection: its socket, write lock and bind state."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.lock = threading.Lock()
        self.bound = False
        self.seq = SimpleSequenceGenerator()  # our own requests' sequence numbers (also a
        # stand-in "client" for smpplib's PDU classes, which only need `.sequence`/`.next_…`)

    def send(self, pdu: Any) -> None:
        with self.lock:
            self.sock.sendall(pdu.generate())


class FakeSmsc:
    """A threaded SMSC on 127.0.0.1:<free port>; see the module docstring."""

    def __init__(
        self, system_id: str = "relay", password: str = "secret", timeout: float = 5.0
    ) -> None:
        self.system_id, self.password, self.timeout = system_id, password, timeout
        self.host, self.port = "127.0.0.1", 0
        self.submits: list[Submit] = []
        self.responses: list[tuple[str, int, int]] = []  # client answers: (command, seq, status)
        self.binds = self.bind_failures = self.unbinds = self.enquire_links = 0
        self._throttle = self._throttle_after = 0
        self._statuses: list[int] = []  # command_status for the next submits, in order
        self._fates: list[str] = []  # HUNG / DROPPED for the next submits it takes
        self._bind_refusals: list[int] = []
        self._ids = itertools.count(1)
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._conns: list[_Conn] = []
        self._threads: list[threading.Thread] = []
        self._listener: socket.socket | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FakeSmsc:
        """Listen and accept in a background thread."""
        self._listener = socket.create_server((self.host, 0))
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self._spawn(self._accept_loop, "fake-smsc-accept")
        return self

    def stop(self) -> None:
        """Close every connection and the listener; join every thread."""
        self._stop.set()
        self.drop_connections()
        for thread in self._threads:
            thread.join(self.timeout)
        if self._listener is not None:
            self._listener.close()

    def __enter__(self) -> FakeSmsc:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- test controls -----------------------------------------------------------------------

    def throttle_next(self, count: int, after: int = 0) -> None:
        """Answer `count` submit_sm with ESME_RTHROTTLED, once `after` more have passed."""
        with self._cond:
            self._throttle, self._throttle_after = count, after

    def answer_next(self, status: int, count: int = 1, after: int = 0) -> None:
        """Answer `count` submit_sm with `status` (the SMSC refuses them), once `after` more
        have been answered normally."""
        with self._cond:
            self._statuses = [ESME_ROK] * after + [status] * count

    def hang_next(self, count: int = 1, after: int = 0) -> None:
        """Take `count` submit_sm (an id is given) and never answer them, once `after` more
        have been answered normally."""
        with self._cond:
            self._fates = [ANSWERED] * after + [HUNG] * count

    def drop_after_next(self, count: int = 1, after: int = 0) -> None:
        """Take `count` submit_sm, then cut the connection without answering, once `after`
        more have been answered normally."""
        with self._cond:
            self._fates = [ANSWERED] * after + [DROPPED] * count

    def refuse_binds(self, count: int, status: int = ESME_RBINDFAIL) -> None:
        """Answer the next `count` bind_transceiver with `status`."""
        with self._cond:
            self._bind_refusals += [status] * count

    @property
    def taken(self) -> list[Submit]:
        """Every submit_sm the SMSC took, answered or not."""
        with self._cond:
            return [s for s in self.submits if s.taken]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Wait until `predicate()` (re-checked on every event and every 50 ms)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
        return True

    def drop_connections(self) -> None:
        """Cut every client connection without an unbind (a network failure)."""
        with self._cond:
            conns, self._conns = self._conns, []
        for conn in conns:
            try:
                conn.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.sock.close()

    @property
    def bound_clients(self) -> int:
        """How many connections are currently bound."""
        with self._cond:
            return sum(1 for conn in self._conns if conn.bound)

    @property
    def deliver_resps(self) -> list[tuple[int, int]]:
        """(sequence, command_status) of every deliver_sm_resp received."""
        with self._cond:
            return [(seq, st) for cmd, seq, st in self.responses if cmd == "deliver_sm_resp"]

    def push(self, command: str, **fields: Any) -> int:
        """Send a request PDU to the (first) bound client; its sequence number."""
        conn = self._bound_conn()
        pdu = smpp.make_pdu(command, client=conn.seq, **fields)
        conn.send(pdu)
        return pdu.sequence

    def push_deliver(self, **fields: Any) -> int:
        """Send a deliver_sm with `fields` to the (first) bound client; its sequence number."""
        return self.push("deliver_sm", **fields)

    def push_receipt(
        self, message_id: str, stat: str = "DELIVRD", err: str = "000", with_tlvs: bool = False
    ) -> int:
        """A delivery receipt (esm_class 0x04) for `message_id` in the usual text format."""
        text = (
            f"id:{message_id} sub:001 dlvrd:{'001' if stat == 'DELIVRD' else '000'} "
            f"submit date:2601151200 done date:2601151201 stat:{stat} err:{err} text:"
        )
        tlvs: dict[str, Any] = {}
        if with_tlvs:
            states = {"DELIVRD": 2, "EXPIRED": 3, "UNDELIV": 5, "REJECTD": 8}
            tlvs = {"receipted_message_id": message_id, "message_state": states.get(stat, 7)}
        return self.push_deliver(
            source_addr_ton=1,
            source_addr_npi=1,
            source_addr="79990000000",
            dest_addr_ton=5,
            dest_addr_npi=0,
            destination_addr="SHOP",
            esm_class=0x04,
            data_coding=0,
            short_message=text.encode(),
            **tlvs,
        )

    def push_mo(
        self,
        source: str,
        destination: str,
        text: str,
        data_coding: int = 8,
        chunk: int | None = None,
        ref: int = 0x42,
    ) -> list[int]:
        """A subscriber message; with `chunk` (octets) it is cut blindly into UDH parts."""
        body = text.encode("utf-16-be" if data_coding == 8 else "latin-1")
        pieces = [body[i : i + chunk] for i in range(0, len(body), chunk)] if chunk else [body]
        common = dict(
            source_addr_ton=1,
            source_addr_npi=1,
            source_addr=source,
            dest_addr_ton=0,
            dest_addr_npi=1,
            destination_addr=destination,
            data_coding=data_coding,
        )
        if len(pieces) == 1:
            return [self.push_deliver(esm_class=0, short_message=body, **common)]
        return [
            self.push_deliver(
                esm_class=0x40,
                short_message=bytes((5, 0, 3, ref, len(pieces), seq)) + piece,
                **common,
            )
            for seq, piece in enumerate(pieces, start=1)
        ]

    # --- serving -----------------------------------------------------------------------------

    def _spawn(self, target: Callable[..., None], name: str, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _bound_conn(self) -> _Conn:
        if not self.wait_for(lambda: any(c.bound for c in self._conns), self.timeout):
            raise AssertionError("no client is bound to the fake SMSC")
        with self._cond:
            return next(c for c in self._conns if c.bound)

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            sock.settimeout(self.timeout)
            conn = _Conn(sock)
            with self._cond:
                self._conns.append(conn)
            self._spawn(self._serve, "fake-smsc-conn", conn)

    def _serve(self, conn: _Conn) -> None:
        try:
            while not self._stop.is_set():
                ready, _, _ = select.select([conn.sock], [], [], 0.05)
                if not ready:
                    continue
                pdu = self._read(conn.sock)
                if pdu is None or not self._handle(conn, pdu):
                    break
        except (OSError, ValueError):
            pass  # dropped by us or by the client
        finally:
            with self._cond:
                if conn in self._conns:
                    self._conns.remove(conn)
                self._cond.notify_all()
            conn.sock.close()

    def _read(self, sock: socket.socket) -> Any:
        header = self._recv(sock, 4)
        if header is None:
            return None
        (length,) = struct.unpack(">L", header)
        body = self._recv(sock, length - 4)
        if body is None:
            return None
        return smpp.parse_pdu(
            header + body, client=SimpleSequenceGenerator(), allow_unknown_opt_params=True
        )

    @staticmethod
    def _recv(sock: socket.socket, size: int) -> bytes | None:
        data = b""
        while len(data) < size:
            chunk = sock.recv(size - len(data))
            if not chunk:
                return None
            data += chunk
        return data

    def _reply(
        self, conn: _Conn, command: str, sequence: int, status: int = ESME_ROK, **fields: Any
    ) -> None:
        pdu = smpp.make_pdu(command, client=conn.seq, status=status, **fields)
        pdu.sequence = sequence
        conn.send(pdu)

    def _handle(self, conn: _Conn, pdu: Any) -> bool:
        """Answer one PDU; False ends the connection."""
        with self._cond:
            self._cond.notify_all()
        if pdu.command == "bind_transceiver":
            status = ESME_ROK
            if _s(pdu.system_id) != self.system_id:
                status = ESME_RINVSYSID
            elif _s(pdu.password) != self.password:
                status = ESME_RINVPASWD
            with self._cond:
                if status == ESME_ROK and self._bind_refusals:
                    status = self._bind_refusals.pop(0)
                conn.bound = status == ESME_ROK
                self.binds += status == ESME_ROK
                self.bind_failures += status != ESME_ROK
            self._reply(conn, "bind_transceiver_resp", pdu.sequence, status, system_id="FAKESMSC")
        elif pdu.command == "submit_sm":
            with self._cond:
                status = ESME_ROK
                if self._throttle_after > 0:
                    self._throttle_after -= 1
                elif self._throttle > 0:
                    self._throttle, status = self._throttle - 1, ESME_RTHROTTLED
                elif self._statuses:
                    status = self._statuses.pop(0)
                fate = ANSWERED
                if status == ESME_ROK and self._fates:
                    fate = self._fates.pop(0)
                message_id = f"{next(self._ids):08X}" if status == ESME_ROK else None
                self.submits.append(
                    Submit(
                        _s(pdu.source_addr),
                        pdu.source_addr_ton or 0,
                        pdu.source_addr_npi or 0,
                        _s(pdu.destination_addr),
                        pdu.dest_addr_ton or 0,
                        pdu.dest_addr_npi or 0,
                        pdu.esm_class or 0,
                        pdu.data_coding or 0,
                        pdu.registered_delivery or 0,
                        pdu.short_message or b"",
                        status,
                        message_id,
                        fate,
                    )
                )
                self._cond.notify_all()
            if fate == DROPPED:
                return False  # `_serve` closes the socket: the answer never goes out
            if fate == ANSWERED:
                self._reply(conn, "submit_sm_resp", pdu.sequence, status, message_id=message_id)
        elif pdu.command == "enquire_link":
            with self._cond:
                self.enquire_links += 1
            self._reply(conn, "enquire_link_resp", pdu.sequence)
        elif pdu.is_response():
            with self._cond:
                self.responses.append((pdu.command, pdu.sequence, pdu.status))
                if pdu.command == "unbind_resp":
                    conn.bound = False
            if pdu.command == "unbind_resp":
                return False
        elif pdu.command == "unbind":
            with self._cond:
                self.unbinds += 1
                conn.bound = False
            self._reply(conn, "unbind_resp", pdu.sequence)
            return False
        elif pdu.is_request():
            self._reply(conn, "generic_nack", pdu.sequence, 0x03)
        with self._cond:
            self._cond.notify_all()
        return True
