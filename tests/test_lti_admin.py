"""Registering platforms (CLI, admin page, dynamic registration) and the tool's key pair and its rotation."""

import json
import re
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.lti import keys, platforms
from app.lti.cli import lti
from app.models import LtiDeployment, LtiPlatform
from tests.lti_platform import LoopbackPlatform

GOOD = [
    "--issuer",
    "https://moodle.example.edu",
    "--client-id",
    "abc123",
    "--deployment-id",
    "1",
    "--auth-login-url",
    "https://moodle.example.edu/mod/lti/auth.php",
    "--auth-token-url",
    "https://moodle.example.edu/mod/lti/token.php",
    "--keyset-url",
    "https://moodle.example.edu/mod/lti/certs.php",
]


def run(app, *args):
    """`alliance lti ...` as an operator runs it."""
    return app.test_cli_runner().invoke(lti, list(args))


def test_platforms_are_added_listed_and_removed_from_the_command_line(app, db):
    added = run(app, "platforms", "add", "--name", "Uni Moodle", *GOOD, "--deployment-id", "2")
    assert added.exit_code == 0, added.output
    assert re.match(r"Registered platform \d+: Uni Moodle \(https://moodle.example.edu, client abc123\)", added.output)
    platform_id = db.session.scalar(select(LtiPlatform.id))
    assert sorted(db.session.scalars(select(LtiDeployment.deployment_id))) == ["1", "2"]
    listed = run(app, "platforms", "list")
    assert "Uni Moodle\thttps://moodle.example.edu\tclient abc123\tdeployments 1, 2\t0 courses" in listed.output
    again = run(app, "platforms", "add", *GOOD)
    assert again.exit_code == 1 and "registered already" in again.output
    removed = run(app, "platforms", "remove", str(platform_id), "--yes")
    assert removed.exit_code == 0 and "Removed Uni Moodle" in removed.output
    assert db.session.scalar(select(func.count()).select_from(LtiPlatform)) == 0
    assert run(app, "platforms", "remove", str(platform_id), "--yes").exit_code == 1


@pytest.mark.parametrize(
    "flag, value, says",
    [
        ("--keyset-url", "ftp://moodle.example.edu/certs", "key set URL must be a web address"),
        ("--auth-login-url", "not a url", "login (authorisation) URL must be a web address"),
        ("--issuer", "moodle", "The issuer is the platform's address"),
        ("--deployment-id", "   ", "at least one deployment id"),
        ("--client-id", "a\nb", "one line"),
    ],
)
def test_a_bad_registration_is_refused_with_the_reason(app, db, flag, value, says):
    args = list(GOOD)
    args[args.index(flag) + 1] = value
    result = run(app, "platforms", "add", *args)
    assert result.exit_code == 1 and says in result.output and "Traceback" not in result.output
    assert db.session.scalar(select(func.count()).select_from(LtiPlatform)) == 0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(issuer=st.text(max_size=300), url=st.text(max_size=1200))
def test_any_typed_registration_is_saved_or_refused_plainly(app, db, issuer, url):
    try:
        platforms.add(platforms.NewPlatform("X", issuer, "c", ("1",), url, url, url))
    except platforms.PlatformError as exc:
        assert str(exc)
    finally:
        db.session.rollback()


def test_config_prints_what_a_platform_needs(app):
    result = run(app, "config")
    config = json.loads(result.output[result.output.index("{") :])
    site = app.config["SITE_URL"]
    assert config["oidc_initiation_url"] == site + "/lti/login"
    assert config["target_link_uri"] == config["deep_linking_url"] == site + "/lti/launch"
    assert config["jwks_uri"] == site + "/lti/jwks" and config["redirect_uris"] == [site + "/lti/launch"]
    assert "https://purl.imsglobal.org/spec/lti-ags/scope/score" in config["scopes"]
    assert "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly" in config["scopes"]


def test_the_key_pair_is_made_once_private_and_rotated_with_the_old_key_still_published(app, client):
    first = client.get("/lti/jwks").get_json()["keys"]
    assert len(first) == 1 and first[0]["alg"] == "RS256" and first[0]["use"] == "sig" and "d" not in first[0]
    key_file = Path(app.instance_path) / keys.CURRENT
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert client.get("/lti/jwks").get_json()["keys"] == first  # kept, not made again
    rotated = run(app, "rotate-key")
    assert rotated.exit_code == 0 and "previous key is still published" in rotated.output
    both = client.get("/lti/jwks").get_json()["keys"]
    assert [k["kid"] for k in both][1] == first[0]["kid"] and both[0]["kid"] != first[0]["kid"]
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "no longer published" in run(app, "retire-key").output
    assert [k["kid"] for k in client.get("/lti/jwks").get_json()["keys"]] == [both[0]["kid"]]
    assert "There is no previous key" in run(app, "retire-key").output


def _admin(auth):
    auth.create("admin", email="admin@example.org")
    assert auth.sign_in("admin@example.org").status_code == 302


def test_an_admin_registers_a_platform_on_the_page(client, db, auth):
    _admin(auth)
    page = client.get("/lti/platforms/")
    assert page.status_code == 200 and "<h1>Learning platforms</h1>" in page.text and "oidc_initiation_url" in page.text
    form = {
        "name": "Campus Canvas",
        "issuer": "https://canvas.instructure.com",
        "client_id": "10000000000001",
        "deployment_ids": "1:abc, 2:def",
        "auth_login_url": "https://sso.canvaslms.com/api/lti/authorize_redirect",
        "auth_token_url": "https://sso.canvaslms.com/login/oauth2/token",
        "keyset_url": "https://sso.canvaslms.com/api/lti/security/jwks",
        "frame_origins": "https://school.instructure.com",
    }
    added = client.post("/lti/platforms/", data=form, follow_redirects=True)
    assert "Campus Canvas is registered" in added.text and "1:abc, 2:def" in added.text
    again = client.post("/lti/platforms/", data=form)
    assert again.status_code == 422 and "registered already" in again.text
    blank = client.post("/lti/platforms/", data={**form, "keyset_url": ""})
    assert blank.status_code == 422 and "Give the public keyset URL." in blank.text
    platform_id = db.session.scalar(select(LtiPlatform.id))
    assert "Unregister Campus Canvas?" in client.get(f"/lti/platforms/{platform_id}/remove").text
    gone = client.post(f"/lti/platforms/{platform_id}/remove", follow_redirects=True)
    assert "no longer registered" in gone.text


def test_dynamic_registration_from_a_one_time_link(client, db, auth, app):
    _admin(auth)
    page = client.post("/lti/platforms/registration-link")
    link = page.text.split('id="registration-link" type="text" value="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert link.startswith(app.config["SITE_URL"] + "/lti/register?link=")
    path = link.removeprefix(app.config["SITE_URL"])
    with LoopbackPlatform(app.config["SITE_URL"]) as platform:
        configuration = platform.issuer + "/.well-known/openid-configuration"
        started = f"{path}&openid_configuration={configuration}&registration_token=registration-token"
        done = client.get(started)
        assert done.status_code == 200, done.text
        assert "<h1>Alliance is registered</h1>" in done.text
        [sent] = platform.received.registrations
        assert sent["initiate_login_uri"] == app.config["SITE_URL"] + "/lti/login"
        assert sent["jwks_uri"] == app.config["SITE_URL"] + "/lti/jwks"
        assert sent["token_endpoint_auth_method"] == "private_key_jwt"
        saved = db.session.scalar(select(LtiPlatform))
        assert (saved.issuer, saved.client_id) == (platform.issuer, "dynamic-client")
        assert db.session.scalar(select(LtiDeployment.deployment_id)) == "dynamic-deployment"
        # The link worked once.
        assert client.get(started).status_code == 403
    assert client.get("/lti/register?link=made-up&openid_configuration=https://evil.example/x").status_code == 403
