"""How a table reads on a page: no bare row numbers, headers in words with units, numbers rounded
for reading (the CSV under ``artifacts/`` keeps full precision), long tables in their own
scrolling box (``book/_static/emonet.css``)."""

from __future__ import annotations

import pandas as pd

#: Headers readers see for the column names the tables share; others: underscores become spaces.
HEADERS: dict[str, str] = {
    "n": "n",
    "n_images": "images",
    "n_emotions": "emotions",
    "n_items": "items",
    "ci_low": "95% CI low",
    "ci_high": "95% CI high",
    "mean_rho": "mean ρ",
    "rho": "ρ",
    "mean_kappa": "mean κ",
    "kappa": "κ",
    "alpha": "α",
    "p_value": "p",
    "p": "p",
    "p_holm": "p (Holm)",
    "sd": "SD",
    "mae": "mean abs. error (0–7)",
    "seconds": "time (s)",
    "images_per_s": "images/s",
    "ms_per_image": "ms/image",
    "width": "width (px)",
    "height": "height (px)",
    "bytes": "bytes",
    "sha256": "SHA-256",
    "mean_difference": "mean difference",
    "share": "share",
    "could_be": "could be an annotator",
    # two-sample comparisons: a group or annotator (1) against a reference group or the experts (2)
    "group1": "group",
    "group2": "reference group",
    "n1": "n",
    "n2": "n (reference)",
    "mean1": "mean",
    "mean2": "mean (reference)",
    "u": "Mann–Whitney U",
    "reject": "rejected (Holm)",
    "wald_chi2": "Wald χ²",
    "kappa_low": "κ low",
    "kappa_high": "κ high",
    "rho_low": "ρ low",
    "rho_high": "ρ high",
}
#: Column names whose values are p-values: shown with 2 significant digits.
P_VALUES = ("p", "p_value", "p_holm", "could_be_p")


def header(name) -> str:
    """What a reader sees as the header of column ``name``."""
    if not isinstance(name, str):
        return name
    return HEADERS.get(name, name.replace("_", " "))


def readable(frame: pd.DataFrame, decimals: int = 3, headers: dict | None = None):
    """``frame`` styled for a page: a plain row number index hidden, headers from :data:`HEADERS`
    (and ``headers``), floats rounded to ``decimals`` (p-values to 2 significant digits),
    integers (and float columns of whole numbers, such as a U statistic) with thousands separators,
    booleans as yes/no, missing values as a dash."""
    names = {**HEADERS, **(headers or {})}
    shown = frame.rename(columns=lambda c: names.get(c, header(c)) if isinstance(c, str) else c)
    formats = {}
    for original, column in zip(frame.columns, shown.columns):
        values = frame[original]
        if pd.api.types.is_bool_dtype(values):
            formats[column] = lambda v: "yes" if v else "no"
        elif pd.api.types.is_integer_dtype(values):
            formats[column] = "{:,}"
        elif pd.api.types.is_float_dtype(values) and original in P_VALUES:
            formats[column] = "{:.2g}"
        elif pd.api.types.is_float_dtype(values) and _whole(values):
            formats[column] = "{:,.0f}"
        elif pd.api.types.is_float_dtype(values):
            formats[column] = f"{{:,.{decimals}f}}"
    styler = shown.style.format(formats, na_rep="–")
    if isinstance(frame.index, pd.RangeIndex):
        styler = styler.hide(axis="index")
    return styler


def _whole(values: pd.Series) -> bool:
    """Whether every value of a float column that is not missing is a whole number."""
    finite = values.dropna().to_numpy()
    return len(finite) > 0 and bool((finite == finite.round()).all())
