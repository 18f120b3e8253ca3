"""The demographic slots of EmoNet-Face's prompts: the 14 ethnicity strings and the 8 groups this
compendium balances and analyses them by, the authors' mapping of the strings to FairFace groups,
the ages (20-80 by decade) and the genders.
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


#: The authors' mapping of the 14 strings to the race groups of FairFace (Karkkainen and Joo,
#: 2021), from their ``statistics/worldmap.ipynb`` (``ETHNICITY_TO_FF``, commit ``f4d4dab``):
#: FairFace's 7 groups plus an eighth, "AI/AN-NHPI", for the two indigenous categories of the US
#: census, which FairFace does not have. Unlike :data:`ETHNICITY_GROUPS` it keeps "Asian" (East
#: Asian) and "Southeast Asian" apart and joins the two indigenous categories.
FAIRFACE_GROUPS: dict[str, tuple[str, ...]] = {
    "White": ("white caucasian european", "white caucasian north american", "White"),
    "Black": ("Black or African American",),
    "Latino": ("Hispanic or Latino",),
    "East Asian": ("Asian",),
    "Southeast Asian": ("Southeast Asian",),
    "Indian": ("Indian", "South Asian"),
    "Middle Eastern": ("Middle Eastern", "arabic", "North African"),
    "AI/AN-NHPI": ("American Indian or Alaska Native", "Native Hawaiian or Other Pacific Islander"),
}


FAIRFACE_OF: dict[str, str] = {s: g for g, members in FAIRFACE_GROUPS.items() for s in members}


AGES: tuple[int, ...] = (20, 30, 40, 50, 60, 70, 80)


GENDERS: tuple[str, ...] = ("man", "woman", "non-binary person")
