"""One side of a double-ratchet session between two accounts (docs/protocol.md §15.6).

Sans-IO: :meth:`Session.encrypt` and :meth:`Session.decrypt` turn bytes into bytes and change
the state only when they succeed (they work on a copy and keep it at the end). The caller
persists :meth:`Session.to_bytes` after every call and **before** the ciphertext leaves the node
(a restored older state would encrypt a different message under the same key).

The ratchet is Signal's "double ratchet with header encryption" with a KEM step in every turn:
a turn mixes ``X25519(our new ratchet key, their ratchet key) ‖ ML-KEM-768 shared secret``
into the root key. The receiving half of a turn happens when a message of the peer's next chain
arrives; the sending half lazily, at our next :meth:`Session.encrypt`.
"""

from __future__ import annotations

import copy
from collections.abc import Container

from ohtchat.crypto import kem
from ohtchat.crypto.errors import CryptoError
from ohtchat.crypto.keys import AccountKey
from ohtchat.ratchet.bundle import PrekeyBundle
from ohtchat.ratchet.errors import (
    CannotSend,
    DuplicateMessage,
    MalformedRatchetMessage,
    NewHandshake,
    ReplayedHandshake,
    TamperedMessage,
    TooManySkipped,
    UnknownHeader,
)
from ohtchat.ratchet.handshake import initiator_agreement, responder_agreement
from ohtchat.ratchet.message import (
    KIND_INITIAL,
    KIND_RATCHET,
    MAX_PLAINTEXT,
    VERSION,
    Header,
    Parsed,
    associated_data,
    parse,
)
from ohtchat.ratchet.primitives import (
    OS_RANDOMNESS,
    AeadFailed,
    KeyRejected,
    RatchetRandomness,
    kdf_chain,
    kdf_root,
    kem_decapsulate,
    message_keys,
    open_body,
    open_header,
    seal_body,
    seal_header,
    x25519,
    x25519_public,
)
from ohtchat.ratchet.safety import safety_number
from ohtchat.ratchet.state import (
    MAX_COUNTER,
    MAX_OLD_CHAINS,
    MAX_SKIP,
    MAX_SKIPPED,
    RatchetState,
)


class Session:
    """One side of a session. Make it with :meth:`initiate`, :meth:`accept` or
    :meth:`from_bytes`; then :meth:`encrypt`, :meth:`decrypt`, and persist :meth:`to_bytes`."""

    def __init__(self, state: RatchetState, randomness: RatchetRandomness = OS_RANDOMNESS) -> None:
        self._state = state
        self._random = randomness
        first, second = (state.own, state.peer) if state.initiator else (state.peer, state.own)
        self._ad = associated_data(first, second)
        self._dh_public = (b"", b"")  # (secret, public): the last ratchet key's public half

    # ------------------------------------------------------------------ creation

    @classmethod
    def initiate(
        cls, me: AccountKey, bundle: PrekeyBundle, *, randomness: RatchetRandomness = OS_RANDOMNESS
    ) -> Session:
        """A new session to the owner of ``bundle`` (check ``bundle.account_public`` is the
        contact you mean). Its messages are initial messages until one from the peer is read."""
        ag = initiator_agreement(me, bundle, randomness)
        state = RatchetState(
            initiator=True,
            own=me.public,
            peer=bundle.account_public,
            hid=ag.prefix.handshake_id,
            rk=ag.sk,
            dhr=bundle.x25519_prekey,
            kemr=bundle.mlkem_prekey,
            nhks=ag.hk_i,
            nhkr=ag.hk_r,
            pre=ag.prefix.encode(),
        )
        return cls(state, randomness)

    @classmethod
    def accept(
        cls,
        me: AccountKey,
        prekey: kem.KemKeyPair,
        message: bytes,
        *,
        seen: Container[bytes] = (),
        randomness: RatchetRandomness = OS_RANDOMNESS,
    ) -> tuple[Session, bytes]:
        """``(session, plaintext)`` from an initial message to ``me`` under ``prekey`` (the one
        its prekey id names). ``seen``: handshake ids accepted before (:class:`ReplayedHandshake`).
        Nothing is created unless the message decrypts."""
        parsed = parse(message)
        if parsed.prefix is None:
            raise MalformedRatchetMessage("not an initial message")
        hid = parsed.prefix.handshake_id
        if hid in seen:
            raise ReplayedHandshake("this handshake was accepted before")
        ag = responder_agreement(me, prekey, parsed.prefix)
        state = RatchetState(
            initiator=False,
            own=me.public,
            peer=parsed.prefix.sender,
            hid=hid,
            rk=ag.sk,
            dhs=prekey.secret[: kem.X_SK],
            kpk=prekey.public[kem.X_PK :],
            ksk=prekey.secret[kem.X_SK : kem.X_SK + kem.M_SK],
            nhks=ag.hk_r,
            nhkr=ag.hk_i,
        )
        session = cls(state, randomness)
        return session, session.decrypt(message)

    @classmethod
    def from_bytes(cls, data: bytes, *, randomness: RatchetRandomness = OS_RANDOMNESS) -> Session:
        """A session from :meth:`to_bytes` (:class:`~ohtchat.ratchet.errors.BadState` if bad)."""
        return cls(RatchetState.from_bytes(data), randomness)

    def to_bytes(self) -> bytes:
        """The exact serialized state (docs/protocol.md §15.7); persist it after every call."""
        return self._state.to_bytes()

    # ------------------------------------------------------------------ facts

    @property
    def own_account(self) -> bytes:
        """Our account public key."""
        return self._state.own

    @property
    def peer_account(self) -> bytes:
        """The peer's account public key."""
        return self._state.peer

    @property
    def handshake_id(self) -> bytes:
        """The id of the initial message that started this session."""
        return self._state.hid

    @property
    def initiator(self) -> bool:
        """True on the side that called :meth:`initiate`."""
        return self._state.initiator

    @property
    def awaiting_reply(self) -> bool:
        """True while our messages are initial messages (we have read nothing from the peer)."""
        return self._state.pre is not None

    def safety_number(self) -> str:
        """The pair's safety number (:func:`~ohtchat.ratchet.safety.safety_number`)."""
        return safety_number(self._state.own, self._state.peer)

    def owns(self, message: bytes) -> bool:
        """True when one of this session's header keys opens the message (routing of mailbox
        items, which do not name their sender). Changes nothing."""
        try:
            parsed = parse(message)
        except MalformedRatchetMessage:
            return False
        if parsed.prefix is not None and parsed.prefix.handshake_id != self._state.hid:
            return False
        st, aad = self._state, parsed.header_aad(self._ad)
        keys = [st.hkr, *st.old, st.nhkr]
        return any(
            k is not None and open_header(k, parsed.nonce, parsed.enc_header, aad) is not None
            for k in keys
        )

    # ------------------------------------------------------------------ encrypt

    def encrypt(self, plaintext: bytes) -> bytes:
        """The message carrying ``plaintext``; turns the ratchet first if the peer turned."""
        if len(plaintext) > MAX_PLAINTEXT:
            raise CannotSend(f"plaintext longer than {MAX_PLAINTEXT} bytes")
        work = copy.copy(self._state)  # encrypting never touches the skipped keys
        if work.cks is None:
            self._turn_send(work)
        assert work.cks is not None and work.dhs is not None and work.hks is not None
        assert work.kpk is not None and work.kct is not None
        if work.ns >= MAX_COUNTER:
            raise CannotSend("sending chain exhausted (2^32 messages)")
        mk, work.cks = kdf_chain(work.cks)
        body_key, nonce = message_keys(mk)
        header = Header(self._public(work.dhs), work.pn, work.ns, work.kpk, work.kct).encode()
        kind = KIND_RATCHET if work.pre is None else KIND_INITIAL
        head = bytes([VERSION, kind]) + (work.pre or b"") + nonce
        enc_header = seal_header(work.hks, nonce, header, self._ad + head)
        body = seal_body(body_key, plaintext, self._ad + head + enc_header)
        work.ns += 1
        self._state = work
        return head + enc_header + body

    def _public(self, dh_secret: bytes) -> bytes:
        if self._dh_public[0] != dh_secret:
            self._dh_public = (dh_secret, x25519_public(dh_secret))
        return self._dh_public[1]

    def _turn_send(self, work: RatchetState) -> None:
        if work.dhr is None or work.kemr is None or work.nhks is None:
            raise CannotSend("nothing read from the peer yet")
        dhs = self._random.x25519_secret()
        kpk, ksk = self._random.mlkem_key_pair()
        try:
            kct, ss = self._random.mlkem_encapsulate(work.kemr)
            dh = x25519(dhs, work.dhr)
        except (CryptoError, KeyRejected) as exc:
            raise CannotSend(f"the peer's ratchet keys are unusable: {exc}") from exc
        work.pn, work.ns, work.hks = work.ns, 0, work.nhks
        work.rk, work.cks, work.nhks = kdf_root(work.rk, dh, ss)
        work.dhs, work.kpk, work.ksk, work.kct = dhs, kpk, ksk, kct

    # ------------------------------------------------------------------ decrypt

    def decrypt(self, message: bytes) -> bytes:
        """The plaintext of a message from the peer, or a typed
        :class:`~ohtchat.ratchet.errors.RatchetError`; on an error the state is unchanged."""
        parsed = parse(message)
        if parsed.prefix is not None and parsed.prefix.handshake_id != self._state.hid:
            raise NewHandshake("an initial message of another handshake")
        work = self._state.copy()
        plaintext = self._decrypt(work, parsed)
        work.pre = None
        self._state = work
        return plaintext

    def _decrypt(self, work: RatchetState, parsed: Parsed) -> bytes:
        aad = parsed.header_aad(self._ad)

        def try_open(hk: bytes | None) -> Header | None:
            """The header if ``hk`` opens it."""
            raw = None if hk is None else open_header(hk, parsed.nonce, parsed.enc_header, aad)
            return None if raw is None else Header.decode(raw)

        if (header := try_open(work.hkr)) is not None:
            mk = self._chain_key(work, header.n)
        else:
            for hk in reversed(work.old):
                if (header := try_open(hk)) is not None:
                    if (mk_old := work.skipped.pop((hk, header.n), None)) is None:
                        raise DuplicateMessage(f"message {header.n} of an earlier chain")
                    mk = mk_old
                    break
            else:
                if (header := try_open(work.nhkr)) is None:
                    raise UnknownHeader("no header key of this session opens the message")
                self._turn_receive(work, header)
                mk = self._chain_key(work, header.n)
        body_key, nonce = message_keys(mk)
        if nonce != parsed.nonce:
            raise TamperedMessage("header nonce does not match the message key")
        try:
            return open_body(body_key, parsed.body, parsed.body_aad(self._ad))
        except AeadFailed as exc:
            raise TamperedMessage(str(exc)) from exc

    @staticmethod
    def _chain_key(work: RatchetState, n: int) -> bytes:
        """The message key of message ``n`` of the current receiving chain."""
        assert work.hkr is not None and work.ckr is not None
        if n < work.nr:
            if (mk := work.skipped.pop((work.hkr, n), None)) is None:
                raise DuplicateMessage(f"message {n} was read before")
            return mk
        _skip(work, n)
        mk, work.ckr = kdf_chain(work.ckr)
        work.nr = n + 1
        return mk

    @staticmethod
    def _turn_receive(work: RatchetState, header: Header) -> None:
        """The receiving half of a turn: the peer's next chain has arrived."""
        if work.dhs is None or work.ksk is None or work.nhkr is None:
            raise TamperedMessage("a ratchet turn before our reply")
        _skip(work, header.pn)
        if work.hkr is not None:
            work.old.append(work.hkr)
            while len(work.old) > MAX_OLD_CHAINS:
                gone = work.old.pop(0)
                for key in [k for k in work.skipped if k[0] == gone]:
                    del work.skipped[key]
        try:
            ss = kem_decapsulate(work.ksk, header.kem_ct)
            dh = x25519(work.dhs, header.dh)
        except KeyRejected as exc:
            raise TamperedMessage(f"unusable ratchet key: {exc}") from exc
        work.hkr, work.dhr, work.kemr = work.nhkr, header.dh, header.kem_pk
        work.rk, work.ckr, work.nhkr = kdf_root(work.rk, dh, ss)
        work.nr = 0
        work.dhs = work.kpk = work.ksk = work.kct = work.cks = work.hks = None


def _skip(work: RatchetState, until: int) -> None:
    """Store the keys of the current receiving chain's messages ``nr .. until-1``."""
    if work.ckr is None or work.hkr is None or until <= work.nr:
        return
    if until - work.nr > MAX_SKIP:
        raise TooManySkipped(f"{until - work.nr} messages skipped (at most {MAX_SKIP})")
    ck = work.ckr
    while work.nr < until:
        mk, ck = kdf_chain(ck)
        work.skipped[(work.hkr, work.nr)] = mk
        work.nr += 1
    work.ckr = ck
    while len(work.skipped) > MAX_SKIPPED:
        del work.skipped[next(iter(work.skipped))]
