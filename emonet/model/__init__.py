"""Chapter 05, *Training*: the SigLIP2 encoder with its embedding cache, the 40 heads as one
batched module, the authors' released heads, the training recipe and its ablation, scoring, the
chapter's figures, and its page (:mod:`emonet.model.chapter`).
"""
