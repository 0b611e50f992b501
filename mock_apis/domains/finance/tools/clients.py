"""Client, risk, compliance and advisor-note tools."""

from __future__ import annotations

from typing import Any

from mock_apis.catalogue import ToolError
from mock_apis.domains.finance.registry import tool
from mock_apis.sandbox import Sandbox
from mock_apis.domains.finance.tools.common import (ADVISOR_ID, CLIENT_ID, ISO_DATE, LIMIT, NULLABLE_STRING, array_of, params,
                                    record, require)

SEGMENTS = ["retail", "affluent", "hnw"]
CLIENT_SUMMARY = record({"client_id": {"type": "string"}, "full_name": {"type": "string"},
                         "advisor_id": {"type": "string"}, "segment": {"type": "string", "enum": SEGMENTS}})


@tool(
    name="search_clients",
    description="Find clients by (part of) their name and/or by advisor. Returns at most `limit` matches, by client id.",
    parameters={**params({"name": {"type": "string", "minLength": 2, "maxLength": 120},
                          "advisor_id": ADVISOR_ID,
                          "segment": {"type": "string", "enum": SEGMENTS},
                          "limit": LIMIT}),
                "anyOf": [{"required": ["name"]}, {"required": ["advisor_id"]}]},
    returns=record({"clients": array_of(CLIENT_SUMMARY), "count": {"type": "integer"}}),
    criticality=1.0,
)
def search_clients(sb: Sandbox, name: str | None = None, advisor_id: str | None = None,
                   segment: str | None = None, limit: int = 20) -> dict[str, Any]:
    where, args = [], []
    if name is not None:
        where.append("full_name LIKE ? ESCAPE '\\'")
        args.append("%" + name.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
    if advisor_id is not None:
        where.append("advisor_id = ?")
        args.append(advisor_id)
    if segment is not None:
        where.append("segment = ?")
        args.append(segment)
    rows = sb.query(f"SELECT client_id, full_name, advisor_id, segment FROM clients WHERE {' AND '.join(where)} "
                    "ORDER BY client_id LIMIT ?", (*args, limit))
    return {"clients": rows, "count": len(rows)}


PROFILE = record({
    "client_id": {"type": "string"}, "full_name": {"type": "string"}, "advisor_id": {"type": "string"},
    "segment": {"type": "string", "enum": SEGMENTS}, "birth_date": ISO_DATE, "phone": {"type": "string"},
    "email": {"type": "string"}, "address": {"type": "string"}, "national_id_last4": {"type": "string"},
    "onboarded_on": ISO_DATE,
})


def client_profile(sb: Sandbox, client_id: str) -> dict[str, Any]:
    row = require(sb, "clients", "client_id", client_id, "client")
    national_id = row.pop("national_id")
    row["national_id_last4"] = national_id[-4:]
    return {k: row[k] for k in PROFILE["properties"]}


@tool(
    name="get_client_profile",
    description="A client's profile: name, contact details, birth date, segment, advisor. The national id is masked to its last 4 digits.",
    parameters=params({"client_id": CLIENT_ID}, ["client_id"]),
    returns=PROFILE,
    criticality=1.0,
)
def get_client_profile(sb: Sandbox, client_id: str) -> dict[str, Any]:
    return client_profile(sb, client_id)


RISK = record({
    "client_id": {"type": "string"}, "assessment_id": {"type": "string"}, "assessed_on": ISO_DATE,
    "risk_score": {"type": "integer", "minimum": 0, "maximum": 100},
    "risk_level": {"type": "integer", "minimum": 1, "maximum": 5}, "risk_profile": {"type": "string"},
    "horizon_years": {"type": "integer"}, "valid_until": ISO_DATE, "is_current": {"type": "boolean"},
})


def latest_risk(sb: Sandbox, client_id: str) -> dict[str, Any]:
    require(sb, "clients", "client_id", client_id, "client")
    row = sb.query_one("SELECT client_id, assessment_id, assessed_on, risk_score, risk_level, risk_profile, "
                       "horizon_years, valid_until FROM risk_assessments WHERE client_id = ? "
                       "ORDER BY assessed_on DESC, assessment_id DESC LIMIT 1", (client_id,))
    if row is None:
        raise ToolError("not_found", f"client {client_id} has no risk assessment")
    row["is_current"] = row["valid_until"] >= sb.as_of
    return row


@tool(
    name="get_risk_assessment",
    description="The client's most recent risk assessment (score 0-100, level 1-5, profile, horizon) and whether it is still current.",
    parameters=params({"client_id": CLIENT_ID}, ["client_id"]),
    returns=RISK,
    criticality=1.5,
)
def get_risk_assessment(sb: Sandbox, client_id: str) -> dict[str, Any]:
    return latest_risk(sb, client_id)


COMPLIANCE = record({
    "client_id": {"type": "string"}, "kyc_status": {"type": "string", "enum": ["verified", "pending", "expired"]},
    "kyc_reviewed_on": ISO_DATE, "restriction": {"type": "string", "enum": ["none", "no_trading", "sell_only"]},
    "restriction_reason": NULLABLE_STRING, "politically_exposed": {"type": "boolean"},
    "can_buy": {"type": "boolean"}, "can_sell": {"type": "boolean"},
})


def compliance_status(sb: Sandbox, client_id: str) -> dict[str, Any]:
    require(sb, "clients", "client_id", client_id, "client")
    row = sb.query_one("SELECT client_id, kyc_status, kyc_reviewed_on, restriction, restriction_reason, "
                       "politically_exposed FROM compliance_records WHERE client_id = ?", (client_id,))
    if row is None:
        raise ToolError("not_found", f"client {client_id} has no compliance record")
    row["politically_exposed"] = bool(row["politically_exposed"])
    verified = row["kyc_status"] == "verified"
    row["can_buy"] = verified and row["restriction"] == "none"
    row["can_sell"] = verified and row["restriction"] in ("none", "sell_only")
    return row


@tool(
    name="get_compliance_status",
    description="KYC status, trading restriction and politically-exposed flag of a client, with whether buying and selling are currently allowed.",
    parameters=params({"client_id": CLIENT_ID}, ["client_id"]),
    returns=COMPLIANCE,
    criticality=2.0,
)
def get_compliance_status(sb: Sandbox, client_id: str) -> dict[str, Any]:
    return compliance_status(sb, client_id)


NOTE_CATEGORIES = ["meeting", "call", "kyc", "service"]
NOTE = record({"note_id": {"type": "string"}, "client_id": {"type": "string"}, "advisor_id": {"type": "string"},
               "created_on": ISO_DATE, "category": {"type": "string", "enum": NOTE_CATEGORIES},
               "text": {"type": "string"}})


@tool(
    name="add_advisor_note",
    description="Write a note to the client's file, on behalf of the client's advisor, dated today. Returns the stored note.",
    parameters=params({"client_id": CLIENT_ID,
                       "text": {"type": "string", "minLength": 3, "maxLength": 2000},
                       "category": {"type": "string", "enum": NOTE_CATEGORIES}}, ["client_id", "text"]),
    returns=NOTE,
    criticality=1.5,
    writes=True,
)
def add_advisor_note(sb: Sandbox, client_id: str, text: str, category: str = "meeting") -> dict[str, Any]:
    client = require(sb, "clients", "client_id", client_id, "client")
    if not text.strip():
        raise ToolError("invalid_arguments", "text must not be blank", [{"path": "text", "message": "blank"}])
    note = {"note_id": sb.next_id("advisor_notes", "note_id", "N", 9), "client_id": client_id,
            "advisor_id": client["advisor_id"], "created_on": sb.as_of, "category": category, "text": text.strip()}
    sb.insert("advisor_notes", note)
    return note

