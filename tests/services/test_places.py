"""Place names as typed: the spellings a card may be stored under."""
import pytest

from services.places import spellings


@pytest.mark.parametrize("typed, stored", [
    ("上海", "上海市"), ("上海市", "上海"), ("广东", "广东省"), ("广东省", "广东"),
    ("内蒙古", "内蒙古自治区"), ("香港", "香港特别行政区"), ("锡林郭勒", "锡林郭勒盟"),
    ("广州", "广州市"), ("杭州市", "杭州"), ("ＳＨＡＮＧＨＡＩ", "SHANGHAI"), (" 北京 ", "北京市")])
def test_a_place_typed_finds_its_usual_spellings(typed, stored):
    assert stored in spellings(typed)


@pytest.mark.parametrize("typed, not_stored", [
    ("广州", "广"),  # 州 ends names: never taken off
    ("沙市", "沙"),  # a name of two characters keeps them
    ("Toronto", "Toronto市"),  # suffixes are for Chinese names
])
def test_names_are_not_cut_short(typed, not_stored):
    assert not_stored not in spellings(typed)
