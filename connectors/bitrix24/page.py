"""Server-rendered HTML for the app's pages inside the Bitrix24 frame (no JavaScript needed).

The pages work inside the portal's iframe: every form posts back to an absolute URL with the
portal's member_id and a signed form token (third-party cookies are blocked in frames, so no
session cookie is used), and the only header set restricts framing to the portal itself.
"""

from __future__ import annotations

from typing import Any

from flask import Response, render_template_string

_STYLE = """
body{font:14px/1.4 -apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:16px;color:#333}
h1{font-size:20px} h2{font-size:16px;margin-top:24px} table{border-collapse:collapse}
td,th{padding:4px 8px;border-bottom:1px solid #e5e5e5;text-align:left;vertical-align:top}
.ok{background:#e8f6e8;padding:8px} .err{background:#fdeaea;padding:8px}
textarea{width:420px;height:48px} .note{color:#777;font-size:12px}
"""

INSTALLED = """<!doctype html><html lang="ru"><head><meta charset="utf-8">
<title>Relay SMS</title><style>{{ style }}</style>
<script src="//api.bitrix24.com/api/v1/"></script></head><body>
<h1>Relay SMS установлен</h1>
<p>Портал {{ domain }} подключён. Откройте приложение, чтобы выбрать шаблоны для стадий.</p>
<script>if (window.BX24) { BX24.init(function () { BX24.installFinish(); }); }</script>
</body></html>"""

SETTINGS = """<!doctype html><html lang="ru"><head><meta charset="utf-8">
<title>Relay SMS — настройки</title><style>{{ style }}</style></head><body>
<h1>Relay SMS — настройки портала {{ domain }}</h1>
{% if cabinet_url %}<p><a href="{{ cabinet_url }}" target="_blank" rel="noopener">Открыть кабинет
relay</a> (рассылки, статистика, стоп-листы; ссылка действует 2 минуты)</p>{% endif %}
{% if notice %}<p class="ok">{{ notice }}</p>{% endif %}
{% for message in errors %}<p class="err">{{ message }}</p>{% endfor %}
{% if stage_note %}<p class="note">{{ stage_note }}</p>{% endif %}
<form method="post" action="{{ save_url }}">
<input type="hidden" name="member_id" value="{{ member_id }}">
<input type="hidden" name="form_token" value="{{ form_token }}">
<h2>Стадии и шаблоны</h2>
<table><tr><th>Объект</th><th>Стадия</th><th>Шаблон SMS</th></tr>
{% for row in stages %}<tr><td>{{ row.entity_label }}</td>
<td>{{ row.name }} <span class="note">{{ row.stage }}</span>
<input type="hidden" name="name|{{ row.entity }}|{{ row.stage }}" value="{{ row.name }}"></td>
<td><select name="map|{{ row.entity }}|{{ row.stage }}"><option value="">— не отправлять —</option>
{% for name in template_names %}<option value="{{ name }}"{% if row.template == name %}
 selected{% endif %}>{{ name }}</option>{% endfor %}</select></td></tr>
{% endfor %}
<tr><td><input name="new_entity" placeholder="deal, lead, dynamic_128" size="14"></td>
<td><input name="new_stage" placeholder="C1:WON" size="14"></td>
<td><select name="new_template"><option value="">—</option>
{% for name in template_names %}<option value="{{ name }}">{{ name }}</option>{% endfor %}
</select></td></tr></table>
<h2>Тексты шаблонов</h2>
<table>{% for name, spec in templates %}<tr><td>{{ name }}</td>
<td><textarea name="tpl_text|{{ name }}">{{ spec.text }}</textarea></td>
<td><select name="tpl_cat|{{ name }}">{% for cat in categories %}
<option value="{{ cat }}"{% if spec.category == cat %} selected{% endif %}>{{ cat }}</option>
{% endfor %}</select></td></tr>{% endfor %}</table>
<h2>Согласие, отправитель, тихие часы</h2>
<p><label>Поле согласия (UF_CRM_…): <input name="consent_field" value="{{ s.consent_field }}">
</label></p>
<p><label>Формулировка согласия: <input name="consent_wording" size="60"
 value="{{ s.consent_wording }}"></label></p>
<p><label>Имя отправителя: <input name="sender" maxlength="11" value="{{ s.sender }}"></label></p>
<p><label><input type="checkbox" name="stage_urgent" value="1"{% if s.stage_urgent %} checked
{% endif %}> Сообщения о стадиях отправлять и в тихие часы (только сервисные)</label></p>
<p><label>SMS менеджеров и роботов считать:
<select name="provider_category">{% for cat in categories %}<option value="{{ cat }}"
{% if s.provider_category == cat %} selected{% endif %}>{{ cat }}</option>{% endfor %}</select>
</label></p>
<p><button type="submit">Сохранить</button></p></form>
<h2>Тестовая отправка</h2>
<form method="post" action="{{ test_url }}">
<input type="hidden" name="member_id" value="{{ member_id }}">
<input type="hidden" name="form_token" value="{{ form_token }}">
<input name="phone" placeholder="+7 900 000-00-00"> <input name="text" size="40"
 value="Тестовое сообщение Relay SMS"> <button type="submit">Отправить</button></form>
{% if test_result %}<p class="{{ 'err' if test_result.failed else 'ok' }}">
{{ test_result.text }}</p>{% endif %}
</body></html>"""


def _framed(html: str, domain: str, status: int = 200) -> Response:
    response = Response(html, status=status, content_type="text/html; charset=utf-8")
    if domain:
        # only the portal may frame its settings (against click-jacking from elsewhere)
        response.headers["Content-Security-Policy"] = (
            f"frame-ancestors 'self' https://{domain} http://{domain}"
        )
    return response


def installed_page(domain: str) -> Response:
    """What the administrator sees in the install frame; finishes the install with BX24.js."""
    return _framed(render_template_string(INSTALLED, style=_STYLE, domain=domain), domain)


def settings_page(context: dict[str, Any], status: int = 200) -> Response:
    """The settings page; `context` as built by settings_view.page_context."""
    html = render_template_string(SETTINGS, style=_STYLE, **context)
    return _framed(html, str(context.get("domain") or ""), status)
