"""SCORM packages of a module: manifests valid against the ADL/IMS schemas, pages self-contained, the bookmark
within SCORM 1.2's limit at its longest, and the `alliance export scorm` command."""

import dataclasses
import io
import json
import re
import subprocess
import zipfile
from pathlib import Path, PurePosixPath

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from lxml import etree

from app.cli import cli
from app.content import content_dirs, load_once
from app.exchange.scorm import grading, package
from tests.test_scorm_grading import GRADER

CATALOG = load_once(content_dirs())
SCHEMAS = Path(__file__).parent / "data" / "scorm_schemas"
#: Each version's schemas, by namespace: the manifest's content packaging and SCORM's extensions.
NAMESPACES = {
    "1.2": (
        "scorm12",
        {
            "http://www.imsproject.org/xsd/imscp_rootv1p1p2": "imscp_rootv1p1p2.xsd",
            "http://www.adlnet.org/xsd/adlcp_rootv1p2": "adlcp_rootv1p2.xsd",
        },
    ),
    "2004": (
        "scorm2004-4th",
        {
            "http://www.imsglobal.org/xsd/imscp_v1p1": "imscp_v1p1.xsd",
            "http://www.adlnet.org/xsd/adlcp_v1p3": "adlcp_v1p3.xsd",
            "http://www.adlnet.org/xsd/adlseq_v1p3": "adlseq_v1p3.xsd",
            "http://www.adlnet.org/xsd/adlnav_v1p3": "adlnav_v1p3.xsd",
            "http://www.imsglobal.org/xsd/imsss": "imsss_v1p0.xsd",
        },
    ),
}
_SAFE = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)


def schema(version: str) -> etree.XMLSchema:
    """One schema importing every namespace a manifest of this version uses, read from the vendored files."""
    folder, imports = NAMESPACES[version]
    text = '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">' + "".join(
        f'<xs:import namespace="{ns}" schemaLocation="{name}"/>' for ns, name in imports.items()
    )
    base = (SCHEMAS / folder).resolve().as_uri() + "/"
    return etree.XMLSchema(etree.fromstring((text + "</xs:schema>").encode(), _SAFE, base_url=base))


SCHEMA = {version: schema(version) for version in package.VERSIONS}


def unzip(data: bytes) -> dict[str, bytes]:
    """Every file of a zip, by name."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.mark.parametrize("version", package.VERSIONS)
@pytest.mark.parametrize("module", CATALOG.modules, ids=[m.id for m in CATALOG.modules])
def test_every_modules_manifest_is_valid_and_lists_every_file(module, version):
    files = unzip(package.build(CATALOG, module.id, version))
    manifest = etree.fromstring(files["imsmanifest.xml"], _SAFE)
    assert SCHEMA[version].validate(manifest), SCHEMA[version].error_log
    listed = {f.get("href") for f in manifest.iter("{*}file")}
    assert listed == set(files) - {"imsmanifest.xml"}
    resource = next(manifest.iter("{*}resource"))
    assert resource.get("href") == "index.html"
    scorm_type = resource.get("{http://www.adlnet.org/xsd/adlcp_rootv1p2}scormtype") or resource.get(
        "{http://www.adlnet.org/xsd/adlcp_v1p3}scormType"
    )
    assert scorm_type == "sco"
    assert next(manifest.iter("{*}schemaversion")).text == ("1.2" if version == "1.2" else "2004 4th Edition")
    assert [t.text for t in manifest.iter("{*}title")] == [module.title, module.title]


@pytest.mark.parametrize(
    ("version", "change"),
    [
        ("1.2", (b'adlcp:scormtype="sco"', b'adlcp:scormtype="lesson"')),
        ("1.2", (b"adlcp:masteryscore", b"adlcp:passmark")),  # no such element in the ADL namespace
        ("2004", (b'completionSetByContent="true"', b'completionSetByContent="sometimes"')),
        ("2004", (b"<adlnav:hideLMSUI>previous", b"<adlnav:hideLMSUI>back")),
    ],
)
def test_the_schemas_catch_a_broken_manifest(version, change):
    # The validation above can fail: the same manifest with one value outside the schema does not validate.
    text = unzip(package.build(CATALOG, CATALOG.modules[0].id, version))["imsmanifest.xml"]
    assert change[0] in text
    assert not SCHEMA[version].validate(etree.fromstring(text.replace(*change), _SAFE))


@pytest.mark.parametrize("version", package.VERSIONS)
def test_the_package_loads_nothing_from_elsewhere_and_every_link_inside_it_resolves(version):
    module = CATALOG.module("the-evidence")  # charts, citations, glossary links and a certainty-marked quiz
    files = unzip(package.build(CATALOG, module.id, version))
    pages = {name: data.decode() for name, data in files.items() if name.endswith(".html")}
    assert set(pages) == {"index.html", "quiz.html", "glossary.html"} | {
        f"lesson-{n}.html" for n in range(1, len(module.lessons) + 1)
    }
    for name, html in pages.items():
        # Scripts, styles, frames and images come from the package; links may leave it (references), loads may not.
        for attribute, target in re.findall(r'<(?:script|link|iframe|img|source)\b[^>]*\b(src|href)="([^"]+)"', html):
            assert not re.match(r"[a-z]+:|//", target), f"{name} loads {target}"
            assert str(PurePosixPath(target)) in files, f"{name}: {attribute}={target} is not in the package"
        for target in re.findall(r'<a\b[^>]*\bhref="([^"#:]+)(?:#[^"]*)?"', html):
            assert target in files, f"{name} links to {target}, which is not in the package"
        assert "\u0002" not in html, f"{name} has an unfilled glossary placeholder"
    assert "http" not in files["assets/style.css"].decode()
    assert 'href="glossary.html#term-' in pages["lesson-1.html"]
    assert '<svg class="chart"' in "".join(pages.values())


def test_the_same_module_and_version_always_give_the_same_bytes():
    module_id = CATALOG.modules[0].id
    assert package.build(CATALOG, module_id, "2004") == package.build(CATALOG, module_id, "2004")


def test_the_quiz_page_carries_the_grading_data_the_server_grades_with():
    quiz = CATALOG.first_quiz_for("the-evidence")
    html = unzip(package.build(CATALOG, "the-evidence", "1.2"))["quiz.html"].decode()
    found = re.search(r'<script type="application/json" id="grading">(.*?)</script>', html, re.S).group(1)
    assert json.loads(found) == json.loads(json.dumps(grading.quiz_data(quiz)))
    assert "</" not in found  # no text in the data can close its script element


# --- the bookmark at its longest


def _node_bookmark(quiz_data: dict, lessons: int, state: dict) -> str:
    script = (
        "const g = require(process.argv[1]);"
        "const job = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "process.stdout.write(g.Bookmark.encode(job.quiz, job.lessons, job.state));"
    )
    job = json.dumps({"quiz": quiz_data, "lessons": lessons, "state": state})
    return subprocess.run(
        ["node", "-e", script, str(GRADER)], input=job, capture_output=True, text=True, check=True
    ).stdout


def _longest_state(quiz, lessons: int) -> dict:
    """Every lesson seen, every item answered at its longest (all options ticked), very sure, submitted."""
    answers = {}
    for item in quiz.items:
        if item.type == "multiple_response":
            answers[item.id] = [o.id for o in item.options]
        elif item.type == "scenario":
            answers[item.id] = item.options[-1].id
        else:
            answers[item.id] = item.handler.wrong_answer(item)
    return {
        "seen": [True] * lessons,
        "answers": answers,
        "confidence": {item.id: 3 for item in quiz.items},
        "submitted": True,
    }


def _quiz_of(count: int):
    """The longest-answering item of each type, repeated (with ids of their own) to `count` items."""
    ordering = next(i for i in CATALOG.quizzes for i in i.items if i.type == "ordering")
    longest = dataclasses.replace(ordering, steps_html=tuple(f"Step {n}" for n in range(1, 9)))  # 8 steps, the most
    items = tuple(dataclasses.replace(longest, id=f"step-item-{n}") for n in range(count))
    return dataclasses.replace(CATALOG.quizzes[0], items=items)


@pytest.mark.parametrize("quiz", CATALOG.quizzes, ids=[q.id for q in CATALOG.quizzes])
def test_the_predicted_longest_bookmark_is_what_the_package_writes(quiz):
    lessons = len(CATALOG.module(quiz.module_id).lessons)
    written = _node_bookmark(grading.quiz_data(quiz), lessons, _longest_state(quiz, lessons))
    assert len(written) == grading.longest_bookmark(lessons, quiz)


def test_a_quiz_at_scorm_12s_limit_exports_and_one_item_more_is_refused_with_a_reason():
    module = CATALOG.modules[0]
    lessons = len(module.lessons)
    fits = max(n for n in range(1, 1000) if grading.longest_bookmark(lessons, _quiz_of(n)) <= 4096)
    worst = _quiz_of(fits)
    written = _node_bookmark(grading.quiz_data(worst), lessons, _longest_state(worst, lessons))
    assert len(written) == grading.longest_bookmark(lessons, worst) <= 4096
    assert 4096 - len(written) < 11  # one more item would not fit
    for count, fits_12 in ((fits, True), (fits + 1, False)):
        quiz = dataclasses.replace(_quiz_of(count), module_id=module.id)
        catalog = dataclasses.replace(CATALOG, quizzes=(quiz,))
        assert package.check(catalog, module.id, "2004")
        if fits_12:
            assert package.check(catalog, module.id, "1.2")
        else:
            with pytest.raises(package.ExportError, match=r"too long for SCORM 1\.2: .* Export it as SCORM 2004"):
                package.check(catalog, module.id, "1.2")


# --- the command


def _run(app, *args: str):
    return CliRunner().invoke(cli, ["export", "scorm", *args], obj=ScriptInfo(create_app=lambda: app))


def test_the_export_command_writes_a_package_and_says_what_is_in_it(app, tmp_path):
    target = tmp_path / "module.zip"
    module = CATALOG.modules[0]
    result = _run(app, module.id, "--version", "2004", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert f"Wrote {target}" in result.output and f"SCORM 2004 package of “{module.title}”" in result.output
    assert target.read_bytes() == package.build(CATALOG, module.id, "2004")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no-such-module", "--version", "1.2"], "There is no module 'no-such-module'. Modules: therapeutic-alliance"),
        (["therapeutic-alliance", "--version", "3"], "'3' is not one of '1.2', '2004'"),
        (["therapeutic-alliance"], "Missing option '--version'"),
        (["therapeutic-alliance", "--version", "1.2", "-o", "/no/such/folder/x.zip"], "Cannot write /no/such/folder"),
    ],
)
def test_the_export_command_explains_what_it_cannot_do(app, args, message):
    result = _run(app, *args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("version", package.VERSIONS)
def test_a_module_without_a_quiz_is_packaged_as_lessons_alone(version):
    module = CATALOG.modules[0]
    catalog = dataclasses.replace(CATALOG, quizzes=())
    files = unzip(package.build(catalog, module.id, version))
    manifest = etree.fromstring(files["imsmanifest.xml"], _SAFE)
    assert SCHEMA[version].validate(manifest), SCHEMA[version].error_log
    assert "quiz.html" not in files and b"masteryscore" not in files["imsmanifest.xml"]
    last = files[f"lesson-{len(module.lessons)}.html"].decode()
    assert "Next:" not in last and "quiz.html" not in files["index.html"].decode()
