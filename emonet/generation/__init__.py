"""Chapter 02, *Generation*: the balanced prompt design, the offline face generator (the local
stand-in for a text-to-image model), image generation with a resumable manifest, and the
chapter's figures.
"""
