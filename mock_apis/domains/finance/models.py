"""SQLAlchemy 2.x data model of an advisory back office.

Dates are stored as ISO ``YYYY-MM-DD`` text (SQLAlchemy's own SQLite encoding of ``Date``),
money as REAL rounded to cents, NAVs to four decimals. Identifiers are short prefixed
strings (``C000042``) so that agents and logs can quote them verbatim.

Tables in ``WRITABLE_TABLES`` are the only ones tools may write; the sandbox gives each
episode a copy-on-write overlay of exactly these (see ``mock_apis.sandbox``).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mock_apis.domain import ReplicaSchema

SCHEMA_VERSION = "1.0.0"


class Base(DeclarativeBase):
    """The declarative base of the replica's tables."""

    pass


class Meta(Base):
    """Replica metadata: seed, scale, as-of date, schema version."""

    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Advisor(Base):
    """An advisor: the bank employee a client is assigned to."""
    __tablename__ = "advisors"
    advisor_id: Mapped[str] = mapped_column(String(8), primary_key=True)
    full_name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(40))
    branch: Mapped[str] = mapped_column(String(80))
    hired_on: Mapped[date] = mapped_column(Date)


class Client(Base):
    """A client of the firm. PII columns: full_name, national_id, phone, email, address, birth_date."""

    __tablename__ = "clients"
    client_id: Mapped[str] = mapped_column(String(8), primary_key=True)
    advisor_id: Mapped[str] = mapped_column(ForeignKey("advisors.advisor_id"), index=True)
    full_name: Mapped[str] = mapped_column(String(120), index=True)
    national_id: Mapped[str] = mapped_column(String(20))
    phone: Mapped[str] = mapped_column(String(40))
    email: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[date] = mapped_column(Date)
    segment: Mapped[str] = mapped_column(String(16))
    onboarded_on: Mapped[date] = mapped_column(Date)


class RiskAssessment(Base):
    """A client's risk assessment: score, level, profile, horizon and how long it is valid."""
    __tablename__ = "risk_assessments"
    assessment_id: Mapped[str] = mapped_column(String(9), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.client_id"), index=True)
    assessed_on: Mapped[date] = mapped_column(Date)
    risk_score: Mapped[int] = mapped_column(Integer)
    risk_level: Mapped[int] = mapped_column(Integer)
    risk_profile: Mapped[str] = mapped_column(String(32))
    horizon_years: Mapped[int] = mapped_column(Integer)
    valid_until: Mapped[date] = mapped_column(Date)


class ComplianceRecord(Base):
    """A client's compliance status: KYC review, trading restriction, politically exposed person."""
    __tablename__ = "compliance_records"
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.client_id"), primary_key=True)
    kyc_status: Mapped[str] = mapped_column(String(16))
    kyc_reviewed_on: Mapped[date] = mapped_column(Date)
    restriction: Mapped[str] = mapped_column(String(16))
    restriction_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    politically_exposed: Mapped[bool] = mapped_column(Boolean)


class Account(Base):
    """A client's account: type, currency, cash balance, status."""
    __tablename__ = "accounts"
    account_id: Mapped[str] = mapped_column(String(9), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.client_id"), index=True)
    account_type: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    opened_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(8))
    cash_balance: Mapped[float] = mapped_column(Float)


class Fund(Base):
    """A fund or security clients can hold and order."""
    __tablename__ = "funds"
    fund_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    category: Mapped[str] = mapped_column(String(16), index=True)
    risk_level: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    inception_date: Mapped[date] = mapped_column(Date)


class FundProfile(Base):
    """A fund's profile: objective, fees, risk rating."""
    __tablename__ = "fund_profiles"
    fund_code: Mapped[str] = mapped_column(ForeignKey("funds.fund_code"), primary_key=True)
    manager: Mapped[str] = mapped_column(String(120))
    expense_ratio: Mapped[float] = mapped_column(Float)
    aum_musd: Mapped[float] = mapped_column(Float)
    benchmark_index: Mapped[str] = mapped_column(ForeignKey("market_indices.index_code"))
    min_investment: Mapped[float] = mapped_column(Float)
    description: Mapped[str] = mapped_column(Text)


class NavPoint(Base):
    """A fund's net asset value on one date."""
    __tablename__ = "nav_history"
    fund_code: Mapped[str] = mapped_column(ForeignKey("funds.fund_code"), primary_key=True)
    nav_date: Mapped[date] = mapped_column(Date, primary_key=True)
    nav: Mapped[float] = mapped_column(Float)


class MarketIndex(Base):
    """A market index (e.g. an equity benchmark)."""
    __tablename__ = "market_indices"
    index_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    region: Mapped[str] = mapped_column(String(32))


class IndexQuote(Base):
    """An index's level on one date."""
    __tablename__ = "index_quotes"
    index_code: Mapped[str] = mapped_column(ForeignKey("market_indices.index_code"), primary_key=True)
    quote_date: Mapped[date] = mapped_column(Date, primary_key=True)
    close: Mapped[float] = mapped_column(Float)
    change_pct: Mapped[float] = mapped_column(Float)


class Holding(Base):
    """An account's position in a fund."""
    __tablename__ = "holdings"
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.account_id"), primary_key=True)
    fund_code: Mapped[str] = mapped_column(ForeignKey("funds.fund_code"), primary_key=True)
    units: Mapped[float] = mapped_column(Float)
    avg_cost: Mapped[float] = mapped_column(Float)


class Transaction(Base):
    """A booked transaction on an account."""
    __tablename__ = "transactions"
    txn_id: Mapped[str] = mapped_column(String(10), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.account_id"))
    fund_code: Mapped[str | None] = mapped_column(ForeignKey("funds.fund_code"), nullable=True)
    txn_date: Mapped[date] = mapped_column(Date)
    txn_type: Mapped[str] = mapped_column(String(12))
    units: Mapped[float | None] = mapped_column(Float, nullable=True)
    amount: Mapped[float] = mapped_column(Float)

    __table_args__ = (Index("ix_transactions_account_date", "account_id", "txn_date"),)


class Order(Base):
    """An order placed on an account (a write tool's row)."""
    __tablename__ = "orders"
    order_id: Mapped[str] = mapped_column(String(10), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.account_id"), index=True)
    fund_code: Mapped[str] = mapped_column(ForeignKey("funds.fund_code"))
    side: Mapped[str] = mapped_column(String(4))
    amount: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(10))
    placed_on: Mapped[date] = mapped_column(Date)


class AdvisorNote(Base):
    """A note an advisor filed on a client (a write tool's row)."""
    __tablename__ = "advisor_notes"
    note_id: Mapped[str] = mapped_column(String(10), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.client_id"), index=True)
    advisor_id: Mapped[str] = mapped_column(ForeignKey("advisors.advisor_id"))
    created_on: Mapped[date] = mapped_column(Date)
    category: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)


WRITABLE_TABLES: tuple[str, ...] = ("accounts", "orders", "advisor_notes")
#: The tables a production source has: all but the replica's own ``meta``, in dependency order.
SOURCE_TABLES = tuple(t for t in Base.metadata.sorted_tables if t.name != "meta")

PII_COLUMNS: dict[str, tuple[str, ...]] = {
    "clients": ("full_name", "national_id", "phone", "email", "address", "birth_date"),
    "advisors": ("full_name", "email", "phone"),
}

#: The replica schema the sandbox and the replica check serve.
SCHEMA = ReplicaSchema(metadata=Base.metadata, writable_tables=WRITABLE_TABLES, version=SCHEMA_VERSION)
