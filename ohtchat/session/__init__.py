"""Authenticated post-quantum sessions: the mutual handshake, AEAD channel, RPC and pooling."""
