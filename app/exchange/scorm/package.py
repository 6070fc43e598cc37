"""Build a module's SCORM package: its lessons as pages, its quiz graded offline, the manifest, one zip file.

The package is one SCO: `index.html` connects to the platform's run-time API and shows the lessons and
the quiz in a frame, so moving between pages never ends the session (assets/sco.js). Nothing in it
loads from the network.
"""

import io
import json
import zipfile
from dataclasses import dataclass
from importlib import resources

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from app.content import Catalog, Module, Quiz, markdown
from app.content.certainty import LABELS as CONFIDENCE_LABELS
from app.content.items import GRADE_LABELS
from app.exchange.scorm import grading

VERSIONS = ("1.2", "2004")
#: The files every package carries from assets/, besides the pages made for the module.
ASSETS = ("style.css", "grader.js", "sco.js", "quiz.js")
#: A fixed time for every file in the zip, so the same module and version always give the same bytes.
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)

_env = Environment(
    loader=PackageLoader("app.exchange.scorm", "templates"),
    autoescape=select_autoescape(["html", "xml"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


class ExportError(ValueError):
    """A package that cannot be made, with what to do instead."""


@dataclass(frozen=True)
class Page:
    """One page of the package, as the contents list and the bookmark name it."""

    id: str
    href: str
    title: str
    kind: str  # "lesson", "glossary" or "quiz"


def _json_script(data: object) -> Markup:
    """JSON safe inside a <script type="application/json"> element (no "</" can close it)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def _glossary_terms(catalog: Catalog, module: Module) -> list:
    """Every glossary term the lessons link to (from any module), in alphabetical order."""
    used = {term_id for lesson in module.lessons for term_id in lesson.terms}
    return [term for term in catalog.glossary if term.id in used]


def _pages(module: Module, quiz: Quiz | None, has_glossary: bool) -> list[Page]:
    pages = [
        Page(f"lesson-{lesson.position}", f"lesson-{lesson.position}.html", lesson.title, "lesson")
        for lesson in module.lessons
    ]
    if quiz is not None:
        pages.append(Page("quiz", "quiz.html", quiz.title, "quiz"))
    if has_glossary:
        pages.append(Page("glossary", "glossary.html", "Glossary", "glossary"))
    return pages


def check(catalog: Catalog, module_id: str, version: str) -> tuple[Module, Quiz | None]:
    """The module and its quiz, or ExportError saying why no package of this version can be made."""
    if version not in VERSIONS:
        raise ExportError(f"SCORM version must be 1.2 or 2004, not '{version}'.")
    module = catalog.module(module_id)
    if module is None:
        known = ", ".join(m.id for m in catalog.modules)
        raise ExportError(f"There is no module '{module_id}'. Modules: {known}.")
    quiz = catalog.first_quiz_for(module.id)
    if quiz is not None:
        for item in quiz.items:
            try:
                grading.item_data(item)
            except ValueError as exc:
                raise ExportError(str(exc)) from None
    longest = grading.longest_bookmark(len(module.lessons), quiz)
    if longest > grading.SUSPEND_LIMITS[version]:
        raise ExportError(
            f"The quiz '{quiz.id}' is too long for SCORM {version}: its answers can take {longest:,} characters "
            f"to remember, and SCORM {version} keeps at most {grading.SUSPEND_LIMITS[version]:,}. "
            "Export it as SCORM 2004, or split the quiz."
        )
    return module, quiz


def build(catalog: Catalog, module_id: str, version: str) -> bytes:
    """The zip file of a module's SCORM package of this version (1.2 or 2004 4th edition)."""
    module, quiz = check(catalog, module_id, version)
    terms = _glossary_terms(catalog, module)
    pages = _pages(module, quiz, bool(terms))
    grading_data = grading.quiz_data(quiz) if quiz else None
    context = {
        "module": module,
        "quiz": quiz,
        "pages": pages,
        "version": version,
        "terms": terms,
        "has_glossary": bool(terms),
        "grade_labels": GRADE_LABELS,
        "confidence_labels": CONFIDENCE_LABELS,
        "link_glossary": lambda html: Markup(markdown.link_glossary(html, "glossary.html")),
    }
    files: dict[str, bytes] = {}
    for lesson in module.lessons:
        previous, following = module.neighbours(lesson)
        html = _env.get_template("lesson.html").render(
            context,
            lesson=lesson,
            previous=previous,
            following=following,
            cited=[module.reference(ref_id) for ref_id in lesson.cited],
            page_id=f"lesson-{lesson.position}",
        )
        files[f"lesson-{lesson.position}.html"] = html.encode()
    if quiz is not None:
        files["quiz.html"] = (
            _env.get_template("quiz.html").render(context, grading_json=_json_script(grading_data), page_id="quiz")
        ).encode()
    if terms:
        files["glossary.html"] = _env.get_template("glossary.html").render(context, page_id="glossary").encode()
    package_data = {
        "version": version,
        "module": module.id,
        "lessons": len(module.lessons),
        "pages": [page.__dict__ for page in pages],
        "quiz": grading_data,
    }
    files["index.html"] = (
        _env.get_template("index.html").render(context, package_json=_json_script(package_data), page_id="index")
    ).encode()
    assets = resources.files("app.exchange.scorm") / "assets"
    for name in ASSETS:
        files[f"assets/{name}"] = (assets / name).read_bytes()
    manifest = _env.get_template(f"manifest-{version}.xml").render(
        context,
        identifier=f"alliance-{module.id}",
        files=["index.html", *sorted(n for n in files if n != "index.html")],
    )
    return _zip({"imsmanifest.xml": manifest.encode(), **files})


def _zip(files: dict[str, bytes]) -> bytes:
    """The files in a deflated zip, the manifest first."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def filename(module_id: str, version: str) -> str:
    """The package's file name: the module and the SCORM version."""
    return f"{module_id}-scorm-{version.replace('.', '')}.zip"
