"""``frozen_record``: what the CLI's records and the mpp codec rely on from a frozen dataclass."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import pytest

from link_cli._records import EMPTY_MAPPING, frozen_record, replace


@frozen_record
class Offer:
    method: str
    amount: int = 0
    extra: Mapping[str, Any] = EMPTY_MAPPING

    def __post_init__(self) -> None:
        if self.amount < 0:
            raise ValueError("amount must not be negative")
        object.__setattr__(self, "extra", MappingProxyType(dict(self.extra)))


def test_fields_take_positions_keywords_and_defaults() -> None:
    assert Offer("stripe", 250) == Offer(method="stripe", amount=250)
    assert Offer("stripe").amount == 0 and dict(Offer("stripe").extra) == {}
    assert repr(Offer("stripe", 5)) == "Offer(method='stripe', amount=5, extra=mappingproxy({}))"
    with pytest.raises(TypeError, match="missing argument 'method'"):
        Offer()  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected or repeated argument 'method'"):
        Offer("stripe", method="tempo")  # type: ignore[misc]
    with pytest.raises(TypeError, match="at most 3 positional"):
        Offer("stripe", 1, {}, "more")  # type: ignore[call-arg]


def test_records_are_immutable_hashable_and_equal_by_value_and_type() -> None:
    offer = Offer("stripe", 250)
    with pytest.raises(AttributeError, match="frozen Offer"):
        offer.amount = 1  # type: ignore[misc]
    with pytest.raises(AttributeError, match="cannot delete field 'amount'"):
        del offer.amount
    assert offer != Offer("stripe", 251)

    @frozen_record
    class Price:
        amount: int
        currency: str = "usd"

    assert hash(Price(250)) == hash(Price(250, "usd"))
    assert len({Price(250), Price(250), Price(251)}) == 2

    @frozen_record
    class Other:
        method: str
        amount: int = 0
        extra: Mapping[str, Any] = EMPTY_MAPPING

    assert offer != Other("stripe", 250)  # type: ignore[comparison-overlap]
    match offer:
        case Offer(method, amount):
            assert (method, amount) == ("stripe", 250)


def test_post_init_validates_and_replace_runs_it_again() -> None:
    given = {"note": "a"}
    offer = Offer("stripe", 1, given)
    given["note"] = "changed"
    assert offer.extra["note"] == "a"  # copied at construction
    assert replace(offer, amount=9) == Offer("stripe", 9, {"note": "a"})
    assert offer.amount == 1  # the original is unchanged
    with pytest.raises(ValueError, match="negative"):
        replace(offer, amount=-1)
    with pytest.raises(TypeError, match="no field 'price'"):
        replace(offer, price=3)


def test_the_shared_empty_mapping_cannot_be_changed() -> None:
    with pytest.raises(TypeError):
        EMPTY_MAPPING["x"] = 1  # type: ignore[index]


def test_a_codec_record_is_copied_with_the_packages_replace() -> None:
    from link_cli.mpp import Challenge, replace

    challenge = Challenge("ch_1", "api.example", "stripe", "charge", "e30")
    other = replace(challenge, method="tempo")
    assert (other.method, other.id, challenge.method) == ("tempo", "ch_1", "stripe")
    assert other.__replace__(method="stripe") == challenge  # what copy.replace calls (3.13+)
