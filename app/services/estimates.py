"""How long things take: quizzes and conversations estimated from their text, courses as the sum of their items.

Lessons and modules state their own minutes in the content. A quiz or a conversation is estimated
from what a learner reads and does: the words on the page at 180 words a minute (careful reading of
study text, slower than the 238 of everyday reading: Brysbaert 2019), plus time to decide and to say
how sure they are, per item. The estimate is computed once per content version and rounded up to
whole minutes; pages say "about".
"""

import math
import re
from collections.abc import Iterable

from markupsafe import Markup

from app.content import Catalog, Quiz
from app.content.conversations import Conversation
from app.services.courses import content_for
from app.services.search import plain

WORDS_PER_MINUTE = 180
#: Seconds to weigh the choices of one item, by type, besides reading them.
DECIDE_SECONDS = {"scenario": 30, "multiple_response": 30}
#: Ordering and matching take time per step or pair placed.
PER_PART_SECONDS = 10
#: Saying how sure you are of one answer.
CONFIDENCE_SECONDS = 5
#: Choosing a reply at one turn of a conversation, besides reading the replies.
TURN_SECONDS = 20

_WORD = re.compile(r"\S+")
_minutes: dict[tuple[str, str, str], int] = {}


def _words(*texts: str) -> int:
    """Words a learner reads in these HTML or text fragments."""
    return sum(len(_WORD.findall(plain(text))) for text in texts)


def _item_seconds(item) -> float:
    """Reading one quiz item (prompt, vignette, every option, step or pair) and answering it."""
    texts = [item.prompt_html]
    if vignette := getattr(item, "vignette", None):
        texts += [vignette.patient, vignette.setting, vignette.says]
    texts += [o.text_html for o in getattr(item, "options", ())]
    steps = getattr(item, "steps_html", ())
    pairs = getattr(item, "pairs", ())
    texts += list(steps) + [p.prompt_html for p in pairs] + list(getattr(item, "choices", ()))
    decide = DECIDE_SECONDS.get(item.type, 0) + PER_PART_SECONDS * (len(steps) + len(pairs))
    return _words(*texts) * 60 / WORDS_PER_MINUTE + decide + CONFIDENCE_SECONDS


def _quiz_seconds(quiz: Quiz) -> float:
    return _words(quiz.intro_html) * 60 / WORDS_PER_MINUTE + sum(_item_seconds(i) for i in quiz.items)


def _conversation_seconds(conversation: Conversation) -> float:
    """Along the best path: each turn's narration, the patient's line and every reply offered, then the debrief."""
    seconds = _words(conversation.intro_html, conversation.patient, conversation.setting) * 60 / WORDS_PER_MINUTE
    try:
        steps, end = conversation.play(list(conversation.best_path))
    except ValueError:  # a path the checker let through cannot fail to play; estimate the intro alone
        steps, end = [], None
    for step in steps:
        node = step.node
        words = _words(node.narration, node.patient, *(r.text_html for r in node.replies))
        seconds += words * 60 / WORDS_PER_MINUTE + TURN_SECONDS + CONFIDENCE_SECONDS
    ending = conversation.ending(end.at) if end is not None else None
    if ending is not None:
        seconds += _words(ending.debrief_html) * 60 / WORDS_PER_MINUTE
    return seconds


def minutes(content) -> int:
    """About how many minutes a module, quiz or conversation takes (at least 1); 0 for anything else."""
    if content is None:
        return 0
    if getattr(content, "kind", None) not in ("quiz", "conversation"):
        return getattr(content, "minutes", 0)  # modules and lessons state theirs
    key = (content.kind, content.id, content.version)
    if key not in _minutes:
        seconds = _quiz_seconds(content) if content.kind == "quiz" else _conversation_seconds(content)
        _minutes[key] = max(1, math.ceil(seconds / 60))
    return _minutes[key]


def total(catalog: Catalog, items: Iterable) -> int:
    """Minutes of a course's items (anything with `kind` and `item_ref`), those no longer offered counting 0."""
    return sum(minutes(content_for(catalog, item.kind, item.item_ref)) for item in items)


def duration(value: int) -> Markup:
    """Minutes as people say them, in a <time> element: "about 25 minutes", "about 2 hours 5 minutes"."""
    value = max(0, int(value))
    hours, rest = divmod(value, 60)
    words = []
    if hours:
        words.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if rest or not hours:
        words.append(f"{rest} minute{'s' if rest != 1 else ''}")
    iso = "PT" + (f"{hours}H" if hours else "") + (f"{rest}M" if rest or not hours else "")
    return Markup('<time class="time-estimate" datetime="{}">about {}</time>').format(iso, " ".join(words))
