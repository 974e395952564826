/* Mailing pages, a little progressive enhancement (each page works without it):
   live segment/encoding/cost counts while the text is typed, the fields that matter for the
   chosen channel and recipients, and a mailing's progress refreshed while it sends. */
(function () {
  "use strict";

  function debounce(fn, ms) {
    var t = null;
    return function () { window.clearTimeout(t); t = window.setTimeout(fn, ms); };
  }

  function livePreview(form) {
    var out = document.getElementById("live-counts");
    var url = form.getAttribute("data-preview");
    if (!out || !url) { return; }
    var ask = debounce(function () {
      var data = new FormData(form);
      data.delete("file");
      fetch(url, { method: "POST", body: data, credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (j) { out.textContent = j.error || j.summary || ""; })
        .catch(function () { /* the Preview button still works */ });
    }, 400);
    form.addEventListener("input", function (e) {
      if (e.target.name === "text" || e.target.name === "template" || e.target.name === "channel" ||
          e.target.name === "content") { ask(); }
    });
    form.addEventListener("change", ask);
  }

  function showFor(form) {
    function val(name) {
      var el = form.querySelector("input[name=" + name + "]:checked");
      return el ? el.value : "";
    }
    function toggle(name, on) {
      var el = document.getElementById("f-" + name);
      var box = el && (el.closest("fieldset.radios") || el.closest(".field"));
      if (box) { box.style.display = on ? "" : "none"; }
    }
    function apply() {
      var channel = val("channel"), vt = val("viber_type"), rec = val("recipients");
      var text = val("content") !== "template";
      toggle("viber_type", channel !== "sms" && text);
      toggle("viber_image", channel !== "sms" && text && (vt === "image" || vt === "button_image"));
      toggle("button_caption", channel !== "sms" && text && (vt === "button" || vt === "button_image"));
      toggle("button_url", channel !== "sms" && text && (vt === "button" || vt === "button_image"));
      toggle("book_id", rec === "book");
      toggle("file", rec === "file");
      toggle("numbers", rec === "numbers");
      toggle("template", !text);
      toggle("text", text);
    }
    form.addEventListener("change", apply);
    apply();
  }

  function liveProgress(section) {
    var url = section.getAttribute("data-progress");
    if (!url || section.getAttribute("data-live") !== "1") { return; }
    var timer = window.setInterval(function () {
      fetch(url, { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (p) {
          section.querySelectorAll("[data-field]").forEach(function (el) {
            var v = p[el.getAttribute("data-field")];
            if (v !== undefined) { el.textContent = v; }
          });
          var bar = section.querySelector(".meter > span");
          var meter = section.querySelector(".meter");
          if (bar) { bar.style.width = p.percent + "%"; }
          if (meter) { meter.setAttribute("aria-label", meter.getAttribute("aria-label").replace(/\d+%$/, p.percent + "%")); }
          if (p.status !== "running" || p.complete) {
            window.clearInterval(timer);
            window.location.reload();
          }
        })
        .catch(function () { window.clearInterval(timer); });
    }, 3000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-preview]").forEach(function (f) { livePreview(f); showFor(f); });
    document.querySelectorAll("[data-progress]").forEach(liveProgress);
  });
})();
