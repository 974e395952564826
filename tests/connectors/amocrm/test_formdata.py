"""The bracketed form parser: amoCRM's webhook keys into nested dicts and lists."""

from __future__ import annotations

import pytest

from connectors.amocrm.formdata import MAX_DEPTH, FormError, parse_body, parse_pairs, split_key
from tests.connectors.amocrm.helpers import account_pairs, form, status_pairs


def test_split_key_reads_php_style_paths():
    assert split_key("leads[status][0][custom_fields][1][values][0][value]") == [
        "leads",
        "status",
        "0",
        "custom_fields",
        "1",
        "values",
        "0",
        "value",
    ]
    assert split_key("account[id]") == ["account", "id"]
    assert split_key("plain") == ["plain"]
    assert split_key("a[]") == ["a", ""]
    assert split_key("broken[key") == ["broken[key"]  # malformed: kept literally


def test_amocrm_status_body_becomes_nested_data_with_string_numbers():
    raw = form(status_pairs(4821, 142, 58841526) + account_pairs()).encode()

    data = parse_body(raw)

    [lead] = data["leads"]["status"]
    assert (lead["id"], lead["status_id"], lead["old_status_id"]) == ("4821", "142", "58841526")
    assert lead["name"] == "Заказ с сайта"
    assert lead["tags"] == [{"id": "80147", "name": "сайт"}]
    source, delivery = lead["custom_fields"]
    assert source == {
        "id": "66339",
        "name": "Источник",
        "values": [{"value": "Сайт", "enum": "139517"}],
    }
    assert delivery["values"] == ["1768521600"]  # a date field sends the bare value
    assert data["account"] == {
        "subdomain": "example",
        "id": "29000001",
        "_links": {"self": "https://example.amocrm.ru"},
    }


def test_several_items_keep_their_order_and_sparse_keys_stay_a_dict():
    data = parse_pairs(
        [
            ("leads[status][1][id]", "2"),
            ("leads[status][0][id]", "1"),
            ("contacts[update][0][linked_leads_id][9982719][ID]", "9982719"),
            ("contacts[update][0][linked_leads_id][10060679][ID]", "10060679"),
        ]
    )
    assert data["leads"]["status"] == [{"id": "1"}, {"id": "2"}]
    assert data["contacts"]["update"][0]["linked_leads_id"] == {
        "9982719": {"ID": "9982719"},
        "10060679": {"ID": "10060679"},
    }


def test_gaps_and_leading_zeros_are_not_list_indexes():
    data = parse_pairs([("a[0]", "x"), ("a[2]", "y"), ("b[01]", "z"), ("c[1]", "w")])
    assert data == {"a": {"0": "x", "2": "y"}, "b": {"01": "z"}, "c": {"1": "w"}}


def test_empty_brackets_append_and_later_keys_win():
    assert parse_pairs([("t[]", "a"), ("t[]", "b")]) == {"t": ["a", "b"]}
    assert parse_pairs([("k", "1"), ("k[x]", "2")]) == {"k": {"x": "2"}}
    assert parse_pairs([("k[x]", "2"), ("k", "1")]) == {"k": "1"}
    assert parse_pairs([("0", "a"), ("1", "b")]) == {"0": "a", "1": "b"}  # top level: a dict


def test_blank_values_are_kept_and_plus_is_a_space():
    assert parse_body(b"a[b]=&c=one+two&d=%D0%B4%D0%B0") == {
        "a": {"b": ""},
        "c": "one two",
        "d": "да",
    }


def test_too_deep_too_many_or_not_utf8_is_refused():
    with pytest.raises(FormError):
        parse_pairs([("a" + "[x]" * MAX_DEPTH, "v")])
    with pytest.raises(FormError):
        parse_body(b"&".join(b"k%d=v" % i for i in range(10_001)))
    with pytest.raises(FormError):
        parse_body(b"name=%FF%FE")  # not UTF-8
    with pytest.raises(FormError):
        parse_body("name=тест".encode())  # raw non-ASCII bytes are not urlencoded
