"""Encrypted, crash-safe storage on TinyDB: accounts, contacts, channels, messages."""
