// The Live toggle: new events matching the page's filters appear at the top of the list.
// It follows /ui/live (Server-Sent Events of rendered rows) from the moment the page read
// the list; the browser resumes after a dropped connection with Last-Event-ID, so no
// event is skipped or shown twice. The choice is kept in the URL (live=1).
(function () {
  "use strict";

  var source = null;

  function status(text) {
    var box = document.getElementById("live-status");
    if (box) box.textContent = text;
  }

  function table() {
    return document.getElementById("events");
  }

  function insert(html) {
    var events = table();
    if (!events) {
      window.location.reload(); // the page showed no table yet: read it again
      return;
    }
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    var group = template.content.firstElementChild;
    if (!group) return;
    var head = events.querySelector("thead");
    events.insertBefore(group, head ? head.nextSibling : events.firstChild);
    if (window.SealtrailViewer) window.SealtrailViewer.enhance(group);
  }

  function setUrl(on) {
    var url = new URL(window.location.href);
    if (on) url.searchParams.set("live", "1");
    else url.searchParams.delete("live");
    window.history.replaceState(null, "", url.toString());
  }

  function start(button) {
    source = new EventSource(button.getAttribute("data-live-url"));
    var arrived = 0;
    source.addEventListener("rows", function (message) {
      insert(message.data);
      arrived += 1;
      status(arrived === 1 ? "1 new event" : arrived + " new events");
    });
    source.addEventListener("open", function () {
      if (!arrived) status("Live: new events appear at the top.");
    });
    source.addEventListener("error", function () {
      if (source && source.readyState === EventSource.CLOSED) {
        stop(button);
        status("Live stopped: the session ended. Reload the page to continue.");
      } else {
        status("Live: reconnecting…");
      }
    });
    button.setAttribute("aria-pressed", "true");
    setUrl(true);
  }

  function stop(button) {
    if (source) source.close();
    source = null;
    button.setAttribute("aria-pressed", "false");
    setUrl(false);
  }

  function init() {
    var button = document.getElementById("live-toggle");
    if (!button || button.tagName !== "BUTTON") return;
    button.hidden = false;
    button.addEventListener("click", function () {
      if (source) {
        stop(button);
        status("Live is off.");
      } else {
        start(button);
      }
    });
    if (new URL(window.location.href).searchParams.get("live") === "1") start(button);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
