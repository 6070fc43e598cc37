"""Email addresses that look like one address and are another: caught, and put in one form.

`problem` says why an address should not be used as typed: an invisible character (a zero-width
space pasted along with it), a control changing the text's direction (which can show "moc.elpmaxe"
as "example.com"), or letters from two alphabets mixed so that one passes for the other (the
Cyrillic "а" among Latin letters). `canonical` writes an address the one way it is stored, so
"Ann@Bücher.example" and "ann@xn--bcher-kva.example" are found as the same account.
"""

import unicodedata

import idna

#: Characters that change the direction text is shown in (Unicode's bidirectional controls).
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
#: Scripts shared by every alphabet (digits, punctuation, combining marks): mixing them in is not confusing.
_SHARED_SCRIPTS = frozenset({"COMMON", "INHERITED"})


def _shown(char: str) -> str:
    """A character as a person can be told about it: its code and, when Unicode has one, its name."""
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X} {name.lower()}".strip()


def _lookalike(part: str) -> tuple[str, str, str, str] | None:
    """In one part of an address (the name, or a domain label), a letter passing for one of another
    alphabet used in the same part: (letter, its alphabet, the letter it looks like, that alphabet)."""
    # Imported here, not with the module: its look-alike table is about 6 MB in every worker, and only
    # the forms that take a new address ask.
    from confusable_homoglyphs import categories, confusables

    scripts = set(categories.unique_aliases(part)) - _SHARED_SCRIPTS
    if len(scripts) < 2:
        return None
    found = []
    for script in sorted(scripts):
        others = sorted(scripts - {script})
        for confusable in confusables.is_confusable(part, greedy=True, preferred_aliases=others) or []:
            if confusable["alias"] != script:
                continue
            for glyph in confusable["homoglyphs"]:
                like = glyph["c"]
                if len(like) == 1 and categories.alias(like) in others:
                    # Name the odd one out (the alphabet with fewest letters here), looking like a letter
                    # of this very part, else like a plain ASCII one.
                    rank = (sum(categories.alias(c) == script for c in part), 0 if like in part else 1 if like.isascii() else 2)
                    found.append((rank, confusable["character"], script, like, categories.alias(like)))
    return min(found)[1:] if found else None


def problem(email: str) -> str | None:
    """Why the address may not be the one it seems (invisible, direction or look-alike characters), or None."""
    for char in email:
        if char in BIDI_CONTROLS:
            return (
                f"The email holds a character that changes the direction text is shown in ({_shown(char)}), "
                "so it may not be the address it seems. Type the address again by hand."
            )
    for char in email:
        category = unicodedata.category(char)
        if category in ("Cf", "Cc", "Zl", "Zp") or (category == "Zs" and char != " ") or char in "\u115f\u1160\u3164\uffa0":
            return (
                f"The email holds an invisible character ({_shown(char)}), often pasted along with an "
                "address. Type the address again by hand."
            )
    local, _, domain = email.rpartition("@")
    # A label written "xn--..." is checked as the letters it stands for.
    for part in [local, *_domain(domain).split(".")]:
        found = _lookalike(unicodedata.normalize("NFC", part))
        if found:
            letter, script, like, like_script = found
            return (
                f"The email mixes alphabets: the {script.title()} letter “{letter}” looks like the "
                f"{like_script.title()} “{like}”, so the address may not be the one it seems. "
                "Check it and type it again by hand."
            )
    return None


def _domain(domain: str) -> str:
    """The domain in Unicode, lower case, as IDNA reads it: its "xn--" form and its letters are one name."""
    try:
        return idna.decode(idna.encode(domain, uts46=True))
    except (idna.IDNAError, UnicodeError):
        # Not a name IDNA accepts (the address will be refused as invalid): keep it, folded.
        return domain.lower()


def canonical(email: str) -> str:
    """The one form an address is stored and looked up in: trimmed, NFC, lower case, the domain in Unicode."""
    text = unicodedata.normalize("NFC", email.strip())
    local, at, domain = text.rpartition("@")
    if not at:
        return text.lower()
    return f"{local.lower()}@{_domain(domain)}"
