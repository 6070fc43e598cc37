"""Posting statements to an external Learning Record Store (xAPI 1.0.3), and what its answer means.

No database here: the outbox sender (app.services.records) decides what to do with each answer.
requests is imported when a client is made (by the sender, not by building the app: most sites send nothing).
"""

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import requests

#: The answers a sender acts on: stored; already stored under that id; refused for good; try later.
SENT, DUPLICATE, REFUSED, RETRY = "sent", "duplicate", "refused", "retry"
# Answers about the statements themselves: resending them unchanged can never succeed.
_REFUSED_STATUSES = frozenset({400, 413, 422})


@dataclass(frozen=True)
class Answer:
    """What the LRS made of one POST: its kind, the HTTP status (None if none came) and why, briefly."""

    kind: str
    status: int | None
    detail: str


def classify(status: int, body: str) -> Answer:
    """The meaning of an HTTP answer to POST /statements.

    2xx stored (204 when every statement was stored already); 409 a statement with one of these
    ids is already stored, which for deterministic ids means it was sent before; 400, 413 and 422
    refuse the statements themselves; anything else (401/403/404 misconfiguration, 408, 429, 5xx)
    may pass later, so it is retried.
    """
    detail = f"HTTP {status}: {' '.join(body.split())[:300]}".rstrip(": ")
    if 200 <= status < 300:
        return Answer(SENT, status, detail)
    if status == 409:
        return Answer(DUPLICATE, status, detail)
    if status in _REFUSED_STATUSES:
        return Answer(REFUSED, status, detail)
    return Answer(RETRY, status, detail)


class Client:
    """An LRS's statements resource, reached with HTTP basic auth and a timeout on every call."""

    def __init__(self, endpoint: str, key: str, secret: str, timeout: float, session: "requests.Session | None" = None):
        import requests

        self.url = endpoint.rstrip("/") + "/statements"
        self.auth = (key, secret) if key or secret else None
        self.timeout = timeout
        self.session = session or requests.Session()

    def post(self, statements: list[dict[str, Any]]) -> Answer:
        """POST a JSON array of statements; never raises for network trouble (that is an Answer to retry)."""
        import requests

        try:
            response = self.session.post(
                self.url,
                data=json.dumps(statements, ensure_ascii=False).encode(),
                headers={"Content-Type": "application/json", "X-Experience-API-Version": "1.0.3"},
                auth=self.auth,
                timeout=self.timeout,
            )
        except requests.Timeout:
            return Answer(RETRY, None, f"no answer within {self.timeout} s")
        except requests.RequestException as exc:
            return Answer(RETRY, None, f"{type(exc).__name__}: {str(exc)[:300]}")
        return classify(response.status_code, response.text)
