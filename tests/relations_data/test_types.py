"""Attribute and Example.attributes: defaults, equality and positional construction."""

from __future__ import annotations

import dataclasses

import pytest

from nerkit.types import Attribute, Example, Relation, Span


def test_attributes_default_to_empty_and_old_positional_construction_still_works():
    example = Example("张三在北京", (Span(0, 2, "PER"),), None, (), "7", {"line": 1})
    assert example.attributes == ()
    assert example == Example("张三在北京", (Span(0, 2, "PER"),), id="7")


def test_attributes_take_part_in_equality_and_replace():
    base = Example("张冬梅，汉族", (Span(0, 3, "PER"),))
    with_attribute = dataclasses.replace(base, attributes=(Attribute(0, "民族", 4, 6),))
    assert with_attribute != base
    assert with_attribute.attribute_value(with_attribute.attributes[0]) == "汉族"
    assert with_attribute.relations == ()


def test_attribute_rejects_an_empty_value_range():
    with pytest.raises(ValueError, match=r"0 <= start < end, got start=3 end=3 name='民族'"):
        Attribute(0, "民族", 3, 3)


def test_relation_and_attribute_are_hashable_values():
    assert len({Relation(0, 1, "r"), Relation(0, 1, "r"), Attribute(0, "a", 1, 2)}) == 2
