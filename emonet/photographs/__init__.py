"""Chapter 08, *Real photographs*: the released model's outputs on FERD (and AffectNet) under
the authors' rule."""
