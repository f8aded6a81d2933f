/*
 * The analysts' modeler: bpmn-js's Modeler (served by the app from node_modules) on a process's
 * live version. The edited XML goes to the app's own endpoints (see service/web/modeler.py):
 * validate (problems listed and marked on their elements), diff against the live version (listed
 * and marked), the legal features run on it (progress, then results per feature) and deploy
 * (refused without passed features unless a reason is given, which is logged).
 */
(function () {
  "use strict";

  var root = document.getElementById("modeler");
  if (!root || typeof window.BpmnJS !== "function" || !window.fetch) {
    return;
  }
  var data = root.dataset;
  var modeler = new window.BpmnJS({ container: document.getElementById("modeler-canvas") });
  var statusLine = document.getElementById("modeler-status");
  var marked = [];
  var lastRun = null;

  function say(text) {
    statusLine.textContent = text;
  }

  function clearList(id) {
    var list = document.getElementById(id);
    while (list.firstChild) {
      list.removeChild(list.firstChild);
    }
    return list;
  }

  function unmark() {
    var canvas = modeler.get("canvas");
    marked.forEach(function (pair) { canvas.removeMarker(pair[0], pair[1]); });
    marked = [];
  }

  function mark(id, marker) {
    if (id && modeler.get("elementRegistry").get(id)) {
      modeler.get("canvas").addMarker(id, marker);
      marked.push([id, marker]);
      return true;
    }
    return false;
  }

  function show(id) {
    var element = id && modeler.get("elementRegistry").get(id);
    if (element) {
      modeler.get("selection").select(element);
      modeler.get("canvas").scrollToElement(element);
    }
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": data.csrf },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (answer) {
        if (!response.ok) {
          var error = new Error(answer.error || data.msgError + " (HTTP " + response.status + ")");
          error.problems = answer.problems || [];
          throw error;
        }
        return answer;
      });
    });
  }

  function currentXml() {
    return modeler.saveXML({ format: true }).then(function (saved) { return saved.xml; });
  }

  function item(list, text, className, elementId) {
    var li = document.createElement("li");
    if (className) {
      li.className = className;
    }
    if (elementId) {
      li.setAttribute("data-element-id", elementId);
      var button = document.createElement("button");
      button.type = "button";
      button.className = "link";
      button.textContent = text;
      button.addEventListener("click", function () { show(elementId); });
      li.appendChild(button);
    } else {
      li.textContent = text;
    }
    list.appendChild(li);
    return li;
  }

  function failed(error) {
    say(error.message);
    var list = clearList("modeler-problems");
    (error.problems || []).forEach(function (text) { item(list, text, "error"); });
  }

  function validate() {
    return currentXml().then(function (xml) { return post(data.validateUrl, { xml: xml }); }).then(function (answer) {
      unmark();
      var list = clearList("modeler-problems");
      answer.problems.forEach(function (problem) {
        var where = problem.element_name || problem.element_id || problem.file || "";
        var text = (problem.severity === "warning" ? data.msgWarning : data.msgErrorLabel) + ": " +
          (where ? where + " — " : "") + (problem.title && problem.title !== problem.kind ? problem.title + ": " : "") +
          problem.message + (problem.hint ? " (" + problem.hint + ")" : "");
        item(list, text, problem.severity, problem.element_id);
        mark(problem.element_id, "problem-" + problem.severity);
      });
      if (!answer.problems.length) {
        item(list, data.msgNoProblems, "");
      }
      root.setAttribute("data-validated", answer.ok ? "ok" : "problems");
      say(answer.ok ? data.msgNoProblems : list.children.length + " × " + data.msgErrorLabel.toLowerCase());
    }).catch(failed);
  }

  function diff() {
    return currentXml().then(function (xml) { return post(data.diffUrl, { xml: xml }); }).then(function (answer) {
      unmark();
      var list = clearList("modeler-changes");
      [["added", data.msgAdded], ["removed", data.msgRemoved], ["changed", data.msgChanged]].forEach(function (kind) {
        answer[kind[0]].forEach(function (change) {
          var facts = Object.keys(change.facts || {}).map(function (fact) {
            return fact + ": " + change.facts[fact][0] + " → " + change.facts[fact][1];
          }).join("; ");
          item(list, kind[1] + ": " + (change.name || change.element_id) + (facts ? " (" + facts + ")" : ""),
            "diff-" + kind[0], kind[0] === "removed" ? null : change.element_id);
          if (kind[0] !== "removed") {
            mark(change.element_id, "diff-" + kind[0]);
          }
        });
      });
      if (!list.children.length) {
        item(list, data.msgNoChanges, "");
      }
    }).catch(failed);
  }

  function showRun(run) {
    var progress = document.getElementById("modeler-progress");
    var state = document.getElementById("modeler-features-state");
    progress.hidden = false;
    progress.max = Math.max(run.total, 1);
    progress.value = run.done;
    root.setAttribute("data-features", run.state);
    if (run.state === "running") {
      state.textContent = data.msgRunning + " " + run.done + " / " + (run.total || "…");
      return;
    }
    state.textContent = run.state === "passed" ? data.msgPassed : data.msgFailed;
    var list = clearList("modeler-features");
    run.features.forEach(function (feature) {
      var text = feature.name + " — " + feature.passed + " ✓" +
        (feature.failed.length ? ", " + feature.failed.length + " ✗: " + feature.failed.join("; ") : "");
      item(list, text, feature.failed.length ? "error" : "", null);
    });
    if (run.state !== "passed" && !run.features.length && run.log_tail) {
      item(list, run.log_tail, "error", null);
    }
  }

  function poll(runId) {
    fetch(data.runUrl.replace("RUN", runId), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (run) {
        showRun(run);
        if (run.state === "running") {
          window.setTimeout(function () { poll(runId); }, 1500);
        }
      })
      .catch(failed);
  }

  function features() {
    return currentXml().then(function (xml) { return post(data.featuresUrl, { xml: xml }); }).then(function (answer) {
      lastRun = answer.run;
      clearList("modeler-features");
      showRun({ state: "running", done: 0, total: 0, features: [] });
      poll(answer.run);
    }).catch(failed);
  }

  function deploy() {
    var reason = document.getElementById("override-reason").value.trim();
    var result = document.getElementById("modeler-deploy-result");
    if (root.getAttribute("data-features") !== "passed" && !reason) {
      result.textContent = data.msgNeedReason;
      return Promise.resolve();
    }
    return currentXml().then(function (xml) {
      return post(data.deployUrl, { xml: xml, run: lastRun, override_reason: reason });
    }).then(function (answer) {
      var fresh = answer.versions.some(function (version) { return version.new; });
      result.textContent = fresh ? data.msgDeployed : data.msgUnchanged;
      root.setAttribute("data-deployed", fresh ? "new" : "unchanged");
    }).catch(function (error) {
      result.textContent = error.message;
      failed(error);
    });
  }

  root.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-action]");
    if (!button) {
      return;
    }
    var actions = { validate: validate, diff: diff, features: features, deploy: deploy };
    button.disabled = true;
    Promise.resolve(actions[button.getAttribute("data-action")]()).then(function () { button.disabled = false; });
  });

  fetch(data.liveUrl, { credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) {
        throw new Error(data.msgError + " (HTTP " + response.status + ")");
      }
      return response.text();
    })
    .then(function (xml) { return modeler.importXML(xml); })
    .then(function () {
      modeler.get("canvas").resized();
      modeler.get("canvas").zoom("fit-viewport", "auto");
      root.setAttribute("data-modeler", "ready");
      say(data.msgLoaded);
    })
    .catch(function (error) { say(error.message); });
})();
