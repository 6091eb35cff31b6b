"""Vectors of docs/devices.md (design; the parts built so far): a link code, the new device's
proof and the verification string for a fixed session binding, and a signed device list
value with one device listed and one revoked."""

from __future__ import annotations

import hashlib
import hmac

from ohtchat.crypto.keys import AccountKey, NodeKey
from ohtchat.devices import DeviceList, LinkCode, link_proof, verification_string
from ohtchat.devices.link import CHECKSUM_LABEL, PROOF_LABEL, SAS_LABEL
from tests.vectors.crypto_vectors import Doc, expect, unhex
from tests.vectors.fixed import fixed_bytes

ADDED = 1_700_000_000


def link_vector() -> Doc:
    """Code text, proof and verification string from fixed keys, secret and binding."""
    primary = NodeKey(fixed_bytes("devices primary node"))
    device = NodeKey(fixed_bytes("devices new node"))
    secret = fixed_bytes("devices link secret", 16)
    binding = fixed_bytes("devices session binding")
    code = LinkCode(primary.public, secret)
    return {
        "description": "docs/devices.md (Linking): the code, the proof, the verification string",
        "inputs": {
            "primary_onion_public": primary.public.hex(),
            "secret": secret.hex(),
            "session_binding": binding.hex(),
            "device_node_public": device.public.hex(),
        },
        "outputs": {
            "checksum": hashlib.sha3_256(CHECKSUM_LABEL + primary.public + secret)
            .digest()[:2]
            .hex(),
            "code": str(code),
            "proof_message": (PROOF_LABEL + binding + device.public).hex(),
            "proof": link_proof(secret, binding, device.public).hex(),
            "sas_mac": hmac.new(secret, SAS_LABEL + binding, hashlib.sha3_256).hexdigest(),
            "verification_string": verification_string(secret, binding),
        },
    }


def device_list_vector() -> Doc:
    """A list with the primary and a second device, after a third was revoked."""
    account = AccountKey(fixed_bytes("devices account"))
    nodes = [NodeKey(fixed_bytes(f"devices node {i}")) for i in range(3)]
    devices = DeviceList(account.public)
    for i, node in enumerate(nodes):
        devices = devices.add(account.certify(node.public, ADDED), f"device {i}", ADDED)
    devices = devices.revoke(nodes[2].public)
    return {
        "description": "docs/devices.md (Records): the value of devices:<account id>",
        "inputs": {
            "account_seed": account.seed.hex(),
            "node_publics": [n.public.hex() for n in nodes],
            "names": ["device 0", "device 1", "device 2"],
            "issued": ADDED,
            "revoked": [nodes[2].public.hex()],
        },
        "outputs": {"account_public": account.public.hex(), "value": devices.to_value().hex()},
    }


def build_devices() -> Doc:
    """devices.json."""
    return {
        "description": "several devices per account: link codes and the signed device list",
        "vectors": [link_vector(), device_list_vector()],
    }


def check_devices(doc: Doc) -> None:
    """Parse the code and the list back; recompute the proof and the verification string."""
    link, listing = doc["vectors"]
    inp, out = link["inputs"], link["outputs"]
    code = LinkCode.parse(out["code"])
    expect("primary_onion_public", code.onion_public.hex(), inp["primary_onion_public"])
    expect("secret", code.secret.hex(), inp["secret"])
    binding, node = unhex(inp, "session_binding"), unhex(inp, "device_node_public")
    expect("proof", link_proof(code.secret, binding, node).hex(), out["proof"])
    expect(
        "verification_string", verification_string(code.secret, binding), out["verification_string"]
    )
    inp, out = listing["inputs"], listing["outputs"]
    parsed = DeviceList.from_value(unhex(out, "account_public"), unhex(out, "value"))
    expect("devices", [d.node_public.hex() for d in parsed.devices], inp["node_publics"][:2])
    expect("revoked", [k.hex() for k in parsed.revoked], inp["revoked"])
    expect("names", [d.name for d in parsed.devices], inp["names"][:2])
