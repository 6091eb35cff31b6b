"""Ringcast: El-Ansary broadcast over fingers, signed by the origin, delivered exactly once."""
