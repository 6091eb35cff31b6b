"""The client's screens: first run, unlock, main, ring tables, help, search results."""
