"""How big anything a person types may be, and how long a list reply may be.

One place, so the command line can refuse before sending and every service refuses the same
request the same way before anything is stored. Every reply must fit the server's max payload
(1 MB by default): these bounds keep each stored record small, and list queries page.
"""

from __future__ import annotations

TITLE_MAX = 200  # characters: a headline, not a report
ATTRIBUTES_MAX = 32  # attributes on one incident: they feed playbook conditions
ATTRIBUTE_KEY_MAX = 63  # characters, a snake_case name
ATTRIBUTE_VALUE_MAX = 500  # characters
INVOLVED_MAX = 20  # roster members named as involved in one incident
NOTE_MAX = 4000  # characters in a completion note
REASON_MAX = 1000  # characters in a decline reason
FINDING_MAX = 1000  # characters in a finding of an after-action review: a paragraph

LIST_LIMIT_DEFAULT = 50  # items in one page of a list reply
LIST_LIMIT_MAX = 500
CURSOR_MAX = 512  # characters of an opaque page cursor

# What a field is called on the command line, for one-line refusals that name the flag.
FLAGS = {
    "title": "--title",
    "attributes": "--attr",
    "involved": "--involved",
    "note": "--note",
    "reason": "--reason",
    "limit": "--limit",
    "cursor": "--cursor",
}
