"""The installation store protocol and its in-memory implementation."""

from __future__ import annotations

import threading

import pytest

from shared.installations import Installation, InstallationStore, MemoryInstallationStore


def portal(**changes: object) -> Installation:
    values: dict[str, object] = {
        "tenant_id": "t-1",
        "platform": "bitrix24",
        "account": "shop.bitrix24.by",
        "settings": {"sender": "SHOP"},
        "secrets": {"access_token": "a1", "refresh_token": "r1", "application_token": "x"},
    }
    values.update(changes)
    return Installation(**values)  # type: ignore[arg-type]


def test_memory_store_satisfies_the_protocol() -> None:
    assert isinstance(MemoryInstallationStore(), InstallationStore)


def test_save_get_and_upsert_by_platform_and_account() -> None:
    store = MemoryInstallationStore()
    assert store.get("bitrix24", "shop.bitrix24.by") is None
    assert store.save(portal()) == portal()
    assert store.get("bitrix24", "shop.bitrix24.by") == portal()
    store.save(portal(settings={"sender": "NEW"}))
    stored = store.get("bitrix24", "shop.bitrix24.by")
    assert stored is not None and stored.settings == {"sender": "NEW"}
    assert store.get("amocrm", "shop.bitrix24.by") is None


def test_get_for_tenant_returns_the_latest_saved() -> None:
    store = MemoryInstallationStore(
        [portal(account="a.bitrix24.by"), portal(account="b.bitrix24.by")]
    )
    store.save(portal(account="c.bitrix24.by", tenant_id="t-2"))
    found = store.get_for_tenant("t-1", "bitrix24")
    assert found is not None and found.account == "b.bitrix24.by"
    store.save(portal(account="a.bitrix24.by"))
    found = store.get_for_tenant("t-1", "bitrix24")
    assert found is not None and found.account == "a.bitrix24.by"
    assert store.get_for_tenant("t-1", "amocrm") is None
    assert store.get_for_tenant("t-3", "bitrix24") is None


def test_callers_cannot_mutate_what_is_stored() -> None:
    store = MemoryInstallationStore()
    original = portal()
    store.save(original)
    original.secrets["access_token"] = "changed"
    fetched = store.get("bitrix24", "shop.bitrix24.by")
    assert fetched is not None and fetched.secrets["access_token"] == "a1"
    fetched.settings["sender"] = "changed"
    again = store.get("bitrix24", "shop.bitrix24.by")
    assert again is not None and again.settings == {"sender": "SHOP"}


def test_update_secrets_is_compare_and_set() -> None:
    store = MemoryInstallationStore([portal()])
    rotated = {"access_token": "a2", "refresh_token": "r2"}
    assert store.update_secrets("bitrix24", "shop.bitrix24.by", rotated, {"refresh_token": "r1"})
    # A second worker that also used r1 loses: the stored token is r2 now.
    late = {"access_token": "a3", "refresh_token": "r3"}
    assert not store.update_secrets("bitrix24", "shop.bitrix24.by", late, {"refresh_token": "r1"})
    assert not store.update_secrets("bitrix24", "shop.bitrix24.by", late, {"missing": "r2"})
    stored = store.get("bitrix24", "shop.bitrix24.by")
    assert stored is not None
    assert stored.secrets == {"access_token": "a2", "refresh_token": "r2", "application_token": "x"}
    assert store.update_secrets("bitrix24", "shop.bitrix24.by", {"webhook": "w"})  # unconditional
    stored = store.get("bitrix24", "shop.bitrix24.by")
    assert stored is not None and stored.secrets["webhook"] == "w"


def test_update_secrets_race_has_exactly_one_winner() -> None:
    store = MemoryInstallationStore([portal()])
    start = threading.Barrier(8)
    wins: list[int] = []

    def rotate(n: int) -> None:
        start.wait()
        new = {"refresh_token": f"r-{n}"}
        if store.update_secrets("bitrix24", "shop.bitrix24.by", new, {"refresh_token": "r1"}):
            wins.append(n)

    threads = [threading.Thread(target=rotate, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(wins) == 1
    stored = store.get("bitrix24", "shop.bitrix24.by")
    assert stored is not None and stored.secrets["refresh_token"] == f"r-{wins[0]}"


def test_set_status() -> None:
    store = MemoryInstallationStore([portal()])
    store.set_status("bitrix24", "shop.bitrix24.by", "uninstalled")
    stored = store.get("bitrix24", "shop.bitrix24.by")
    assert stored is not None and stored.status == "uninstalled"
    with pytest.raises(ValueError, match="status must be a snake_case word, got 'Gone!'"):
        store.set_status("bitrix24", "shop.bitrix24.by", "Gone!")
    with pytest.raises(KeyError):
        store.set_status("bitrix24", "nobody", "active")
    with pytest.raises(KeyError):
        store.update_secrets("bitrix24", "nobody", {"a": "b"})


def test_secrets_stay_out_of_repr() -> None:
    text = repr(portal())
    assert "r1" not in text and "secrets" not in text
    assert "shop.bitrix24.by" in text


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"tenant_id": ""}, "tenant_id must not be blank, got ''"),
        ({"platform": None}, "platform is required, got None"),
        ({"secrets": "token"}, "secrets must be a dict, got 'str'"),
        ({"status": "Active"}, "status must be a snake_case word, got 'Active'"),
    ],
)
def test_installation_validates_itself(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError) as caught:
        portal(**changes)
    assert str(caught.value) == message
