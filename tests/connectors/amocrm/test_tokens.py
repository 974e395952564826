"""Single-use refresh tokens: concurrent refreshes call the token endpoint once; revocation."""

from __future__ import annotations

import threading

import pytest

from connectors.amocrm.config import AmoConfig
from connectors.amocrm.errors import AmoAuthError
from connectors.amocrm.install import client_for
from connectors.amocrm.tokens import TokenEndpoint, TokenManager
from relay.storage.models import Tenant
from shared.connector import get_context
from tests.connectors.amocrm.helpers import DOMAIN, install


@pytest.fixture
def account(client, amo, shop):  # type: ignore[no-untyped-def]
    """An installed account whose access token has just expired."""
    install(client, amo, shop)
    ctx = get_context("amocrm")
    ctx.store.update_secrets("amocrm", DOMAIN, {"expires_at": 0})
    return ctx


def manager(ctx, locks=None) -> TokenManager:  # type: ignore[no-untyped-def]
    config = AmoConfig.from_mapping(ctx.config)
    return TokenManager(ctx.store, TokenEndpoint(config), DOMAIN, locks=locks)


def race(*managers: TokenManager) -> list[str]:
    """Ask every manager for a token at the same instant; their answers, in order."""
    barrier = threading.Barrier(len(managers))
    results: list[str] = [""] * len(managers)
    errors: list[BaseException] = []

    def run(i: int, tokens: TokenManager) -> None:
        barrier.wait()
        try:
            results[i] = tokens.access_token()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, m)) for i, m in enumerate(managers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert not errors, errors
    return results


def test_two_threads_refreshing_at_once_use_the_refresh_token_once(amo, account):
    old_refresh = account.store.get("amocrm", DOMAIN).secrets["refresh_token"]
    amo.token_delay = 0.3  # both threads are inside refresh while the first call is running

    first, second = race(manager(account), manager(account))

    assert amo.refresh_uses == [old_refresh]
    assert first == second and first in amo.access_tokens
    stored = account.store.get("amocrm", DOMAIN).secrets
    assert stored["access_token"] == first and stored["refresh_lock"] == ""
    assert amo.refresh_tokens[stored["refresh_token"]] is True  # the new pair is the live one


def test_two_processes_refreshing_at_once_use_the_refresh_token_once(amo, account):
    # Separate lock registries: no shared threading.Lock, as in two worker processes. Only
    # the lease taken with the store's compare-and-set keeps them apart.
    old_refresh = account.store.get("amocrm", DOMAIN).secrets["refresh_token"]
    amo.token_delay = 0.3

    results = race(*(manager(account, locks={}) for _ in range(3)))

    assert amo.refresh_uses == [old_refresh]
    assert len(set(results)) == 1 and results[0] in amo.access_tokens


def test_a_fresh_token_is_used_without_calling_the_token_endpoint(amo, account):
    token = manager(account).access_token()  # refreshes once (expired)
    assert manager(account).access_token() == token
    assert len(amo.refresh_uses) == 1


def test_revoked_integration_flags_installation_and_tenant_needs_reauth(rt, amo, account, shop):
    amo.revoke_refresh_tokens()
    client = client_for(account, AmoConfig.from_mapping(account.config), DOMAIN)

    with pytest.raises(AmoAuthError):
        client.get_account()

    assert account.store.get("amocrm", DOMAIN).status == "needs_reauth"
    with rt.session() as s:
        assert s.get(Tenant, shop["id"]).status == "needs_reauth"
    # later calls fail at once, without burning anything more at amoCRM
    calls = len(amo.calls)
    with pytest.raises(AmoAuthError):
        client.get_account()
    assert len(amo.calls) == calls


def test_401_from_the_api_refreshes_once_and_retries(amo, account):
    client = client_for(account, AmoConfig.from_mapping(account.config), DOMAIN)
    client.get_account()  # refresh #1 (expired)
    amo.access_tokens.clear()  # amoCRM no longer accepts the current access token
    mark = len(amo.calls)

    assert client.get_account()["id"] == amo.account["id"]

    assert len(amo.refresh_uses) == 2
    # refused, refreshed, retried with the new token
    assert [c.path for c in amo.calls[mark:]] == [
        "/api/v4/account",
        "/oauth2/access_token",
        "/api/v4/account",
    ]
    assert amo.calls[-1].headers["Authorization"] == (
        "Bearer " + account.store.get("amocrm", DOMAIN).secrets["access_token"]
    )


def test_saving_settings_keeps_the_current_token_pair(amo, account):
    tokens = manager(account)
    tokens.access_token()  # rotate
    rotated = account.store.get("amocrm", DOMAIN).secrets["refresh_token"]
    saved = tokens.save_settings({**account.store.get("amocrm", DOMAIN).settings, "x": 1})
    assert saved.secrets["refresh_token"] == rotated and saved.settings["x"] == 1
    assert account.store.get("amocrm", DOMAIN).secrets["refresh_lock"] == ""
