"""Bytes on the wire: length-prefixed frames and the typed, versioned message envelope."""
