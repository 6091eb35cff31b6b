"""The handlers of every operation, one module per command group."""
