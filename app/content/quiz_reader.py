"""One quiz file read and checked: a quiz of items, or handed to the conversation or observation-form reader."""

from pathlib import Path

from app.content import conversation_reader, markdown, observations, quality_banks
from app.content.catalog import Quiz
from app.content.checker import Checker
from app.content.conversations import Conversation
from app.content.items import REGISTRY, Item
from app.content.observations import ObservationForm
from app.content.problems import Problem, display_path
from app.content.versions import digest
from app.content.yamlfile import YamlError, load

_QUIZ_KEYS = {"id", "type", "title", "module", "pass_mark", "marking", "intro", "items"}
#: How a quiz may be marked: by its items' points, or by certainty-based marking.
_MARKINGS = ("standard", "certainty")


def load_quiz(
    path: Path, competency_ids: frozenset[str]
) -> tuple[Quiz | Conversation | ObservationForm | None, int, list[Problem], quality_banks.Bank | None]:
    """Validate one quiz or conversation file; return it, the line of its module key, problems and warnings,
    and its options as the item-quality rules read them."""
    check = Checker(display_path(path), competency_ids)
    try:
        raw = load(path)
    except YamlError as exc:
        check.problem(exc.line, str(exc))
        return None, 0, check.problems, None
    data = check.mapping(raw, "a quiz file", 1)
    if data is None:
        return None, 0, check.problems, None
    if data.get("type") == "conversation":
        conversation = conversation_reader.parse(data, check, digest(path.read_bytes()))
        bank = quality_banks.conversation_bank(data, check.file) if conversation else None
        return conversation, data.line_of("module"), check.problems, bank
    if data.get("type") == "observation":
        form = observations.parse(data, check, digest(path.read_bytes()))
        return form, data.line_of("module"), check.problems, None
    if data.get("type", "quiz") != "quiz":
        check.problem(
            data.line_of("type"),
            f"'type' must be 'conversation', 'observation', or 'quiz' (the default), not {data.get('type')!r}",
        )
    check.unknown_keys(data, _QUIZ_KEYS, "the quiz")
    quiz_id = check.slug(data, "id", "the quiz")
    title = check.text(data, "title", "the quiz")
    module_id = check.slug(data, "module", "the quiz")
    pass_mark = check.integer(data, "pass_mark", "the quiz", 1, 100)
    marking = data.get("marking", "standard")
    if marking not in _MARKINGS:
        check.problem(
            data.line_of("marking"), f"the quiz: 'marking' must be 'standard' or 'certainty', not {marking!r}"
        )
    intro = check.text(data, "intro", "the quiz", required=False) or ""
    check.in_words(intro, data.line_of("intro"), "the quiz: the intro")
    items: list[Item] = []
    item_ids: set[str] = set()
    for position, raw_item in enumerate(check.items(data, "items", "the quiz"), start=1):
        item_data = check.mapping(raw_item, f"item {position}", data.line_of("items"))
        if item_data is None:
            continue
        item_id = check.slug(item_data, "id", f"item {position}")
        if item_id in item_ids:
            check.problem(item_data.line_of("id"), f"two items have the id '{item_id}'")
        item_ids.add(item_id)
        item_type = item_data.get("type")
        handler = REGISTRY.get(item_type) if isinstance(item_type, str) else None
        if handler is None:
            known = ", ".join(sorted(REGISTRY))
            check.problem(
                item_data.line_of("type"), f"item {position}: unknown item type {item_type!r} (known: {known})"
            )
            continue
        item = handler.parse(item_data, check, item_id or f"item-{position}")
        if item is not None:
            items.append(item)
    if any(not p.is_warning for p in check.problems):
        return None, 0, check.problems, None
    quiz = Quiz(
        id=quiz_id,
        title=title,
        module_id=module_id,
        pass_mark=pass_mark,
        marking=marking,
        intro_html=markdown.render(intro),
        items=tuple(items),
        version=digest(path.read_bytes()),
    )
    return quiz, data.line_of("module"), check.problems, quality_banks.quiz_bank(data, check.file)
