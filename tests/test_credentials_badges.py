"""Open Badges 3.0: the learner's badge is a VC-JWT that PyJWT verifies against the published key; one changed byte or
a revocation makes it fail, in the app's verifier, the CLI and the upload page alike."""

import io
import json
import os
import stat

import jwt
import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.cli import cli
from app.credentials import badges, keys
from tests.test_credentials import app_settings, certificates, complete, course_world, credential_key_file  # noqa: F401

SITE = "https://alliance.example.org"
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."


@pytest.fixture
def earned(client, db, auth, catalog):
    """A learner signed in with a completed course: (world, certificate, the badge file's text)."""
    world = course_world(auth, db, catalog)
    complete(db, world)
    [certificate] = certificates(db, world.student.id)
    auth.sign_in(world.student.email)
    response = client.get(f"/certificates/{certificate.public_id}.jwt")
    assert response.status_code == 200 and response.mimetype == "application/vc+jwt"
    assert response.headers["Content-Disposition"].endswith('.jwt"')
    return world, certificate, response.text


def _published_key(client, token: str):
    """The public key a verifier would fetch: dereference the token's kid over HTTP."""
    kid = jwt.get_unverified_header(token)["kid"]
    assert kid.startswith(f"{SITE}/credentials/keys/")
    response = client.get(kid.removeprefix(SITE))
    assert response.status_code == 200 and "d" not in response.json  # never the private part
    return jwt.PyJWK(response.json).key


def test_the_badge_is_an_open_badge_that_pyjwt_verifies_with_the_published_key(client, earned):
    world, certificate, token = earned
    assert jwt.get_unverified_header(token).keys() == {"alg", "kid", "typ"}
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    payload = jwt.decode(
        token, _published_key(client, token), algorithms=["RS256"], options={"require": ["iss", "jti", "nbf", "sub"]}
    )
    assert payload["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert payload["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert payload["iss"] == payload["issuer"]["id"] == f"{SITE}/credentials/issuer"
    assert payload["jti"] == payload["id"] == f"{SITE}/verify/{certificate.public_id}"
    assert payload["sub"] == payload["credentialSubject"]["id"]
    assert payload["nbf"] == int(certificate.issued_at.replace(microsecond=0).timestamp())
    subject = payload["credentialSubject"]
    assert subject["identifier"][0]["identityHash"] == "Ada Lovelace"
    assert "learner@example.org" not in token and "learner@example.org" not in str(payload)
    achievement = subject["achievement"]
    assert achievement["name"] == "Alliance on placement" and achievement["criteria"]["narrative"]
    assert achievement["tag"] == badges.competency_names(certificate.competency_refs)
    status = payload["credentialStatus"]
    assert status["type"] == "BitstringStatusListEntry" and status["statusPurpose"] == "revocation"
    assert status["statusListCredential"] == f"{SITE}/credentials/status/1" and status["statusListIndex"] == str(
        certificate.id
    )
    assert badges.verify(token).is_valid
    profile = client.get("/credentials/issuer").json
    assert (
        profile["id"] == payload["iss"]
        and profile["verificationMethod"][0]["id"] == jwt.get_unverified_header(token)["kid"]
    )


def _bit(client, token: str, index: int) -> int:
    """The credential's bit in the published revocation list, read as an outside verifier would."""
    status_list = client.get("/credentials/status/1")
    assert status_list.mimetype == "application/vc+jwt"
    payload = jwt.decode(status_list.text, _published_key(client, token), algorithms=["RS256"])
    assert payload["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    bits = badges.decode_list(payload["credentialSubject"]["encodedList"])
    assert len(bits) == 16384
    return (bits[index // 8] >> (7 - index % 8)) & 1


def test_after_revocation_the_badge_fails_and_the_published_list_says_revoked(client, auth, earned):
    world, certificate, token = earned
    assert _bit(client, token, certificate.id) == 0
    auth.sign_out()
    auth.sign_in(world.educator.email)
    client.post(f"/teach/certificates/{certificate.public_id}/revoke", data={"reason": "Awarded in error."})
    assert _bit(client, token, certificate.id) == 1
    verdict = badges.verify(token)
    assert verdict.state == "revoked" and not verdict.is_valid
    page = client.post("/verify", data={"file": (io.BytesIO(token.encode()), "badge.jwt")})
    assert page.status_code == 200 and "<strong>Revoked</strong>" in page.text and "Awarded in error." in page.text


def _changed(token: str, position: int, replacement: str) -> str:
    return token[:position] + replacement + token[position + 1 :]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_one_changed_byte_anywhere_fails_verification(earned, data):
    _world, _certificate, token = earned
    position = data.draw(st.integers(0, len(token) - 1), label="position")
    replacement = data.draw(st.sampled_from(ALPHABET).filter(lambda c: c != token[position]), label="replacement")
    verdict = badges.verify(_changed(token, position, replacement))
    assert verdict.state == "invalid", verdict


@pytest.mark.parametrize("part", [0, 1, 2])
def test_one_changed_byte_in_each_part_fails_with_the_library_too(client, earned, part):
    _world, _certificate, token = earned
    start = sum(len(p) + 1 for p in token.split(".")[:part])
    position = start + len(token.split(".")[part]) // 2
    tampered = _changed(token, position, "A" if token[position] != "A" else "B")
    with pytest.raises(jwt.InvalidTokenError):
        jwt.decode(tampered, _published_key(client, token), algorithms=["RS256"])
    assert not badges.verify(tampered).is_valid


def test_a_badge_signed_with_another_key_is_not_this_sites(earned):
    _world, certificate, token = earned
    from cryptography.hazmat.primitives.asymmetric import rsa

    payload = jwt.decode(token, options={"verify_signature": False})
    forged = jwt.encode(
        payload,
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
        algorithm="RS256",
        headers={"kid": jwt.get_unverified_header(token)["kid"]},
    )
    assert badges.verify(forged).state == "invalid"
    assert "signature does not match" in badges.verify(forged).message


@pytest.mark.parametrize(
    "upload",
    [b"", b"hello", b"a.b.c", b"\xff\xfe\x00garbage", b'{"@context": []}', b"x" * 70000],
    ids=["empty", "word", "three-parts", "binary", "json", "huge"],
)
def test_the_upload_page_answers_any_file_with_a_clear_verdict(client, upload):
    response = client.post("/verify", data={"file": (io.BytesIO(upload), "badge.jwt")})
    assert response.status_code in (200, 422) and "Traceback" not in response.text
    if upload:
        assert "<strong>Not valid</strong>" in response.text
    else:
        assert "Choose the badge file (.jwt), or paste its text." in response.text


def test_the_upload_page_accepts_a_pasted_badge(client, earned):
    _world, _certificate, token = earned
    response = client.post("/verify", data={"token": token})
    assert response.status_code == 200 and "<strong>Valid</strong>" in response.text and "Ada Lovelace" in response.text


def test_the_cli_verifies_a_badge_file_and_fails_a_changed_one(app, earned, tmp_path):
    _world, _certificate, token = earned
    good, bad = tmp_path / "good.jwt", tmp_path / "bad.jwt"
    good.write_text(token)
    middle = len(token) // 2
    bad.write_text(_changed(token, middle, "A" if token[middle] != "A" else "B"))
    runner = CliRunner()
    info = ScriptInfo(create_app=lambda: app)
    result = runner.invoke(cli, ["credentials", "verify", str(good)], obj=info)
    assert result.exit_code == 0 and "Valid" in result.output and "Learner: Ada Lovelace" in result.output
    result = runner.invoke(cli, ["credentials", "verify", str(bad)], obj=info)
    assert result.exit_code == 1 and "has been changed" in result.output and "Learner:" not in result.output
    missing = runner.invoke(cli, ["credentials", "verify", str(tmp_path / "none.jwt")], obj=info)
    assert missing.exit_code == 2 and "does not exist" in missing.output


def test_the_signing_key_is_made_once_private_to_its_owner(app):
    with app.app_context():
        app.config["CREDENTIAL_KEY_FILE"] = None
        path = keys.key_path()
        assert not path.exists()
        first = keys.load(path)
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert keys.load(path).thumbprint == first.thumbprint  # read back, not made again
        path.write_text("not a key")
        with pytest.raises(keys.SigningKeyError, match="cannot be read"):
            keys.load(path)


def test_unknown_keys_and_lists_are_friendly_404s(client):
    assert client.get("/credentials/keys/not-our-key").status_code == 404
    assert client.get("/credentials/status/0").status_code == 404
    assert client.get("/credentials/status/99999").status_code == 404


def _unsigned(header: dict, payload: dict) -> str:
    """A token with these parts and a signature of the right length that nobody made."""
    encode = jwt.utils.base64url_encode
    parts = [json.dumps(header).encode(), json.dumps(payload).encode(), b"\x01" * 384]
    return ".".join(encode(part).decode() for part in parts)


@pytest.mark.parametrize(
    "header",
    [
        {"alg": "RS256", "jwk": "not a key"},
        {"alg": "RS256", "jwk": {"kty": 1, "n": [], "e": None}},
        {"alg": "RS256", "kid": 7},
        {"alg": "none"},
        {"alg": "HS256", "kid": "x"},
        {"alg": "RS256", "kid": "x", "crit": ["b64"]},
    ],
    ids=["jwk-string", "jwk-garbled", "kid-number", "alg-none", "hmac", "extra-header"],
)
def test_a_forged_header_is_refused_with_a_reason_never_an_error(client, earned, header):
    _world, _certificate, token = earned
    payload = jwt.decode(token, options={"verify_signature": False})
    forged = _unsigned(header, payload)
    verdict = badges.verify(forged)
    assert verdict.state == "invalid" and verdict.message
    page = client.post("/verify", data={"token": forged})
    assert page.status_code == 200 and "<strong>Not valid</strong>" in page.text
