/* The list and content pages' progressive enhancement; every page works without it.
   - [data-refresh=N]: reload the page every N seconds (an import's progress);
   - [data-sender-rules]: check a sender name as it is typed (the server's rule repeated;
     the server's check is the truth);
   - [data-preview-url]: a template's preview, updated while the text is edited. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var refresh = document.querySelector("[data-refresh]");
    if (refresh) {
      window.setTimeout(function () { window.location.reload(); },
        1000 * (parseInt(refresh.getAttribute("data-refresh"), 10) || 2));
    }

    // relay/policy/content.py: sender_name_problem (no space at either end)
    var RULES = {
      sms: /^(?:\+?[0-9]{1,15}|(?=[^A-Za-z]*[A-Za-z])[A-Za-z0-9 ._\-]{1,11})$/,
      viber: /^(?=.*[0-9A-Za-z\u0410-\u044f\u0401\u0451])[0-9A-Za-z\u0410-\u044f\u0401\u0451 .,:;!?&'"\u00ab\u00bb()+\/@#\u2116_\-]{1,20}$/
    };
    function valid(channel, value) {
      return value === value.trim() && value !== "" && RULES[channel].test(value);
    }
    document.querySelectorAll("[data-sender-rules]").forEach(function (form) {
      var name = form.querySelector("[name=name]");
      var channel = form.querySelector("[name=channel]");
      var out = form.querySelector("[data-sender-check]");
      if (!name || !channel || !out) { return; }
      function check() {
        var value = name.value;
        var ok = value === "" || valid(channel.value, value);
        out.textContent = value === "" ? "" : (ok ? out.getAttribute("data-ok")
          : out.getAttribute("data-bad-" + channel.value));
        out.className = ok ? "hint" : "error";
        if (ok) { name.removeAttribute("aria-invalid"); } else { name.setAttribute("aria-invalid", "true"); }
      }
      name.addEventListener("input", check);
      channel.addEventListener("change", check);
    });

    document.querySelectorAll("[data-preview-url]").forEach(function (form) {
      var url = form.getAttribute("data-preview-url");
      var out = document.getElementById(form.getAttribute("data-preview-target"));
      var timer = null;
      if (!out || !window.fetch) { return; }
      function update() {
        var body = new FormData(form);
        fetch(url, { method: "POST", body: body, credentials: "same-origin",
                     headers: { "X-Requested-With": "fetch" } })
          .then(function (r) {
            if (!r.ok || r.redirected) { throw new Error("no preview"); }  // e.g. signed out
            return r.text();
          })
          .then(function (html) { out.innerHTML = html; })
          .catch(function () {});
      }
      form.addEventListener("input", function () {
        window.clearTimeout(timer);
        timer = window.setTimeout(update, 400);
      });
    });
  });
})();
