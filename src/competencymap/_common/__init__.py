"""Shared by every layer: errors, settings, text checks, a bounded cache, file checksums."""
