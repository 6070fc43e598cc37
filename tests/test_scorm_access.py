"""Who may download a module's SCORM package: educators and admins, from the module page; students and visitors never."""

import io
import zipfile

import pytest
from markupsafe import escape

from app.exchange.scorm import package
from tests.test_access import ROLES, Case, assert_friendly_error, assert_outcome, become, teaching

PACKAGE = ("scorm-zip", None)

CASES = [Case("/teach/modules/<module_id>/scorm-<version>.zip", "GET", teaching(PACKAGE))]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=[f"{c.method} {c.rule}" for c in CASES])
def test_scorm_route_answers_each_role_as_expected(client, auth, catalog, case, role):
    user = become(role, auth)
    module = catalog.modules[0]
    path = f"/teach/modules/{module.id}/scorm-12.zip"
    response = client.open(path, method=case.method)
    kind, value = case.expect[role]
    if kind == PACKAGE[0]:
        assert response.status_code == 200 and response.mimetype == "application/zip"
        assert response.headers["Content-Disposition"] == f'attachment; filename="{module.id}-scorm-12.zip"'
        assert response.data == package.build(catalog, module.id, "1.2")
    else:
        assert assert_outcome(response, kind, value, None, user, path), f"no check for outcome {kind!r}"
        if kind == "403":
            assert "SCORM packages are for educators." in response.text


def test_an_educator_downloads_both_versions_from_the_module_page(client, auth, catalog):
    auth.as_role("educator")
    module = catalog.modules[0]
    page = client.get(f"/learn/modules/{module.id}").text
    assert '<h2 id="scorm-heading">Use this module in your learning platform</h2>' in page
    for version, file_version in (("1.2", "12"), ("2004", "2004")):
        link = (
            f'href="/teach/modules/{module.id}/scorm-{file_version}.zip" download>Download SCORM {version} package</a>'
        )
        assert page.count(link) == 1
        response = client.get(f"/teach/modules/{module.id}/scorm-{file_version}.zip")
        with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
            manifest = archive.read("imsmanifest.xml").decode()
        assert ("<schemaversion>1.2</schemaversion>" if version == "1.2" else "2004 4th Edition") in manifest
        assert f"<title>{escape(module.title)}</title>" in manifest


@pytest.mark.parametrize("role", ["student", "anonymous"])
def test_learners_see_no_package_download_on_the_module_page(client, auth, catalog, role):
    auth.as_role(role)
    module = catalog.modules[0]
    page = client.get(f"/learn/modules/{module.id}", follow_redirects=True).text
    assert "scorm" not in page.lower()


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/teach/modules/no-such-module/scorm-12.zip", "There is no module at this address."),
        ("/teach/modules/{module}/scorm-3.zip", "SCORM packages come as version 1.2 (scorm-12.zip) or 2004"),
        ("/teach/modules/{module}/scorm-1.2.zip", "SCORM packages come as version 1.2 (scorm-12.zip) or 2004"),
    ],
)
def test_an_unknown_module_or_version_is_a_friendly_404(client, auth, catalog, path, message):
    auth.as_role("educator")
    response = client.get(path.format(module=catalog.modules[0].id))
    assert_friendly_error(response, 404)
    assert message in response.text
