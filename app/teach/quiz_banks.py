"""Quiz bank downloads from the course builder: a catalogue quiz as GIFT, Moodle XML or a QTI 2.1 package."""

from flask import Response

from app.content import catalog
from app.errors import not_found
from app.exchange.banks import export, formats
from app.teach import bp


@bp.get("/quizzes/<quiz_id>/bank/<format_name>")
def quiz_bank(quiz_id: str, format_name: str):
    """Download a quiz for another platform's question import; educators and admins, like the previews."""
    quiz = catalog().quiz(quiz_id)
    if quiz is None:
        not_found("That quiz is not in the catalogue. Download a quiz's bank from a course's page.")
    bank_format = formats().get(format_name)
    if bank_format is None:
        not_found("There is no such bank format. Choose GIFT, Moodle XML or QTI 2.1 beside the quiz.")
    filename = f"{quiz.id}.{bank_format.extension}"
    return Response(
        export(quiz, format_name),
        mimetype=bank_format.media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.app_template_global("harmful_penalty_percent")
def harmful_penalty_percent() -> str:
    """The share of a question's mark a harmful reply costs in the downloads, as the course builder says it."""
    from app.exchange.banks.mapping import DEFAULT_HARMFUL_PENALTY, percent_text

    return percent_text(-DEFAULT_HARMFUL_PENALTY)
