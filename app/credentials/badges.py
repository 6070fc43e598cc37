"""Open Badges 3.0: a certificate as an `OpenBadgeCredential` (a W3C Verifiable Credential), signed as a VC-JWT.

The proof is the spec's JSON Web Token proof format: the credential is the JWT payload, with the claims
`iss`, `jti`, `nbf` and `sub` copied from it, signed RS256 by PyJWT (with `cryptography`) under a key id
(`kid`) that is a URL answering with the public JWK. Revocation is a W3C Bitstring Status List: each
credential names its place (its certificate's row id) in a list the site publishes, itself signed; a
verifier reads the bit. See docs/credentials.md for why this route and not another library. PyJWT (and
`cryptography` under it) is imported by the functions that sign or verify, not when the app is built.
"""

import base64
import binascii
import gzip
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import select

from app.content import catalog
from app.credentials import keys
from app.extensions import db
from app.models import Certificate
from app.models.types import utcnow

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
#: Places per published list: the spec's minimum of 16 KiB, so one list hides which credential a verifier asks about.
LIST_BITS = 131072
#: A credential file larger than this is not one of ours (ours are about 3 KB).
MAX_TOKEN_BYTES = 64 * 1024
_HEADERS = {"alg", "kid", "jwk", "typ"}  # the only JOSE headers OB 3.0 allows


# --- addresses: from the site's public address, so they hold in a PDF, a CLI run and a request alike


def site() -> str:
    """The site's public address, without a trailing slash."""
    return current_app.config["SITE_URL"]


def verify_url(public_id: str) -> str:
    """The public verification page of a certificate (the credential's id, and the QR code's content)."""
    return f"{site()}/verify/{public_id}"


def issuer_id() -> str:
    """The issuer profile's address."""
    return f"{site()}/credentials/issuer"


def key_id() -> str:
    """The signing key's id: an address answering with its public JWK."""
    return f"{site()}/credentials/keys/{keys.signing_key().thumbprint}"


def status_list_url(number: int) -> str:
    """The address of one published revocation list."""
    return f"{site()}/credentials/status/{number}"


def issuer_name() -> str:
    """The name certificates are issued under (ALLIANCE_CREDENTIAL_ISSUER_NAME)."""
    return current_app.config["CREDENTIAL_ISSUER_NAME"]


def place(certificate_id: int) -> tuple[int, int]:
    """A certificate's revocation list (numbered from 1) and its index in that list."""
    return certificate_id // LIST_BITS + 1, certificate_id % LIST_BITS


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


#: The two lists of competencies a certificate names, as the PDF and the badge head them.
COURSE_HEADING = "Competencies evidenced in the course"
STATIONS_HEADING = "Seen to do at observed stations"


def competency_names(refs: list[str]) -> list[str]:
    """The competencies' names from the curriculum (the id for one the curriculum no longer has)."""
    found = catalog()
    return [(c.name if (c := found.competency(ref)) else ref) for ref in refs]


def issuer_profile() -> dict:
    """The issuer's Profile, with the public key as a DID-less verification method."""
    key = keys.signing_key()
    return {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": issuer_id(),
        "type": ["Profile"],
        "name": issuer_name(),
        "url": site(),
        "verificationMethod": [
            {"id": key_id(), "type": "JsonWebKey", "controller": issuer_id(), "publicKeyJwk": key.public_jwk}
        ],
    }


def public_jwk() -> dict:
    """The public key as a JWK, named by its key id."""
    return {**keys.signing_key().public_jwk, "kid": key_id(), "alg": "RS256", "use": "sig"}


def credential(certificate: Certificate) -> dict:
    """The certificate as an OpenBadgeCredential (unsigned)."""
    own_id = verify_url(certificate.public_id)
    number, index = place(certificate.id)
    names = competency_names(certificate.competency_refs)
    seen = competency_names(certificate.station_competency_refs or [])
    # Knowing and being seen to do are two lists, never one: two labelled parts of the criteria, two pieces of evidence.
    criteria = f"Completed every required module, quiz and conversation of the course “{certificate.course_title}”."
    evidence = []
    for heading, listed in ((COURSE_HEADING, names), (STATIONS_HEADING, seen)):
        if listed:
            criteria += f"\n\n**{heading}:** {'; '.join(listed)}."
            evidence.append({"type": ["Evidence"], "name": heading, "narrative": "; ".join(listed) + "."})
    achievement = {
        "id": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{site()}/courses/{certificate.course_id}')}",
        "type": ["Achievement"],
        "achievementType": "CertificateOfCompletion",
        "name": certificate.course_title,
        "description": certificate.course_description or f"The course “{certificate.course_title}”.",
        "criteria": {"narrative": criteria},
        "tag": names,
    }
    document = {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": own_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": f"Certificate: {certificate.course_title}",
        "issuer": {"id": issuer_id(), "type": ["Profile"], "name": certificate.issuer_name},
        "validFrom": _iso(certificate.issued_at),
        "credentialSubject": {
            # No personal id: a name for people reading the badge, and an id that means nothing elsewhere.
            "id": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, own_id)}",
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityType": "name",
                    "hashed": False,
                    "identityHash": certificate.learner_name,
                }
            ],
            "achievement": achievement,
        },
        "credentialStatus": {
            "id": f"{status_list_url(number)}#{index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(index),
            "statusListCredential": status_list_url(number),
        },
    }
    if evidence:
        document["evidence"] = evidence
    return document


def _sign(payload: dict) -> str:
    """A compact JWS over the payload: RS256 under the site's key id (the only headers: alg, kid, typ)."""
    import jwt

    return jwt.encode(payload, keys.signing_key().private, algorithm="RS256", headers={"kid": key_id(), "typ": "JWT"})


def _claims(document: dict, subject: str) -> dict:
    """The document with the JWT claims OB 3.0 asks for, copied from it."""
    issuer = document["issuer"]["id"] if isinstance(document["issuer"], dict) else document["issuer"]
    valid_from = datetime.strptime(document["validFrom"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return {**document, "iss": issuer, "jti": document["id"], "nbf": int(valid_from.timestamp()), "sub": subject}


def signed_badge(certificate: Certificate) -> str:
    """The certificate's Open Badge as a VC-JWT (the file a learner downloads)."""
    document = credential(certificate)
    return _sign(_claims(document, document["credentialSubject"]["id"]))


# --- the published revocation lists


def revoked_places(number: int) -> list[int]:
    """The indexes of revoked certificates in one list."""
    low, high = (number - 1) * LIST_BITS, number * LIST_BITS
    ids = db.session.scalars(
        select(Certificate.id).where(Certificate.revoked_at.is_not(None), Certificate.id >= low, Certificate.id < high)
    )
    return [i - low for i in ids]


def encode_list(revoked: list[int]) -> str:
    """The bitstring (index 0 is the first byte's highest bit), gzipped, base64url, multibase 'u' prefix."""
    bits = bytearray(LIST_BITS // 8)
    for index in revoked:
        bits[index // 8] |= 0x80 >> (index % 8)
    return "u" + base64.urlsafe_b64encode(gzip.compress(bytes(bits), mtime=0)).rstrip(b"=").decode()


def decode_list(encoded: str) -> bytes:
    """The bitstring of an encodedList (ValueError if it is not one)."""
    if not encoded.startswith("u"):
        raise ValueError("not a base64url multibase value")
    try:
        data = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    except (binascii.Error, OSError, EOFError) as exc:
        raise ValueError(str(exc)) from None
    if len(data) * 8 < LIST_BITS:
        raise ValueError("shorter than 16 KiB")
    return data


def signed_status_list(number: int) -> str:
    """One revocation list as a BitstringStatusListCredential, signed like the badges."""
    own_id = status_list_url(number)
    document = {
        "@context": [VC_CONTEXT],
        "id": own_id,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_id(),
        "validFrom": _iso(utcnow()),
        "credentialSubject": {
            "id": f"{own_id}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encode_list(revoked_places(number)),
        },
    }
    return _sign(_claims(document, document["credentialSubject"]["id"]))


# --- verification


@dataclass(frozen=True)
class Verdict:
    """What verifying a credential found: valid, revoked or invalid, why, and the certificate when it is ours."""

    state: str  # "valid", "revoked" or "invalid"
    message: str
    certificate: Certificate | None = None

    @property
    def is_valid(self) -> bool:
        """Signed by this site, unchanged, and not revoked."""
        return self.state == "valid"


def _invalid(message: str) -> Verdict:
    return Verdict("invalid", message)


def _canonical(token: str) -> bool:
    """Each part is base64url exactly as a signer writes it: a changed padding bit is a changed credential too."""
    import jwt.utils

    try:
        return all(
            jwt.utils.base64url_encode(jwt.utils.base64url_decode(part)).decode() == part for part in token.split(".")
        )
    except (binascii.Error, ValueError, UnicodeError):
        return False


def _decode(token: str) -> dict:
    """The payload of one of this site's JWTs, its signature checked (jwt.InvalidTokenError otherwise)."""
    import jwt

    header = jwt.get_unverified_header(token)
    if set(header) - _HEADERS or header.get("alg") != "RS256":
        raise jwt.InvalidTokenError("its header is not one this site writes")
    key = keys.signing_key()
    jwk = header.get("jwk")
    named = header.get("kid") == key_id() or (
        isinstance(jwk, dict)
        and all(isinstance(jwk.get(m), str) for m in ("e", "kty", "n"))
        and keys.thumbprint(jwk) == key.thumbprint
    )
    if not named:
        raise jwt.InvalidTokenError("it was signed with a key that is not this site's")
    return jwt.decode(
        token, key.public, algorithms=["RS256"], options={"require": ["iss", "jti", "nbf", "sub"], "verify_aud": False}
    )


def _revoked_in_list(entry: dict) -> bool:
    """Read the credential's bit from the published list (checked like any verifier would: signed, well formed)."""
    if entry.get("type") != "BitstringStatusListEntry" or entry.get("statusPurpose") != "revocation":
        raise ValueError("its status entry is not a revocation list entry")
    url, index = entry.get("statusListCredential", ""), int(entry.get("statusListIndex", "-1"))
    prefix = status_list_url(0)[:-1]
    number = url.removeprefix(prefix)
    if not url.startswith(prefix) or not number.isdigit() or not 0 <= index < LIST_BITS:
        raise ValueError("its status list is not one this site publishes")
    listing = _decode(signed_status_list(int(number)))
    bits = decode_list(listing["credentialSubject"]["encodedList"])
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def verify(token: str) -> Verdict:
    """Check a VC-JWT: this site's signature over exactly these bytes, claims matching the credential, not revoked."""
    import jwt

    token = token.strip()
    if not token or len(token.encode("utf-8", "replace")) > MAX_TOKEN_BYTES:
        return _invalid("This is not a credential issued here: a credential is a signed token of a few kilobytes.")
    if token.count(".") != 2 or not _canonical(token):
        return _invalid("This is not a signed credential (a JWT), or it has been changed: it cannot be read as one.")
    try:
        payload = _decode(token)
    except jwt.InvalidSignatureError:
        return _invalid("The signature does not match: this credential has been changed since it was issued.")
    except jwt.ImmatureSignatureError:
        return _invalid("This credential is not valid yet.")
    except jwt.ExpiredSignatureError:
        return _invalid("This credential has expired.")
    except jwt.InvalidTokenError as exc:
        return _invalid(f"This credential cannot be verified here: {exc}.")
    try:
        subject = payload["credentialSubject"]
        issuer = payload["issuer"]["id"] if isinstance(payload["issuer"], dict) else payload["issuer"]
        consistent = (
            "OpenBadgeCredential" in payload["type"]
            and payload["@context"][0] == VC_CONTEXT
            and payload["iss"] == issuer == issuer_id()
            and payload["jti"] == payload["id"]
            and payload["sub"] == subject["id"]
            and payload["nbf"] == _claims(payload, subject["id"])["nbf"]
        )
        if not consistent:
            return _invalid("The credential's claims do not agree with its content, so it is not valid.")
        revoked = _revoked_in_list(payload["credentialStatus"])
    except (KeyError, TypeError, IndexError, ValueError, AttributeError):
        return _invalid("This credential is signed by this site but is not an Open Badge this site issues.")
    public_id = payload["id"].removeprefix(verify_url(""))
    certificate = db.session.scalar(select(Certificate).where(Certificate.public_id == public_id))
    if certificate is None:
        return _invalid("The signature is this site's, but the certificate is no longer on record here.")
    if revoked or certificate.is_revoked:
        return Verdict("revoked", "The signature is genuine, but the certificate has been revoked.", certificate)
    return Verdict("valid", "Valid: signed by this site, unchanged since it was issued, and not revoked.", certificate)


def read_upload(data: bytes) -> str:
    """The token in an uploaded credential file (a .jwt file holds the token as text)."""
    return data.decode("utf-8", "replace").strip()
