"""xAPI 1.0.3 as Alliance writes it: verbs, activity types, the site's derived ids, and how values are written.

Ids are derived, never stored: the statement id is a UUIDv5 of the event id, the registration
a UUIDv5 of the attempt id and the actor's account name a UUIDv5 of the user id, all under a
namespace derived from the site's address. Building the same event twice therefore gives the
same statement, which is what lets a sender resend after a crash without duplicating anything.
The actor never carries an email or a name.
"""

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

XAPI_VERSION = "1.0.3"
PLATFORM = "Alliance"
LANGUAGE = "en"
ADL_VERB = "http://adlnet.gov/expapi/verbs/"
ADL_ACTIVITY = "http://adlnet.gov/expapi/activities/"
#: Every verb the tracker writes, and the kinds of object each may name.
VERBS: dict[str, frozenset[str]] = {
    "experienced": frozenset({"lesson"}),
    "completed": frozenset({"lesson", "quiz", "conversation", "practice"}),
    "attempted": frozenset({"quiz", "conversation", "practice"}),
    "answered": frozenset({"item", "node"}),
    "passed": frozenset({"quiz", "conversation"}),
    "failed": frozenset({"quiz", "conversation"}),
    # A student's consultation rated at an observed station (app/observe); the rater's role is in the context.
    "observed": frozenset({"observation"}),
}
#: Verbs no registry names well, given IRIs under the site's own address.
SITE_VERBS = frozenset({"observed"})
ACTIVITY_TYPES = {
    "course": ADL_ACTIVITY + "course",
    "module": ADL_ACTIVITY + "module",
    "lesson": ADL_ACTIVITY + "lesson",
    "quiz": ADL_ACTIVITY + "assessment",
    "practice": ADL_ACTIVITY + "assessment",
    "conversation": ADL_ACTIVITY + "simulation",
    "item": ADL_ACTIVITY + "cmi.interaction",
    "node": ADL_ACTIVITY + "cmi.interaction",
    "competency": ADL_ACTIVITY + "objective",
    "observation": ADL_ACTIVITY + "assessment",
}
#: How each quiz item type is described as an xAPI interaction.
INTERACTION_TYPES = {
    "scenario": "choice",
    "multiple_response": "choice",
    "ordering": "sequencing",
    "matching": "matching",
}


@dataclass(frozen=True)
class Site:
    """Where statements come from: the site's address (actor home page, id namespace) and the activity id base."""

    url: str
    activity_base: str

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "Site":
        """The site as the app is configured (SITE_URL, XAPI_ACTIVITY_BASE)."""
        url = config["SITE_URL"].rstrip("/")
        base = config.get("XAPI_ACTIVITY_BASE") or f"{url}/xapi/activities/"
        return cls(url=url, activity_base=base if base.endswith("/") else base + "/")

    @property
    def namespace(self) -> uuid.UUID:
        """The UUIDv5 namespace of this site's ids."""
        return uuid.uuid5(uuid.NAMESPACE_URL, self.url + "/xapi")

    def activity_id(self, path: str) -> str:
        """The IRI of an activity, from its path of ids (each segment escaped)."""
        return self.activity_base + "/".join(quote(part, safe="") for part in path.split("/"))

    def extension(self, name: str) -> str:
        """The IRI of one of Alliance's extensions."""
        return f"{self.url}/xapi/extensions/{name}"

    def actor_name(self, user_id: int) -> str:
        """The learner's opaque, stable account name: no email, no name."""
        return str(uuid.uuid5(self.namespace, f"user/{user_id}"))

    def registration(self, attempt_id: int) -> str:
        """The registration shared by every statement of one attempt."""
        return str(uuid.uuid5(self.namespace, f"attempt/{attempt_id}"))


def statement_id(site: Site, event_id: int) -> str:
    """The id of the statement made from an event: the same event always gives the same id."""
    return str(uuid.uuid5(site.namespace, f"event/{event_id}"))


def iso_timestamp(moment: datetime) -> str:
    """A moment in UTC as ISO 8601 with milliseconds and a Z."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iso_duration(seconds: float) -> str:
    """A duration in seconds as ISO 8601 (PT1H2M3S)."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    text = "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    return text + (f"{secs}S" if secs or text == "PT" else "")


def response_text(answer: Any) -> str | None:
    """An answer as an xAPI interaction response string ("a", "1[,]2[,]3", "1[.]x[,]2[.]y"), None if empty."""
    if answer is None:
        return None
    if isinstance(answer, str):
        text = answer
    elif isinstance(answer, Mapping):
        text = "[,]".join(f"{key}[.]{value}" for key, value in answer.items())
    elif isinstance(answer, Iterable):
        text = "[,]".join(str(part) for part in answer)
    else:
        text = str(answer)
    return text or None


def _number(value: float) -> int | float:
    """A score as JSON shows it best: whole numbers without a decimal point."""
    value = float(value)
    return int(value) if value.is_integer() else round(value, 4)


def score(raw: float, low: float, high: float) -> dict[str, int | float]:
    """An xAPI score that holds together: min <= raw <= max and -1 <= scaled <= 1.

    Scaled is the share of the maximum for a score at or above zero and of the minimum below
    it, so a certainty-based mark between -600% and 300% still fits xAPI's range.
    """
    raw = float(raw)
    low, high = min(float(low), raw, 0.0), max(float(high), raw)
    if raw >= 0:
        scaled = raw / high if high > 0 else 0.0
    else:
        scaled = -raw / low
    scaled = max(-1.0, min(1.0, scaled))
    return {"scaled": round(scaled, 4), "raw": _number(raw), "min": _number(low), "max": _number(high)}
