"""The tor process: launch or attach via stem, onion services, and the private test network."""
