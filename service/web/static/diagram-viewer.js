/*
 * The case's diagram drawn by bpmn-js's NavigatedViewer (served by the app from node_modules).
 *
 * The page carries the server's own SVG drawing and a text list of the steps for screen readers;
 * this script replaces the drawing with the viewer once the viewer has drawn the diagram (if it
 * cannot — no script, an old browser, a failed request — the server's drawing stays). Zoom and pan:
 * the buttons above the drawing, the mouse (wheel with Ctrl, drag), and the keyboard on the
 * focused drawing: + / − zoom, 0 fits, arrow keys move.
 */
(function () {
  "use strict";

  var STEP = 1.25;
  var MOVE = 60;

  function markElements(viewer, marks) {
    var registry = viewer.get("elementRegistry");
    var canvas = viewer.get("canvas");
    Object.keys(marks).forEach(function (id) {
      if (registry.get(id)) {
        canvas.addMarker(id, marks[id]);
      }
    });
  }

  function zoomBy(canvas, factor) {
    var box = canvas.viewbox();
    var centre = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
    canvas.zoom(canvas.zoom() * factor, centre);
  }

  function bindControls(viewer, frame, tools) {
    var canvas = viewer.get("canvas");
    tools.hidden = false;
    tools.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-zoom]");
      if (!button) {
        return;
      }
      var action = button.getAttribute("data-zoom");
      if (action === "in") {
        zoomBy(canvas, STEP);
      } else if (action === "out") {
        zoomBy(canvas, 1 / STEP);
      } else {
        canvas.zoom("fit-viewport", "auto");
      }
    });
    frame.tabIndex = 0;
    frame.addEventListener("keydown", function (event) {
      var moves = { ArrowLeft: [MOVE, 0], ArrowRight: [-MOVE, 0], ArrowUp: [0, MOVE], ArrowDown: [0, -MOVE] };
      if (event.key === "+" || event.key === "=") {
        zoomBy(canvas, STEP);
      } else if (event.key === "-" || event.key === "_") {
        zoomBy(canvas, 1 / STEP);
      } else if (event.key === "0") {
        canvas.zoom("fit-viewport", "auto");
      } else if (moves[event.key]) {
        canvas.scroll({ dx: moves[event.key][0], dy: moves[event.key][1] });
      } else {
        return;
      }
      event.preventDefault();
    });
  }

  function show(frame, tools, drawing) {
    var holder = document.createElement("div");
    holder.className = "bpmn-viewer";
    var viewer = new window.BpmnJS({ container: holder });
    return viewer.importXML(drawing.xml).then(function () {
      // Swap only once the viewer has drawn: until then (or if it fails) the server's SVG stays.
      while (frame.firstChild) {
        frame.removeChild(frame.firstChild);
      }
      frame.appendChild(holder);
      frame.classList.add("with-viewer");
      viewer.get("canvas").resized();
      viewer.get("canvas").zoom("fit-viewport", "auto");
      markElements(viewer, drawing.marks || {});
      bindControls(viewer, frame, tools);
      frame.setAttribute("data-viewer", "ready");
    });
  }

  function start() {
    var frame = document.querySelector(".diagram[data-viewer-url]");
    var tools = document.querySelector(".diagram-tools");
    if (!frame || !tools || typeof window.BpmnJS !== "function" || !window.fetch) {
      return;
    }
    fetch(frame.getAttribute("data-viewer-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("diagram: HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (drawing) { return show(frame, tools, drawing); })
      .catch(function (error) {
        frame.setAttribute("data-viewer", "failed");
        if (window.console) {
          window.console.warn(error);
        }
      });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
