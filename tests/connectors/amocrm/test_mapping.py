"""Reading amoCRM's data: lead changes from webhooks, phones and consent from API answers."""

from __future__ import annotations

from connectors.amocrm.mapping import (
    LeadChange,
    consent_state,
    main_contact_id,
    phone_candidates,
    pick_phone,
)


def phones(*values: tuple[str, str]) -> dict:
    return {
        "custom_fields_values": [
            {
                "field_id": 1,
                "field_code": "EMAIL",
                "values": [{"value": "a@b.ru", "enum_code": "WORK"}],
            },
            {
                "field_id": 2,
                "field_code": "PHONE",
                "values": [{"value": v, "enum_code": code} for v, code in values],
            },
        ]
    }


def test_lead_change_reads_string_ids_and_knows_a_real_move():
    change = LeadChange.from_item(
        "status",
        {
            "id": "4821",
            "status_id": "142",
            "old_status_id": "58841526",
            "pipeline_id": "7010970",
            "old_pipeline_id": "7010970",
            "price": "1500",
            "last_modified": "1768478400",
            "account_id": "29000001",
        },
    )
    assert change is not None
    assert (change.lead_id, change.stage, change.moved) == (4821, "7010970:142", True)
    same = LeadChange.from_item(
        "status",
        {
            "id": "1",
            "status_id": "5",
            "old_status_id": "5",
            "pipeline_id": "7",
            "old_pipeline_id": "7",
        },
    )
    assert same is not None and same.moved is False
    other_pipeline = LeadChange.from_item(
        "status",
        {
            "id": "1",
            "status_id": "5",
            "old_status_id": "5",
            "pipeline_id": "8",
            "old_pipeline_id": "7",
        },
    )
    assert other_pipeline is not None and other_pipeline.moved is True
    assert LeadChange.from_item("status", {"id": "x1", "status_id": "5"}) is None
    assert LeadChange.from_item("status", "garbage") is None


def test_mobile_number_is_preferred_over_work_and_order_is_kept():
    contact = phones(
        ("+7 (495) 123-45-67", "WORK"), ("8 916 123-45-67", "MOB"), ("+7 926 000-00-00", "MOB")
    )
    assert phone_candidates(contact) == [
        "8 916 123-45-67",
        "+7 926 000-00-00",
        "+7 (495) 123-45-67",
    ]
    assert pick_phone(contact, "RU") == "+79161234567"


def test_an_invalid_mobile_falls_back_to_a_valid_other_number_or_the_raw_one():
    assert pick_phone(phones(("123", "MOB"), ("+375 29 123-45-67", "WORK")), "RU") == (
        "+375291234567"
    )
    assert pick_phone(phones(("123", "MOB")), "RU") == "123"  # the relay will refuse it
    assert pick_phone({"custom_fields_values": None}, "RU") is None
    assert pick_phone(phones(), "RU") is None


def test_main_contact_is_is_main_else_first():
    lead = {"_embedded": {"contacts": [{"id": 5, "is_main": False}, {"id": 6, "is_main": True}]}}
    assert main_contact_id(lead) == 6
    assert main_contact_id({"_embedded": {"contacts": [{"id": 5, "is_main": False}]}}) == 5
    assert main_contact_id({"_embedded": {"contacts": []}}) is None
    assert main_contact_id({}) is None


def test_consent_field_checked_unchecked_or_absent():
    checked = {"custom_fields_values": [{"field_id": 566027, "values": [{"value": True}]}]}
    unchecked = {"custom_fields_values": [{"field_id": 566027, "values": [{"value": False}]}]}
    text_yes = {"custom_fields_values": [{"field_id": "566027", "values": [{"value": "1"}]}]}
    assert consent_state([checked], 566027) is True
    assert consent_state([unchecked], 566027) is False
    assert consent_state([text_yes], 566027) is True
    assert consent_state([{"custom_fields_values": None}, checked], 566027) is True  # lead
    assert consent_state([{}], 566027) is None
    assert consent_state([checked], None) is None
