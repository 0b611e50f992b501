"""Keyed, deterministic pseudonyms for PII, and scrubbing of PII inside free text.

``Pseudonymiser(key).fake(kind, value)`` seeds each fake with HMAC-SHA256(key, kind, value):
the same value and key give the same fake in every table, every run and every log (so an id
quoted in a production log still resolves in the replica built with the same key); another
key gives other fakes; without the key a fake cannot be traced back to its value.

Fakes can never be a real person's:

- national ids are SSNs in area 950-999 with group 01-49: areas 900-999 are never issued as
  SSNs, and ITINs and ATINs (also 9xx) use only groups 50-65, 70-88, 90-99. The synthetic
  generator uses areas 900-949 (``mock_apis.domains.finance.generate``), so the two never meet;
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
import unicodedata
from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path

from mock_apis.domains.finance.models import PII_COLUMNS as _PII_COLUMNS_BY_TABLE

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
#: Which model column holds which PII kind: the person columns of ``mock_apis.domains.finance.models.PII_COLUMNS``,
#: the fund manager's name, and the free-text columns (scrubbed).
PII_COLUMNS: dict[tuple[str, str], str] = {
    **{(table, column): _KIND_OF_COLUMN[column] for table, columns in _PII_COLUMNS_BY_TABLE.items()
       for column in columns},
    ("fund_profiles", "manager"): "name",
    ("compliance_records", "restriction_reason"): "note",
    ("advisor_notes", "text"): "note",
}

TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "madam", "mister", "rev"})
_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "v", "md", "dds", "phd", "dvm", "esq", "cpa", "cfa"})
#: Particles inside a surname ("Anna van der Berg", "van der Berg, A.", "Mr. de la Cruz"); a surname written
#: as one word ("al-Farsi", "O'Brien", "McAllister", "Smith-Jones") is one word of ``_WORD``.
_PARTICLES = frozenset({"van", "von", "der", "den", "de", "del", "della", "da", "di", "du", "dos", "das", "do", "la",
                        "le", "ten", "ter", "zu", "bin", "binti", "bint", "ibn", "al", "el", "y"})
#: Firms whose names read like a person's. They are public names, not PII: ``scrub`` keeps them
#: ("Charles Schwab", "T. Rowe Price", "Morgan Stanley's desk") even where their words are registered
#: names, unless a registered person has exactly that first and last name (then the person wins).
FIRMS_NAMED_LIKE_PEOPLE: tuple[str, ...] = (
    "Charles Schwab", "T. Rowe Price", "Morgan Stanley", "J.P. Morgan", "JP Morgan", "Merrill Lynch", "Edward Jones",
    "Raymond James", "Goldman Sachs", "Wells Fargo", "Franklin Templeton", "John Hancock", "Lord Abbett",
    "Dean Witter", "Smith Barney", "Dodge & Cox", "Janus Henderson", "Robert W. Baird", "Stifel Nicolaus",
    "Thomas Weisel", "Neuberger Berman", "Cohen & Steers", "Tweedy Browne", "Charles River")
_SEP = r"[-. \u2013]"  # a separator inside a number: dash, dot, space, en dash
# SSNs with any separator or none ("123-45-6789", "123 45 6789", "123.45.6789", "123456789").
_SSN = re.compile(rf"(?<![\w$.,+-])\d{{3}}{_SEP}?\d{{2}}{_SEP}?\d{{4}}(?![\w-]|[.,]\d)")
# Phones: North American (national, "+1"/"001"/"1" prefixed, dotted, bare 10 digits) and international
# ("+44 20 7946 0958", "0044 ..."); an international number must hold 8-15 digits (checked in ``scrub``).
_PHONE = re.compile(r"(?<![\w+-])(?:(?:(?:\+1|001|1)[-. ]?)?(?:\(\d{3}\)\s?|\d{3}[-. ]?)\d{3}[-. ]?\d{4}"
                    r"|(?:\+|00)[2-9]\d{0,2}(?:[-. ]?\(?\d{1,4}\)?){2,5})"
                    r"(?:\s?(?:x|ext\.?)\s?\d{1,6})?(?![\w-]|[.,]\d)")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# Bank account numbers: 6-19 digits in any separator style after an account cue ("acct # 4432-118-907"),
# 12-19 digits without one, and IBANs. The project's own ids ("A0000003") have a letter: never matched.
# After an account cue, also an alphanumeric number: 2-4 capital letters and 6-17 digits ("acct # KT4418027",
# "account RB 5520913"); the project's own ids have one letter ("A0000003") and fund codes three digits.
# Without a cue: 12-19 digits, or 10-11 digits in three or more dash groups ("4410-2287-913").
# The cue is right before the number ("acct no. 12345678") or ends a phrase at a colon ("bank account at the
# credit union: 4410-2287-913").
# (Bounded white space: no quadratic backtracking on a long run of blanks.)
_ACCOUNT_CUE = (r"(?i:\b(?:accounts?|acct|acc|a/c)\.?"
                r"(?:(?:\s{0,3}(?:number|num|nbr|no|ending(?:\s{1,3}in)?|is|id)\b\.?|\s{0,3}#){0,4}\s{0,3}[:#]?"
                r"|[^\n\d.;:]{0,40}?:)\s{0,3})")
_ACCOUNT = re.compile(rf"(?P<cue>{_ACCOUNT_CUE})(?:[A-Z]{{2,4}}[- ]?)?\d(?:{_SEP}?\d){{5,18}}(?![\w-]|[.,]\d)"
                      rf"|(?<![\w$.,+#-])\d(?:{_SEP}?\d){{9,18}}(?![\w-]|[.,]\d)"
                      r"|\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")
# A number right after one of these is a reference, not a person's ("Order #2024-0315-0042", "CUSIP 037833100"):
# SSN-, phone- and account-shaped numbers without a PII cue are kept there.
_REFERENCE_CUE = re.compile(
    r"(?i)\b(?:orders?|ref|reference|confirmation|conf|ticket|trade|txn|transaction|invoice|batch|case|tracking"
    r"|routing|aba|rtn|swift|bic"
    r"|cusip|isin|sedol|figi|contract|po|lot|cert(?:ificate)?|serial|policy)\b\.?"
    r"(?:\s*(?:number|num|nbr|no|id)\b\.?)?\s*[:#]?\s*$")
# A number starting with a year and a month ("2024-0315-0042", "20240315-118") reads as a dated reference.
_DATED = re.compile(r"(?:19|20)\d\d[-./]?(?:0[1-9]|1[0-2])")
_FULL_DATE = re.compile(r"(?P<y>(?:19|20)\d\d)([-./])(?P<m>\d\d)\2(?P<d>\d\d)"
                        r"|(?P<m2>\d\d)([-./])(?P<d2>\d\d)\6(?P<y2>(?:19|20)\d\d)")  # "2024-03-15", "03.15.2024"


def _is_date(text: str) -> bool:
    """Whether ``text`` is a calendar date written year-month-day or month-day-year."""
    m = _FULL_DATE.fullmatch(text)
    if not m:
        return False
    try:
        date(int(m["y"] or m["y2"]), int(m["m"] or m["m2"]), int(m["d"] or m["d2"]))
    except ValueError:
        return False
    return True
# Street addresses: a number, a capitalised street name and a USPS street suffix, an optional unit, and an
# optional "City, ST 12345" on the same or the next line; PO boxes; military addresses (APO/FPO/DPO).
_STREET_SUFFIXES = """Alley Aly Annex Anx Arcade Avenue Ave Av Bayou Beach Bend Bluff Bluffs Bottom Boulevard Blvd
Branch Bridge Brg Brook Brooks Burg Burgs Bypass Byp Camp Canyon Cape Causeway Center Ctr Centers Circle Cir Circles
Cliff Cliffs Close Club Common Commons Corner Corners Course Court Ct Courts Cove Coves Creek Crescent Cres Crest
Crossing Xing Crossroad Curve Dale Dam Divide Drive Dr Drives Estate Estates Expressway Expy Extension Ext Extensions
Fall Falls Ferry Field Fields Flat Flats Ford Fords Forest Forge Forges Fork Forks Fort Freeway Fwy Garden Gardens
Gateway Glen Glens Green Greens Grove Groves Harbor Harbors Haven Heights Hts Highway Hwy Hill Hills Hollow Inlet
Island Islands Isle Junction Junctions Key Keys Knoll Knolls Lake Lakes Land Landing Lane Ln Light Lights Loaf Lock
Locks Lodge Loop Mall Manor Manors Meadow Meadows Mews Mill Mills Mission Motorway Mount Mountain Mountains Neck
Orchard Oval Overpass Park Parks Parkway Pkwy Parkways Pass Passage Path Pike Pine Pines Place Pl Plain Plains Plaza
Plz Point Pt Points Port Ports Prairie Radial Ramp Ranch Rapid Rapids Rest Ridge Ridges River Road Rd Roads Route Rte
Row Rue Run Shoal Shoals Shore Shores Skyway Spring Springs Spur Spurs Square Sq Squares Station Sta Stravenue Stream
Street St Streets Summit Terrace Ter Throughway Trace Track Trafficway Trail Trl Tunnel Turnpike Tpke Underpass Union
Unions Valley Valleys Via Viaduct View Views Village Villages Ville Vista Walk Walks Wall Way Ways Well Wells""".split()
_CAP = r"[A-Z\u00c0-\u00de][\w'\u2019.-]*"  # a capitalised word
_CITY_LINE = rf"(?:(?:,[ \t]*|[ \t]*\r?\n[ \t]*){_CAP}(?:[ \t]+{_CAP}){{0,3}},?[ \t]+[A-Z]{{2}}[ \t]+\d{{5}}(?:-\d{{4}})?)?"
_ADDRESS = re.compile(
    r"(?<![\w$.,#-])\d{1,6}[A-Za-z]?(?:-\d{1,4})?"
    r"(?:[ \t]+(?:[NSEW]\.?|North|South|East|West|N[EW]|S[EW]))?"
    rf"(?:[ \t]+(?:{_CAP}|\d+(?:st|nd|rd|th))){{1,4}}?"
    rf"[ \t]+(?:{'|'.join(_STREET_SUFFIXES)})\b\.?"
    r"(?:[ \t]+(?:N[EW]?|S[EW]?|E|W)\b\.?)?"
    r"(?:,?[ \t]+(?:Apt\.?|Apartment|Suite|Ste\.?|Unit|Fl\.?|Floor|Rm\.?|Room|Bldg\.?|#)[ \t]*#?\d[\w-]*)?"
    + _CITY_LINE
    + r"|\bP\.?[ \t]?O\.?[ \t]*Box[ \t]+\d{1,6}" + _CITY_LINE
    + r"|\b(?:PSC[ \t]+\d{4},[ \t]*Box|Unit[ \t]+\d{4}[ \t]+Box)[ \t]+\d{4},?\s+[AD]PO[ \t]+A[AEP][ \t]+\d{5}"
    + rf"|\bUS(?:NS|NV|S|CGC)[ \t]+{_CAP},?\s+FPO[ \t]+A[AEP][ \t]+\d{{5}}")
# Dates of birth: every date (ISO, US numeric, "April 12, 1961", "12 April 1961") after a birth cue in the rest of
# its sentence, however many words later ("Date of birth on the intake form: form says 04/17/1958"; "DOB (see the
# KYC form of 2023-01-05): 04/17/1958" loses both dates: over-scrubbing, never under-).
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december")
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)[a-z]*\.?"
_DATE = (r"(?P<iso>\d{4}-\d{2}-\d{2})|(?P<num>\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2}))"
         rf"|(?P<mdy>{_MONTH}[ \t]+\d{{1,2}}(?:st|nd|rd|th)?,?[ \t]+\d{{4}})"
         rf"|(?P<dmy>\d{{1,2}}(?:st|nd|rd|th)?[ \t]+(?:of[ \t]+)?{_MONTH},?[ \t]+\d{{4}})")
_BIRTH_CUE = re.compile(r"(?i:\b(?:born|birth|birthday|birthdate|dob|d\.o\.b\.?))"
                        r"|(?<![\w.])b\.(?=[ \t]*(?:\d|[A-Z][a-z]))")  # "(b. 4/12/1961)"
_DATE_IN_TEXT = re.compile(rf"(?<![\w/.-])(?:{_DATE})(?![\d/])")
# A sentence ends at a newline, or at ". ! ? ;" before a capital, but not after a title or an initial ("Mr. Ng").
_SENTENCE_END = re.compile(r"\n|(?<!\bMr)(?<!\bMrs)(?<!\bMs)(?<!\bDr)(?<!\bSt)(?<!\bNo)(?<!\b[A-Z])"
                           r"[.;!?](?=[ \t]+[A-Z(\"']|[ \t]*$)")
_BIRTH_CUE_REACH = 120  # characters: how far after its cue a date of birth may be
_WORD = re.compile(r"[^\W\d_]+(?:['\u2019-](?![sS]\b)[^\W\d_]+)*")  # "José", "O'Neil"; "Chapman" of "Chapman's"
_NAME_GAP = re.compile(r"\.?(?:[ \t\u00a0]+|[ \t\u00a0]*\r?\n[ \t\u00a0]*)")  # a name may break across a line
_LAST_FIRST_GAP = re.compile(r",[ \t\u00a0]*")


def _fold(word: str) -> str:
    """A name word as looked up: case-folded, accents dropped ("García" and "GARCIA" are one name)."""
    folded = "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c)).casefold()
    return folded.replace("\u2019", "'")  # "O’Brien" is "O'Brien"


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


def _name_words(value: str) -> list[str]:
    """The words of a person's name ("Anna van der Berg", or "van der Berg, Anna"), first name first,
    case-folded, titles and suffixes dropped."""
    last_part, comma, first_part = value.partition(",")
    if comma and not {_fold(w) for w in _WORD.findall(first_part)} <= _SUFFIXES:
        value = f"{first_part} {last_part}"
    words = [_fold(w) for w in _WORD.findall(value)]
    while words and words[0] in TITLES:
        words.pop(0)
    while words and words[-1] in _SUFFIXES:
        words.pop()
    return words


def _name_parts(value: str) -> tuple[str, str] | None:
    """(first, last) of a person's name (``_name_words``); None without two words."""
    words = _name_words(value)
    return (words[0], words[-1]) if len(words) >= 2 else None


_FIRM_NAME_PARTS = frozenset(_name_parts(firm) for firm in FIRMS_NAMED_LIKE_PEOPLE)


class Pseudonymiser:
    """Keyed pseudonyms (``fake``) and free-text scrubbing (``scrub``) under one key."""

    def __init__(self, key: bytes):
        if not isinstance(key, bytes) or len(key) < MIN_KEY_BYTES:
            raise DeidKeyError(f"the key must be at least {MIN_KEY_BYTES} bytes ({KEY_HELP})")
        self._key = key
        self.fingerprint = key_fingerprint(key)
        self._first_names: set[str] = set()
        self._last_names: set[str] = set()
        self._firms: re.Pattern[str] | None = None  # the firm names kept in text (FIRMS_NAMED_LIKE_PEOPLE)
        self._people_named_like_firms: set[tuple[str, str]] = set()
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

        Only the distinct first and last names (middle words count as last names) are kept: memory
        grows with the name vocabulary,
        not with the number of people. A first and a last name next to each other are replaced
        even if no one registered has both (over-scrubbing, never under-)."""
        for name in names:
            words = _name_words(name)
            if len(words) < 2:
                continue
            parts = words[0], words[-1]
            self._first_names.add(parts[0])
            # the middle words too: they may be the surname's ("da Silva Santos, F.", "García Márquez, G.")
            self._last_names.update(w for w in words[1:-1] if len(w) > 1 and w not in _PARTICLES)
            self._last_names.add(parts[1])
            if parts in _FIRM_NAME_PARTS:
                self._people_named_like_firms.add(parts)
                self._firms = None

    def _firm_spans(self, text: str) -> list[tuple[int, int]]:
        if self._firms is None:
            kept = [f for f in FIRMS_NAMED_LIKE_PEOPLE if _name_parts(f) not in self._people_named_like_firms]
            self._firms = re.compile(r"(?i)(?<!\w)(?:" + "|".join(r"\s+".join(map(re.escape, f.split()))
                                                                for f in kept) + r")(?!\w)")
        return [m.span() for m in self._firms.finditer(text)]

    def _scrub_names(self, text: str) -> str:
        firms = self._firm_spans(text)
        words = [w for w in _WORD.finditer(text) if not any(a <= w.start() < b for a, b in firms)]
        lower = [_fold(w.group()) for w in words]
        n = len(words)

        def next_to(j: int, gap: re.Pattern[str] = _NAME_GAP) -> bool:  # words j and j + 1 are one name's
            return j + 1 < n and gap.fullmatch(text, words[j].end(), words[j + 1].start()) is not None

        def initial(j: int) -> bool:  # "A." (an initial, written with its dot)
            return len(lower[j]) == 1 and words[j].group().isupper() and text.startswith(".", words[j].end())

        def last_after(i: int) -> int | None:
            """The registered last name that ends a name starting at the first name ``i``: next to it,
            or after a middle name or initial and particles ("Anna J. Chapman", "Ana de la Cruz")."""
            j = i
            while j + 1 < n and j - i <= 3 and next_to(j):
                j += 1
                if lower[j] in self._last_names and not (  # "Le" is a last name, but not in "Hugues le Perrot"
                        lower[j] in _PARTICLES and next_to(j) and surname_end(j + 1) is not None):
                    return double_surname_end(j)
                if not (len(lower[j]) == 1 or lower[j] in _PARTICLES or words[j].group()[0].isupper()):
                    return None
            return None

        def line_head(i: int) -> bool:  # nothing but punctuation before word i on its line
            line_start = text.rfind("\n", 0, words[i].start()) + 1
            return not any(c.isalnum() for c in text[line_start:words[i].start()])

        def surname_end(i: int) -> int | None:
            """The registered last name that ends a surname starting at ``i``, after its particles
            ("van der Linden", "de la Cruz"), or None."""
            j = i
            while lower[j] in _PARTICLES and j + 1 < n and next_to(j):
                j += 1
            if lower[j] not in self._last_names or words[j].group().islower():  # "al-Farsi" has a capital
                return None
            return double_surname_end(j)

        def double_surname_end(j: int) -> int:
            """The end of the surname whose first registered word is ``j`` ("Silva Santos")."""
            while (j + 1 < n and next_to(j) and lower[j + 1] in self._last_names
                   and not words[j + 1].group().islower()):
                j += 1
            return j

        out, pos, i = [], 0, 0
        named: dict[str, tuple[tuple[str, ...], str]] = {}  # the name words found, for their other mentions
        while i < n - 1:
            first, end, replacement = i, i + 1, None
            if lower[i] in self._first_names and (k := last_after(i)) is not None:
                end, replacement = k, self._name(f"{lower[i]} {lower[k]}")
                named |= {lower[i]: (FIRST_NAMES, "first_name"), lower[k]: (LAST_NAMES, "last_name")}
                # the whole name as the column holds it: "Dr. John Smith MD" -> the fake
                if i > 0 and lower[i - 1] in TITLES and next_to(i - 1) and words[i - 1].start() >= pos:
                    first = i - 1
            elif ((k := surname_end(i)) is not None and next_to(k, _LAST_FIRST_GAP)
                  and (lower[k + 1] in self._first_names or initial(k + 1) or (  # "Chapman, Anna", "van der Linden, P."
                      # at the head of a line, an initial without its dot too ("van der Linden, P called")
                      # (a registered surname at a line's head: "Ford, I think" there goes too; over-, never under-)
                      len(lower[k + 1]) == 1 and words[k + 1].group().isupper() and line_head(i)))):
                gap = text[words[k].end():words[k + 1].start()]
                named[lower[k]] = (LAST_NAMES, "last_name")
                if len(lower[k + 1]) == 1:
                    replacement = f"{self._pick(LAST_NAMES, 'last_name', lower[k])}{gap}{words[k + 1].group()}"
                else:
                    fake_first, fake_last = self._name(f"{lower[k + 1]} {lower[k]}").split(" ", 1)
                    named[lower[k + 1]] = (FIRST_NAMES, "first_name")
                    replacement = f"{fake_last}{gap}{fake_first}"
                end = k + 1
            elif lower[i] in TITLES or initial(i):  # "Mrs. Chapman", "A. J. Chapman", "Mr. van der Linden"
                k = i
                while k + 1 < n and next_to(k) and initial(k + 1):
                    k += 1
                j = k  # the particles before the last name go with it
                while j + 1 < n and next_to(j) and lower[j + 1] in _PARTICLES:
                    j += 1
                if not (next_to(j) and lower[j + 1] in self._last_names):  # "Ms. Le": a particle-like last name
                    j = k
                if next_to(j) and lower[j + 1] in self._last_names and not (
                        lower[j + 1] in self._first_names and last_after(j + 1) is not None):  # "Ms. Thomas Ortiz"
                    end = double_surname_end(j + 1)
                    named[lower[end]] = (LAST_NAMES, "last_name")
                    replacement = f"{text[words[i].start():words[k + 1].start()]}" \
                                  f"{self._pick(LAST_NAMES, 'last_name', lower[end])}"
            if replacement is None:
                i += 1
                continue
            comma_gap = re.compile(r",?[ \t\u00a0]+")
            while end + 1 < n and lower[end + 1] in _SUFFIXES and next_to(end, comma_gap):
                end += 1
            out += [text[pos:words[first].start()], replacement]
            pos, i = words[end].end(), end + 1
            if lower[end] in _SUFFIXES and text.startswith(".", pos):  # "Jr."
                pos += 1
        out.append(text[pos:])
        return self._scrub_other_mentions("".join(out), named)

    def _scrub_other_mentions(self, text: str, named: dict[str, tuple[tuple[str, ...], str]]) -> str:
        """Every other capitalised mention of a name word found in this text, on its own ("Anna
        Chapman called ... Chapman’s SSN", "... Anna said"), as the same word's pseudonym. Only
        words of names found in the text: a registered last name alone ("Ford’s earnings") is kept."""
        if not named:
            return text
        firms = self._firm_spans(text)

        def replace(m: re.Match[str]) -> str:
            word = m.group()
            if any(a <= m.start() < b for a, b in firms):  # "Morgan" of "Morgan Stanley"
                return word
            pool = named.get(_fold(word)) if len(word) > 1 and word[0].isupper() else None
            return self._pick(pool[0], pool[1], _fold(word)) if pool else word

        return _WORD.sub(replace, text)

    def _account(self, value: str) -> str:
        """A bank account number's pseudonym: the same layout (separators, letters, length), other characters."""
        d = self._digest("account", re.sub(r"[^0-9A-Za-z]", "", value).upper())
        out = []
        for c in value:
            if c.isdigit():
                out.append(str(d % 10))
                d //= 10
            elif c.isalpha():
                out.append(chr(ord("A") + d % 26))
                d //= 26
            else:
                out.append(c)
        return "".join(out)

    def _date_of_birth(self, m: re.Match[str]) -> str:
        """A date of birth found in text, as the ``birth_date`` pseudonym (ISO); kept if it is no date."""
        value = m.group("iso") or m.group("num") or m.group("mdy") or m.group("dmy")
        start = m.start("iso") if m.group("iso") else m.start("num") if m.group("num") else \
            m.start("mdy") if m.group("mdy") else m.start("dmy")
        try:
            if m.group("iso"):
                source = date.fromisoformat(value)
            else:
                numbers = [int(x) for x in re.findall(r"\d+", value)]
                if m.group("num"):
                    month, day, year = numbers if numbers[0] <= 12 else (numbers[1], numbers[0], numbers[2])
                else:
                    day, year = numbers
                    month = next(k for k, name in enumerate(_MONTHS, 1)
                                 if name[:3] == re.search(r"[A-Za-z]{3}", value.replace("of ", "")).group().lower())
                if year < 100:  # "4/12/61": the last century unless that is in the future
                    year += 1900 if year > date.today().year % 100 else 2000
                source = date(year, month, day)
        except (ValueError, StopIteration):
            return m.group()
        return m.group()[:start - m.start()] + self._birth_date(source.isoformat())

    def _scrub_dates_of_birth(self, text: str) -> str:
        out, pos = [], 0
        for cue in _BIRTH_CUE.finditer(text):
            start = max(cue.end(), pos)
            end = _SENTENCE_END.search(text, start)
            end = min(end.start() if end else len(text), start + _BIRTH_CUE_REACH)
            if end <= start:
                continue
            out += [text[pos:start], _DATE_IN_TEXT.sub(self._date_of_birth, text[start:end])]
            pos = end
        return "".join(out) + text[pos:]

    def scrub(self, text: str) -> str:
        """``text`` with the PII inside it replaced by pseudonyms: emails, dates of birth, street
        addresses, SSN-, phone- and account-shaped numbers by pattern, and the registered names
        (``register_names``), with their titles, initials, particles, suffixes and possessives.
        Numbers after a reference cue ("Order #2024-0315-0042", "CUSIP 037833100") and the firms of
        ``FIRMS_NAMED_LIKE_PEOPLE`` are kept."""
        def reference(m: re.Match[str]) -> bool:  # "Order #2024-0315-0042": no one's number
            return _REFERENCE_CUE.search(m.string, max(0, m.start() - 40), m.start()) is not None

        def account(m: re.Match[str]) -> str:
            cue = m.group("cue") or ""
            if _is_date(m.group()[len(cue):]):  # "account review: 2024-03-15"
                return m.group()
            if not cue and m.group()[0].isdigit():  # no cue: long, or dash-grouped, and not a dated reference
                digits = sum(c.isdigit() for c in m.group())
                if not (digits >= 12 or m.group().count("-") >= 2) or reference(m) or _DATED.match(m.group()):
                    return m.group()
            return cue + self._account(m.group()[len(cue):])

        text = _EMAIL.sub(lambda m: self._email(m.group()), text)
        text = self._scrub_dates_of_birth(text)
        text = _ADDRESS.sub(lambda m: self._address(m.group()), text)
        text = _SSN.sub(lambda m: m.group() if reference(m) else self._national_id(m.group()), text)
        text = _PHONE.sub(lambda m: self._phone(m.group()) if not reference(m) and 8 <= sum(
            c.isdigit() for c in re.split("x|ext", m.group())[0]) <= 15 else m.group(), text)
        text = _ACCOUNT.sub(account, text)
        return self._scrub_names(text)
