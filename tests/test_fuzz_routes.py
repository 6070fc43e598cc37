"""Property-based: nothing anyone can send to any route gives a server error.

For every route of the app, as every kind of person (with the access table's world, so real ids
exist), Hypothesis sends generated values in the address (numbers of any size and sign, text of
any script with NUL, CR/LF and very long strings), the query string and the form (the names the
route's forms really use, from the app's own pages and the access table, and made-up ones), with
GET and each other method the route takes. No answer may be a 5xx or show a traceback. PDF files
are laid out by a stand-in that checks it was handed a whole HTML document: WeasyPrint sees only the
world's records, never a sent value, and is run for real by the transcript and certificate tests.

ALLIANCE_FUZZ_EXAMPLES sets the examples per route and method (a few by default, to stay quick in
the suite; raise it for a deeper run). On PostgreSQL, where the values that differ between the
databases (integers past its range, NUL in text, very long text) are all in the sweep, Hypothesis
draws half as many.
"""

import io
import logging
import os
import re
from html.parser import HTMLParser
from urllib.parse import quote, quote_from_bytes, urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.models.types import MAX_ID
from app.services import reports
from tests.test_access import CASES, Case, build_world, path_for

KINDS = ("anonymous", "student", "educator", "admin")
EXAMPLES = int(os.environ.get("ALLIANCE_FUZZ_EXAMPLES", "4"))
PLACEHOLDER = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
# Routes that end the session or the account, or set aside what other routes work on (the open
# conversation, a class membership): tried last, so the others meet the world as it was built.
LAST = re.compile(r"sign-out|delete|deactivate|/role$|restart|leave|remove")
# Query parameters the views read (request.args), besides those of the app's GET forms.
QUERY_NAMES = ["page", "by", "next", "q", "role", "status"]
NASTY = [
    "",
    "0",
    "-1",
    "-0",
    " 1 ",
    "1.5",
    "1e309",
    "nan",
    "inf",
    "0x10",
    str(MAX_ID),
    str(MAX_ID + 1),
    str(-MAX_ID - 2),
    "9" * 20,
    "9" * 309,
    "9" * 5000,
    "\u0661",  # Arabic-Indic one
    "²",
    "１",  # fullwidth one
    "\x00",
    "a\x00b",
    "\r\n",
    "a\r\nSet-Cookie: x=1",
    "\u202e\u200b",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%00",
    "%",
    "0001-01-01",
    "9999-12-31",
    "0000-00-00",
    "2024-02-30",
    "on",
    "true",
    "[]",
    "{}",
    "a" * 20_000,
    "é" * 3000,
]
# Values that broke something once, tried on every route without waiting for Hypothesis to find them.
# NUL is one: SQLite stores it, PostgreSQL refuses it in text.
SWEEP = ["9" * 309, str(MAX_ID + 1), "-1", "\u0661", "0001-01-01", "a" * 5000, "a\x00b"]
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


class _Forms(HTMLParser):
    """The forms of a page: each one's action, and the names (and file inputs) it sends."""

    def __init__(self, page_path: str):
        super().__init__()
        self.page_path = page_path
        self.forms: dict[str, dict[str, set[str]]] = {}
        self._current: dict[str, set[str]] | None = None

    def handle_starttag(self, tag, attrs):
        """Start a form, or add a named field to the one open."""
        attrs = dict(attrs)
        if tag == "form":
            action = urlsplit(attrs.get("action") or self.page_path).path or self.page_path
            self._current = self.forms.setdefault(action, {"names": set(), "files": set()})
        elif tag in ("input", "select", "textarea", "button") and attrs.get("name") and self._current is not None:
            kind = "files" if attrs.get("type") == "file" else "names"
            self._current[kind].add(attrs["name"])

    def handle_endtag(self, tag):
        """Close the open form."""
        if tag == "form":
            self._current = None


class _LastError(logging.Handler):
    """Keeps the last error the app logged (its traceback), to show with a failing example."""

    text = ""

    def emit(self, record):
        """Remember the formatted record, traceback included."""
        self.text = logging.Formatter().format(record)


def _routes(app) -> list[tuple[str, str]]:
    """Every (rule, method) of the app but static files: GET for every rule, then each other method."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted((rule.methods - {"HEAD", "OPTIONS"}) | {"GET"}):
            found.append((rule.rule, method))
    return sorted(found, key=lambda pair: (bool(LAST.search(pair[0])) and pair[1] != "GET", pair))


def _case(rule: str, method: str) -> Case:
    """The access table's case for this route and method (its attempt kind and valid form), or a bare one."""
    for case in CASES:
        if case.rule == rule and case.method == method:
            return case
    return Case(rule, method, {})


def _real(case: Case, world, name: str) -> str:
    """The world's real value for one placeholder of the rule."""
    return path_for(Case(f"<{name}>", case.method, {}, attempt=case.attempt), world)


def _value() -> st.SearchStrategy[str]:
    """Any value a person (or a program) might send in one field."""
    return st.one_of(
        st.sampled_from(NASTY),
        st.integers().map(str),
        st.integers(min_value=-(10**320), max_value=10**320).map(str),
        st.text(max_size=40),
        st.text(min_size=1, max_size=8).map(lambda text: text * 400),  # long, and cheap to make
    )


def _path_value(converter: str | None, real: str) -> st.SearchStrategy[str]:
    """A value for one placeholder: the real one, numbers of any size for an int, anything for text."""
    choices = [st.just(real), _value()]
    if converter == "int":
        choices.append(st.integers(min_value=-(MAX_ID * 4), max_value=MAX_ID * 4).map(str))
    return st.one_of(*choices)


def _page_forms(client, world) -> dict[str, dict[str, set[str]]]:
    """The forms found on every page this person can open, by the path they post to."""
    forms: dict[str, dict[str, set[str]]] = {}
    for case in CASES:
        if case.method != "GET":
            continue
        path = path_for(case, world)
        response = client.get(path)
        if response.status_code == 200 and response.mimetype == "text/html":
            parser = _Forms(path)
            parser.feed(response.text)
            for action, fields in parser.forms.items():
                entry = forms.setdefault(action, {"names": set(), "files": set()})
                entry["names"] |= fields["names"]
                entry["files"] |= fields["files"]
    return forms


def _still_signed_in(client, auth, user) -> None:
    """Be this person again: a request may have ended their session, or signed in someone else (the
    sign-in and set-password forms do); an account deactivated by the run stays signed out."""
    account = client.get("/auth/account")
    if user is None:
        if account.status_code == 200:
            auth.sign_out()
    elif account.status_code != 200 or user.email not in account.text:
        auth.sign_out()
        auth.sign_in(user.email)


def _drawn_elsewhere(html: str, stylesheet: str = "transcript-pdf.css") -> bytes:
    """A stand-in for WeasyPrint: a PDF route's request handling is what is fuzzed here."""
    assert html.lstrip().lower().startswith("<!doctype html"), html[:200]
    return b"%PDF-1.7\n%%EOF\n"


@pytest.mark.parametrize("kind", KINDS)
def test_no_request_to_any_route_gives_a_server_error(app, client, db, auth, catalog, kind, monkeypatch):
    # Drawing a PDF costs a third of a second and sees only the world's records, never a sent value, so
    # the transcripts and certificates (drawn for real in tests/test_transcript.py and
    # tests/test_credentials_pdf.py) are not drawn again for each of the hundreds of requests here.
    monkeypatch.setattr(reports.pdf, "render", _drawn_elsewhere)
    user, world = build_world(kind, auth, db, catalog)
    forms = _page_forms(client, world)
    errors = _LastError(level=logging.ERROR)
    app.logger.addHandler(errors)
    try:
        routes = [_Route(client, world, forms, rule, method, errors) for rule, method in _routes(app)]
        # First the known bad values on every route, while the world is as built; then anything at all.
        for route in routes:
            route.sweep()
            if route.may_change_who_is_signed_in:
                _still_signed_in(client, auth, user)
        for route in routes:
            route.fuzz()
            if route.may_change_who_is_signed_in:
                _still_signed_in(client, auth, user)
    finally:
        app.logger.removeHandler(errors)


class _Route:
    """One route and method, its real values and the fields its forms send, and the requests to try on it."""

    def __init__(self, client, world, forms, rule: str, method: str, errors: _LastError):
        self.client, self.world, self.rule, self.method, self.errors = client, world, rule, method, errors
        self.case = _case(rule, method)
        self.placeholders = PLACEHOLDER.findall(rule)
        self.real = {name: _real(self.case, world, name) for _, name in self.placeholders}
        fields = forms.get(path_for(self.case, world), {"names": set(), "files": set()})
        self.files = sorted(fields["files"])
        self.names = sorted(fields["names"] | set(self.baseline()) - set(self.files))
        self.query_names = sorted(set(QUERY_NAMES) | (fields["names"] if method == "GET" else set()))
        # A form may sign someone in or out; so may following a link that carries a token.
        self.may_change_who_is_signed_in = method != "GET" or "<token>" in rule

    def baseline(self) -> dict:
        """The access table's valid form for this route (a fresh copy: a file in it is read once), or nothing."""
        return self.case.data(self.world) if self.case.data else {}

    def path(self, values: dict[str, str]) -> str:
        """The rule with each placeholder given its value (the real one unless `values` says otherwise)."""
        return PLACEHOLDER.sub(lambda m: quote(values.get(m.group(2), self.real[m.group(2)]), safe=""), self.rule)

    def send(self, path: str, query: str = "", **kwargs) -> None:
        """Send one request; its answer must not be a server error nor show a traceback."""
        self.errors.text = ""
        response = self.client.open(path, method=self.method, query_string=query, **kwargs)
        shown = f"{self.method} {path[:200]}?{query[:200]} -> {response.status_code}\n{self.errors.text}"
        assert response.status_code < 500, shown
        if response.mimetype.startswith("text/"):
            assert "Traceback" not in response.text and 'File "' not in response.text, shown

    def sweep(self) -> None:
        """Every value known to have broken something, in each placeholder, in every field at once, in the query."""
        for value in SWEEP:
            for _, name in self.placeholders:
                self.send(self.path({name: value}), data=self.baseline() if self.method != "GET" else None)
            if self.method == "GET":
                self.send(self.path({}), urlencode([(name, value) for name in self.query_names]))
            elif self.names or self.files:
                form = {name: value for name in self.names}
                form |= {name: (io.BytesIO(value.encode()), "class.csv") for name in self.files}
                self.send(self.path({}), data=form)

    def fuzz(self) -> None:
        """Requests generated by Hypothesis: any address, query string and form."""

        examples = (
            EXAMPLES
            if self.client.application.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
            else max(1, EXAMPLES // 2)
        )

        @settings(SETTINGS, max_examples=examples)
        @given(st.data())
        def generated(data):
            values = {
                name: data.draw(_path_value(converter, self.real[name]), label=name)
                for converter, name in self.placeholders
            }
            pairs = data.draw(
                st.lists(st.tuples(st.sampled_from(self.query_names) | st.text(max_size=8), _value()), max_size=4),
                label="query",
            )
            query = urlencode(pairs)
            if data.draw(st.booleans(), label="raw query bytes"):
                query += "&" + quote_from_bytes(data.draw(st.binary(max_size=30)), safe="=&")
            kwargs = {}
            if self.method != "GET":
                kwargs = self.generated_body(data)
            self.send(self.path(values), query, **kwargs)

        generated()

    def generated_body(self, data) -> dict:
        """A form: the valid one with some fields changed (or every field one value), made-up fields, any files."""
        if data.draw(st.integers(0, 9), label="raw body") == 0:
            return {"data": data.draw(st.binary(max_size=200)), "content_type": "application/x-www-form-urlencoded"}
        form = self.baseline()
        if self.names and data.draw(st.booleans(), label="one value everywhere"):
            value = data.draw(_value(), label="every field")
            form |= {name: value for name in self.names}
        elif self.names:
            for name in data.draw(st.lists(st.sampled_from(self.names), max_size=5), label="changed fields"):
                form[name] = data.draw(_value(), label=f"field {name[:20]}")
        for name in data.draw(st.lists(st.text(max_size=12), max_size=2), label="made-up fields"):
            form[name] = data.draw(_value())
        for name in self.files:
            body = data.draw(st.binary(max_size=400) | _value().map(str.encode), label=f"file {name}")
            form[name] = (io.BytesIO(body), data.draw(st.text(max_size=20), label="file name") or "x.csv")
        return {"data": form}
