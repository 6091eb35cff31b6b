"""Identities and primitives: ed25519 keys, onion addresses, hybrid post-quantum KEM."""
