from typing import Any

SMPP_CLIENT_STATE_CLOSED: int
SMPP_CLIENT_STATE_OPEN: int
STATE_SETTERS: dict[str, int]

def __getattr__(name: str) -> Any: ...
