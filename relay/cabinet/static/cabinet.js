/* A little progressive enhancement: every page works without it. */
(function () {
  "use strict";
  document.documentElement.classList.remove("no-js");
  document.documentElement.classList.add("js");
  document.addEventListener("DOMContentLoaded", function () {
    // the navigation folds behind a "Menu" button on narrow screens
    var button = document.querySelector(".menu-button");
    var nav = document.getElementById("site-nav");
    if (button && nav) {
      button.addEventListener("click", function () {
        var open = nav.classList.toggle("open");
        button.setAttribute("aria-expanded", open ? "true" : "false");
      });
    }
    // a form sent once is not sent twice by a second click
    document.querySelectorAll("form").forEach(function (form) {
      form.addEventListener("submit", function () {
        form.querySelectorAll("button[type=submit]").forEach(function (b) {
          window.setTimeout(function () { b.disabled = true; }, 0);
        });
      });
    });
    // "copy" buttons next to links shown once
    document.querySelectorAll("[data-copy]").forEach(function (b) {
      b.hidden = false;
      b.addEventListener("click", function () {
        var target = document.getElementById(b.getAttribute("data-copy"));
        if (target && navigator.clipboard) { navigator.clipboard.writeText(target.textContent.trim()); }
      });
    });
  });
})();
