"""People use cases: codes through the system tenant, sign-up, invitations, roles, SSO links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from relay.compliance.stoplist import add_stop
from relay.errors import RelayError
from relay.people import codes, invitations, signup, sso, users
from relay.people.numbers import login_phone
from relay.people.system import SYSTEM_TENANT, system_tenant
from relay.storage.models import Event, Message, Tenant, User, VerificationCode
from tests.cabinet.people_support import code_sent_to, sends_to
from tests.support.factories import run_worker

PHONE = "+375291234567"


def ask(rt, phone=PHONE, purpose="signup", **kw):
    with rt.session() as s:
        sent = codes.request_code(rt, s, phone, purpose, rt.now(), ip="10.0.0.1", **kw)
        s.commit()
    codes.dispatch_after_commit(rt, sent)
    return sent


def check(rt, code, phone=PHONE, purpose="signup"):
    with rt.session() as s:
        result = codes.check_code(rt, s, phone, purpose, code, rt.now())
        s.commit()
    return result


@pytest.mark.parametrize(
    "raw", ["+78091234567", "+74951234567", "+375172000000", "+12025550123", "not a number"]
)
def test_only_mobile_numbers_of_ru_by_kz_get_codes(raw):
    with pytest.raises(RelayError) as err:
        login_phone(raw, "BY")
    assert err.value.code in ("unsupported_number", "invalid_phone")
    assert err.value.fields["phone"]


def test_mobile_numbers_are_normalised():
    assert login_phone("8 029 123-45-67", "BY") == PHONE
    assert login_phone("+7 916 123 45 67", "BY") == "+79161234567"
    assert login_phone("+7 701 234 56 78", "RU") == "+77012345678"


def test_a_code_goes_through_the_system_tenant_and_is_kept_only_as_a_hash(rt):
    sent = ask(rt)
    assert sent.sent and sent.status == "queued"
    code = code_sent_to(rt, PHONE)
    with rt.session() as s:
        row = s.get(VerificationCode, sent.code_id)
        assert code not in (row.code_hash + row.salt) and len(row.code_hash) == 64
        msg = s.get(Message, sent.message_id)
        tenant = s.get(Tenant, msg.tenant_id)
        assert tenant.name == SYSTEM_TENANT and msg.category == "transactional"
        assert msg.status == "delivered" and code in msg.text  # recorded like any message
    assert check(rt, code).ok
    with rt.session() as s:
        msg = s.get(Message, sent.message_id)
        event = s.get(Event, msg.event_pk)
        assert code not in msg.text and "••••••" in msg.text  # masked once spent
        assert code not in event.payload["message"]["text"]
    assert check(rt, code).outcome == "expired"  # single use


def test_a_code_at_night_is_sent_at_once(rt, clock):
    clock.set(datetime(2026, 1, 15, 21, 30, tzinfo=UTC))  # 00:30 in Minsk
    assert ask(rt).status == "queued"
    assert code_sent_to(rt, PHONE)


def test_a_code_expires_after_ten_minutes(rt, clock):
    ask(rt)
    code = code_sent_to(rt, PHONE)
    clock.advance(minutes=10, seconds=1)
    assert check(rt, code).outcome == "expired"


def test_three_wrong_codes_make_the_number_wait(rt, clock):
    ask(rt)
    code = code_sent_to(rt, PHONE)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    assert check(rt, wrong).attempts_left == 2
    # asking again does not wipe the count
    ask(rt)
    code = code_sent_to(rt, PHONE)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    assert check(rt, wrong).attempts_left == 1
    third = check(rt, wrong)
    assert third.outcome == "locked" and third.locked_until > rt.now()
    assert check(rt, code).outcome == "locked"  # even the right code is dead now
    with pytest.raises(RelayError) as err:
        ask(rt)
    assert err.value.code == "code_locked" and err.value.status == 429
    assert 0 < err.value.fields["retry_after"] <= 15 * 60
    clock.advance(minutes=16)
    rt.redis.flushdb()  # the per-number limit (real time) is not what this test is about
    ask(rt)
    assert check(rt, code_sent_to(rt, PHONE)).ok


def test_codes_are_limited_per_number_and_per_ip(rt):
    for _ in range(3):
        ask(rt)
    with pytest.raises(RelayError) as err:
        ask(rt)
    assert err.value.code == "too_many_codes" and err.value.fields["retry_after"] > 0
    rt.redis.flushdb()
    rt.config["CODE_RATES"] = {"ip": ("2 per hour",)}
    ask(rt, "+375291111111")
    ask(rt, "+375292222222")
    with pytest.raises(RelayError) as err:
        ask(rt, "+375293333333")
    assert err.value.code == "too_many_codes"
    rt.config.pop("CODE_RATES")


def test_a_stop_listed_number_gets_no_code(rt):
    with rt.session() as s:
        add_stop(s, system_tenant(s).id, PHONE, "admin", rt.now())
        s.commit()
    sent = ask(rt)
    assert not sent.sent and sent.reason == "stop_list"
    run_worker(rt)
    assert sends_to(rt, PHONE) == []


def test_sign_up_makes_a_tenant_with_flows_and_its_owner(rt):
    ask(rt)
    code = code_sent_to(rt, PHONE)
    with rt.session() as s:
        checked, user = signup.complete_signup(
            rt, s, phone=PHONE, code=code, store="Цветы", region="BY", name="Анна",
            password="correct horse", locale="ru", now=rt.now(),
        )  # fmt: skip
        s.commit()
        assert checked.ok and user.role == "owner"
        tenant = s.get(Tenant, user.tenant_id)
        assert (tenant.name, tenant.region, tenant.timezone) == ("Цветы", "BY", "Europe/Minsk")
        assert users.sign_in(s, PHONE, "correct horse", rt.now()).id == user.id
        assert users.sign_in(s, PHONE, "wrong horse!", rt.now()) is None
        assert user.password_hash.startswith("$argon2id$")


def test_a_wrong_sign_up_code_writes_nothing_but_the_count(rt):
    ask(rt)
    code = code_sent_to(rt, PHONE)
    with rt.session() as s:
        checked, user = signup.complete_signup(
            rt, s, phone=PHONE, code=f"{(int(code) + 1) % 10**6:06d}", store="Цветы",
            region="BY", name="Анна", password="correct horse", locale="ru", now=rt.now(),
        )  # fmt: skip
        s.commit()
        assert checked.outcome == "wrong" and user is None
        assert s.scalar(select(Tenant).where(Tenant.name == "Цветы")) is None
        assert s.scalar(select(User)) is None


def test_sign_up_mode_defaults_to_closed():
    assert signup.signup_mode({}) == "closed"
    assert signup.signup_mode({"SIGNUP": "OPEN"}) == "open"
    assert signup.signup_mode({"SIGNUP": "bogus"}) == "closed"


def _owner(rt, tenant_id, phone=PHONE):
    with rt.session() as s:
        user = users.create_user(s, tenant_id, phone, "Owner", "owner", "password1", rt.now())
        s.commit()
        return user


def test_an_invitation_works_once_and_gives_its_role(rt, tenant):
    owner = _owner(rt, tenant["id"])
    with rt.session() as s:
        _row, token = invitations.create_invitation(
            s, tenant["id"], owner, "viewer", "Пётр", rt.now()
        )
        s.commit()
    viewer_phone = "+375297654321"
    ask(rt, viewer_phone, "invite", tenant_id=tenant["id"])
    code = code_sent_to(rt, viewer_phone)
    with rt.session() as s:
        checked, user = invitations.accept_invitation(
            rt, s, token, phone=viewer_phone, code=code, name="Пётр", password="password2",
            locale="en", now=rt.now(),
        )  # fmt: skip
        s.commit()
        assert checked.ok and (user.role, user.tenant_id, user.locale) == (
            "viewer",
            tenant["id"],
            "en",
        )
    with rt.session() as s, pytest.raises(RelayError) as err:
        invitations.open_invitation(s, token, rt.now())
    assert err.value.code == "invitation_invalid" and err.value.status == 404


def test_another_tenants_user_or_invitation_is_not_found(rt, tenant):
    from tests.support.factories import make_tenant

    other = make_tenant(rt, "other", "RU")
    owner = _owner(rt, tenant["id"])
    with rt.session() as s:
        inv, _ = invitations.create_invitation(s, tenant["id"], owner, "manager", None, rt.now())
        s.commit()
        with pytest.raises(RelayError) as err:
            users.user_of(s, other["id"], owner.id)
        assert err.value.status == 404
        with pytest.raises(RelayError) as err:
            invitations.revoke_invitation(s, other["id"], inv.id, rt.now())
        assert err.value.status == 404


def test_the_last_owner_stays_and_a_role_change_ends_sessions(rt, tenant):
    owner = _owner(rt, tenant["id"])
    with rt.session() as s:
        with pytest.raises(RelayError) as err:
            users.change_role(s, tenant["id"], owner.id, "viewer")
        assert err.value.code == "last_owner"
        other = users.create_user(s, tenant["id"], "+375298888888", "M", "manager", "password3",
                                  rt.now())  # fmt: skip
        version = other.session_version
        assert users.session_user(s, other.id, version)
        users.change_role(s, tenant["id"], other.id, "viewer")
        assert users.session_user(s, other.id, version) is None
        users.sign_out_everywhere(users.user_of(s, tenant["id"], owner.id))
        assert users.session_user(s, owner.id, 1) is None
        s.rollback()


def test_sso_links_are_signed_short_lived_and_single_use(rt, tenant, clock):
    with rt.session() as s:
        t = s.get(Tenant, tenant["id"])
        link = sso.issue_link(rt.config, t, "bitrix24", rt.now())
        token = link["url"].split("token=")[1]
        from urllib.parse import unquote

        token = unquote(token)
        assert link["url"].startswith("http://relay.test/cabinet/sso?token=")
        user = sso.redeem_link(rt, s, token, rt.now())
        assert (user.tenant_id, user.role, user.platform, user.phone) == (
            tenant["id"], "manager", "bitrix24", None,
        )  # fmt: skip
        with pytest.raises(RelayError) as err:
            sso.redeem_link(rt, s, token, rt.now())
        assert err.value.code == "sso_used"
        late = unquote(sso.issue_link(rt.config, t, "amocrm", rt.now())["url"].split("token=")[1])
        with pytest.raises(RelayError) as err:
            sso.redeem_link(rt, s, late, rt.now() + timedelta(minutes=2, seconds=2))
        assert err.value.code == "sso_expired"
        with pytest.raises(RelayError) as err:
            sso.redeem_link(rt, s, token[:-2] + "xx", rt.now())
        assert err.value.code == "sso_invalid"


def test_owners_invite_managers_and_viewers_the_operator_also_owners(rt, tenant):
    owner = _owner(rt, tenant["id"])
    with rt.session() as s:
        with pytest.raises(RelayError) as err:
            invitations.create_invitation(s, tenant["id"], owner, "owner", None, rt.now())
        assert err.value.code == "invalid_role"
        row, _token = invitations.create_invitation(s, tenant["id"], None, "owner", None, rt.now())
        assert row.role == "owner" and row.invited_by is None


def test_the_job_masks_an_expired_code_in_the_log(rt):
    from rq.utils import import_attribute

    sent = ask(rt)
    code = code_sent_to(rt, PHONE)
    job = import_attribute(codes.MASK_JOB)  # the string the code request enqueues
    assert job(sent.code_id) is True
    with rt.session() as s:
        msg = s.get(Message, sent.message_id)
        assert code not in msg.text and "••••••" in msg.text
    queued = rt.redis.zcard("rq:scheduled:relay")
    assert queued >= 1  # the mask job was scheduled for when the code expires
