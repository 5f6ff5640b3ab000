"""tokensafe: an encrypted vault for API tokens, a sync guard and runtime injection."""

__version__ = "0.1.0"
