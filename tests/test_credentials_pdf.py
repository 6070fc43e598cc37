"""The certificate PDF: what it says, drawn to an image by poppler's pdftoppm, and its QR code read back by zbarimg."""

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from app.credentials import badges
from tests.test_credentials import app_settings, certificates, complete, course_world, credential_key_file  # noqa: F401

SHOTS = Path("/tmp/shots")


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is missing: apt-get install {'poppler-utils' if name == 'pdftoppm' else 'zbar-tools'}")
    return found


def test_the_certificate_pdf_says_who_what_when_and_its_qr_code_opens_the_verification_page(
    client, db, auth, catalog, tmp_path
):
    world = course_world(auth, db, catalog)
    complete(db, world)
    [certificate] = certificates(db, world.student.id)
    auth.sign_in(world.student.email)
    response = client.get(f"/certificates/{certificate.public_id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert (
        disposition == f'attachment; filename="certificate-alliance-on-placement-{certificate.issued_at:%Y-%m-%d}.pdf"'
    )

    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) == 1  # one landscape page
    text = " ".join(reader.pages[0].extract_text().split())
    address = f"https://alliance.example.org/verify/{certificate.public_id}"
    assert "Ada Lovelace" in text and "Alliance on placement" in text and "Certificate of completion" in text
    assert certificate.issued_at.strftime("%-d %B %Y") in text
    assert address.replace("https://", "") in text.replace(" ", "")
    for name in badges.competency_names(certificate.competency_refs):
        assert name in text

    pdf = tmp_path / "certificate.pdf"
    pdf.write_bytes(response.data)
    subprocess.run(
        [_tool("pdftoppm"), "-png", "-r", "110", "-singlefile", str(pdf), str(tmp_path / "page")], check=True
    )
    image = tmp_path / "page.png"
    SHOTS.mkdir(exist_ok=True)
    shutil.copy(image, SHOTS / "certificate.png")  # to look at
    decoded = subprocess.run([_tool("zbarimg"), "--quiet", "--raw", str(image)], capture_output=True, text=True)
    assert decoded.returncode == 0, decoded.stderr
    assert decoded.stdout.strip().splitlines() == [address]


def test_a_revoked_certificates_pdf_says_so(client, db, auth, catalog):
    world = course_world(auth, db, catalog)
    complete(db, world)
    [certificate] = certificates(db, world.student.id)
    auth.sign_in(world.educator.email)
    client.post(f"/teach/certificates/{certificate.public_id}/revoke", data={"reason": "Completed by mistake."})
    auth.sign_out()
    auth.sign_in(world.student.email)
    text = PdfReader(io.BytesIO(client.get(f"/certificates/{certificate.public_id}.pdf").data)).pages[0].extract_text()
    assert "Revoked on" in text and "Completed by mistake." in text


def test_without_pdf_support_the_download_gives_advice_not_an_error(client, db, auth, catalog, monkeypatch):
    from app.services.reports import pdf

    def unavailable(*_args, **_kwargs):
        raise pdf.PdfUnavailable("no Pango")

    world = course_world(auth, db, catalog)
    complete(db, world)
    [certificate] = certificates(db, world.student.id)
    monkeypatch.setattr(pdf, "render", unavailable)
    auth.sign_in(world.student.email)
    response = client.get(f"/certificates/{certificate.public_id}.pdf")
    assert response.status_code == 503 and "<h1>The PDF cannot be made right now</h1>" in response.text
    assert f"/verify/{certificate.public_id}" in response.text
