"""Chapter 07, *Benchmarking any model*: the authors' VLM protocols, VLMs under them
(``emonet annotate``) and any model's scores through the paper's analysis (``emonet evaluate``)."""
