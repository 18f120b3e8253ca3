"""emonet: the executable research compendium for EmoNet-Face (arXiv:2505.20033)."""

__version__ = "0.1.0"
