import socket
from typing import Any

class Client:
    state: int
    _socket: socket.socket | None
    def __init__(
        self,
        host: str,
        port: int,
        timeout: float = ...,
        sequence_generator: Any = ...,
        logger_name: str | None = ...,
        ssl_context: Any = ...,
        allow_unknown_opt_params: bool | None = ...,
    ) -> None: ...
    def _recv_exact(self, exact_size: int) -> bytes: ...
    def read_pdu(self) -> Any: ...
    def __getattr__(self, name: str) -> Any: ...
