"""The full-screen Textual client."""
