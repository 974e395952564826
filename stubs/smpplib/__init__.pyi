# Partial stubs for smpplib, which ships no type information: what relay.providers.smpp_session
# uses is typed, everything else is Any.
from typing import Any

def __getattr__(name: str) -> Any: ...
