"""Names shared by the node and its user interfaces."""

from __future__ import annotations

from typing import Final

#: The conversation that collects every ringcast this node saw (its own included). Plain text
#: sent to it is a ringcast.
RINGCAST_CONVERSATION: Final = "ringcast"

#: ``LogEvent.topic`` of a failure to join the ring: a UI clears these once the node is a member.
JOIN_TOPIC: Final = "join"

#: Delivery states of a message, in the order they are reached.
MESSAGE_STATES: Final = ("sending", "queued", "delivered", "failed", "received")

#: Presence of a contact.
PRESENCES: Final = ("online", "away", "offline")

#: ``LogEvent.topic`` of the linking notices (a device asks to link; this device's code).
LINK_TOPIC: Final = "link"
#: Log topic of this account's device list (unlinked, devices changed).
DEVICES_TOPIC: Final = "devices"
