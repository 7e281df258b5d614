"""Throwaway certificates for the sandbox's TLS: a CA made for one run and a server
certificate it signs, so a client can verify the server as it would a real one (chain and
name) without any system trust store knowing the sandbox.

EC keys (P-256) keep making them fast. Keys stay in memory; ``server_context`` writes
the server's key only for the moment ``ssl`` needs a file, owner-only, and removes it.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# Wide enough for a long run and for clocks a little apart, short enough to be useless later.
_VALID = datetime.timedelta(days=1)
_SKEW = datetime.timedelta(minutes=5)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _builder(subject: str, issuer: x509.Name, public: ec.EllipticCurvePublicKey
             ) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (x509.CertificateBuilder()
            .subject_name(_name(subject)).issuer_name(issuer).public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _SKEW).not_valid_after(now + _VALID)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False))


def _usage(*, signs: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=True, content_commitment=False,
                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                         key_cert_sign=signs, crl_sign=signs, encipher_only=False,
                         decipher_only=False)


@dataclass(frozen=True)
class Leaf:
    """A server's certificate chain and key, as PEM; the key never leaves memory here."""

    cert_pem: bytes
    key_pem: bytes


class Authority:
    """A CA that exists for one run: what it signs is trusted only by a client given
    ``pem``, which is what a profile's CA file holds."""

    def __init__(self, common_name: str) -> None:
        self._key = _key()
        public = self._key.public_key()
        self._cert = (_builder(common_name, _name(common_name), public)
                      .add_extension(x509.BasicConstraints(ca=True, path_length=0),
                                     critical=True)
                      .add_extension(_usage(signs=True), critical=True)
                      .sign(self._key, hashes.SHA256()))

    @property
    def pem(self) -> bytes:
        return self._cert.public_bytes(serialization.Encoding.PEM)

    def issue(self, hostname: str, ips: tuple[str, ...] = ()) -> Leaf:
        """A server certificate for ``hostname`` and the given addresses (SANs), which is
        what a client checks the name it connected to against."""
        key = _key()
        names: list[x509.GeneralName] = [x509.DNSName(hostname)]
        names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
        issuer_ski = self._cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
        cert = (_builder(hostname, self._cert.subject, key.public_key())
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(_usage(signs=False), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                               critical=False)
                .add_extension(x509.SubjectAlternativeName(names), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(
                    issuer_ski.value), critical=False)
                .sign(self._key, hashes.SHA256()))
        key_pem = key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        return Leaf(cert.public_bytes(serialization.Encoding.PEM), key_pem)


def write_private(path: Path, data: bytes) -> Path:
    """Create ``path`` owner-only from the start (no moment where others may read it)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    return path


def server_context(leaf: Leaf, folder: Path) -> ssl.SSLContext:
    """A server-side context holding ``leaf``. ``load_cert_chain`` reads only files, so
    the chain and key pass through ``folder`` and are removed once loaded."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    stem = f"server-{os.getpid()}-{id(leaf):x}"
    cert = folder / f"{stem}.crt"
    key = folder / f"{stem}.key"
    try:
        write_private(cert, leaf.cert_pem)
        write_private(key, leaf.key_pem)
        context.load_cert_chain(cert, key)
    finally:
        key.unlink(missing_ok=True)
        cert.unlink(missing_ok=True)
    return context
