"""The typed contract between a node and every user interface: operations, results, events.

Standard library only, so any UI, bot or test can depend on it without pulling in the node.
"""
