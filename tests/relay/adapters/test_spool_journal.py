"""The journal file: durable records, a torn tail ends it, replay progress survives."""

from __future__ import annotations

from relay.adapters import spool_journal
from relay.adapters.spool_journal import Journal


def test_records_read_back_in_order_and_a_torn_tail_is_ignored(tmp_path):
    path = tmp_path / "intake-a.journal"
    journal = Journal(path)
    journal.append(b"one")
    journal.append(b"two\nlines")
    journal.close()
    with path.open("ab") as fh:  # a process killed in the middle of a write
        fh.write(b"40 0000beef\npartial")
    entries = list(spool_journal.read_entries(path))
    assert [e.payload for e in entries] == [b"one", b"two\nlines"]
    spool_journal.mark_done(path, entries[0].end)
    assert [
        e.payload for e in spool_journal.read_entries(path, spool_journal.done_offset(path))
    ] == [b"two\nlines"]


def test_a_corrupt_record_stops_the_reading(tmp_path):
    path = tmp_path / "intake-b.journal"
    journal = Journal(path)
    journal.append(b"good")
    journal.append(b"flipped")
    journal.close()
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x01
    path.write_bytes(bytes(data))
    assert [e.payload for e in spool_journal.read_entries(path)] == [b"good"]


def test_a_live_journal_is_locked_and_a_dead_ones_lock_can_be_taken(tmp_path):
    path = tmp_path / "intake-c.journal"
    journal = Journal(path)
    assert spool_journal.try_lock(path) is None
    journal.close()
    fd = spool_journal.try_lock(path)
    assert fd is not None
