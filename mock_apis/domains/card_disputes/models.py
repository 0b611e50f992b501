"""SQLAlchemy 2.x data model of a retail bank's card-dispute back office.

Cardholders hold debit and credit cards; card transactions are purchases and refunds at
merchants; a cardholder may dispute a purchase (a chargeback case), the bank may post a
provisional credit while the case runs, and staff file notes on a case. Conventions are the
finance domain's: dates as ISO ``YYYY-MM-DD`` text, money as REAL rounded to cents, short
prefixed identifiers that agents and logs can quote verbatim (``H000042`` a cardholder,
``K0000042`` a card, ``P000000042`` a card transaction, ``D00000042`` a dispute).

Tables in ``WRITABLE_TABLES`` are the only ones tools may write; an episode's sandbox keeps
its writes in a copy-on-write overlay of exactly these.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mock_apis.domain import ReplicaSchema

SCHEMA_VERSION = "1.0.0"


class Base(DeclarativeBase):
    """The declarative base of the card-disputes replica's tables."""

    pass


class Meta(Base):
    """Replica metadata: seed, scale, as-of date, schema and generator versions."""

    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Cardholder(Base):
    """A customer holding one or more cards. PII columns: full_name, email, phone, address, birth_date."""

    __tablename__ = "cardholders"
    cardholder_id: Mapped[str] = mapped_column(String(7), primary_key=True)
    full_name: Mapped[str] = mapped_column(String(120), index=True)
    email: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(40))
    address: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[date] = mapped_column(Date)
    segment: Mapped[str] = mapped_column(String(16))
    customer_since: Mapped[date] = mapped_column(Date)


class Merchant(Base):
    """A merchant cards are used at, with its merchant category."""

    __tablename__ = "merchants"
    merchant_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    category: Mapped[str] = mapped_column(String(40))
    mcc: Mapped[str] = mapped_column(String(4))


class Card(Base):
    """A debit or credit card: its last four digits, network, status and why it is blocked."""

    __tablename__ = "cards"
    card_id: Mapped[str] = mapped_column(String(8), primary_key=True)
    cardholder_id: Mapped[str] = mapped_column(ForeignKey("cardholders.cardholder_id"), index=True)
    last4: Mapped[str] = mapped_column(String(4))
    network: Mapped[str] = mapped_column(String(12))
    product: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(8))
    block_reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    opened_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)


class CardTransaction(Base):
    """A purchase or refund on a card: posted, still pending, or reversed by the merchant."""

    __tablename__ = "card_transactions"
    txn_id: Mapped[str] = mapped_column(String(10), primary_key=True)
    card_id: Mapped[str] = mapped_column(ForeignKey("cards.card_id"))
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.merchant_id"))
    txn_date: Mapped[date] = mapped_column(Date)
    txn_type: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(8))
    amount: Mapped[float] = mapped_column(Float)

    __table_args__ = (Index("ix_card_transactions_card_date", "card_id", "txn_date"),)


class Dispute(Base):
    """A cardholder's dispute of one purchase (a chargeback case) (a write tool's row)."""

    __tablename__ = "disputes"
    dispute_id: Mapped[str] = mapped_column(String(9), primary_key=True)
    txn_id: Mapped[str] = mapped_column(ForeignKey("card_transactions.txn_id"), index=True)
    card_id: Mapped[str] = mapped_column(ForeignKey("cards.card_id"))
    cardholder_id: Mapped[str] = mapped_column(ForeignKey("cardholders.cardholder_id"), index=True)
    reason: Mapped[str] = mapped_column(String(24))
    amount: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(12))
    opened_on: Mapped[date] = mapped_column(Date)
    decision_due: Mapped[date] = mapped_column(Date)
    resolved_on: Mapped[date | None] = mapped_column(Date, nullable=True)


class ProvisionalCredit(Base):
    """A provisional credit posted to the card while its dispute runs (a write tool's row)."""

    __tablename__ = "provisional_credits"
    credit_id: Mapped[str] = mapped_column(String(9), primary_key=True)
    dispute_id: Mapped[str] = mapped_column(ForeignKey("disputes.dispute_id"), unique=True)
    amount: Mapped[float] = mapped_column(Float)
    credited_on: Mapped[date] = mapped_column(Date)


class DisputeNote(Base):
    """A note staff filed on a dispute case (a write tool's row)."""

    __tablename__ = "dispute_notes"
    note_id: Mapped[str] = mapped_column(String(9), primary_key=True)
    dispute_id: Mapped[str] = mapped_column(ForeignKey("disputes.dispute_id"), index=True)
    created_on: Mapped[date] = mapped_column(Date)
    text: Mapped[str] = mapped_column(Text)


WRITABLE_TABLES: tuple[str, ...] = ("disputes", "provisional_credits", "dispute_notes")
SCHEMA = ReplicaSchema(Base.metadata, WRITABLE_TABLES, SCHEMA_VERSION)
PII_COLUMNS: dict[str, tuple[str, ...]] = {
    "cardholders": ("full_name", "email", "phone", "address", "birth_date"),
}
