"""The vault file: format, keyslots, unlocking, locking and atomic writes. Knows no CLI."""
