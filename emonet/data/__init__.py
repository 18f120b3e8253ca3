"""Shared data layer: the taxonomy's names, the pinned upstream files, validating loaders and the
Hugging Face datasets.

- :mod:`emonet.data.taxonomy`: the 40 categories in canonical order, families, extra dimensions
  and name conversions at the edges of the data;
- :mod:`emonet.data.demographics`: the prompt slots (ethnicity strings and groups, ages, genders);
- :mod:`emonet.data.checksums`: SHA-256 and git blob ids of files and bytes (the one place);
- :mod:`emonet.data.registry`: the pinned upstream files and their checksummed resolution
  (mirror, cache, download);
- :mod:`emonet.data.loaders`: validating loaders of the upstream files (``binary.csv``,
  ``hq.csv``, ``guide.json``, the mappings, the released model's outputs);
- :mod:`emonet.data.snapshots`: Hugging Face hub artefacts fetched at a revision and checked after
  download;
- :mod:`emonet.data.hub`: the ``laion/emonet-face-*`` datasets in their published schemas through
  the ``datasets`` library;
- :mod:`emonet.data.join`: the HQ dataset's rows joined to ``hq.csv``'s images by the experts'
  ratings.

Nothing here imports a chapter's package.
"""
