"""Files in and out: a quiz as YAML in the format of `quizzes/`, and YAML, GIFT or Moodle XML into the draft."""

import math

from flask import Response, flash, redirect, render_template, request, url_for

from app.author import bp
from app.author.publishing import version_number
from app.author.routes import quiz_or_404
from app.content import authored as checking
from app.content import catalog
from app.content.yamlfile import Mapping
from app.errors import not_found
from app.exchange.banks import gift_reader, importing, moodle_reader
from app.exchange.banks.bank import BankError
from app.extensions import db
from app.services import authored_conversations as talks
from app.services import authored_observations as observations
from app.services import authoring

#: The largest file taken: a quiz of sixty items is well under this.
MAX_UPLOAD = 1024 * 1024
_KINDS = {"yaml": "Quiz YAML (as in quizzes/)", "gift": "GIFT", "moodle": "Moodle XML"}
#: A conversation or an observation form comes in only as its own file.
_FILE_ONLY = {
    "conversation": {"yaml": "Conversation YAML (as in quizzes/)"},
    "observation form": {"yaml": "Observation form YAML (as in quizzes/)"},
}
#: Each kind's page, its draft service, and the `type` its file has.
_PAGES = {"quiz": ".quiz", "conversation": ".conversation", "observation form": ".observation"}
_SERVICES = {"quiz": authoring, "conversation": talks, "observation form": observations}
_TYPES = {"conversation": "conversation", "observation form": "observation"}


@bp.url_value_preprocessor
def _limit_uploads(endpoint: str | None, values: dict | None) -> None:
    """An upload is capped well below the app's limit, before anything reads the body."""
    if endpoint == "author.import_file":
        request.max_content_length = MAX_UPLOAD + 64 * 1024


@bp.get("/<int:quiz_id>/export.yaml")
def export(quiz_id: int):
    """The draft, or a published version (?version=n), as a quiz file."""
    quiz = quiz_or_404(quiz_id)
    content = quiz.draft
    name = f"{quiz.ref}.yaml"
    if "version" in request.args:
        number = version_number(request.args.get("version"))
        version = next((v for v in quiz.versions if v.number == number), None)
        if version is None:
            not_found("This quiz has no version with that number. Its versions are listed on its History page.")
        content = version.content
        name = f"{quiz.ref}-v{version.number}.yaml"
    editor = f"{quiz.kind} editor"
    text = f"# {quiz.title}: written in Alliance's {editor}.\n" + checking.to_yaml(content)
    return Response(
        text,
        mimetype="application/yaml",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _from_yaml(data: bytes, quiz) -> dict:
    """A quiz file's mapping; BankError (with a message for the author) for anything else."""
    import yaml  # only an upload needs it (app/content/yamlfile.py says why)

    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BankError("The file is not UTF-8 text. Save it as UTF-8 and upload it again.") from None
    try:
        # An alias repeats a part of the file: a quiz needs none, and a few nested ones expand to gigabytes.
        if any(isinstance(event, yaml.AliasEvent) for event in yaml.parse(text, Loader=yaml.SafeLoader)):
            raise BankError("The file uses YAML aliases (*name); a quiz file has none. Write each part out in full.")
        parsed = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise BankError(f"The file is not valid YAML{where}: {getattr(exc, 'problem', None) or exc}.") from None
    if quiz.kind in _TYPES:
        if not isinstance(parsed, dict) or parsed.get("type") != _TYPES[quiz.kind]:
            raise BankError(
                f"The file is not {_a(quiz.kind)}: {_a(quiz.kind)} file is a mapping with 'type: {_TYPES[quiz.kind]}'."
            )
        return _plain({**{k: v for k, v in parsed.items() if k != "id"}, "id": quiz.ref})
    if not isinstance(parsed, dict) or not isinstance(parsed.get("items", []), list):
        raise BankError("The file is YAML but not a quiz: a quiz file is a mapping with id, title, module and items.")
    if parsed.get("type", "quiz") != "quiz":
        raise BankError(f"The file holds a {parsed.get('type')!r}, not a quiz: only quizzes can be imported here.")
    return _plain({**{k: v for k, v in parsed.items() if k != "id"}, "id": quiz.ref})


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _from_bank(data: bytes, kind: str, quiz) -> tuple[dict, importing.Imported]:
    """A GIFT or Moodle XML bank as a quiz mapping, with what could not come across."""
    bank = (gift_reader if kind == "gift" else moodle_reader).read(data)
    known = frozenset(c.id for c in catalog().competencies)
    result = importing.convert(bank, quiz.ref, quiz.draft.get("title"), quiz.draft.get("module"), [], known)
    import yaml

    parsed = yaml.safe_load(result.yaml_text)
    return _plain(parsed), result


def _plain(value):
    """Parsed YAML as JSON can hold it: string keys; dates, binary and infinite numbers as text."""
    if isinstance(value, Mapping | dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return str(value)


@bp.route("/<int:quiz_id>/import", methods=["GET", "POST"])
def import_file(quiz_id: int):
    """Replace the draft with a quiz file or a GIFT / Moodle XML bank (published versions stay as they are)."""
    quiz = quiz_or_404(quiz_id)
    if request.method == "GET":
        return render_template(
            "author/import.html", quiz=quiz, kinds=_FILE_ONLY.get(quiz.kind, _KINDS), error=None, kind="yaml"
        )
    kind = request.form.get("kind", "yaml")
    upload = request.files.get("file")
    error = None
    if quiz.kind in _FILE_ONLY and kind != "yaml":
        error = f"{_a(quiz.kind).capitalize()} is imported from its own YAML file."
    elif kind not in _KINDS:
        error = "Choose what kind of file it is."
    elif upload is None or not upload.filename:
        error = "Choose a file to import."
    else:
        data = upload.stream.read(MAX_UPLOAD + 1)
        if len(data) > MAX_UPLOAD:
            error = f"The file is larger than {MAX_UPLOAD // 1024} KB; a quiz file is much smaller. Check it is the right file."
        elif not data.strip():
            error = "The file is empty."
        else:
            try:
                if kind == "yaml":
                    content, notes = _from_yaml(data, quiz), None
                else:
                    content, notes = _from_bank(data, kind, quiz)
            except BankError as exc:
                error = str(exc)
            else:
                _SERVICES[quiz.kind].replace_draft(quiz, content)
                db.session.commit()
                if quiz.is_observation:  # what is wrong in the file, at its own lines
                    for problem in checking.file_problems(data.decode("utf-8-sig"), catalog(), quiz.ref)[:20]:
                        flash(f"Line {problem.line}: {problem.message}" if problem.line else problem.message, "warning")
                if notes is not None:
                    for what, why in notes.skipped:
                        flash(f"Not imported: {what}: {why}", "warning")
                    for what in notes.to_fill:
                        flash(f"Fill in: {what}", "warning")
                flash("Imported into the draft. The checker's findings are below.", "success")
                return redirect(url_for(_PAGES[quiz.kind], quiz_id=quiz.id))
    return render_template(
        "author/import.html", quiz=quiz, kinds=_FILE_ONLY.get(quiz.kind, _KINDS), error=error, kind=kind
    ), 422
