"""The node's assembly and its operations: what runs between the user interfaces and chat."""
