"""Chapter 01, *Taxonomy*: descriptor words, their overlaps, the 40 -> 8 basic-emotion mappings,
and the chapter's figures.
"""
