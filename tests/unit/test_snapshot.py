"""The generic snapshot codec and digests: any read model made of plain containers, Structs
and objects of ours round-trips exactly; anything else is refused, never written wrongly."""

from __future__ import annotations

import asyncio
import time
from collections import Counter, deque
from pathlib import Path
from typing import Any

import msgspec
import pytest

from tracker.checkpoints import fileformat, forked
from tracker.events.tasks import Outcome
from tracker.projections import digest, snapshot


@pytest.fixture(autouse=True)
def test_classes_may_be_named(monkeypatch: pytest.MonkeyPatch) -> None:
    """The classes below live in this test module: let snapshots name them (and only them)."""
    monkeypatch.setattr(snapshot, "PACKAGES", ("tracker.", __name__))
    snapshot.resolve_class.cache_clear()


class Item(msgspec.Struct):
    id: int
    name: str
    votes: dict[int, int] | None = None
    outcome: Outcome = Outcome.CLOSED


class Lane:
    __slots__ = ("ids", "size")

    def __init__(self) -> None:
        self.ids: deque[int] = deque()
        self.size = 0


class Model:
    def __init__(self) -> None:
        self.items: dict[int, Item] = {}
        self.pairs: dict[tuple[int, int], float] = {}
        self.lanes: dict[int, Lane] = {}
        self.ring: deque[str] = deque(maxlen=3)
        self.counts: Counter[str] = Counter()
        self.heap: list[tuple[float, int]] = []
        self.tags: set[str] = set()
        self.mixed: list[int | None] = [1, None, 3]
        self.blob = b"\x00\x01"
        self.empty: tuple = ()
        self.next_id = 1


class Two:
    def __init__(self) -> None:
        self.position = 0
        self.first = Model()
        self.second = Model()


def filled(size: int = 10) -> Two:
    state = Two()
    for model, base in ((state.first, 0), (state.second, 1000)):
        for i in range(size):
            model.items[base + i] = Item(base + i, f"item {i}", {7: i} if i % 2 else None)
            model.pairs[(i, i + 1)] = i / 2
            model.heap.append((float(i), i))
        lane = model.lanes[1] = Lane()
        lane.ids.extend(range(size))
        lane.size = size
        model.ring.extend(["a", "b", "c", "d"])
        model.counts.update(["x", "x", "y"])
        model.tags.update({"red", "blue"})
        model.next_id = base + size
    state.position = 42
    return state


async def anchor(position: int) -> bytes:
    return bytes(32)


def round_trip(state: Two, tmp_path: Path, fork: bool = True) -> Two:
    async def go() -> Two:
        path = tmp_path / "checkpoint.ckpt"
        written = await fileformat.write(state, path, "fingerprint", anchor, fork)
        assert written.pause < written.seconds
        restored = Two()
        fileformat.restore(await fileformat.load(path, "fingerprint"), restored)
        return restored

    return asyncio.run(go())


def attributes(state: Two) -> list[tuple[str, Any]]:
    return [(name, vars(model)) for name, model in snapshot.models(state)]


@pytest.mark.parametrize("size", [10, snapshot.CHUNK * 2 + 5])  # inline, and chunked blobs
@pytest.mark.parametrize("fork", [True, False], ids=["forked writer", "on the event loop"])
def test_read_models_round_trip_exactly_with_their_types(
    size: int, fork: bool, tmp_path: Path
) -> None:
    state = filled(size)

    restored = round_trip(state, tmp_path, fork)

    assert restored.position == 42
    first = restored.first
    assert first.items == state.first.items and type(first.items[1].outcome) is Outcome
    assert list(first.pairs) == list(state.first.pairs) and first.pairs == state.first.pairs
    assert first.lanes[1].ids == state.first.lanes[1].ids and first.lanes[1].size == size
    assert first.ring == deque(["b", "c", "d"]) and first.ring.maxlen == 3
    assert type(first.counts) is Counter and first.counts == Counter(x=2, y=1)
    assert first.heap == state.first.heap and type(first.heap[0]) is tuple
    assert first.tags == {"red", "blue"} and first.mixed == [1, None, 3]
    assert first.blob == b"\x00\x01" and first.empty == ()
    assert digest.compute(restored) == digest.compute(state)


def test_a_digest_changes_with_any_value_and_with_order(tmp_path: Path) -> None:
    state = filled()
    before = digest.compute(state)

    state.second.items[1003].name = "changed"
    changed = digest.compute(state)
    state.second.items[1003].name = "item 3"
    state.first.items = dict(reversed(list(state.first.items.items())))
    reordered = digest.compute(state)

    assert changed["first"] == before["first"] and changed["second"] != before["second"]
    assert changed["second"]["items"] != before["second"]["items"]
    assert changed["second"]["pairs"] == before["second"]["pairs"]
    assert reordered["first"]["items"] != before["first"]["items"]


def test_a_set_digests_the_same_whatever_its_iteration_order() -> None:
    """Sets iterate in an order that depends on string hashing (random per process) and on
    their history; digests and checkpoints write them sorted, so only members count."""
    state, other = filled(), filled()
    words = [f"w{n}" for n in range(50)]
    state.first.tags = set(words)
    other.first.tags = set(reversed(words))
    for extra in ("x", "y"):  # a different history: grown, then shrunk back
        other.first.tags.add(extra)
    other.first.tags -= {"x", "y"}
    big = [f"b{n}" for n in range(snapshot.CHUNK + 5)]  # a set written in chunks
    state.second.tags, other.second.tags = set(big), set(reversed(big))
    assert digest.compute(state) == digest.compute(other)
    assert snapshot.in_order({"b", "a", "c"}) == ["a", "b", "c"]
    assert snapshot.in_order({1, None, "a"}) == [None, 1, "a"]  # mixed: by type name first


def test_key_digests_name_the_entry_that_differs() -> None:
    state, other = filled(), filled()
    other.first.items[4].votes = {9: 9}

    mine, theirs = digest.key_digests(state, ["first"]), digest.key_digests(other, ["first"])

    differing = [k for k in mine["first"]["items"] if mine["first"]["items"][k]
                 != theirs["first"]["items"][k]]  # fmt: skip
    assert differing == ["4"]
    assert list(mine["first"]["pairs"])[0] == "[0,1]"
    assert mine["first"]["next_id"] == theirs["first"]["next_id"]


class Foreign:
    """A class outside the tracker package: never named in a snapshot."""


Foreign.__module__ = "somewhere.else"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (lambda: None, "cannot snapshot"),
        (Foreign(), "cannot snapshot a somewhere.else:Foreign"),
        ([Lane(), {1: 2}], None),  # a list of objects is fine
    ],
)
def test_values_it_cannot_restore_faithfully_are_refused(value: Any, reason: str | None) -> None:
    state = filled()
    state.first.extra = value  # type: ignore[attr-defined]
    if reason is None:
        snapshot.Plan().node(state.first, "first")
        return
    with pytest.raises(snapshot.Unsupported, match=reason):
        snapshot.Plan().node(state.first, "first")


@pytest.mark.parametrize("fork", [True, False], ids=["forked writer", "on the event loop"])
def test_a_writer_refuses_what_it_cannot_snapshot_and_leaves_no_file(
    fork: bool, tmp_path: Path
) -> None:
    state = filled()
    state.second.callback = print  # type: ignore[attr-defined]
    path = tmp_path / "checkpoint.ckpt"

    with pytest.raises(snapshot.Unsupported, match=r"second\.callback: cannot snapshot"):
        asyncio.run(fileformat.write(state, path, "fingerprint", anchor, fork))

    assert list(tmp_path.iterdir()) == []


def test_an_object_reachable_twice_is_refused() -> None:
    state = filled()
    state.first.alias = state.first.lanes[1]  # type: ignore[attr-defined]

    with pytest.raises(snapshot.Unsupported, match="reachable twice"):
        snapshot.Plan().node(state.first, "first")


def test_a_snapshot_never_names_a_class_outside_the_tracker_package() -> None:
    with pytest.raises(ValueError, match="outside"):
        snapshot.resolve_class("os:system")


def test_a_forked_writer_that_hangs_is_killed_and_reported(tmp_path: Path) -> None:
    def hang(state: Any, fingerprint: str, put: Any) -> None:
        time.sleep(60)  # the scenario: a writer that hangs (killed after 0.3 s)

    started = time.monotonic()
    with pytest.raises(forked.WriterFailed, match="exit -9"):
        asyncio.run(forked.encode_in_child(filled(), "fp", tmp_path / "x.tmp", hang, limit=0.3))

    assert time.monotonic() - started < 5
