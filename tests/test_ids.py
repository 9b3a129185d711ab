"""The mock's fresh ids: UUID4 in form, never repeated within a process, new after a fork."""

from __future__ import annotations

import os
import uuid

from mockserver.ids import fresh_uuid, fresh_uuid_bytes


def _check_uuid4(value: str) -> None:
    parsed = uuid.UUID(value)
    assert str(parsed) == value
    assert parsed.version == 4 and parsed.variant == uuid.RFC_4122


def test_fresh_ids_are_version_4_rfc_4122_uuids_and_never_repeat() -> None:
    values = [fresh_uuid() for _ in range(5000)]
    values += [b.decode() for b in fresh_uuid_bytes(5000)]
    assert len(set(values)) == len(values)
    for value in values[:50] + values[-50:]:
        _check_uuid4(value)


def test_consecutive_ids_do_not_look_sequential() -> None:
    first, second = fresh_uuid(), fresh_uuid()
    tail_a, tail_b = int(first[-12:], 16), int(second[-12:], 16)
    assert abs(tail_a - tail_b) > 1_000_000


def test_a_forked_child_draws_other_ids_than_its_parent() -> None:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report one id and leave without running pytest's teardown
        try:
            os.write(write_end, fresh_uuid().encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        child = pipe.read().decode()
    os.waitpid(pid, 0)
    parent = fresh_uuid()
    _check_uuid4(child)
    assert child[:24] != parent[:24]  # a fresh random prefix, not the parent's
