"""The item-quality figures of every quiz and conversation as one table (`alliance content check --stats`)."""

from collections import Counter

from app.content.quality import RIGHT, WRONG, length_hits, positions
from app.content.quality_banks import Bank


def _share(count: int, total: int) -> str:
    return f"{count} ({count / total:.0%})" if total else "-"


def stats_row(bank: Bank) -> dict[str, str]:
    """One bank's figures: how often the best reply is longest and shortest, where it stands, the grades."""
    scored = bank.scored
    longest, shortest = length_hits(bank)
    counts = positions(bank)
    widest = max((len(q.options) for q in scored), default=0)
    grades = Counter(o.grade for q in bank.questions for o in q.options)
    chance = sum(1 / len(q.options) for q in scored) / len(scored) if scored else 0.0
    return {
        "quiz or conversation": bank.id,
        "items": str(len(scored)),
        "best longest": _share(longest, len(scored)),
        "best shortest": _share(shortest, len(scored)),
        "chance": f"{chance:.0%}" if scored else "-",
        # Items have at most five options (conversation nodes four): five columns hold every position.
        "best at 1/2/3/4/5": "/".join(str(counts[n]) if n <= widest else "-" for n in range(1, 6)),
        "best/acceptable/unhelpful/harmful": "/".join(str(grades[g]) for g in (*RIGHT, *WRONG)),
    }


def stats_table(banks: list[Bank]) -> str:
    """Every quiz's and conversation's figures as a plain-text table, one row each."""
    rows = [stats_row(bank) for bank in banks]
    if not rows:
        return "No quizzes or conversations to measure."
    header = list(rows[0])
    widths = [max(len(h), *(len(r[h]) for r in rows)) for h in header]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(r[h].ljust(w) for h, w in zip(header, widths, strict=True)).rstrip() for r in rows]
    note = (
        "items: scenario items, or conversation nodes, with one best reply; chance: how often the best "
        "option would be the longest (or the shortest) if it were placed at random"
    )
    return "\n".join([*lines, "", note])
