"""Place names as people type them: 上海 for 上海市, 广东 for 广东省, 内蒙古 for 内蒙古自治区.
A card stores what it was given (a form, an import, the portal); a filter on a province or a
city finds the cards stored under any usual spelling of the name typed."""
import unicodedata

# The suffixes of provinces and cities that people leave off, longest first. Not 州 or 区:
# they end names too (广州, 杭州), and districts have their own field.
SUFFIXES = ("特别行政区", "自治区", "自治州", "地区", "省", "市", "盟")


def spellings(name):
    """The names a card may store for the place typed as ``name``: the name, the name without
    its suffix, and the bare name with each suffix. ``上海`` -> 上海, 上海市, 上海省, ...;
    ``上海市`` -> the same. Names without a Chinese suffix stay themselves (Toronto)."""
    name = unicodedata.normalize("NFKC", name).strip()
    bare = next((name[:-len(s)] for s in SUFFIXES if name.endswith(s)
                 and len(name) - len(s) >= 2), name)
    if not _is_chinese(bare):
        return [name]
    return list(dict.fromkeys([name, bare] + [bare + suffix for suffix in SUFFIXES]))


def _is_chinese(text):
    return bool(text) and all("\u4e00" <= ch <= "\u9fff" for ch in text)
