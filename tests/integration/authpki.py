"""Test credentials made on the spot with python3-cryptography: a client
CA with a CRL, client certificates (good, expired, revoked, self-signed),
and signed JWTs for OAUTHBEARER/XOAUTH2. Nothing here is a fixture file
in the repository: every run makes fresh keys."""

import base64
import datetime
import json
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

NOW = datetime.datetime.now(datetime.timezone.utc)
DAY = datetime.timedelta(days=1)


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Petrel Tests"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _key():
    return ec.generate_private_key(ec.SECP256R1())


def _write(path, *items):
    with open(path, "wb") as f:
        for item in items:
            if isinstance(item, x509.Certificate):
                f.write(item.public_bytes(serialization.Encoding.PEM))
            elif isinstance(item, x509.CertificateRevocationList):
                f.write(item.public_bytes(serialization.Encoding.PEM))
            else:
                f.write(item.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    os.chmod(path, 0o644)
    return path


class Pki:
    """Writes ca.pem, crl.pem and client certificates under directory."""

    def __init__(self, directory):
        self.dir = directory
        self.ca_key = _key()
        self.ca = (x509.CertificateBuilder()
                   .subject_name(_name("Petrel Test Client CA"))
                   .issuer_name(_name("Petrel Test Client CA"))
                   .public_key(self.ca_key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(NOW - DAY).not_valid_after(NOW + 30 * DAY)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
                   .add_extension(x509.KeyUsage(False, False, False, False, False, True,
                                                True, False, False), True)
                   .sign(self.ca_key, hashes.SHA256()))
        self.ca_path = _write(os.path.join(directory, "client-ca.pem"), self.ca)
        self.revoked = []

    def client(self, name, email=None, days=(-1, 30), issuer=True, revoke=False):
        """Writes name.crt/name.key; returns (cert_path, key_path, cert)."""
        key = _key()
        builder = (x509.CertificateBuilder()
                   .subject_name(_name(name))
                   .public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(NOW + days[0] * DAY)
                   .not_valid_after(NOW + days[1] * DAY)
                   .add_extension(x509.ExtendedKeyUsage(
                       [x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), False))
        if email:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.RFC822Name(email)]), False)
        if issuer:
            cert = builder.issuer_name(self.ca.subject).sign(self.ca_key, hashes.SHA256())
        else:  # self-signed: chains to nothing we trust
            cert = builder.issuer_name(_name(name)).sign(key, hashes.SHA256())
        if revoke:
            self.revoked.append(cert.serial_number)
        cert_path = _write(os.path.join(self.dir, name + ".crt"), cert)
        key_path = _write(os.path.join(self.dir, name + ".key"), key)
        return cert_path, key_path, cert

    def write_crl(self):
        builder = (x509.CertificateRevocationListBuilder()
                   .issuer_name(self.ca.subject)
                   .last_update(NOW - DAY).next_update(NOW + 7 * DAY))
        for serial in self.revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(serial)
                .revocation_date(NOW - DAY).build())
        crl = builder.sign(self.ca_key, hashes.SHA256())
        self.crl_path = _write(os.path.join(self.dir, "client-crl.pem"), crl)
        return self.crl_path


def fingerprint(cert):
    return cert.fingerprint(hashes.SHA256()).hex()


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenIssuer:
    """An OAuth issuer: an RSA key whose public half petrel trusts."""

    ISSUER = "https://issuer.example.test"
    AUDIENCE = "petrel-smtp"

    def __init__(self, directory):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.public_path = os.path.join(directory, "oauth-public.pem")
        with open(self.public_path, "wb") as f:
            f.write(self.key.public_key().public_bytes(
                serialization.Encoding.PEM,
                serialization.PublicFormat.SubjectPublicKeyInfo))
        os.chmod(self.public_path, 0o644)

    def yaml(self):
        return ('{public_key: "%s", issuer: "%s", audience: "%s"}'
                % (self.public_path, self.ISSUER, self.AUDIENCE))

    def token(self, email, audience=None, expires_in=600, issuer=None, key=None,
              alg="RS256"):
        from cryptography.hazmat.primitives.asymmetric import padding
        header = {"alg": alg, "typ": "JWT"}
        now = int(NOW.timestamp())
        claims = {"iss": issuer or self.ISSUER, "aud": audience or self.AUDIENCE,
                  "email": email, "iat": now, "exp": now + expires_in}
        signing_input = (b64url(json.dumps(header).encode()) + "." +
                         b64url(json.dumps(claims).encode())).encode()
        signature = (key or self.key).sign(signing_input, padding.PKCS1v15(),
                                           hashes.SHA256())
        return signing_input.decode() + "." + b64url(signature)
