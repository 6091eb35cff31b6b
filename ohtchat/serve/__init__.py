"""Headless node: --serve daemon, the JSON-lines control socket, ohtchat cmd and the line
console."""
