"""The baseline job: does nothing (one RQ job per message)."""


def noop(_message_id: str) -> None:
    """Nothing at all."""
