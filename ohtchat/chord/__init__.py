"""The Chord identifier ring: successor list, predecessor, fingers, Zave-correct maintenance."""
