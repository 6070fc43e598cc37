"""Search over lessons, the glossary and quizzes; the glossary in the navigation; time estimates.

Search is ranked and shows the matching passage with the words marked (escaped safely); it reads
nothing a learner may not see (no options, grades or feedback); no input, however long or odd, is
an error; the index is built once per catalog, and a search costs no database query of its own.
"""

import html
import re
import time
from datetime import date
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from app.content.conversations import Conversation
from app.services import cohorts, courses, estimates
from app.services import search as finder


@pytest.fixture
def student(auth):
    """A signed-in student."""
    return auth.as_role("student")


def results_of(page: str) -> list[tuple[str, str, str]]:
    """Each result on a search page as (link, title text, passage HTML), in order."""
    found = re.findall(
        r'<li>\s*<h3><a href="([^"]+)">(.*?)</a></h3>.*?<p class="passage">(.*?)</p>',
        page.split("search-results")[-1],
        re.S,
    )
    return [(html.unescape(link), re.sub(r"<[^>]+>", "", title), passage) for link, title, passage in found]


def text_of(fragment: str) -> str:
    """What a person reads in an HTML fragment."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def searched(client, q: str, **params) -> str:
    """The search page for `q`, which must answer 200."""
    response = client.get("/learn/search", query_string={"q": q, **params})
    assert response.status_code == 200, response.text[:300]
    assert "Traceback" not in response.text
    return response.text


# --- ranking and passages


def test_a_term_is_found_first_with_its_definition_as_the_passage(client, student, catalog):
    page = searched(client, "empathy")
    term = next(t for t in catalog.glossary if t.term == "Empathy")
    first = results_of(page)[0]
    assert first[0] == f"/learn/glossary#term-{term.id}" and first[1] == "Empathy"
    assert text_of(first[2]) in text_of(term.definition_html)
    assert f'<h3><a href="/learn/glossary#term-{term.id}"><mark>Empathy</mark></a></h3>' in page
    heading = re.search(r'<h2 id="results-heading">\s*(.*?)\s*</h2>', page, re.S).group(1)
    assert re.fullmatch(r"\d+ results for “empathy”", text_of(heading))


def test_results_are_ranked_one_per_lesson_and_link_to_the_matching_section(client, student, catalog):
    page = searched(client, "Rogers empathy")
    found = results_of(page)
    lesson = next(
        (m, lesson, s)
        for m in catalog.modules
        for lesson in m.lessons
        for s in lesson.sections
        if "Rogers" in s.title_html and "empathy" in s.title_html
    )
    module, lesson, section = lesson
    assert found[0][0] == f"/learn/modules/{module.id}/lessons/{lesson.id}#{section.anchor}"
    assert "<mark>Rogers</mark>" in found[0][2] and "<mark>empathy</mark>" in found[0][2]
    links = [link.split("#")[0] for link, _, _ in found]
    assert len(links) == len(set(links)), "a lesson is listed twice"


def test_words_are_matched_by_stem_and_the_last_one_as_typed_so_far(client, student):
    assert results_of(searched(client, "listens"))  # "listening", "listen" found through their stem
    assert results_of(searched(client, "empath"))[0][1] == "Empathy"  # the word being typed


def test_quoted_words_must_appear_side_by_side(catalog):
    together = finder.search(catalog, '"shared decision"')
    apart = finder.search(catalog, "decision shared")
    assert together.total and apart.total > together.total
    for hit in together.hits:
        shown = text_of(f"{hit.title} {hit.heading} {hit.passage}").lower()
        assert re.search(r"\bshar\w* decision", shown), shown  # side by side, in any form: "sharing decisions"


def test_when_no_page_has_every_word_pages_with_some_are_shown_and_it_is_said(client, student):
    page = searched(client, "empathy xylophone")
    assert "Nothing has all of your words, so these results have some of them." in page
    assert results_of(page)[0][1] == "Empathy"


def test_nothing_found_says_so_offers_a_spelling_and_ways_on(client, student):
    page = searched(client, "allaince")
    assert "Nothing found for “allaince”" in page
    assert 'Did you mean <a href="/learn/search?q=alliance">alliance</a>?' in page
    assert 'href="/learn/glossary"' in page and "check the spelling" in page
    assert results_of(page) == []
    # The suggestion leads to results.
    assert results_of(searched(client, "alliance"))


def test_a_filter_shows_one_kind_and_counts_every_kind(client, student):
    everything = searched(client, "goal")
    counts = {k: int(n) for k, n in re.findall(r"(Lessons|Glossary|Quizzes and conversations) \((\d+)\)", everything)}
    assert all(counts.values()) and len(results_of(everything)) == min(finder.PER_PAGE, sum(counts.values()))
    terms = searched(client, "goal", kind="term")
    assert len(results_of(terms)) == counts["Glossary"]
    assert all(link.startswith("/learn/glossary#term-") for link, _, _ in results_of(terms))
    assert 'aria-current="page">Glossary (' in terms
    nothing_here = searched(client, "Dobson", kind="term")
    assert "Nothing found for “Dobson” in the glossary" in nothing_here
    assert "look everywhere</a>: there is 1 result outside the glossary" in nothing_here


def test_many_results_come_in_pages(client, student):
    first, second = searched(client, "the"), searched(client, "the", page="2")
    assert len(results_of(first)) == finder.PER_PAGE
    assert not {r[0] for r in results_of(first)} & {r[0] for r in results_of(second)}
    assert 'href="/learn/search?q=the&amp;page=2" rel="next"' in first
    assert 'href="/learn/search?q=the" rel="prev"' in second
    last = re.search(r"Page 1 of (\d+)", first).group(1)
    assert f"Page {last} of {last}" in searched(client, "the", page="999999999999")  # past the end: the last page


def test_quizzes_and_conversations_are_found_by_their_questions_and_patients(client, student, catalog):
    quiz = catalog.quizzes[0]
    item = next(i for i in quiz.items if i.type == "scenario")
    surname = item.vignette.patient.split(",")[0].split()[-1]
    found = results_of(searched(client, surname))
    assert (f"/learn/quizzes/{quiz.id}", quiz.title) in [(link, title) for link, title, _ in found]
    conversation = catalog.conversations[0]
    found = results_of(searched(client, conversation.title))
    assert found[0][:2] == (f"/learn/conversations/{conversation.id}", conversation.title)


def test_answers_their_grades_and_feedback_are_never_searched(catalog):
    """Searching an option's words or its feedback finds no quiz: only prompts and vignettes are indexed."""
    index = finder.index_for(catalog)
    checked = 0
    for quiz in catalog.quizzes:
        for item in quiz.items:
            hidden = [getattr(item, "feedback_html", "")]
            for option in getattr(item, "options", ()):
                hidden += [option.text_html, option.feedback_html]
            for text in filter(None, hidden):
                words = finder.plain(text).split()
                if len(words) < 8:
                    continue
                phrase = '"' + " ".join(words[:8]) + '"'
                hits = index.search(phrase).hits
                assert not [h for h in hits if h.doc.kind == "quiz"], f"{quiz.id}/{item.id} leaks: {phrase}"
                checked += 1
    for conversation in catalog.conversations:
        for node in conversation.nodes:
            for reply in node.replies:
                phrase = '"' + " ".join(finder.plain(reply.feedback_html).split()[:8]) + '"'
                assert not [h for h in index.search(phrase).hits if h.doc.kind == "quiz"]
                checked += 1
    assert checked > 300


def test_passages_are_escaped_and_only_the_marks_are_markup():
    marked = finder._marked('a <script>&\x02b\x03 "c" \x02d\x03')
    assert isinstance(marked, Markup)
    assert str(marked) == "a &lt;script&gt;&amp;<mark>b</mark> &#34;c&#34; <mark>d</mark>"


def test_citation_marks_and_tags_leave_clean_text():
    fragment = '<p>Rogers, in <em>Client-centered therapy</em>, was first <sup class="cite"><a href="#r">[1]</a></sup>.</p><p>Next</p>'
    assert finder.plain(fragment) == "Rogers, in Client-centered therapy, was first. Next"


# --- bad input


NASTY = [
    "",
    " ",
    '"',
    '""',
    "*",
    "**",
    "alliance*",
    "-alliance",
    "^alliance",
    "title:alliance",
    "NEAR(alliance goals, 2)",
    "alliance AND OR NOT goals",
    "(alliance",
    "{title}: x",
    "'; DROP TABLE doc; --",
    "<script>alert(1)</script>",
    "\x00",
    "a\x00lliance",
    "\x02alliance\x03",
    "\u202e\u200b",
    "%",
    "é" * 3000,
    "alliance " * 5000,
    "χ²",
    "ａｌｌｉａｎｃｅ",
    "🙂 alliance",
]


@pytest.mark.parametrize("q", NASTY, ids=[str(n) for n in range(len(NASTY))])
def test_no_query_is_an_error(client, student, q):
    if "\x00" in q:  # the whole app refuses a NUL character as bad input, with a page saying so
        response = client.get("/learn/search", query_string={"q": q})
        assert response.status_code == 400 and "contains a character that is not allowed" in response.text
        return
    page = searched(client, q)
    assert "<script>alert" not in page and "\x02" not in page


def test_a_long_query_is_cut_and_the_page_says_so(client, student):
    page = searched(client, "alliance " * 5000)
    assert f"only its first {finder.MAX_QUERY} characters and {finder.MAX_TERMS} words were used" in page
    assert f'maxlength="{finder.MAX_QUERY}"' in page
    assert results_of(page)


def test_punctuation_alone_asks_for_a_word(client, student):
    page = searched(client, "*** ???")
    assert "Nothing to search for" in page and "Type a word" in page


def test_odd_filters_and_pages_fall_back_quietly(client, student):
    for params in ({"kind": "answers"}, {"kind": "<b>"}, {"page": "abc"}, {"page": "-3"}, {"page": "9" * 400}):
        page = searched(client, "goal", **params)
        assert results_of(page)
    # Bytes that are not UTF-8 in the address decode as replacement characters, not an error.
    assert client.get("/learn/search?q=%ED%A0%80%FF").status_code == 200


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(st.text(max_size=400), st.sampled_from(["", "lesson", "term", "quiz", "x"]), st.integers(-5, 50))
def test_any_text_searches_without_error_and_marks_only_escaped_text(catalog, raw, kind, page):
    results = finder.search(catalog, raw, kind or None, page)
    assert 1 <= results.page <= results.pages and len(results.hits) <= finder.PER_PAGE
    assert len(results.query) <= finder.MAX_QUERY
    for hit in results.hits:
        for fragment in (hit.title, hit.heading, hit.passage):
            bare = str(fragment).replace("<mark>", "").replace("</mark>", "")
            assert "<" not in bare and ">" not in bare


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=300))
def test_any_text_in_the_address_answers_a_page(client, student, raw):
    response = client.get(f"/learn/search?q={quote(raw)}")
    assert response.status_code == (400 if "\x00" in raw else 200) and "Traceback" not in response.text


# --- built once, fast, and no database work


def test_the_index_is_built_once_per_catalog_not_per_request(client, student, catalog, monkeypatch):
    finder.index_for(catalog)  # whatever came before, the catalog's index exists now
    built = []
    real = finder.Index.__init__

    def counting(self, *args):
        built.append(1)
        real(self, *args)

    monkeypatch.setattr(finder.Index, "__init__", counting)
    for q in ("alliance", "goal", "empathy"):
        searched(client, q)
    assert built == []
    assert finder.index_for(catalog) is finder.index_for(catalog)


def test_a_search_runs_no_query_of_its_own(client, student, count_queries):
    searched(client, "warm up")

    def measured(q: str) -> int:
        with count_queries() as counted:
            searched(client, q)
        return counted.count

    assert measured("the") == measured("xylophone") == measured("")
    with count_queries() as counted:
        assert client.get("/learn/glossary").status_code == 200
    assert measured("alliance") == counted.count  # only what every page reads (the signed-in account)


def test_hundreds_of_searches_take_well_under_a_second_each(catalog):
    finder.index_for(catalog)
    queries = ["alliance", "the", "goal setting", '"shared decision"', "empath", "allaince xylophone"] * 50
    started = time.perf_counter()
    for q in queries:
        finder.search(catalog, q)
    per_query = (time.perf_counter() - started) / len(queries)
    assert per_query < 0.05, f"{per_query * 1000:.1f} ms a search"


# --- the header


def test_signed_in_pages_offer_the_glossary_and_a_search_box(client, student):
    home = client.get("/learn/").text
    assert '<a href="/learn/glossary">Glossary</a>' in home
    assert 'action="/learn/search" role="search" aria-label="Site"' in home
    assert (
        '<label for="header-search-q" class="visually-hidden">Search lessons, the glossary and quizzes</label>' in home
    )
    glossary = client.get("/learn/glossary").text
    assert '<a href="/learn/glossary" aria-current="page">Glossary</a>' in glossary
    # On the search page its own form is the search box: the header does not repeat it.
    assert 'id="header-search-q"' not in searched(client, "goal")


def test_visitors_get_no_search_box_or_menu(client):
    page = client.get("/auth/sign-in").text
    assert 'role="search"' not in page and "nav-menu" not in page


def test_the_glossary_files_terms_outside_a_to_z_under_other(client, student, catalog):
    page = client.get("/learn/glossary").text
    letters = re.findall(r'<li><a href="#letter-([^"]+)">', page)
    assert letters == sorted(set(letters) - {"Other"}) + (["Other"] if "Other" in letters else [])
    odd = [t for t in catalog.glossary if not ("A" <= t.term[0].upper() <= "Z")]
    assert odd and "Other" in letters
    assert 'action="/learn/search"' in page and 'name="kind" value="term"' in page


# --- time estimates


def test_a_quiz_page_says_how_long_the_quiz_takes(client, student, catalog):
    quiz = catalog.quizzes[0]
    minutes = estimates.minutes(quiz)
    page = client.get(f"/learn/quizzes/{quiz.id}").text
    assert f'Takes <time class="time-estimate" datetime="PT{minutes}M">about {minutes} minutes</time>.' in page
    # Read at 180 words a minute plus time to decide: about a minute and a half an item here.
    assert len(quiz.items) <= minutes <= 3 * len(quiz.items)


def test_a_conversation_page_says_how_long_it_takes(client, student, catalog):
    conversation = catalog.conversations[0]
    minutes = estimates.minutes(conversation)
    page = client.get(f"/learn/conversations/{conversation.id}").text
    assert f'datetime="PT{minutes}M">about {minutes} minutes</time>' in page
    assert len(conversation.best_path) // 2 <= minutes <= 4 * len(conversation.best_path)


def test_longer_content_is_estimated_longer(catalog):
    quiz = max(catalog.quizzes, key=lambda q: len(q.items))
    shorter = type(quiz)(**{**quiz.__dict__, "items": quiz.items[:3], "version": "shorter"})
    assert estimates.minutes(shorter) < estimates.minutes(quiz)
    assert isinstance(catalog.conversations[0], Conversation)
    assert estimates.minutes(catalog.modules[0]) == catalog.modules[0].minutes
    assert estimates.minutes(None) == 0


@pytest.mark.parametrize(
    ("minutes", "shown", "iso"),
    [
        (1, "about 1 minute", "PT1M"),
        (25, "about 25 minutes", "PT25M"),
        (60, "about 1 hour", "PT1H"),
        (61, "about 1 hour 1 minute", "PT1H1M"),
        (185, "about 3 hours 5 minutes", "PT3H5M"),
    ],
)
def test_durations_read_as_people_say_them(minutes, shown, iso):
    assert estimates.duration(minutes) == Markup(f'<time class="time-estimate" datetime="{iso}">{shown}</time>')


def test_a_course_page_adds_up_its_items_and_what_is_left(client, db, auth, catalog):
    educator = auth.create("educator", email="teacher@example.org")
    student = auth.as_role("student")
    cohort = cohorts.create(educator, "Ward 7 team")
    module, quiz, conversation = catalog.modules[0], catalog.quizzes[0], catalog.conversations[0]
    course = courses.create(educator, "Foundations", "Start here.")
    courses.add_item(catalog, course, f"module:{module.id}")
    courses.add_item(catalog, course, f"quiz:{quiz.id}")
    courses.add_item(catalog, course, f"conversation:{conversation.id}", is_required=False)
    courses.set_published(course, True)
    cohorts.add_member(cohort, student.id, "code")
    cohorts.assign(cohort, course, educator, None, date(2099, 1, 1))
    db.session.commit()
    every = module.minutes + estimates.minutes(quiz) + estimates.minutes(conversation)
    required = module.minutes + estimates.minutes(quiz)
    page = client.get(f"/learn/courses/{course.id}").text
    said = f"All its items take {estimates.duration(every)}; the required items you still have to do take "
    assert said + f"{estimates.duration(required)}." in page
    assert "about 1 hour" in str(estimates.duration(every))
    assert every > required > module.minutes
