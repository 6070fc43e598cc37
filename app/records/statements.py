"""One learning event as an xAPI 1.0.3 statement; pure: an event, its attempt and the catalog in, a dict out.

The vocabulary (verbs, activity types), the site's derived ids and the formats of times, durations,
scores and responses are `app.records.xapi`; this module puts one statement together from them.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from markupsafe import Markup

from app.content import Catalog
from app.records.xapi import (
    ACTIVITY_TYPES,
    ADL_VERB,
    INTERACTION_TYPES,
    LANGUAGE,
    PLATFORM,
    SITE_VERBS,
    VERBS,
    XAPI_VERSION,
    Site,
    iso_duration,
    iso_timestamp,
    response_text,
    score,
    statement_id,
)

# Result keys that map onto xAPI's own result properties; every other key becomes a result extension.
_RESULT_KEYS = frozenset({"score", "min", "max", "scaled", "success", "completion", "duration_seconds", "response"})
_NAME_LIMIT = 150


#: (form ref, content version) -> that version of the observation form, or None.
FormAt = Callable[[str, str | None], Any]


class UnknownEvent(ValueError):
    """An event whose verb or object this module cannot express: a bug to fix here, never to skip."""


class Event(Protocol):
    """What the builder reads from a learning event (app.models.LearningEvent)."""

    id: int
    user_id: int
    verb: str
    object_ref: str
    content_version: str
    result: dict[str, Any] | None
    attempt_id: int | None
    created_at: datetime


class Attempt(Protocol):
    """What the builder reads from the attempt an event names (app.models.QuizAttempt)."""

    id: int
    quiz_ref: str
    module_ref: str
    mode: str
    marking: str
    item_refs: list[str] | None


def _plain(html: str) -> str:
    """Content HTML as one line of plain text, shortened for an activity name."""
    text = " ".join(Markup(html).striptags().split())
    return text if len(text) <= _NAME_LIMIT else text[: _NAME_LIMIT - 1].rstrip() + "…"


class _Builder:
    """Builds one statement; holds the event, its attempt and where to look things up."""

    def __init__(self, site: Site, catalog: Catalog, event: Event, attempt: Attempt | None, form_at: FormAt | None):
        self.site, self.catalog, self.event, self.attempt = site, catalog, event, attempt
        self.form_at = form_at or (lambda form_ref, _version: catalog.observation(form_ref))

    # --- activities

    def activity(self, kind: str, path: str, name: str, **definition: Any) -> dict[str, Any]:
        """An activity with its definition (a name in English and a type)."""
        details = {"name": {LANGUAGE: name or path}, "type": ACTIVITY_TYPES[kind]}
        details.update({key: value for key, value in definition.items() if value})
        return {"objectType": "Activity", "id": self.site.activity_id(path), "definition": details}

    def course(self) -> dict[str, Any]:
        """The whole curriculum, the course every statement belongs to."""
        return self.activity("course", "course", PLATFORM)

    def module(self, module_id: str) -> dict[str, Any]:
        """A lesson module."""
        module = self.catalog.module(module_id)
        return self.activity("module", f"module/{module_id}", module.title if module else module_id)

    def competency(self, competency_id: str) -> dict[str, Any]:
        """A competency of the framework."""
        found = self.catalog.competency(competency_id)
        return self.activity("competency", f"competency/{competency_id}", found.name if found else competency_id)

    def quiz_or_conversation(self, kind: str, activity_id: str) -> dict[str, Any]:
        """A quiz or a branching conversation."""
        found = self.catalog.quiz(activity_id) if kind == "quiz" else self.catalog.conversation(activity_id)
        return self.activity(kind, f"{kind}/{activity_id}", found.title if found else activity_id)

    def module_of(self, kind: str, activity_id: str) -> str | None:
        """The module a quiz or conversation belongs to (from the content, else from the attempt)."""
        found = self.catalog.quiz(activity_id) if kind == "quiz" else self.catalog.conversation(activity_id)
        if found is not None:
            return found.module_id
        if self.attempt is not None and self.attempt.quiz_ref == activity_id:
            return self.attempt.module_ref or None
        return None

    # --- the statement's parts

    def target(self) -> tuple[str, list[str]]:
        """What the event's object ref names: its kind and its ids."""
        parts = self.event.object_ref.split("/")
        match parts:
            case ["module", module_id, "lesson", lesson_id] if module_id and lesson_id:
                return "lesson", [module_id, lesson_id]
            case ["quiz" | "conversation" as kind, activity_id] if activity_id:
                return kind, [activity_id]
            case ["quiz", quiz_id, "item", item_id] if quiz_id and item_id:
                return "item", [quiz_id, item_id]
            case ["conversation", conversation_id, "node", node_id] if conversation_id and node_id:
                return "node", [conversation_id, node_id]
            case ["practice", "competency", competency_id] if competency_id:
                return "practice", ["competency", competency_id]
            case ["practice", "review"]:
                return "practice", ["review"]
            case ["observation", form_id] if form_id:
                return "observation", [form_id]
        raise UnknownEvent(f"event {self.event.id}: no xAPI object for {self.event.object_ref!r}")

    def object_and_context(self, kind: str, ids: list[str]) -> tuple[dict, dict[str, list], list[str]]:
        """The statement's object, its context activities and the competency ids it concerns."""
        course = self.course()
        if kind == "lesson":
            module_id, lesson_id = ids
            module = self.catalog.module(module_id)
            lesson = module.lesson(lesson_id) if module else None
            obj = self.activity("lesson", self.event.object_ref, lesson.title if lesson else lesson_id)
            competencies = list(lesson.competencies) if lesson else []
            return obj, {"parent": [self.module(module_id)], "grouping": [course]}, competencies
        if kind in ("quiz", "conversation"):
            obj = self.quiz_or_conversation(kind, ids[0])
            module_id = self.module_of(kind, ids[0])
            context = {"parent": [self.module(module_id)]} if module_id else {}
            return obj, context | {"grouping": [course]}, self.competencies_of(kind, ids[0])
        if kind == "item":
            return self.item(*ids, course)
        if kind == "node":
            return self.node(*ids, course)
        if kind == "observation":
            # Named as the version the rating was made on: a later version may have another title.
            form = self.form_at(ids[0], self.event.content_version or None)
            obj = self.activity("observation", self.event.object_ref, form.title if form else ids[0])
            context = {"parent": [self.module(form.module_id)]} if form else {}
            return obj, context | {"grouping": [course]}, list(form.competencies) if form else []
        return self.practice_set(ids, course)

    def competencies_of(self, kind: str, activity_id: str) -> list[str]:
        """Every competency a quiz's items or a conversation's replies assess."""
        if kind == "quiz":
            quiz = self.catalog.quiz(activity_id)
            found = [c for item in quiz.items for c in item.competencies] if quiz else []
        else:
            talk = self.catalog.conversation(activity_id)
            found = [c for node in talk.nodes for reply in node.replies for c in reply.competencies] if talk else []
        return list(dict.fromkeys(found))

    def grouping_for_part(self, kind: str, activity_id: str, course: dict) -> list[dict]:
        """The grouping of an item or node: a practice set it was drawn into, its module, the course."""
        grouping = []
        if self.attempt is not None and self.attempt.quiz_ref.startswith("practice/"):
            grouping.append(self.practice_activity(self.attempt.quiz_ref.split("/")[1:]))
        module_id = self.module_of(kind, activity_id)
        if module_id:
            grouping.append(self.module(module_id))
        return grouping + [course]

    def item(self, quiz_id: str, item_id: str, course: dict) -> tuple[dict, dict[str, list], list[str]]:
        """A quiz item, described as an interaction."""
        quiz = self.catalog.quiz(quiz_id)
        item = quiz.item(item_id) if quiz else None
        definition: dict[str, Any] = {}
        if item is not None:
            definition["interactionType"] = INTERACTION_TYPES.get(item.type, "other")
            right = self.response(item, item.handler.right_answer(item))
            definition["correctResponsesPattern"] = [right] if right else None
        obj = self.activity("item", self.event.object_ref, _plain(item.prompt_html) if item else item_id, **definition)
        context = {"parent": [self.quiz_or_conversation("quiz", quiz_id)]}
        context["grouping"] = self.grouping_for_part("quiz", quiz_id, course)
        return obj, context, list(item.competencies) if item else []

    def node(self, conversation_id: str, node_id: str, course: dict) -> tuple[dict, dict[str, list], list[str]]:
        """A point in a branching conversation, described as a choice between replies."""
        talk = self.catalog.conversation(conversation_id)
        node = talk.node(node_id) if talk else None
        name = _plain(node.patient) if node else node_id
        obj = self.activity("node", self.event.object_ref, name, interactionType="choice")
        context = {"parent": [self.quiz_or_conversation("conversation", conversation_id)]}
        context["grouping"] = self.grouping_for_part("conversation", conversation_id, course)
        chosen = (self.event.result or {}).get("response")
        replies = [r for r in node.replies if r.id == chosen] if node else []
        return obj, context, list(dict.fromkeys(c for reply in replies for c in reply.competencies))

    def practice_activity(self, ids: list[str]) -> dict[str, Any]:
        """A practice set drawn from several quizzes: by competency or from the review queue."""
        if ids[0] == "competency" and len(ids) == 2:
            found = self.catalog.competency(ids[1])
            return self.activity(
                "practice", f"practice/competency/{ids[1]}", f"Practice: {found.name if found else ids[1]}"
            )
        return self.activity("practice", "practice/" + "/".join(ids), "Practice: review")

    def practice_set(self, ids: list[str], course: dict) -> tuple[dict, dict[str, list], list[str]]:
        """A practice set, grouped under its module when all its items share one."""
        obj = self.practice_activity(ids)
        module_id = self.attempt.module_ref if self.attempt is not None else ""
        context = {"grouping": ([self.module(module_id)] if module_id else []) + [course]}
        return obj, context, [ids[1]] if ids[0] == "competency" else []

    def response(self, item: Any, answer: Any) -> str | None:
        """An item's answer as a response string; a matching answer pairs each prompt's number with its answer."""
        if item is not None and item.type == "matching" and isinstance(answer, list | tuple):
            answer = {position: value for position, value in enumerate(answer, start=1)}
        return response_text(answer)

    def result(self, kind: str, ids: list[str]) -> dict[str, Any] | None:
        """The xAPI result: score, success, completion, duration and response, the rest as extensions."""
        raw = self.event.result
        if not raw:
            return None
        result: dict[str, Any] = {}
        if raw.get("score") is not None and raw.get("max") is not None:
            result["score"] = score(raw["score"], raw.get("min") or 0, raw["max"])
        if isinstance(raw.get("success"), bool):
            result["success"] = raw["success"]
        if isinstance(raw.get("completion"), bool):
            result["completion"] = raw["completion"]
        elif self.event.verb in ("passed", "failed", "completed"):
            result["completion"] = True
        if raw.get("duration_seconds") is not None:
            result["duration"] = iso_duration(raw["duration_seconds"])
        if "response" in raw:
            item = None
            if kind == "item":
                quiz = self.catalog.quiz(ids[0])
                item = quiz.item(ids[1]) if quiz else None
            text = self.response(item, raw["response"])
            if text:
                result["response"] = text
        extensions = {
            self.site.extension(key.replace("_", "-")): value
            for key, value in raw.items()
            if key not in _RESULT_KEYS and key != "rater_role"  # the rater's role goes in the context
        }
        if extensions:
            result["extensions"] = extensions
        return result or None

    def context(self, activities: dict[str, list], competencies: list[str]) -> dict[str, Any]:
        """The context: registration per attempt, parent and grouping, competencies, mode and marking."""
        context: dict[str, Any] = {"platform": PLATFORM}
        if self.event.attempt_id is not None:
            context["registration"] = self.site.registration(self.event.attempt_id)
        if self.event.content_version:
            context["revision"] = self.event.content_version
        if competencies:
            activities = activities | {"other": [self.competency(c) for c in competencies]}
        context["contextActivities"] = {key: value for key, value in activities.items() if value}
        extensions: dict[str, Any] = {}
        if competencies:
            extensions[self.site.extension("competencies")] = competencies
        if (self.event.result or {}).get("rater_role"):
            extensions[self.site.extension("rater-role")] = self.event.result["rater_role"]
        if self.attempt is not None:
            extensions[self.site.extension("mode")] = self.attempt.mode
            extensions[self.site.extension("marking")] = self.attempt.marking
            if self.attempt.item_refs and self.event.object_ref == self.attempt.quiz_ref:
                extensions[self.site.extension("item-keys")] = list(self.attempt.item_refs)
        if extensions:
            context["extensions"] = extensions
        return context

    def build(self) -> dict[str, Any]:
        """The whole statement."""
        verb = self.event.verb
        if verb not in VERBS:
            raise UnknownEvent(f"event {self.event.id}: no xAPI verb for {verb!r}")
        kind, ids = self.target()
        if kind not in VERBS[verb]:
            raise UnknownEvent(f"event {self.event.id}: {verb!r} cannot name {self.event.object_ref!r}")
        obj, activities, competencies = self.object_and_context(kind, ids)
        statement: dict[str, Any] = {
            "id": statement_id(self.site, self.event.id),
            "actor": {
                "objectType": "Agent",
                "account": {"homePage": self.site.url, "name": self.site.actor_name(self.event.user_id)},
            },
            "verb": {
                "id": f"{self.site.url}/xapi/verbs/{verb}" if verb in SITE_VERBS else ADL_VERB + verb,
                "display": {"en-US": verb},
            },
            "object": obj,
        }
        result = self.result(kind, ids)
        if result:
            statement["result"] = result
        statement["context"] = self.context(activities, competencies)
        statement["timestamp"] = iso_timestamp(self.event.created_at)
        statement["version"] = XAPI_VERSION
        return statement


def build(
    site: Site, catalog: Catalog, event: Event, attempt: Attempt | None = None, form_at: FormAt | None = None
) -> dict[str, Any]:
    """The xAPI statement of one learning event (its attempt, if it names one, gives mode, marking and set).

    `form_at` finds an observation form as it was at a version (app.observe.services.versions);
    without it, the catalog's form is used.
    """
    return _Builder(site, catalog, event, attempt, form_at).build()
