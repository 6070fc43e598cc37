"""Addresses that look like one and are another are flagged; one address written two ways is one address."""

import unicodedata

import idna
import pytest
from email_validator import validate_email
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from app.services.addresses import canonical, problem

PLAIN = ["ann@example.org", "ann.o'neil+class@ward-7.example.org", "zoë@bücher.example", "иван@пример.рф", "李@例子.中国"]


@pytest.mark.parametrize("email", PLAIN)
def test_ordinary_addresses_in_any_one_alphabet_have_no_problem(email):
    assert problem(email) is None


@pytest.mark.parametrize(
    ("email", "said"),
    [
        ("ann\u200b@example.org", "invisible character (U+200B zero width space)"),
        ("ann@exam\u200dple.org", "invisible character (U+200D zero width joiner)"),
        ("\ufeffann@example.org", "invisible character (U+FEFF"),
        ("ann\u00ad@example.org", "invisible character (U+00AD soft hyphen)"),
        ("ann@example.org\u202e", "changes the direction text is shown in (U+202E right-to-left override)"),
        ("ann\u200f@example.org", "changes the direction text is shown in (U+200F right-to-left mark)"),
        ("\u2067ann@example.org", "changes the direction text is shown in"),
    ],
)
def test_invisible_and_direction_characters_are_named(email, said):
    found = problem(email)
    assert found is not None and said in found
    assert "Type the address again by hand" in found


@pytest.mark.parametrize(
    ("email", "letter", "like"),
    [
        ("p\u0430ypal@example.org", "Cyrillic letter “\u0430”", "Latin “a”"),  # Cyrillic а among Latin letters
        ("ann@ex\u0430mple.org", "Cyrillic letter “\u0430”", "Latin “a”"),  # in the domain
        ("ann@xn--pypal-4ve.com", "Cyrillic letter “\u0430”", "Latin “a”"),  # the same, written as IDNA
        ("\u03c1aypal@example.org", "Greek letter “\u03c1”", "Latin “p”"),  # Greek rho
    ],
)
def test_letters_of_one_alphabet_passing_for_another_are_named(email, letter, like):
    found = problem(email)
    assert found is not None and "mixes alphabets" in found
    assert letter in found and like in found


def test_the_same_address_written_in_idna_or_unicode_or_capitals_is_one_address():
    forms = ["user@bücher.example", "user@xn--bcher-kva.example", "USER@BÜCHER.EXAMPLE", " user@Xn--Bcher-Kva.Example "]
    assert {canonical(form) for form in forms} == {"user@bücher.example"}
    decomposed = unicodedata.normalize("NFD", "zoë@bücher.example")
    assert canonical(decomposed) == "zoë@bücher.example"


def test_what_idna_cannot_read_is_still_folded_and_never_fails():
    assert canonical("Ann@Not A Domain") == "ann@not a domain"
    assert canonical("no-at-sign") == "no-at-sign"
    assert canonical("a@b@Example.ORG") == "a@b@example.org"


_LETTERS = st.characters(codec="utf-8", exclude_categories=("Cs",))


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(_LETTERS, max_size=40), st.text(_LETTERS, max_size=40))
@example("a", "\x00")
@example("\u202e", "")
@example("a" * 64, "b" * 300)
def test_any_text_gets_an_answer_and_never_an_error(local, domain):
    email = f"{local}@{domain}"
    found = problem(email)
    assert found is None or (isinstance(found, str) and found.endswith("."))
    once = canonical(email)
    assert canonical(once) == once  # one form: writing it again changes nothing
    assert once == unicodedata.normalize("NFC", once)


@settings(max_examples=200, deadline=None, database=None)
@given(
    st.from_regex(r"[a-z0-9][a-z0-9._+-]{0,15}", fullmatch=True),
    st.lists(st.from_regex(r"[a-zà-ÿ][a-zà-ÿ0-9]{0,10}", fullmatch=True), min_size=1, max_size=3),
)
def test_an_idna_domain_and_its_unicode_letters_are_one_address(local, labels):
    unicode_domain = ".".join(labels) + ".example"
    try:
        ascii_domain = idna.encode(unicode_domain, uts46=True).decode()
    except idna.IDNAError:
        assume(False)
    assert canonical(f"{local}@{ascii_domain}") == canonical(f"{local}@{unicode_domain.upper()}")


@settings(max_examples=200, deadline=None, database=None)
@given(
    st.from_regex(r"[a-z]{2,12}", fullmatch=True),
    st.integers(min_value=0, max_value=11),
    st.sampled_from(["\u0430", "\u0435", "\u043e", "\u0440", "\u0441", "\u0445"]),  # Cyrillic а е о р с х
)
def test_a_cyrillic_look_alike_slipped_into_a_latin_name_is_always_caught(name, at, cyrillic):
    at = at % len(name)
    email = f"{name[:at]}{cyrillic}{name[at:]}@example.org"
    found = problem(email)
    assert found is not None and f"Cyrillic letter “{cyrillic}”" in found
    # The validator alone takes it: without this check the look-alike would get through.
    validate_email(email, check_deliverability=False)
