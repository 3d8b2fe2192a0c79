"""Names: pinyin and initials of Chinese names, for search and for sorting in pinyin order."""
import unicodedata

from pypinyin import lazy_pinyin


def pinyin_keys(name):
    """(full pinyin, initials) of a name, lower case without spaces: 张伟 -> ("zhangwei", "zw").

    Latin names pass through (lower-cased, accents and spaces removed), so one sort key serves
    Chinese and international cards alike.
    """
    text = unicodedata.normalize("NFKC", name or "").strip()
    syllables = [s for s in lazy_pinyin(text, errors=lambda chars: list(chars.split()))
                 if s.strip()]
    full = "".join(_ascii_fold(s) for s in syllables).lower()
    initials = "".join(_ascii_fold(s)[:1] for s in syllables).lower()
    return full[:600], initials[:100]


def _ascii_fold(text):
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if ch.isalnum() and not unicodedata.combining(ch))
