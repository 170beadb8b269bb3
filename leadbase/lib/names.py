"""Person names: cleaning, plausibility, greeting parts, search keys and fuzzy comparison.

Invariants:
- `clean_name(raw)` is None only when nothing was given (None, or only blanks); otherwise it
  returns the name trimmed, with whitespace runs collapsed to one space and in Unicode NFC,
  or raises `Invalid("invalid_name", …)`. `clean_name(clean_name(x)) == clean_name(x)`.
- Real names in every script pass; refused are placeholders, values without letters or with
  more digits than letters, markup, spreadsheet formulas, email and web addresses, control
  characters and names over 200 characters (see `_refusal` for the exact rules).
- "John Doe" and "Jane Doe" (alone) are refused as placeholders: in form and import data they
  are almost always filler; a real John Doe can add a middle name or initial.
- `name_key` is casefolded, accent-free and idempotent: `name_key(name_key(x)) == name_key(x)`.
- `names_agree` and `names_clearly_differ` are never both True.
"""

from __future__ import annotations

import re
import string
import unicodedata
from functools import lru_cache

from rapidfuzz.fuzz import ratio, token_sort_ratio

from leadbase.lib.errors import Invalid, shown

MAX_NAME_LENGTH = 200

# Compared on `_placeholder_key` (name_key without spaces or punctuation).
PLACEHOLDER_NAMES: frozenset[str] = frozenset(
    {
        "na", "nan", "null", "none", "nil", "undefined", "unknown", "notprovided", "notavailable",
        "test", "testtest", "testing", "tester", "testuser", "asdf", "asdfasdf", "asdfgh", "qwerty",
        "abc", "foo", "foobar", "blah", "dummy", "sample", "example", "fake", "anonymous", "anon",
        "noname", "nobody", "unnamed", "name", "yourname", "fullname", "myname", "firstlast",
        "firstnamelastname", "namesurname", "vornamenachname", "nombreapellido", "prenomnom",
        "nomecognome", "johndoe", "janedoe", "tbd", "user", "customer", "lead", "contact",
    }
)

# Words of letters ("Smith", "Dr.", "J.R.R.") joined by the separators names use. A name made
# of these alone needs no further checks (a dot inside a word, as in "www.x.com", does).
_WORD = r"(?:(?:[^\W\d_]\.)+|[^\W\d_]+\.?)"
_ORDINARY = re.compile(rf"{_WORD}(?:(?:[ '’-]|, ){_WORD})*").fullmatch
_NAME_PUNCTUATION = str.maketrans("", "", " '’-,.")
_ASCII_NOISE = (string.punctuation + string.whitespace).encode()
_NOISE = str.maketrans("", "", string.punctuation + string.whitespace)
_INVISIBLE = str.maketrans("", "", "\u00ad\u200b\u2060\ufeff")  # soft hyphen, ZWSP, WJ, BOM
_JOINERS = frozenset("\u200c\u200d")  # ZWNJ/ZWJ: part of correct spelling in Persian, Indic…
_MARKUP = re.compile(
    r"<\s*[a-z/!?]|&(?:#\d+|#x[0-9a-f]+|[a-z][a-z0-9]{1,31});|(?:javascript|vbscript|data)\s*:",
    re.IGNORECASE,
).search
# '=' always starts a formula; + - @ do when an operator, a digit (number or cell like A1), a
# bracket, a string or a reference (! : |) follows anywhere, so "-" alone is not one.
_FORMULA = re.compile(r"=|[+\-@].*[\d=+\-*/^&()!:;|\"$]", re.DOTALL).match
_EMAIL = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+").search
_URL = re.compile(
    r"[a-z][a-z0-9+.-]*://|\bwww\.|\b[a-z0-9-]+\.(?:com|net|org|io|info|biz)\b", re.IGNORECASE
).search
_REPEATED_LETTER = re.compile(r"([a-z])\1{2,}").fullmatch  # "xxx", "aaaa"

TITLES: frozenset[str] = frozenset(
    {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "herr", "frau", "mme", "mlle"}
)
SUFFIXES: frozenset[str] = frozenset(
    {"jr", "sr", "ii", "iii", "iv", "phd", "md", "esq", "mba", "dds", "msc", "bsc"}
)
# Lowercase particles that belong to the family name: "van der Berg", "de la Cruz".
_PARTICLES = frozenset(
    {"van", "von", "der", "den", "de", "del", "della", "di", "da", "du", "la", "le", "ter", "ten",
     "bin", "binti", "al", "el", "dos", "das", "do", "st"}
)
# Letters that NFKD does not decompose but people type without their stroke or ligature.
_LATIN_FOLD = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i", "ŧ": "t"}
)

# Thresholds of the fuzzy comparison (rapidfuzz scores, 0–100):
AGREE_SCORE = 88  # token_sort_ratio of whole names: "Jon Smith"/"John Smith" 95, "Jane"/"John" 80
FAMILY_SCORE = 90  # family names when given names are compared on their own (initials)
GIVEN_SCORE = 80  # given names: "Jon"/"John" 86, "Mary"/"Marie" 67
SHARED_WORD_SCORE = 80  # a word counts as shared between two names from this score on


def clean_name(raw: str | None) -> str | None:
    """The cleaned name in `raw`; None if `raw` is blank; raise Invalid if it is no name."""
    if raw is None:
        return None
    name = " ".join(raw.translate(_INVISIBLE).split())
    if not name:
        return None
    name = unicodedata.normalize("NFC", name)
    problem = _refusal(name)
    if problem:
        raise Invalid("invalid_name", f"{shown(name)} {problem}.")
    return name


def _refusal(name: str) -> str | None:
    """Why `name` (trimmed, collapsed, NFC) is not a plausible person name, or None."""
    if len(name) > MAX_NAME_LENGTH:
        return f"is longer than {MAX_NAME_LENGTH} characters, too long for a name"
    if _is_placeholder(name):
        return "is a placeholder, not a name"
    if _ORDINARY(name) and (
        # [^\W\d_] also matches numerals that are not digits ("²", "Ⅻ").
        name.isascii() or name.translate(_NAME_PUNCTUATION).isalpha()
    ):
        return None
    if not name.strip("-.?!_*/\\#~ "):
        return "is a placeholder, not a name"
    for char in name:
        if unicodedata.category(char)[0] == "C" and char not in _JOINERS:
            return "contains control or invisible characters"
    letters = sum(char.isalpha() for char in name)
    if not letters:
        return "has no letters, so it is not a name"
    if _FORMULA(name):
        return "looks like a spreadsheet formula, not a name"
    if _MARKUP(name):
        return "contains markup or code, not a name"
    if _EMAIL(name):
        return "is an email address, not a name"
    if _URL(name):
        return "is a web address, not a name"
    if sum(char.isdigit() for char in name) > letters:
        return "is mostly digits, not a name"
    return None


def _is_placeholder(name: str) -> bool:
    """Whether the name, without case, accents, spaces and punctuation, is a placeholder."""
    if name.isascii():  # "N/A", "n.a." and "N A" are all "na"
        key = name.encode().translate(None, _ASCII_NOISE).lower().decode()
    else:
        # Placeholders are ASCII words: only a name whose ASCII letters alone make one needs
        # the costlier full key ("Nüll" does; "José García" and "李小龙" do not). Letters that
        # do not decompose to ASCII (ø, ß) are not looked through here.
        skeleton = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
        if not _is_placeholder(skeleton):
            return False
        key = name_key(name).translate(_NOISE)
    return key in PLACEHOLDER_NAMES or _REPEATED_LETTER(key) is not None


def name_key(name: str) -> str:
    """Search and sort key: casefolded, accents and strokes removed, single spaces."""
    if name.isascii():
        return " ".join(name.casefold().split())
    # Decompose before casefolding (compatibility forms can decompose to capitals: ㎩ → Pa)
    # and after it (casefolding can produce combining marks: İ → i̇), then drop the marks.
    folded = unicodedata.normalize("NFKD", name).casefold().translate(_LATIN_FOLD)
    decomposed = unicodedata.normalize("NFKD", folded)
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    # Recompose what was not an accent (Hangul syllables, for one) into its usual form.
    return " ".join(unicodedata.normalize("NFC", stripped).split())


def split_name(name: str) -> tuple[str, str]:
    """(given, family) for greetings; titles, suffixes and middle names left out.

    "Dr. Jane Q. Smith" and "Smith, Jane" give ("Jane", "Smith"); a single word is the given
    name; family-name particles stay with it ("Mary van der Berg" → ("Mary", "van der Berg")).
    """
    words = _words(name)
    if not words:
        return name.strip(), ""
    if len(words) == 1:
        return words[0], ""
    start = len(words) - 1
    while start > 1 and words[start - 1].casefold() in _PARTICLES:
        start -= 1
    return words[0], " ".join(words[start:])


def _words(name: str) -> list[str]:
    """The name's words, given names first, without titles and suffixes.

    "Smith, Jane Q." is read as family name, given names; "Jane Smith, PhD" is not.
    """
    if "," in name:
        before, _, after = name.partition(",")
        after_words = after.split()
        if after_words and not all(_bare(word) in SUFFIXES for word in after_words):
            name = f"{after} {before}"
        else:
            name = before
    words = [word for word in (word.strip(",") for word in name.split()) if word]
    while words and _bare(words[0]) in TITLES:
        words.pop(0)
    while len(words) > 1 and _bare(words[-1]) in SUFFIXES:
        words.pop()
    return words


def _bare(word: str) -> str:
    return word.strip(".,").casefold()


def join_name(first: str | None, last: str | None) -> str | None:
    """One name from First/Last columns; None when both are blank."""
    first = " ".join(first.split()) if first else ""
    last = " ".join(last.split()) if last else ""
    # A full name typed into First with Last repeated ("John Smith" / "Smith") is kept once.
    if first and last and name_key(first).endswith(" " + name_key(last)):
        return first
    return " ".join(part for part in (first, last) if part) or None


@lru_cache(maxsize=16_384)
def _tokens(name: str) -> tuple[str, ...]:
    """Comparison words: given names first, keyed, no titles, suffixes or dots.

    Kept for the names seen last: the duplicate scan compares each new lead with up to a dozen
    neighbours, and working the words out again for each comparison was half of its time."""
    return tuple(
        key for key in (name_key(word).strip(".-'’") for word in _words(name.replace(".", " ")))
        if key
    )


def names_agree(a: str, b: str) -> bool:
    """Whether two names plausibly belong to the same person.

    True when the words, in any order, score ≥ AGREE_SCORE ("Smith, John"/"John Smith",
    "Jon Smith"/"John Smith"), or when family names score ≥ FAMILY_SCORE and the first given
    names are an initial and a name with that initial ("J. Smith"/"John Smith") or score
    ≥ GIVEN_SCORE. Names with nothing comparable (blank, titles only) do not agree.
    """
    return _agree(_tokens(a), _tokens(b))


def _agree(words_a: tuple[str, ...], words_b: tuple[str, ...]) -> bool:
    if not words_a or not words_b:
        return False
    if token_sort_ratio(" ".join(words_a), " ".join(words_b)) >= AGREE_SCORE:
        return True
    if len(words_a) < 2 or len(words_b) < 2:
        return False
    if ratio(words_a[-1], words_b[-1]) < FAMILY_SCORE:
        return False
    return _compatible(words_a[0], words_b[0], GIVEN_SCORE)


def names_clearly_differ(a: str, b: str) -> bool:
    """Whether two names are obviously different people ("John Smith"/"Mary Jones").

    True when the names do not agree and either no word of one matches a word of the other,
    or both have a given and a family name and the given names do not match ("John Smith"/
    "Mary Smith": relatives on a family business's info@). Words match with a score
    ≥ SHARED_WORD_SCORE or as an initial and a name with that initial; given names also when
    one starts with the other ("Jon"/"Jonathan"). A lone word ("Smith"/"John Smith") is not
    clear.
    """
    words_a, words_b = _tokens(a), _tokens(b)
    if not words_a or not words_b or _agree(words_a, words_b):
        return False
    if len(words_a) >= 2 and len(words_b) >= 2:
        given_a, given_b = words_a[0], words_b[0]
        if not (
            _compatible(given_a, given_b, SHARED_WORD_SCORE)
            or given_a.startswith(given_b)
            or given_b.startswith(given_a)
        ):
            return True
    return not any(
        _compatible(word_a, word_b, SHARED_WORD_SCORE) for word_a in words_a for word_b in words_b
    )


def _compatible(word_a: str, word_b: str, score: int) -> bool:
    if len(word_a) == 1 or len(word_b) == 1:  # an initial
        return word_a[0] == word_b[0]
    return ratio(word_a, word_b) >= score
