"""The synthetic people of the replica: names, national ids, phones, emails, addresses and
birth dates, drawn from this module's own pools with one seeded ``random.Random``.

Every value depends only on the generator's seed and these pools, never on a third party's
random stream or on today's date, so a replica built from the same seed is the same on any
install, in any year. The values can never be a real person's:

- national ids are SSNs in area 900-949, group 01-49: areas 900-999 are never issued as SSNs,
  and ITINs and ATINs (also 9xx) use only groups 50-65, 70-88, 90-99 (pseudonyms use areas
  950-999: ``mock_apis.deid``);
- phones are in the 555-0100..0149 block reserved for fiction (pseudonyms use 0150..0199);
- emails are on the reserved example domains of RFC 2606;
- birth dates are counted back from the replica's as-of date, so that ages are 22 to 88 then.

Names are common given names and surnames; formats vary as real records do (phone punctuation,
extensions, apartment numbers), so that parsers and scrubbers meet every shape.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

FEMALE_FIRST_NAMES: tuple[str, ...] = tuple("""
Abigail Aisha Alexis Alice Alicia Allison Amanda Amber Amy Andrea Angela Anna Ashley Barbara Beth Betty
Brenda Brittany Carol Caroline Catherine Cheryl Christina Cynthia Deborah Debra Denise Diana Diane Donna Dorothy
Elizabeth Emily Emma Erica Evelyn Frances Gloria Grace Hannah Heather Helen Isabel Janet Janice Jennifer Jessica
Joan Joyce Judith Julia Julie Karen Katherine Kelly Kimberly Laura Lauren Linda Lisa Madison Margaret Maria Marie
Martha Mary Megan Melissa Michelle Nancy Natalie Nicole Olivia Pamela Patricia Priya Rachel Rebecca Rose Ruth
Samantha Sandra Sara Sharon Shirley Sophia Stephanie Susan Teresa Victoria Virginia
""".split())
MALE_FIRST_NAMES: tuple[str, ...] = tuple("""
Aaron Adam Adrian Alan Albert Alexander Andrew Anthony Antonio Benjamin Bradley Brandon Brian Bruce Carl
Carlos Charles Christopher Daniel David Dennis Donald Douglas Dylan Edward Eric Eugene Frank Gabriel Gary George
Gregory Harold Henry Jack Jacob James Jason Jeffrey Jeremy Jesse John Jonathan Jose Joseph Joshua Juan Justin
Keith Kenneth Kevin Kyle Larry Lawrence Logan Louis Lucas Luis Mark Matthew Michael Nathan Nicholas Noah Patrick
Paul Peter Philip Ralph Raymond Richard Robert Roger Ronald Roy Russell Ryan Samuel Scott Sean Stephen Steven
Terry Thomas Timothy Tyler Vincent Walter Wayne William Zachary
""".split())
FIRST_NAMES: tuple[str, ...] = tuple(sorted(FEMALE_FIRST_NAMES + MALE_FIRST_NAMES))
LAST_NAMES: tuple[str, ...] = tuple("""
Adams Allen Alvarez Anderson Bailey Baker Barnes Bell Bennett Brooks Brown Bryant Butler Campbell Carter
Castillo Chavez Chen Clark Collins Cook Cooper Cox Cruz Davis Diaz Edwards Evans Fisher Flores Foster Garcia
Gomez Gonzalez Gordon Graham Gray Green Griffin Gutierrez Hall Hamilton Harris Hayes Henderson Hernandez Hill
Howard Hughes Jackson James Jenkins Johnson Jones Jordan Kelly Kennedy Kim King Lee Lewis Long Lopez Martin
Martinez Mason Mendoza Miller Mitchell Moore Morales Morgan Morris Murphy Murray Myers Nelson Nguyen Ortiz
Owens Parker Patel Perez Perry Peterson Phillips Powell Price Ramirez Reed Reyes Reynolds Richardson Rivera
Roberts Robinson Rodriguez Rogers Ross Ruiz Russell Sanchez Sanders Scott Shah Simmons Smith Stewart Sullivan
Taylor Thomas Thompson Torres Tran Turner Walker Wallace Ward Washington Watson West White Williams Wilson
Wood Wright Young
""".split())
STREET_NAMES: tuple[str, ...] = tuple("""
Maple Oak Cedar Pine Elm Walnut Chestnut Willow Birch Spruce Hickory Magnolia Laurel Poplar Sycamore Aspen
Lake Hill River Park Meadow Forest Valley Spring Sunset Ridge Harbor Bay Highland Orchard Prairie Summit
Franklin Jefferson Lincoln Madison Washington Monroe Jackson Adams Grant Hamilton Church Mill Market Main
""".split())
STREET_SUFFIXES: tuple[str, ...] = ("Street", "Avenue", "Road", "Drive", "Lane", "Court", "Place", "Boulevard",
                                    "Way", "Terrace", "Circle", "Parkway")
# (city, state, first three ZIP digits)
CITIES: tuple[tuple[str, str, str], ...] = (
    ("New York", "NY", "100"), ("Brooklyn", "NY", "112"), ("Albany", "NY", "122"), ("Boston", "MA", "021"),
    ("Cambridge", "MA", "021"), ("Chicago", "IL", "606"), ("Evanston", "IL", "602"), ("San Francisco", "CA", "941"),
    ("Oakland", "CA", "946"), ("San Diego", "CA", "921"), ("Los Angeles", "CA", "900"), ("Austin", "TX", "787"),
    ("Houston", "TX", "770"), ("Dallas", "TX", "752"), ("Seattle", "WA", "981"), ("Tacoma", "WA", "984"),
    ("Miami", "FL", "331"), ("Tampa", "FL", "336"), ("Denver", "CO", "802"), ("Portland", "OR", "972"),
    ("Atlanta", "GA", "303"), ("Phoenix", "AZ", "850"), ("Minneapolis", "MN", "554"), ("Charlotte", "NC", "282"),
    ("Philadelphia", "PA", "191"), ("Pittsburgh", "PA", "152"), ("Columbus", "OH", "432"), ("Nashville", "TN", "372"),
)
AREA_CODES: tuple[str, ...] = ("201", "206", "212", "213", "214", "303", "305", "310", "312", "404", "412", "415",
                               "503", "512", "602", "612", "614", "615", "617", "646", "704", "713", "718", "773",
                               "813", "858", "917", "919")
# the shapes US records use (Faker's en_US formats among them): punctuation, country prefixes, extensions
PHONE_FORMATS: tuple[str, ...] = ("{a}-555-{l}", "({a})555-{l}", "{a}.555.{l}", "+1-{a}-555-{l}", "001-{a}-555-{l}",
                                  "{a}555{l}", "{a}-555-{l}x{x}", "({a})555-{l}x{x}", "{a}.555.{l}x{x}")
EMAIL_DOMAINS: tuple[str, ...] = ("example.com", "example.org", "example.net")
MIN_AGE, MAX_AGE = 22, 88
NAME_DRAWS = 20


class People:
    """Draws the replica's person values from one seeded stream, in call order."""

    def __init__(self, seed: int | str) -> None:
        self.rng = random.Random(f"people-{seed}")
        self.used_names: set[tuple[str, str]] = set()

    def name(self) -> tuple[str, str]:
        """``(first, last)``, not given before while a few draws can find a new one (a name then
        identifies one person, as tasks that name a client assume, up to tens of thousands)."""
        for _ in range(NAME_DRAWS):
            name = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
            if name not in self.used_names:
                break
        self.used_names.add(name)
        return name

    def full_name(self) -> str:
        return " ".join(self.name())

    def ssn(self) -> str:
        rng = self.rng
        return f"{rng.randint(900, 949)}-{rng.randint(1, 49):02d}-{rng.randint(1, 9999):04d}"

    def phone(self) -> str:
        rng = self.rng
        template = rng.choice(PHONE_FORMATS)
        return template.format(a=rng.choice(AREA_CODES), l=f"01{rng.randint(0, 49):02d}", x=rng.randint(100, 9999))

    def email(self, first: str, last: str, domain: str | None = None) -> str:
        rng = self.rng
        first, last = first.lower(), last.lower()
        local = rng.choice((f"{first}.{last}", f"{first[0]}{last}", f"{first}{last[0]}", f"{first}_{last}",
                            f"{last}.{first}", f"{first}{rng.randint(1, 99)}"))
        return f"{local}@{domain or rng.choice(EMAIL_DOMAINS)}"

    def address(self) -> str:
        rng = self.rng
        street = f"{rng.randint(1, 9899)} {rng.choice(STREET_NAMES)} {rng.choice(STREET_SUFFIXES)}"
        if rng.random() < 0.3:
            street += f" {rng.choice(('Apt.', 'Suite', 'Unit'))} {rng.randint(1, 999)}"
        city, state, zip_prefix = rng.choice(CITIES)
        return f"{street}, {city}, {state} {zip_prefix}{rng.randint(1, 99):02d}"

    def birth_date(self, as_of: date) -> date:
        """A day on which someone aged ``MIN_AGE`` to ``MAX_AGE`` on ``as_of`` was born."""
        latest = _years_before(as_of, MIN_AGE)
        earliest = _years_before(as_of, MAX_AGE + 1) + timedelta(days=1)
        return earliest + timedelta(days=self.rng.randint(0, (latest - earliest).days))


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year - years, day=28)
