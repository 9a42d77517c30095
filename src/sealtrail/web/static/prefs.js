// Sealtrail viewer: the keyboard help (?) and the viewer's own display settings.
// Both settings (one-key shortcuts on or off, relative or absolute times) are kept
// in this browser's localStorage, under the signed-in user of this organisation.
(function () {
  "use strict";

  var root = document.documentElement;
  var DEFAULTS = { oneKeys: true, times: "relative" };

  function storageKey(bar) {
    return "sealtrail.prefs:" + bar.getAttribute("data-prefs-key");
  }

  function load(bar) {
    var prefs = { oneKeys: DEFAULTS.oneKeys, times: DEFAULTS.times };
    try {
      var saved = JSON.parse(window.localStorage.getItem(storageKey(bar)) || "{}");
      if (typeof saved.oneKeys === "boolean") prefs.oneKeys = saved.oneKeys;
      if (saved.times === "absolute" || saved.times === "relative") prefs.times = saved.times;
    } catch (e) {
      /* no storage (private mode) or a value from elsewhere: the defaults */
    }
    return prefs;
  }

  function save(bar, prefs) {
    try {
      window.localStorage.setItem(storageKey(bar), JSON.stringify(prefs));
    } catch (e) {
      /* not kept, but applied to this page */
    }
  }

  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName));
  }

  function start() {
    var bar = document.getElementById("view-prefs");
    var dialog = document.getElementById("keyboard-help");
    if (!bar || !dialog) return;
    var opener = document.getElementById("keyboard-help-open");
    var closer = document.getElementById("keyboard-help-close");
    var timeToggle = document.getElementById("time-toggle");
    var oneKeys = document.getElementById("one-keys");
    var offNote = document.getElementById("one-keys-off-note");
    var prefs = load(bar);
    var returnTo = null;

    function apply() {
      root.setAttribute("data-shortcuts", prefs.oneKeys ? "on" : "off");
      root.classList.toggle("times-absolute", prefs.times === "absolute");
      timeToggle.setAttribute("aria-pressed", prefs.times === "relative" ? "true" : "false");
      oneKeys.checked = prefs.oneKeys;
      offNote.hidden = prefs.oneKeys;
    }

    function open() {
      if (dialog.open) return;
      returnTo = document.activeElement;
      dialog.showModal();
    }

    dialog.addEventListener("close", function () {
      if (returnTo && returnTo.focus) returnTo.focus();
      returnTo = null;
    });
    opener.addEventListener("click", open);
    closer.addEventListener("click", function () {
      dialog.close();
    });
    oneKeys.addEventListener("change", function () {
      prefs.oneKeys = oneKeys.checked;
      save(bar, prefs);
      apply();
    });
    timeToggle.addEventListener("click", function () {
      prefs.times = prefs.times === "relative" ? "absolute" : "relative";
      save(bar, prefs);
      apply();
    });
    document.addEventListener("keydown", function (event) {
      if (event.key !== "?" || event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
      if (!prefs.oneKeys || typing(event.target) || dialog.open) return;
      event.preventDefault();
      open();
    });

    apply();
    bar.hidden = false;
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
