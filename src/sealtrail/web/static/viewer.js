// Sealtrail viewer: progressive enhancement for the server-rendered page.
// Without it the page still works: times show in UTC and each row links to its event page.
// With it: local times and relative times, rows that expand in place, keyboard shortcuts.
(function () {
  "use strict";

  var pad = function (n, width) {
    return String(n).padStart(width || 2, "0");
  };

  function localStamp(date) {
    return (
      date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate()) +
      " " + pad(date.getHours()) + ":" + pad(date.getMinutes()) + ":" + pad(date.getSeconds())
    );
  }

  function offsetText(date) {
    var minutes = -date.getTimezoneOffset();
    var sign = minutes >= 0 ? "+" : "-";
    minutes = Math.abs(minutes);
    return sign + pad(Math.floor(minutes / 60)) + ":" + pad(minutes % 60);
  }

  function localIso(date) {
    return localStamp(date).replace(" ", "T") + "." + pad(date.getMilliseconds(), 3) + offsetText(date);
  }

  var zoneName = (function () {
    try {
      return Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (e) {
      return "";
    }
  })();

  var relativeFormat =
    typeof Intl !== "undefined" && Intl.RelativeTimeFormat
      ? new Intl.RelativeTimeFormat(undefined, { numeric: "auto" })
      : null;

  var UNITS = [
    ["year", 365 * 24 * 3600],
    ["month", 30 * 24 * 3600],
    ["week", 7 * 24 * 3600],
    ["day", 24 * 3600],
    ["hour", 3600],
    ["minute", 60],
  ];

  function relative(date, now) {
    var seconds = Math.round((date.getTime() - now) / 1000);
    if (Math.abs(seconds) < 45) return "just now";
    for (var i = 0; i < UNITS.length; i++) {
      var size = UNITS[i][1];
      if (Math.abs(seconds) >= size || UNITS[i][0] === "minute") {
        var count = Math.round(seconds / size);
        if (relativeFormat) return relativeFormat.format(count, UNITS[i][0]);
        var n = Math.abs(count);
        var words = n + " " + UNITS[i][0] + (n === 1 ? "" : "s");
        return count < 0 ? words + " ago" : "in " + words;
      }
    }
    return "";
  }

  function parse(text) {
    var date = new Date(text);
    return isNaN(date.getTime()) ? null : date;
  }

  function showTimes(root) {
    root.querySelectorAll("time[data-local]").forEach(function (el) {
      var date = parse(el.getAttribute("datetime"));
      if (!date) return;
      var utc = el.getAttribute("title") || el.getAttribute("datetime");
      el.textContent = localStamp(date);
      el.setAttribute("title", localIso(date) + (zoneName ? " " + zoneName : "") + "\n" + utc + " (UTC)");
    });
    root.querySelectorAll("time[data-exact]").forEach(function (el) {
      var date = parse(el.getAttribute("datetime"));
      if (!date) return;
      var utc = el.textContent;
      el.setAttribute("title", "Local: " + localIso(date) + (zoneName ? " (" + zoneName + ")" : ""));
      el.textContent = utc;
    });
    refreshRelative(root);
  }

  function refreshRelative(root) {
    var now = Date.now();
    root.querySelectorAll("[data-relative]").forEach(function (el) {
      var date = parse(el.getAttribute("data-relative"));
      if (date) el.textContent = relative(date, now);
    });
  }

  // -- expandable rows ------------------------------------------------------------------

  function toggles() {
    return Array.prototype.slice.call(document.querySelectorAll("button.toggle"));
  }

  function setOpen(button, open) {
    var details = document.getElementById(button.getAttribute("aria-controls"));
    if (!details) return;
    button.setAttribute("aria-expanded", open ? "true" : "false");
    details.hidden = !open;
    if (open) verify(details);
    var row = button.closest("tr");
    if (row) row.classList.toggle("is-open", open);
  }

  function flip(button) {
    setOpen(button, button.getAttribute("aria-expanded") !== "true");
  }

  // The "verified" mark: checked by the server against the signed checkpoint when a
  // row first opens (without this script, the event page shows it).
  function showProof(box, result) {
    var mark = document.createElement("span");
    mark.className = "proof-mark";
    mark.setAttribute("aria-hidden", "true");
    mark.textContent = result.ok ? "✓" : "✗";
    var label = document.createElement("strong");
    label.textContent = result.ok ? "Verified" : "Not verified";
    box.replaceChildren(mark, " ", label, ": " + result.message + ".");
    box.className = "proof " + (result.ok ? "proof-ok" : "proof-bad");
    if (result.root_hash) box.title = "Checkpoint root " + result.root_hash;
  }

  function verify(details) {
    var box = details.querySelector(".proof-pending[data-verify]");
    if (!box || box.hasAttribute("data-loading")) return;
    box.setAttribute("data-loading", "");
    var text = box.querySelector(".proof-text");
    var original = text.cloneNode(true);
    text.textContent = "Checking the inclusion proof against the signed checkpoint…";
    fetch(box.getAttribute("data-verify"), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (result) {
        showProof(box, result);
      })
      .catch(function () {
        box.removeAttribute("data-loading");
        text.replaceWith(original);
      });
  }

  // The row j/k and Escape act on: the focused one, or the one last clicked.
  function markCurrent(row) {
    document.querySelectorAll("tr.event.is-current").forEach(function (other) {
      other.classList.remove("is-current");
    });
    if (row) row.classList.add("is-current");
  }

  function upgradeToggles(root) {
    root.querySelectorAll("a.toggle[data-details]").forEach(function (link) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = link.className;
      button.setAttribute("aria-expanded", "false");
      button.setAttribute("aria-controls", link.getAttribute("data-details"));
      button.setAttribute("data-href", link.getAttribute("href"));
      while (link.firstChild) button.appendChild(link.firstChild);
      link.replaceWith(button);
      button.addEventListener("click", function (event) {
        event.stopPropagation();
        flip(button);
      });
      button.addEventListener("focus", function () {
        markCurrent(button.closest("tr"));
      });
    });

    root.querySelectorAll("tr.event").forEach(function (row) {
      row.addEventListener("click", function (event) {
        if (event.target.closest("a, button, input, select, label")) return;
        var selection = window.getSelection ? String(window.getSelection()) : "";
        if (selection) return;
        var button = row.querySelector("button.toggle");
        if (button) {
          flip(button);
          markCurrent(row);
        }
      });
    });
  }

  // -- keyboard -------------------------------------------------------------------------

  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName));
  }

  function move(step) {
    var all = toggles();
    if (!all.length) return;
    var index = all.indexOf(document.activeElement);
    if (index < 0) {
      var current = document.querySelector("tr.event.is-current button.toggle");
      index = current ? all.indexOf(current) : -1;
    }
    var next = index < 0 ? (step > 0 ? 0 : all.length - 1) : Math.min(all.length - 1, Math.max(0, index + step));
    all[next].focus();
    all[next].closest("tr").scrollIntoView({ block: "nearest" });
  }

  // The one-key shortcuts (/ j k) can be turned off (WCAG 2.1.4): prefs.js keeps the choice.
  function oneKeysOff() {
    return document.documentElement.getAttribute("data-shortcuts") === "off";
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.target.closest && event.target.closest("dialog")) return;
    if (typing(event.target)) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    if ((event.key === "/" || event.key === "j" || event.key === "k") && oneKeysOff()) return;
    if (event.key === "/") {
      var box = document.getElementById("f-q") || document.getElementById("f-phrase");
      if (box) {
        event.preventDefault();
        box.focus();
        box.select();
      }
    } else if (event.key === "j" || (event.key === "ArrowDown" && event.target.matches("button.toggle"))) {
      event.preventDefault();
      move(1);
    } else if (event.key === "k" || (event.key === "ArrowUp" && event.target.matches("button.toggle"))) {
      event.preventDefault();
      move(-1);
    } else if (event.key === "Escape") {
      var group = event.target.closest && event.target.closest("tbody.event-group");
      var button = group
        ? group.querySelector("button.toggle")
        : document.querySelector("tr.event.is-current button.toggle");
      if (button) {
        setOpen(button, false);
        button.focus();
      }
    }
  });

  // -- a phrase that did not parse: put the caret on the offending token ---------------------

  function pointAtPhraseError() {
    var box = document.getElementById("f-phrase");
    if (!box || !box.hasAttribute("data-error-position")) return;
    var start = parseInt(box.getAttribute("data-error-position"), 10) || 0;
    var length = parseInt(box.getAttribute("data-error-length"), 10) || 1;
    box.focus();
    try {
      box.setSelectionRange(start, start + length);
    } catch (e) {
      /* some input types do not support selection */
    }
  }

  // -- on a phone the filters card starts folded, so the first screen shows events -------

  function foldFiltersOnPhones() {
    var card = document.querySelector("details.filters-details");
    if (!card || !window.matchMedia("(max-width: 760px)").matches) return;
    if (card.querySelector(".field-error")) return; // a problem in it stays in view
    card.open = false;
  }

  function start() {
    foldFiltersOnPhones();
    document.documentElement.classList.add("js");
    showTimes(document);
    upgradeToggles(document);
    pointAtPhraseError();
    window.setInterval(function () {
      refreshRelative(document);
    }, 30000);
  }

  // Rows added after the page loaded (the Live toggle, live.js) get the same behaviour.
  window.SealtrailViewer = {
    enhance: function (root) {
      showTimes(root);
      upgradeToggles(root);
    },
  };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
