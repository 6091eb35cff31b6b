"""ohtchat: anonymous peer-to-peer terminal chat over Tor v3 onion services on a Chord ring.

This module must stay importable with nothing but the standard library installed:
``python3 -m ohtchat.bootstrap`` runs from a fresh clone before any dependency exists.
"""

__version__ = "0.1.0"
