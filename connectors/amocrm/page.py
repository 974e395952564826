"""The settings page (`GET /connectors/amocrm/settings/page`): plain HTML and a little JS.

It holds no data itself: it calls the settings API with either the amoCRM widget's one-time
token (passed in the URL fragment, `#token=…`, so it never reaches a server log) or a relay
admin key the user types in. Stage rows: pipeline id, status id, category, message text.
"""

from __future__ import annotations

HTML = """<!doctype html>
<html lang="ru"><head><meta charset="utf-8">
<title>SMS-рассылки: настройки amoCRM</title>
<style>
 body{font:14px system-ui,sans-serif;margin:1.5em;max-width:60em}
 input,textarea,select{font:inherit} textarea{width:100%;height:3.5em}
 table{border-collapse:collapse;width:100%} td,th{border:1px solid #ccc;padding:.3em}
 #status{margin:.5em 0;color:#555}
</style></head><body>
<h1>SMS при смене этапа сделки</h1>
<p id="cabinet" hidden><a target="_blank" rel="noopener">Открыть кабинет relay</a>
 (ссылка действует 2 минуты)</p>
<p id="keyrow"><label>Ключ API relay (admin): <input id="key" type="password" size="40"></label>
 <button id="load">Загрузить</button></p>
<p><label>Имя отправителя: <input id="sender" maxlength="20"></label></p>
<p><label>ID поля согласия: <input id="consent_field_id" type="number" min="1"></label></p>
<p><label>Текст согласия:<br><textarea id="consent_wording"></textarea></label></p>
<table id="stages"><thead><tr><th>ID воронки</th><th>ID этапа</th><th>Тип</th>
 <th>Текст SMS (шаблон: {{ order.number }}, {{ customer.name }})</th><th></th></tr></thead>
 <tbody></tbody></table>
<p><button id="add">Добавить этап</button> <button id="save">Сохранить</button></p>
<p id="status"></p>
<script>
"use strict";
const token = new URLSearchParams(location.hash.slice(1)).get("token");
if (token) document.getElementById("keyrow").hidden = true;
const api = location.pathname.replace(/\\/page$/, "");
const $ = (id) => document.getElementById(id);
function headers() {
  const h = {"Content-Type": "application/json"};
  if (token) h["X-Auth-Token"] = token; else h["Authorization"] = "Bearer " + $("key").value;
  return h;
}
function row(s) {
  const tr = document.createElement("tr");
  tr.innerHTML = '<td><input class="p" type="number" min="1"></td>' +
    '<td><input class="s" type="number" min="1"></td>' +
    '<td><select class="c"><option>transactional</option><option>marketing</option></select></td>' +
    '<td><textarea class="t"></textarea></td><td><button class="x">✕</button></td>';
  const q = (cls) => tr.querySelector(cls);
  q(".p").value = s.pipeline_id || ""; q(".s").value = s.status_id || "";
  q(".c").value = s.category || "transactional"; q(".t").value = s.text || "";
  tr.querySelector(".x").onclick = () => tr.remove();
  $("stages").tBodies[0].appendChild(tr);
}
function show(body) {
  $("sender").value = body.sender || ""; $("consent_field_id").value = body.consent_field_id || "";
  $("consent_wording").value = body.consent_wording || "";
  $("stages").tBodies[0].innerHTML = ""; (body.stages || []).forEach(row);
  $("status").textContent = "Аккаунт: " + ((body.account || {}).domain || "?") + ", " + body.status;
  if (body.cabinet_url) { $("cabinet").querySelector("a").href = body.cabinet_url;
    $("cabinet").hidden = false; }
}
async function call(method, body) {
  const resp = await fetch(api, {method, headers: headers(), body: body && JSON.stringify(body)});
  const data = await resp.json();
  if (!resp.ok) { $("status").textContent = data.error.message + " " +
    JSON.stringify(data.error.fields); return; }
  show(data); if (method === "PUT") $("status").textContent += " — сохранено";
}
$("load").onclick = () => call("GET");
$("add").onclick = () => row({});
$("save").onclick = () => call("PUT", {
  sender: $("sender").value || null,
  consent_field_id: $("consent_field_id").value ? Number($("consent_field_id").value) : null,
  consent_wording: $("consent_wording").value || null,
  stages: [...$("stages").tBodies[0].rows].map((tr) => ({
    pipeline_id: Number(tr.querySelector(".p").value),
    status_id: Number(tr.querySelector(".s").value),
    category: tr.querySelector(".c").value,
    text: tr.querySelector(".t").value || null})),
});
if (token) call("GET");
</script></body></html>
"""
