"""Shared statistics: agreement coefficients vectorised over raters and emotions, bootstrap
resampling, and the one way to derive a random seed (:mod:`emonet.stats.seeds`).
"""
