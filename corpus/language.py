"""Which language a text is in (Welsh or English), and Welsh words as a reader matches them.

The assistant reads two languages: English, and Welsh, the language of Welsh
public bodies (the Welsh Language Standards require a Welsh service to work
as fully as the English one). A question's language decides how it is
answered (assistant/language.py); a document's is recorded at ingest.
Deciding is cheap and needs no model: Welsh and English each have a few dozen
short words that carry most sentences ("mae", "yn", "y", "sut", "pwy";
"the", "is", "what", "how"), and a text is Welsh when it holds more of the
Welsh ones. A Welsh name inside an English question ("What does Llywodraeth
Cymru say...") leaves it English, and an English loan word ("contract", "AI")
inside a Welsh one leaves it Welsh.

Welsh words change their first letters after certain words ("caffael", "o
gaffael", "ei chaffael", "fy nghaffael": the mutations), so matching Welsh
words compares the forms a word can take back to its dictionary form
(`radicals`).
"""

from __future__ import annotations

import re

ENGLISH, WELSH = "en", "cy"
LANGUAGES = (ENGLISH, WELSH)

# words that are Welsh and not English (those both languages use, such as "a", "i", "am", "at", are left out)
_WELSH_WORDS = frozenset("""
y yr yn ym yng mae maen mai oes sydd sy ydy ydyn ydych ydw ydi yw oedd roedd bod fod bydd fydd byddai fyddai
gan gyda heb wrth dros drwy trwy rhwng ac ag ar o eu ein eich fy dy chi nhw fe hwn hon hyn hynny beth pa pam
sut pwy ble pryd faint na nad nid ddim os pe fel ond neu hefyd gall gallu allu gallai allai dylai ddylai
dylid dylen ddylen gellir angen rhaid dylwn alla allwn iawn rhywun unrhyw pob bob eraill arall gennym ganddynt
ynghylch ynglŷn ymhlith tuag oherwydd felly wedi yno yma ni mewn gael cael cynnwys ydynt oeddent
""".split())
_ENGLISH_WORDS = frozenset("""
the is are was were be been being what which who whom whose how why when where does do did should would could can
will shall may might must of to in on for with from by about into this that these those it its they them their our
we you your not no there here than then also only just any some all each both if or and but has have had as
""".split())
_CLITIC = re.compile(r"[’'](?:r|n|i|w|m|th|u|ch)\b", re.I)  # Welsh "o'r", "mae'n", "i'w", "sy'n"
_WORD = re.compile(r"[^\W\d_]+", re.U)


def detect(text: str) -> str:
    """"cy" for Welsh text, "en" otherwise: the count of Welsh words (and of Welsh contractions such as "'r"
    and "'n") against that of English ones. Only the first 400 words are read."""
    words = _WORD.findall(text.lower())[:400]
    welsh = sum(w in _WELSH_WORDS for w in words) + len(_CLITIC.findall(" ".join(text.split()[:400])))
    english = sum(w in _ENGLISH_WORDS for w in words)
    return WELSH if welsh >= 2 and welsh > english else ENGLISH


# what each mutated first letter can come from: soft (c>g, p>b, t>d, g>-, b>f, d>dd, ll>l, m>f, rh>r),
# nasal (c>ngh, p>mh, t>nh, g>ng, b>m, d>n) and aspirate (c>ch, p>ph, t>th) mutations
_UNMUTATE = (("ngh", "c"), ("mh", "p"), ("nh", "t"), ("ng", "g"), ("ch", "c"), ("ph", "p"), ("th", "t"),
             ("dd", "d"), ("g", "c"), ("b", "p"), ("d", "t"), ("f", "b"), ("f", "m"), ("l", "ll"), ("r", "rh"),
             ("m", "b"), ("n", "d"))
_VOWELS = "aeiouwyâêîôûŵŷ"


def radicals(word: str) -> frozenset[str]:
    """The forms a Welsh word may have come from by mutation, itself included ("gaffael" -> caffael, ...;
    "waith" -> gwaith; "hardal" -> ardal). Some are not words; they match nothing."""
    word = word.lower()
    forms = {word}
    for mutated, radical in _UNMUTATE:
        if word.startswith(mutated) and len(word) > len(mutated) + 2:
            forms.add(radical + word[len(mutated):])
    if word[:1] in _VOWELS:
        forms.add("g" + word)
    if word[:1] == "h" and word[1:2] in _VOWELS:
        forms.add(word[1:])
    return frozenset(forms)


def content_words(text: str) -> list[str]:
    """The words of a text that say what it is about: lower case, three letters or more, short Welsh and
    English words that carry grammar left out."""
    text = _CLITIC.sub(" ", text.lower())
    return [w for w in _WORD.findall(text) if len(w) > 2 and w not in _WELSH_WORDS and w not in _ENGLISH_WORDS]


def coverage(question: str, texts: list[str]) -> float:
    """The share of the question's content words that occur in `texts` in any mutated form (0 to 1; 1 for a
    question with none). Welsh text cannot be read by the English judge; this is how much of what a Welsh
    question asks about the passages mention at all."""
    asked = content_words(question)
    if not asked:
        return 1.0
    seen: set[str] = set()
    for text in texts:
        for word in set(content_words(text)):
            seen |= radicals(word)
    return sum(bool(radicals(w) & seen) for w in asked) / len(asked)
