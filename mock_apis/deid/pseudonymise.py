"""Keyed, deterministic pseudonyms for PII, and scrubbing of PII inside free text.

``Pseudonymiser(key).fake(kind, value)`` seeds each fake with HMAC-SHA256(key, kind, value):
the same value and key give the same fake in every table, every run and every log (so an id
quoted in a production log still resolves in the replica built with the same key); another
key gives other fakes; without the key a fake cannot be traced back to its value.

Fakes can never be a real person's:

- national ids are SSNs in area 950-999 with group 01-49: areas 900-999 are never issued as
  SSNs, and ITINs and ATINs (also 9xx) use only groups 50-65, 70-88, 90-99. The synthetic
  generator uses areas 900-949 (``mock_apis.generate``), so the two never meet;
- phones are ``+1-NNN-555-01XX`` with XX in 50-99, in the 555-0100..0199 block reserved for
  fiction (the generator uses 00-49);
- emails are on ``example.net`` (RFC 2606), with a local part built from the name pool;
- names come from the fixed pools below, which share no name with any Faker locale (a test
  checks), so a fake is never a name Faker could have generated; addresses use pool street
  names and unassigned ZIP codes (00001-00499);
- birth dates keep the year (HIPAA Safe Harbor keeps it too) and move the day within it, never
  onto the source day.

Names are pseudonymised token-wise: the first name and the last name each map through the
key, so "Mr. Smith" in a note becomes "Mr. <the fake of Smith>", as in the client's name.
Values are normalised before hashing (digits of phones and ids, case-folded emails and names),
so "(212) 555-0123" in a note maps like "212-555-0123" in the phone column.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path

from mock_apis.models import PII_COLUMNS as _PII_COLUMNS_BY_TABLE

MIN_KEY_BYTES = 16
KEY_HELP = "make one with: head -c 32 /dev/urandom > replica.key && chmod 600 replica.key"

# Names are composed from fixed parts (853 first names, 1,972 last names: 1.7 million full names;
# 5,000 distinct source names keep ~4,940 distinct pseudonyms, names being mapped token-wise), minus the
# compositions some Faker locale has as a real name (_FAKER_NAMES; a test keeps the list whole).
_FIRST_STEMS = """Ael Alv Amar Ans Arv Aur Bask Belv Bert Bran Bris Cael Calv Cass Corv Dar Delv Dorv Elow Emb Esk
Evan Fael Flor Galv Gwen Halv Imr Isav Jess Jor Kest Lis Luc Mael Marv Merr Mir Ner Ors Pereg Quill Ros Rov Sael
Sol Tams Thad Ulr Vesp Wilv Wren Xanth Yarr Ysol Zeph Zolv""".split()
_FIRST_ENDINGS = "a el en ine is on ara eth ric wyn elle ian ora ius ette yn".split()
_LAST_STEMS = """Ash Black Bracken Briar Cadde Callo Cold Crest Dun Elder Ember Fair Farthin Fen Fox Glen Grey Hallo
Harts Hawks Hollow Ivy Kest Lark Lind March Merri Moss Nether North Oak Oster Penny Quell Ravens Red Rook Rush
Salton Silver Sorrel Star Stone Sunder Tallow Thistle Thorn Umber Wander Wester Whit Wicker Willow Winter Wren
Yarrow Yellow Amber Bell Drummon""".split()
_LAST_ENDINGS = """grove thorne ridge wood ford water holm marrow brook field whistle gale mere hallow morrow vale
bridge wick spur bank weather grave cote haven ling worth stall holme hall leigh bourne dale combe""".split()
_FAKER_NAMES = frozenset("""
Alva Alvis Amara Amaris Ansa Ansel Ansis Anson Ansora Arvel Aura Aurel Aurora Belva Berta Bertel Berton Brisa
Cassen Cassius Dara Daren Darian Daris Darius Daron Darwyn Daryn Flora Florian Florine Floris Galvis Imron Jessel
Jessen Joren Joris Lisa Liseth Lisette Luca Lucette Lucian Lucius Marva Marvel Mira Mirian Miron Orson Rosa
Rosel Rosette Sola Soline Solis Solon Vespa
Ashleigh Ashling Dunford Dunworth Fairhall Glenwood Lindholm Starling""".split())
FIRST_NAMES: tuple[str, ...] = tuple(n for n in (s + e for s in _FIRST_STEMS for e in _FIRST_ENDINGS)
                                     if n not in _FAKER_NAMES)
LAST_NAMES: tuple[str, ...] = tuple(n for n in (s + e for s in _LAST_STEMS for e in _LAST_ENDINGS)
                                    if n not in _FAKER_NAMES)
STREET_SUFFIXES: tuple[str, ...] = ("Lane", "Row", "Close", "Mews", "Court", "Way", "Walk", "Terrace")
TOWNS: tuple[str, ...] = ("Ashbury Vale", "Brindlemoor", "Cobbleford", "Dunhollow", "Eastmarch", "Fennick Cross",
                          "Glimmerdale", "Harrowgate Hill", "Kettleby", "Lowmarsh", "Millbrae Glen", "Oakenshaw")
STATES: tuple[str, ...] = ("CA", "CO", "FL", "IL", "MA", "NY", "OR", "TX", "WA")
EMAIL_DOMAIN = "example.net"

#: The PII kinds ``fake`` knows; ``note`` is free text, scrubbed rather than replaced.
KINDS: tuple[str, ...] = ("name", "national_id", "phone", "email", "address", "birth_date", "note")
_KIND_OF_COLUMN = {"full_name": "name", "national_id": "national_id", "phone": "phone", "email": "email",
                   "address": "address", "birth_date": "birth_date"}
#: Which model column holds which PII kind: the person columns of ``mock_apis.models.PII_COLUMNS``,
#: the fund manager's name, and the free-text columns (scrubbed).
PII_COLUMNS: dict[tuple[str, str], str] = {
    **{(table, column): _KIND_OF_COLUMN[column] for table, columns in _PII_COLUMNS_BY_TABLE.items()
       for column in columns},
    ("fund_profiles", "manager"): "name",
    ("compliance_records", "restriction_reason"): "note",
    ("advisor_notes", "text"): "note",
}

TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr"})
_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "v", "md", "dds", "phd", "dvm", "esq"})
_SSN = re.compile(r"(?<![\w-])\d{3}[- ]\d{2}[- ]\d{4}(?![\w-])")
_PHONE = re.compile(r"(?<![\w+-])(?:(?:\+1|001|1)[-. ]?)?(?:\(\d{3}\)\s?|\d{3}[-. ]?)\d{3}[-. ]?\d{4}"
                    r"(?:\s?(?:x|ext\.?)\s?\d{1,6})?(?![\w-])")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|['’-])*")  # a word of letters, any script: "José", "O'Neil"
_NAME_GAP = re.compile(r"\.?[ \t]+")


class DeidKeyError(ValueError):
    """A pseudonymisation key that is missing or unusable; the message says how to make one."""


def load_key(path: str | Path) -> bytes:
    """The key in ``path`` (raw bytes, at least ``MIN_KEY_BYTES``)."""
    path = Path(path)
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        raise DeidKeyError(f"key file not found: {path} ({KEY_HELP})") from None
    except OSError as err:
        raise DeidKeyError(f"cannot read the key file {path}: {err.strerror}") from None
    if len(key) < MIN_KEY_BYTES:
        raise DeidKeyError(f"key file {path} holds {len(key)} bytes; at least {MIN_KEY_BYTES} are needed ({KEY_HELP})")
    return key


def key_fingerprint(key: bytes) -> str:
    """A short, publishable identifier of ``key`` (a domain-separated SHA-256; never the key)."""
    return "sha256:" + hashlib.sha256(b"advisorgym-deid-key-fingerprint\x00" + key).hexdigest()[:16]


def _name_parts(value: str) -> tuple[str, str] | None:
    """(first, last) of a person's name, case-folded, titles and suffixes dropped; None without two words."""
    words = [w.lower() for w in _WORD.findall(value)]
    while words and words[0] in TITLES:
        words.pop(0)
    while words and words[-1] in _SUFFIXES:
        words.pop()
    return (words[0], words[-1]) if len(words) >= 2 else None


class Pseudonymiser:
    """Keyed pseudonyms (``fake``) and free-text scrubbing (``scrub``) under one key."""

    def __init__(self, key: bytes):
        if not isinstance(key, bytes) or len(key) < MIN_KEY_BYTES:
            raise DeidKeyError(f"the key must be at least {MIN_KEY_BYTES} bytes ({KEY_HELP})")
        self._key = key
        self.fingerprint = key_fingerprint(key)
        self._first_names: set[str] = set()
        self._last_names: set[str] = set()
        self._fakers = {"name": self._name, "national_id": self._national_id, "phone": self._phone,
                        "email": self._email, "address": self._address, "birth_date": self._birth_date,
                        "note": self.scrub}

    def _digest(self, kind: str, value: str) -> int:
        mac = hmac.new(self._key, kind.encode() + b"\x00" + value.encode("utf-8", "surrogatepass"), hashlib.sha256)
        return int.from_bytes(mac.digest(), "big")

    def _pick(self, pool: tuple[str, ...], kind: str, value: str) -> str:
        return pool[self._digest(kind, value) % len(pool)]

    # -- one kind each ---------------------------------------------------------------

    def _name(self, value: str) -> str:
        parts = _name_parts(value)
        first, last = parts if parts else ("", " ".join(value.lower().split()))
        return f"{self._pick(FIRST_NAMES, 'first_name', first)} {self._pick(LAST_NAMES, 'last_name', last)}"

    def _national_id(self, value: str) -> str:
        d = self._digest("national_id", re.sub(r"\D", "", value))
        return f"{950 + d % 50:03d}-{1 + (d >> 8) % 49:02d}-{1 + (d >> 16) % 9999:04d}"

    def _phone(self, value: str) -> str:
        digits = re.sub(r"\D", "", value)
        for prefix in ("001", "1"):
            if len(digits) > 10 and digits.startswith(prefix):
                digits = digits[len(prefix):]
                break
        d = self._digest("phone", digits)
        area = 201 + d % 790  # 201..990
        if area % 100 == 11:  # N11 codes are service numbers
            area += 1
        return f"+1-{area:03d}-555-01{50 + (d >> 12) % 50:02d}"

    def _email(self, value: str) -> str:
        norm = value.strip().lower()
        d = self._digest("email", norm)
        first = FIRST_NAMES[d % len(FIRST_NAMES)].lower()
        last = LAST_NAMES[(d >> 8) % len(LAST_NAMES)].lower()
        return f"{first}.{last}.{(d >> 16) % 0x10000:04x}@{EMAIL_DOMAIN}"

    def _address(self, value: str) -> str:
        d = self._digest("address", " ".join(value.lower().split()))
        street = f"{LAST_NAMES[(d >> 16) % len(LAST_NAMES)]} {STREET_SUFFIXES[(d >> 24) % len(STREET_SUFFIXES)]}"
        return (f"{1 + d % 9899} {street}, {TOWNS[(d >> 32) % len(TOWNS)]}, "
                f"{STATES[(d >> 40) % len(STATES)]} {1 + (d >> 48) % 499:05d}")

    def _birth_date(self, value: str) -> str:
        source = date.fromisoformat(value.strip()[:10])
        start = date(source.year, 1, 1)
        days = (date(source.year + 1, 1, 1) - start).days
        shift = 1 + self._digest("birth_date", source.isoformat()) % (days - 1)  # never 0: never the source day
        return (start + timedelta(days=((source - start).days + shift) % days)).isoformat()

    def fake(self, kind: str, value: str) -> str:
        """The pseudonym of ``value`` as a ``kind`` (one of ``KINDS``); ``note`` is ``scrub(value)``."""
        method = self._fakers.get(kind)
        if method is None:
            raise ValueError(f"unknown PII kind {kind!r}; expected one of {', '.join(KINDS)}")
        return method(value)

    # -- free text -------------------------------------------------------------------

    def register_names(self, names: Iterable[str]) -> None:
        """Remember people's names, so that ``scrub`` replaces them (and "Title Lastname") in text.

        Only the distinct first and last names are kept: memory grows with the name vocabulary,
        not with the number of people. A first and a last name next to each other are replaced
        even if no one registered has both (over-scrubbing, never under-)."""
        for name in names:
            parts = _name_parts(name)
            if parts:
                self._first_names.add(parts[0])
                self._last_names.add(parts[1])

    def _scrub_names(self, text: str) -> str:
        words = list(_WORD.finditer(text))
        lower = [w.group().lower() for w in words]

        def next_to(j: int) -> bool:  # words j and j + 1 are one name's ("John Smith", "Mr. Smith", "Q. Smith")
            return j + 1 < len(words) and _NAME_GAP.fullmatch(text, words[j].end(), words[j + 1].start()) is not None

        out, pos, i = [], 0, 0
        while i < len(words) - 1:
            first, end, replacement = i, i + 1, None
            if lower[i] in TITLES and lower[i + 1] in self._last_names and next_to(i):
                replacement = f"{text[words[i].start():words[i + 1].start()]}" \
                              f"{self._pick(LAST_NAMES, 'last_name', lower[i + 1])}"
            elif lower[i] in self._first_names and next_to(i):
                if lower[i + 1] not in self._last_names and len(lower[i + 1]) == 1 and next_to(i + 1):
                    end = i + 2  # a middle initial: "John Q. Smith"
                if lower[end] in self._last_names:
                    replacement = self._name(f"{lower[i]} {lower[end]}")
                    # the whole name as the column holds it: "Dr. John Smith MD" -> the fake
                    if i > 0 and lower[i - 1] in TITLES and next_to(i - 1) and words[i - 1].start() >= pos:
                        first = i - 1
                    while end + 1 < len(words) and lower[end + 1] in _SUFFIXES and next_to(end):
                        end += 1
            if replacement is None:
                i += 1
                continue
            out += [text[pos:words[first].start()], replacement]
            pos, i = words[end].end(), end + 1
            if lower[end] in _SUFFIXES and text.startswith(".", pos):  # "Jr."
                pos += 1
        out.append(text[pos:])
        return "".join(out)

    def scrub(self, text: str) -> str:
        """``text`` with the PII inside it replaced by pseudonyms: emails, SSN-shaped and
        phone-shaped numbers by pattern, and the registered names (``register_names``)."""
        text = _EMAIL.sub(lambda m: self._email(m.group()), text)
        text = _SSN.sub(lambda m: self._national_id(m.group()), text)
        text = _PHONE.sub(lambda m: self._phone(m.group()), text)
        return self._scrub_names(text)
