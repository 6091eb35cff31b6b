"""Accounts, contacts, channels, messages: the service API the TUI and serve drive (no UI)."""
