"""Characters people's words may not hold where they are stored as one line (a finding, a
corrective action): whatever a terminal would act on or hide rather than show. Shared with
services/core/printable.py, which shows such characters as escapes in older text."""

from __future__ import annotations

import re
import unicodedata

# Bidirectional embeddings, overrides, isolates and marks: invisible, and they reorder text.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


# Every character `unsafe` names, as one pattern, so whole texts are checked at C speed: Cc is
# U+0000-U+001F and U+007F-U+009F, Cs the surrogates, Zl U+2028 and Zp U+2029 (fixed by
# Unicode's stability policy; tests/unit/test_printable.py checks every code point against it).
UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029" + "".join(sorted(BIDI_CONTROLS)) + "]"
)


def unsafe(char: str) -> bool:
    """A character a terminal would act on or hide rather than show."""
    if char in BIDI_CONTROLS:
        return True
    category = unicodedata.category(char)
    # Cc: C0, DEL and C1 controls (ESC among them); Cs: lone surrogates; Zl/Zp: line and
    # paragraph separators, which some terminals break lines on.
    return category in ("Cc", "Cs", "Zl", "Zp")


def printable_line(text: str) -> str:
    """`text` without its surrounding spaces, if it is one line of printable characters and
    not blank; ValueError naming the first character that is not (as an escape)."""
    stripped = text.strip()
    if not stripped:
        raise ValueError("must not be empty")
    bad = next((c for c in stripped if unsafe(c)), None)
    if bad is not None:
        code = ord(bad)
        shown = f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
        raise ValueError(f"holds a control character ({shown}): one line of plain text only")
    return stripped
