"""The demographic slots of EmoNet-Face's prompts: the 14 ethnicity strings and the 8 groups this
compendium balances and analyses them by, the ages (20-80 by decade) and the genders.
"""

from __future__ import annotations

#: The 14 ethnicity strings of the paper's prompts, grouped into 8 broader groups for balance
#: and analysis. Grouping: strings that name the same population (three spellings of "white",
#: "Middle Eastern"/"North African"/"arabic", "South Asian"/"Indian", "Asian"/"Southeast Asian")
#: share a group; the two indigenous categories of the US census stay apart.
ETHNICITY_GROUPS: dict[str, tuple[str, ...]] = {
    "White": ("White", "white caucasian north american", "white caucasian european"),
    "Black": ("Black or African American",),
    "East & Southeast Asian": ("Asian", "Southeast Asian"),
    "South Asian": ("South Asian", "Indian"),
    "Middle Eastern & North African": ("Middle Eastern", "North African", "arabic"),
    "Hispanic or Latino": ("Hispanic or Latino",),
    "American Indian or Alaska Native": ("American Indian or Alaska Native",),
    "Pacific Islander": ("Native Hawaiian or Other Pacific Islander",),
}


ETHNICITIES: tuple[str, ...] = tuple(s for g in ETHNICITY_GROUPS.values() for s in g)


GROUP_OF: dict[str, str] = {s: g for g, members in ETHNICITY_GROUPS.items() for s in members}


AGES: tuple[int, ...] = (20, 30, 40, 50, 60, 70, 80)


GENDERS: tuple[str, ...] = ("man", "woman", "non-binary person")
