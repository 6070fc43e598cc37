"""Search over what a learner may read: lessons, glossary terms, quizzes and conversations.

The index is SQLite FTS5 in memory, built once per catalog (the catalog never changes after start)
and shared by every request of the process. Only what learners see is indexed: lesson text, glossary
definitions, quiz and conversation titles and introductions, and item prompts with their vignettes.
Options, grades and feedback are never indexed, so a search cannot hint at an answer.

The learner's words are never passed to FTS5 as query syntax: each word or quoted phrase becomes a
quoted FTS5 string of letters and digits only, so no input can be a syntax error.
"""

import difflib
import re
import sqlite3
import threading
import unicodedata
from dataclasses import dataclass, field
from html.parser import HTMLParser

from markupsafe import Markup, escape

from app.content import Catalog

#: Longest query searched, in characters; the rest is dropped (and the page says so).
MAX_QUERY = 200
#: Most words (or quoted phrases) searched; later ones are dropped (and the page says so).
MAX_TERMS = 12
#: Results per page.
PER_PAGE = 20
#: The kinds of result a learner may filter by, with how a page names each.
KINDS = {"lesson": "Lessons", "term": "Glossary", "quiz": "Quizzes and conversations"}
#: Where each kind is, in a sentence: "nothing found in the glossary".
PLACES = {"lesson": "the lessons", "term": "the glossary", "quiz": "quizzes and conversations"}
# Title words count most, a lesson section's heading next, body text least (BM25 column weights).
_WEIGHTS = (10.0, 4.0, 1.0)
# Markers FTS5 puts round matched words; control characters, so indexed text can never hold them.
_OPEN, _CLOSE = "\x02", "\x03"
_WORD = re.compile(r"[^\W_]+")
_TOKEN = re.compile(r'"([^"]*)"?|(\S+)')
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SPACE_BEFORE_STOP = re.compile(r" ([.,;:!?)])")


@dataclass(frozen=True)
class Doc:
    """One searchable piece: where it links, how a result names it."""

    kind: str  # lesson, term, quiz (conversations are filed with quizzes)
    title: str
    group: str  # results are one per group: the best section of a lesson, the best part of a quiz
    label: str  # "Lesson", "Glossary", "Quiz", "Conversation"
    endpoint: str
    args: tuple[tuple[str, str], ...]
    anchor: str | None
    context: str  # the module, or "item 3 of 11 · Mr Dobson"


@dataclass(frozen=True)
class Hit:
    """One result: its document, the title and a passage with the matched words marked (HTML, escaped)."""

    doc: Doc
    title: Markup
    heading: Markup
    passage: Markup


@dataclass(frozen=True)
class Results:
    """What a search found, one page of it, and how the query was read."""

    query: str
    words: tuple[str, ...]
    hits: tuple[Hit, ...] = ()
    total: int = 0
    page: int = 1
    pages: int = 1
    counts: dict[str, int] = field(default_factory=dict)
    matched_all: bool = True
    suggestion: str | None = None
    shortened: bool = False


# --- reading the content as text


#: Tags inside a line of text (<em>, <a>...) join words; every other tag ends one (<p>, <li>, <br>...).
_INLINE = frozenset({"a", "abbr", "b", "cite", "code", "em", "i", "mark", "q", "small", "span", "strong", "sub", "sup"})


class _Text(HTMLParser):
    """The text of an HTML fragment, as it reads, skipping citation marks like "[3]"."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs) -> None:
        """Skip the contents of a citation mark; a block tag separates words."""
        if self._skip or (tag == "sup" and "cite" in (dict(attrs).get("class") or "")):
            self._skip += 1
        if tag not in _INLINE:
            self.parts.append(" ")

    def handle_endtag(self, tag) -> None:
        """Leave a skipped citation mark."""
        if self._skip:
            self._skip -= 1
        if tag not in _INLINE:
            self.parts.append(" ")

    def handle_data(self, data) -> None:
        """Keep text outside citation marks."""
        if not self._skip:
            self.parts.append(data)


def plain(html: str) -> str:
    """The text a person reads in an HTML fragment, on one line, with no control characters."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    text = " ".join(_CONTROL.sub(" ", "".join(parser.parts)).split())
    return _SPACE_BEFORE_STOP.sub(r"\1", text)  # "first [3]." loses its mark, then its space: "first."


def _documents(catalog: Catalog):
    """Every searchable piece of the catalog as (doc, title, heading, body)."""
    for module in catalog.modules:
        for lesson in module.lessons:
            args = (("module_id", module.id), ("lesson_id", lesson.id))
            group = f"lesson:{module.id}/{lesson.id}"
            context = f"{module.title}, lesson {lesson.position}"
            doc = Doc("lesson", lesson.title, group, "Lesson", "learn.lesson", args, None, context)
            yield doc, lesson.title, "", plain(lesson.intro_html)
            for section in lesson.sections:
                doc = Doc("lesson", lesson.title, group, "Lesson", "learn.lesson", args, section.anchor, context)
                yield doc, lesson.title, plain(section.title_html), plain(section.html)
            doc = Doc("lesson", lesson.title, group, "Lesson", "learn.lesson", args, "key-points", context)
            yield doc, lesson.title, "Key points", " ".join(plain(p) for p in lesson.key_points)
    for term in catalog.glossary:
        module = catalog.module(term.module_id)
        context = f"Introduced in {module.title}" if module else ""
        doc = Doc("term", term.term, f"term:{term.id}", "Glossary", "learn.glossary", (), f"term-{term.id}", context)
        yield doc, term.term, "", plain(term.definition_html)
    for quiz in catalog.shipped_quizzes:
        module = catalog.module(quiz.module_id)
        args, group = (("quiz_id", quiz.id),), f"quiz:{quiz.id}"
        doc = Doc("quiz", quiz.title, group, "Quiz", "learn.quiz", args, None, module.title if module else "")
        yield doc, quiz.title, "", plain(quiz.intro_html)
        for number, item in enumerate(quiz.items, start=1):
            vignette = getattr(item, "vignette", None)
            context = f"Item {number} of {len(quiz.items)}" + (
                f" · {vignette.patient.split(',')[0]}" if vignette else ""
            )
            parts = [item.prompt_html] + ([vignette.patient, vignette.setting, vignette.says] if vignette else [])
            body = " ".join(plain(part) for part in parts)
            # The quiz's title is the item's heading, not its title: eleven items must not outrank
            # a glossary term on a word of the quiz's name.
            yield Doc("quiz", quiz.title, group, "Quiz", "learn.quiz", args, None, context), "", quiz.title, body
    for conversation in catalog.conversations:
        module = catalog.module(conversation.module_id)
        args = (("conversation_id", conversation.id),)
        doc = Doc(
            "quiz",
            conversation.title,
            f"conversation:{conversation.id}",
            "Conversation",
            "learn.conversation",
            args,
            None,
            module.title if module else "",
        )
        body = " ".join(plain(part) for part in (conversation.patient, conversation.setting, conversation.intro_html))
        yield doc, conversation.title, "", body


# --- reading the learner's query


def normalise(raw: str) -> tuple[str, bool]:
    """The query as searched: composed (as the content is), control characters and runs of spaces gone,
    at most MAX_QUERY characters; and whether it had to be shortened."""
    text = " ".join(_CONTROL.sub(" ", unicodedata.normalize("NFC", raw or "")).split())
    # Lone surrogates cannot be encoded for SQLite or the page; they are no one's words.
    text = text.encode("utf-8", "ignore").decode("utf-8")
    return (text[:MAX_QUERY].rstrip(), True) if len(text) > MAX_QUERY else (text, False)


def terms(query: str) -> tuple[list[tuple[str, ...]], bool, bool]:
    """The query's words and quoted phrases (each a tuple of words), at most MAX_TERMS; whether some
    were dropped; and whether the last is a bare word (one being typed, matched as a prefix).
    Punctuation, FTS5 operators and quotes are only separators here."""
    found: list[tuple[tuple[str, ...], bool]] = []
    for match in _TOKEN.finditer(query):
        words = tuple(w[:64] for w in _WORD.findall((match.group(1) or match.group(2) or "").casefold()))
        if words:
            found.append((words, match.group(2) is not None))
    kept = found[:MAX_TERMS]
    return [words for words, _ in kept], len(found) > MAX_TERMS, bool(kept) and kept[-1][1]


def _fts(phrases: list[tuple[str, ...]], joiner: str, prefix_last: bool) -> str:
    """An FTS5 query of quoted strings: nothing the learner typed can be read as syntax."""
    quoted = [f'"{" ".join(words)}"' for words in phrases]
    if prefix_last and len(phrases[-1][-1]) >= 3:
        quoted[-1] += "*"  # the word being typed: "empath" finds "empathy"
    return f" {joiner} ".join(quoted)


def _marked(text: str) -> Markup:
    """FTS5's marked text as HTML: everything escaped, then the markers made into <mark> elements."""
    return Markup(str(escape(text)).replace(_OPEN, "<mark>").replace(_CLOSE, "</mark>"))


# --- the index


class Index:
    """The catalog's searchable text in an in-memory FTS5 table, with the words it contains."""

    def __init__(self, catalog: Catalog) -> None:
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        # One connection shared by the threads of a process: a query takes well under a millisecond.
        self._lock = threading.Lock()
        self._db.execute(
            "CREATE VIRTUAL TABLE doc USING fts5(title, heading, body, "
            "tokenize = 'porter unicode61 remove_diacritics 2')"
        )
        self.docs: list[Doc] = []
        vocabulary: set[str] = set()
        for doc, title, heading, body in _documents(catalog):
            self.docs.append(doc)
            self._db.execute(
                "INSERT INTO doc (rowid, title, heading, body) VALUES (?, ?, ?, ?)",
                (len(self.docs) - 1, title, heading, body),
            )
            vocabulary.update(w for w in _WORD.findall(f"{title} {heading} {body}".casefold()) if len(w) > 2)
        self._db.execute("INSERT INTO doc (doc) VALUES ('optimize')")
        self.vocabulary = frozenset(vocabulary)
        self._sorted_vocabulary = sorted(vocabulary)

    def _rows(self, match: str) -> list[tuple[int, str, str, str]]:
        """(rowid, marked title, marked heading, marked passage) of every document matching, best first."""
        marks = (_OPEN, _CLOSE) * 3
        with self._lock:
            return self._db.execute(
                "SELECT rowid, highlight(doc, 0, ?, ?), highlight(doc, 1, ?, ?), snippet(doc, 2, ?, ?, '…', 28) "
                "FROM doc WHERE doc MATCH ? ORDER BY bm25(doc, ?, ?, ?)",
                (*marks, match, *_WEIGHTS),
            ).fetchall()

    def suggest(self, phrases: list[tuple[str, ...]]) -> str | None:
        """The query with each unknown word swapped for the nearest word the content uses, if that changes it."""
        changed, words = False, []
        for word in (w for phrase in phrases for w in phrase):
            if word in self.vocabulary or len(word) < 3 or word.isdigit():
                words.append(word)
                continue
            close = difflib.get_close_matches(word, self._sorted_vocabulary, n=1, cutoff=0.75)
            changed |= bool(close)
            words.append(close[0] if close else word)
        return " ".join(words) if changed else None

    def search(self, raw: str, kind: str | None = None, page: int = 1) -> Results:
        """Ranked results for the learner's words: every word must appear, or else any of them."""
        query, shortened = normalise(raw)
        phrases, dropped, prefix = terms(query)
        words = tuple(" ".join(p) for p in phrases)
        if not phrases:
            return Results(query=query, words=words, shortened=shortened)
        matched_all = True
        rows = self._rows(_fts(phrases, "AND", prefix))
        if not rows and len(phrases) > 1:
            matched_all, rows = False, self._rows(_fts(phrases, "OR", prefix))
        best: dict[str, Hit] = {}
        for rowid, title, heading, passage in rows:
            doc = self.docs[rowid]
            if doc.group not in best:  # rows come best first: the first of a group is its best part
                # A quiz item's heading column holds its quiz's title (see _documents).
                shown = (title, heading) if title else (heading, "")
                best[doc.group] = Hit(doc, _marked(shown[0]), _marked(shown[1]), _marked(passage))
        counts = {name: 0 for name in KINDS}
        for hit in best.values():
            counts[hit.doc.kind] += 1
        # Whatever is called exactly what the learner typed comes first ("empathy": the term Empathy).
        wanted = " ".join(words)
        ranked = sorted(best.values(), key=lambda h: " ".join(_WORD.findall(h.doc.title.casefold())) != wanted)
        chosen = [h for h in ranked if kind in (None, h.doc.kind)]
        pages = max(1, -(-len(chosen) // PER_PAGE))
        page = min(max(page, 1), pages)
        return Results(
            query=query,
            words=words,
            hits=tuple(chosen[(page - 1) * PER_PAGE : page * PER_PAGE]),
            total=len(chosen),
            page=page,
            pages=pages,
            counts=counts,
            matched_all=matched_all,
            suggestion=None if best else self.suggest(phrases),
            shortened=shortened or dropped,
        )


_indexes: dict[int, tuple[Catalog, Index]] = {}
_building = threading.Lock()


def index_for(catalog: Catalog) -> Index:
    """The catalog's index, built on first use and kept for the life of the process."""
    found = _indexes.get(id(catalog))
    if found is None or found[0] is not catalog:
        with _building:
            found = _indexes.get(id(catalog))
            if found is None or found[0] is not catalog:
                # The catalog is kept beside its index, so its id cannot be reused by another.
                found = _indexes[id(catalog)] = (catalog, Index(catalog))
    return found[1]


def search(catalog: Catalog, raw: str, kind: str | None = None, page: int = 1) -> Results:
    """Search the catalog for the learner's words (see `Index.search`)."""
    return index_for(catalog).search(raw, kind if kind in KINDS else None, page)
