"""
Signed policy bundles: HMAC-SHA256 with a shared key file (docs/architecture.md, "Files").

With a key configured, the learner signs every bundle it publishes on ``/t3d/policy`` and
actors take only bundles whose signature verifies, so a participant on the ROS domain without
the key cannot change what an actor runs. The signature covers the bundle bytes
(``UInt8MultiArray.data``) and travels beside them, in ``layout.dim[0]``:

    label = 't3d_signature/hmac-sha256;<64 hex digits>', size = stride = len(data)

so ``data`` stays exactly the bundle file's bytes and unsigned bundles (no key configured, no
``layout``) work as before. It proves who made a bundle, not that it is the newest: anyone
can publish again an older bundle the learner signed; the transport itself is protected by
DDS-Security (README, "Signed policies and SROS2").
"""
from __future__ import annotations

import hashlib
import hmac
import os

SIGNATURE_FORMAT = 't3d_signature/hmac-sha256'
MIN_KEY_BYTES = 16


class SignatureError(ValueError):
    """Why signed data was refused: ``reason`` is 'unsigned' or 'bad_signature'."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f'{reason}: {detail}')
        self.reason = reason


def load_key(path: str | os.PathLike) -> bytes:
    """
    Return the key in the file at ``path`` (its bytes, surrounding whitespace stripped).

    Raises ValueError, naming the file, if it cannot be read or holds under 16 bytes: a
    short key can be guessed from one signed bundle. Make one with
    ``head -c 32 /dev/urandom | base64 > policy.key``.
    """
    try:
        with open(path, 'rb') as handle:
            key = handle.read().strip()
    except OSError as error:
        raise ValueError(f'cannot read signing key file {str(path)!r}: {error}') from None
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f'signing key file {str(path)!r} holds {len(key)} bytes; at least '
                         f'{MIN_KEY_BYTES} are needed')
    return key


def signature_label(key: bytes, data: bytes) -> str:
    """Return the label that signs ``data`` with ``key``."""
    return f'{SIGNATURE_FORMAT};{hmac.new(key, data, hashlib.sha256).hexdigest()}'


def verify(key: bytes, data: bytes, label: str | None) -> None:
    """Raise SignatureError unless ``label`` is a valid signature of ``data`` with ``key``."""
    if not label:
        raise SignatureError('unsigned', 'a signing key is configured but the bundle has no '
                             'signature')
    expected = signature_label(key, data)
    # Constant time: how much of a forged MAC matched must not show in the time taken.
    if not hmac.compare_digest(label.encode('utf-8', 'replace'), expected.encode()):
        raise SignatureError('bad_signature', 'the bundle signature does not verify with '
                             'the configured key')
