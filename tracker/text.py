"""Text hygiene: characters no one types on purpose and that can disguise what text says.

Refused wherever text comes in (forms, imports, the API): bidirectional embeddings, overrides
and isolates (U+202A–U+202E, U+2066–U+2069, the "Trojan Source" characters, which can make
a file name ending ``exe`` read as one ending ``pdf``), the C0 and C1 control characters, and NUL.
Tab and newline (and carriage return) are allowed where the text may have several lines.
The marks U+200E/U+200F (left-to-right and right-to-left mark) stay allowed: mixed Urdu and
English text needs them.
"""
import re
import unicodedata

from flask_babel import gettext as _

_BIDI = "\u202a-\u202e\u2066-\u2069"
_SINGLE_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}]")
_MULTI_LINE = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI}]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def hidden_character(text: str, multiline: bool = False) -> str | None:
    """The first refused character of ``text`` as "U+202E (RIGHT-TO-LEFT OVERRIDE)", or None."""
    if not isinstance(text, str):
        return None
    found = (_MULTI_LINE if multiline else _SINGLE_LINE).search(text) or _SURROGATE.search(text)
    if found is None:
        return None
    char = found.group()
    name = unicodedata.name(char, "")
    if not name and char in "\t\n\r":
        name = {"\t": "TAB", "\n": "LINE FEED", "\r": "CARRIAGE RETURN"}[char]
    return f"U+{ord(char):04X}" + (f" ({name})" if name else "")


def hidden_character_message(text: str, multiline: bool = False, field: str = "") -> str | None:
    """The message for a field holding a refused character, or None when the text is clean."""
    found = hidden_character(text, multiline)
    if found is None:
        return None
    if field:
        return _("%(field)s contains a hidden control character (%(char)s) that could disguise "
                 "the text; remove it and try again.", field=field, char=found)
    return _("contains a hidden control character (%(char)s) that could disguise the text; "
             "remove it and try again", char=found)
