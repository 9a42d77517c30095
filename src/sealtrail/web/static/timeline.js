// Sealtrail viewer: narrow the range by dragging across the timeline's columns.
// Without this script each column is still a link to its own range, and the
// table under "Timeline as a table" links every column.
(function () {
  "use strict";

  function setUp(chart) {
    var svg = chart.querySelector("svg");
    var shade = chart.querySelector(".timeline-selection");
    var columns = Array.prototype.slice.call(chart.querySelectorAll("a.timeline-column"));
    if (!svg || !shade || !columns.length) return;
    var from = null;
    var dragged = false;

    function indexAt(clientX) {
      var box = svg.getBoundingClientRect();
      var share = (clientX - box.left) / Math.max(box.width, 1);
      return Math.max(0, Math.min(columns.length - 1, Math.floor(share * columns.length)));
    }

    function span(a, b) {
      return [Math.min(a, b), Math.max(a, b)];
    }

    function shadeColumns(first, last) {
      var box = svg.getBoundingClientRect();
      var each = box.width / columns.length;
      shade.style.left = first * each + "px";
      shade.style.width = (last - first + 1) * each + "px";
      shade.hidden = false;
    }

    function narrowTo(first, last) {
      var url = new URL(columns[first].getAttribute("href"), window.location.href);
      url.searchParams.set("until", columns[last].getAttribute("data-end"));
      window.location.assign(url.pathname + url.search);
    }

    chart.addEventListener("pointerdown", function (event) {
      if (event.button !== 0) return;
      from = { x: event.clientX, index: indexAt(event.clientX) };
      dragged = false;
    });

    chart.addEventListener("pointermove", function (event) {
      if (!from) return;
      if (!dragged && Math.abs(event.clientX - from.x) < 5) return;
      if (!dragged && chart.setPointerCapture) chart.setPointerCapture(event.pointerId);
      dragged = true;
      var range = span(from.index, indexAt(event.clientX));
      shadeColumns(range[0], range[1]);
    });

    function finish(event) {
      if (!from) return;
      var start = from.index;
      from = null;
      if (!dragged) return;
      shade.hidden = true;
      if (event.type === "pointercancel") {
        dragged = false;
        return;
      }
      var range = span(start, indexAt(event.clientX));
      narrowTo(range[0], range[1]);
    }

    chart.addEventListener("pointerup", finish);
    chart.addEventListener("pointercancel", finish);
    // A drag ends over one column: its own link must not follow.
    chart.addEventListener(
      "click",
      function (event) {
        if (dragged) {
          event.preventDefault();
          event.stopPropagation();
          dragged = false;
        }
      },
      true
    );
  }

  function start() {
    document.querySelectorAll("[data-timeline]").forEach(setUp);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
