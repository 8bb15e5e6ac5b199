"""Shape checks for the inference router's TLS certificate and key (PEM text).

The Azure ML extension takes the certificate "that contains the full certificate chain and is
PEM encoded" and "a key that's PEM encoded"; "an SSL key in a PEM file with passphrase
protection is not supported" (Learn, how-to-secure-kubernetes-online-endpoint). These checks
catch the usual mistakes (key and certificate swapped, an encrypted key, a DER file, a path
instead of the content) when the program starts, not when the extension fails on the cluster.
They check the shape only: the certificate is not parsed. Messages never include the value.
"""

from __future__ import annotations

import base64
import binascii
import re

_BLOCK_RE = re.compile(
    r"-----BEGIN ([A-Z0-9 ]+)-----\r?\n(.*?)-----END \1-----",
    re.DOTALL,
)
_LEGACY_ENCRYPTED_RE = re.compile(r"^Proc-Type:\s*4,ENCRYPTED", re.MULTILINE)  # OpenSSL's old format
PRIVATE_KEY_LABELS = frozenset({"PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"})


def _blocks(text: str) -> list[tuple[str, str]]:
    """The (label, body) of every PEM block in ``text``."""
    return [(m.group(1), m.group(2)) for m in _BLOCK_RE.finditer(text)]


def _is_base64(body: str) -> bool:
    lines = [line.strip() for line in body.strip().splitlines()]
    payload = "".join(line for line in lines if line and ":" not in line)  # skip RFC 1421 headers
    if not payload:
        return False
    try:
        base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def check_certificate_chain(text: str) -> None:
    """Raise ``ValueError`` unless ``text`` is one or more PEM certificates and nothing else."""
    blocks = _blocks(text)
    if not blocks or any(label != "CERTIFICATE" for label, _ in blocks):
        labels = sorted({label for label, _ in blocks}) or ["none"]
        raise ValueError(
            "must be the PEM text of the certificate and its chain (blocks "
            "'-----BEGIN CERTIFICATE-----' only; found: " + ", ".join(labels) + "); pass the file's "
            "content, not its path"
        )
    if not all(_is_base64(body) for _, body in blocks):
        raise ValueError("a CERTIFICATE block is not valid base64")


def check_private_key(text: str) -> None:
    """Raise ``ValueError`` unless ``text`` is exactly one unencrypted PEM private key."""
    blocks = _blocks(text)
    if any(label == "ENCRYPTED PRIVATE KEY" or _LEGACY_ENCRYPTED_RE.search(body) for label, body in blocks):
        raise ValueError(
            "is encrypted: the Azure ML extension does not support a key with a passphrase "
            "(decrypt it first, e.g. `openssl pkey -in key.pem -out key-plain.pem`)"
        )
    keys = [(label, body) for label, body in blocks if label in PRIVATE_KEY_LABELS]
    if len(keys) != 1 or len(blocks) != 1:
        found = ", ".join(sorted({label for label, _ in blocks})) or "none"
        raise ValueError(
            "must be the PEM text of one private key ('-----BEGIN PRIVATE KEY-----', "
            f"'-----BEGIN RSA PRIVATE KEY-----' or '-----BEGIN EC PRIVATE KEY-----'; found: {found})"
        )
    if not _is_base64(keys[0][1]):
        raise ValueError("the PRIVATE KEY block is not valid base64")
