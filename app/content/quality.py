"""Item-quality rules: cues that give the best reply away to a learner who knows nothing.

Each quiz's scenario items, or each conversation's nodes, are read into a `Bank`
(app.content.quality_banks). The rules compare what the bank shows with what chance would give (an
exact one-sided test: the chance of seeing at least as many hits if the best reply were placed at
random) and report a problem at the rule's own severity; `enforced` turns errors into warnings
while `ENFORCE` is off. The thresholds are documented in docs/authoring.md, "Item-quality rules".
"""

import re
from collections import Counter
from collections.abc import Callable
from decimal import Decimal

from app.content.problems import Problem
from app.content.quality_banks import Bank, Patient, Question

#: The rules' errors refuse content, as every other content error does. False reports them as warnings
#: instead; it exists for an author bringing an old bank up to the rules, never for the shipped content
#: (tests/test_item_quality.py holds the shipped content to every rule either way).
ENFORCE = True

ERROR_P = 0.01
WARNING_P = 0.05
#: Options whose word sets overlap this much say nearly the same thing.
SAME_WORDS = 0.8
#: Wrong options using absolute words, with no right option using one: an error from this many.
ABSOLUTE_ERROR, ABSOLUTE_WARNING = 4, 2
_ABSOLUTE = re.compile(r"\b(always|never|all|every|none|nothing|must|guarantee[sd]?|definitely)\b", re.I)
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)*")
#: Words of four or more letters that carry no content, so sharing them echoes nothing.
_STOPWORDS = frozenset(
    """
    about after again also been before being both could does doing done don't down each even ever from
    going gone have having here it's i'll i'm i've into just know like lot made make many more most much
    only other over really said same should some such sure than that that's their them then there these
    they thing things think this those though very want well were what when where which while will with
    would yeah your you're you've yours
    """.split()
)
RIGHT, WRONG = ("best", "acceptable"), ("unhelpful", "harmful")


# --- statistics


def upper_tail(chances: list[float], hits: int) -> float:
    """P(at least `hits` successes) over independent trials with these chances (a Poisson binomial)."""
    if hits <= 0:
        return 1.0
    dist = [1.0]
    for chance in chances:
        nxt = [0.0] * (len(dist) + 1)
        for count, weight in enumerate(dist):
            nxt[count] += weight * (1 - chance)
            nxt[count + 1] += weight * chance
        dist = nxt
    return min(1.0, sum(dist[hits:]))


def p_text(p: float) -> str:
    """A p-value as a plain decimal with two significant digits: 'p = 0.00003'."""
    if p < 0.000001:
        return "p < 0.000001"
    return f"p = {format(Decimal(f'{p:.2g}'), 'f')}"


def _severity(p: float) -> bool | None:
    """True for an error, False for a warning, None for nothing to report."""
    return True if p < ERROR_P else False if p < WARNING_P else None


def _tested(bank: Bank, hits: int, chances: list[float], finding: str, advice: str) -> list[Problem]:
    """A finding compared with chance, reported at the bank's line when it is unlikely to be chance."""
    p = upper_tail(chances, hits)
    severity = _severity(p)
    if severity is None:
        return []
    message = f"{finding} (chance would give about {sum(chances):.1f}; {p_text(p)}); {advice}"
    return [Problem(bank.file, bank.line, message, is_warning=not severity)]


# --- the rules


def length_hits(bank: Bank) -> tuple[int, int]:
    """In how many items the best option is strictly the longest, and strictly the shortest."""
    longest = shortest = 0
    for q in bank.scored:
        best = len(q.options[q.best].text)
        others = [len(o.text) for i, o in enumerate(q.options) if i != q.best]
        longest += best > max(others)
        shortest += best < min(others)
    return longest, shortest


def length_cue(bank: Bank) -> list[Problem]:
    """The best reply is strictly the longest (or the shortest) option more often than chance."""
    chances = [1 / len(q.options) for q in bank.scored]
    problems = []
    for which, hits, advice in zip(
        ("longest", "shortest"),
        length_hits(bank),
        (
            "shorten some best replies, or lengthen other options",
            "lengthen some best replies, or shorten other options",
        ),
        strict=True,
    ):
        finding = f"the best option is the {which} in {hits} of {len(chances)} {bank.unit}"
        problems += _tested(bank, hits, chances, finding, advice)
    return problems


def positions(bank: Bank) -> Counter:
    """How often the best reply stands at each position (from 1)."""
    return Counter(q.best + 1 for q in bank.scored)


def position_cue(bank: Bank) -> list[Problem]:
    """The best reply sits at its most common position more often than chance."""
    counts = positions(bank)
    if not counts:
        return []
    widest = max(len(q.options) for q in bank.scored)

    def chances_at(position: int) -> list[float]:
        # An item with fewer options than `position` can never put its best reply there.
        return [1 / len(q.options) if position <= len(q.options) else 0.0 for q in bank.scored]

    top = max(counts.values())
    position = min((n for n in counts if counts[n] == top), key=lambda n: upper_tail(chances_at(n), top))
    chances = chances_at(position)
    spread = ", ".join(str(counts[n]) for n in range(1, widest + 1))
    finding = f"the best option is option {position} in {top} of {len(chances)} {bank.unit}"
    advice = f"the best option by position (1 to {widest}): {spread}; move some best replies to other positions"
    return _tested(bank, top, chances, finding, advice)


def content_words(text: str) -> set[str]:
    """The words of four or more letters that carry content."""
    words = (w.removesuffix("'s") for w in _WORD.findall(text.lower().replace("\u2019", "'")))
    return {w for w in words if len(w) >= 4 and w not in _STOPWORDS}


def echoes(question: Question) -> list[bool]:
    """For each option: does it share two or more content words with the patient that no other option shares?"""
    said = content_words(question.says)
    shared = [content_words(o.text) & said for o in question.options]
    uses = Counter(w for words in shared for w in words)
    return [sum(uses[w] == 1 for w in words) >= 2 for words in shared]


def _names_patient(question: Question) -> list[bool]:
    patterns = [re.compile(rf"\b{re.escape(name)}\b") for name in question.names]
    return [any(p.search(o.text) for p in patterns) for o in question.options]


#: The cues a test-wise learner uses, each as a test of every option of a question.
CUES: tuple[tuple[str, Callable[[Question], list[bool]]], ...] = (
    ("asks a question", lambda q: ["?" in o.text for o in q.options]),
    ("echoes the patient's words", echoes),
    ("names the patient", _names_patient),
)


def answer_cues(bank: Bank) -> list[Problem]:
    """Where only one option carries a cue, that option is the best more often than chance."""
    problems = []
    for cue, carries in CUES:
        hits, chances = 0, []
        for q in bank.scored:
            marked = [i for i, yes in enumerate(carries(q)) if yes]
            if len(marked) == 1:
                chances.append(1 / len(q.options))
                hits += marked[0] == q.best
        finding = f"only one option {cue} in {len(chances)} {bank.unit}, and it is the best option in {hits} of them"
        problems += _tested(bank, hits, chances, finding, f"let some other options {_plain(cue)} too")
    return problems


def _plain(cue: str) -> str:
    """The cue as a verb after 'let': 'asks a question' -> 'ask a question'."""
    verb, rest = cue.split(" ", 1)
    return {"asks": "ask", "echoes": "echo", "names": "name"}[verb] + " " + rest


def absolutes(bank: Bank) -> list[Problem]:
    """Absolute words ('always', 'never'...) in wrong options only."""
    wrong: list[str] = []
    words: set[str] = set()
    for q in bank.questions:
        for option in q.options:
            found = {m.lower() for m in _ABSOLUTE.findall(option.text)}
            if found and option.grade in RIGHT:
                return []
            if found and option.grade in WRONG:
                wrong.append(f"{q.label} option '{option.id}'")
                words |= found
    if len(wrong) < ABSOLUTE_WARNING:
        return []
    shown = ", ".join(wrong[:6]) + (f" and {len(wrong) - 6} more" if len(wrong) > 6 else "")
    message = (
        f"absolute words ({', '.join(sorted(words))}) appear only in wrong options: {len(wrong)} unhelpful or "
        f"harmful options use them ({shown}) and no best or acceptable option does; reword some wrong options, "
        "or let a right reply use one where it is true"
    )
    return [Problem(bank.file, bank.line, message, is_warning=len(wrong) < ABSOLUTE_ERROR)]


def _normal(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower().replace("\u2019", "'")))


def overlaps(bank: Bank) -> list[Problem]:
    """Two options of one question that include each other or share most of their words."""
    problems = []
    for q in bank.questions:
        texts = [_normal(o.text) for o in q.options]
        sets = [set(t.split()) for t in texts]
        for i, a in enumerate(q.options):
            for j in range(i + 1, len(q.options)):
                b = q.options[j]
                inner, outer = (i, j) if len(texts[i]) <= len(texts[j]) else (j, i)
                if not sets[i] or not sets[j]:
                    continue  # a reply without words ("...", a silence) includes nothing
                if f" {texts[inner]} " in f" {texts[outer]} ":
                    how = f"option '{q.options[inner].id}' is contained in option '{q.options[outer].id}'"
                else:
                    similar = len(sets[i] & sets[j]) / len(sets[i] | sets[j])
                    if similar < SAME_WORDS:
                        continue
                    how = f"they share {similar:.0%} of their words"
                problems.append(
                    Problem(
                        bank.file,
                        q.line,
                        f"{q.label}: options '{a.id}' and '{b.id}' say nearly the same thing ({how}); "
                        "make each option a different thing a clinician might do",
                    )
                )
    return problems


RULES = (length_cue, position_cue, answer_cues, absolutes, overlaps)


def check_bank(bank: Bank) -> list[Problem]:
    """Every item-quality problem of one quiz or conversation, at each rule's own severity."""
    return [problem for rule in RULES for problem in rule(bank)]


def shared_names(banks: list[Bank]) -> list[Problem]:
    """A warning for each patient whose name an earlier vignette or conversation already used."""
    problems = []
    by_surname: dict[str, list[Patient]] = {}
    for patient in (p for bank in banks for p in bank.patients):
        earlier = by_surname.setdefault(patient.surname, [])
        same = next((e for e in earlier if not (e.first and patient.first) or e.first == patient.first), None)
        if same:
            problems.append(
                Problem(
                    patient.file,
                    patient.line,
                    f"{patient.where}: the patient name '{patient.name}' is also used by {same.file}:{same.line} "
                    f"({same.where}, '{same.name}'); give each patient a name of their own so learners do not mix them up",
                    is_warning=True,
                )
            )
        earlier.append(patient)
    return problems


def review(banks: list[Bank]) -> list[Problem]:
    """Every item-quality problem in these banks and across them, at each rule's own severity."""
    return [p for bank in banks for p in check_bank(bank)] + shared_names(banks)


def enforced(problems: list[Problem]) -> list[Problem]:
    """The problems as the checker reports them: while ENFORCE is off, errors become marked warnings."""
    if ENFORCE:
        return problems
    return [
        p if p.is_warning else Problem(p.file, p.line, f"{p.message} (not yet enforced)", is_warning=True)
        for p in problems
    ]
