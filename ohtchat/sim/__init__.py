"""Virtual time and simulation helpers for running thousands of nodes in one process."""
