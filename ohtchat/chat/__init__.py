"""Accounts, contacts, channels, messages: the chat logic between accounts (no UI, no commands)."""
