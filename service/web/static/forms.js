// Rows of a list field (teachers, subjects) added and removed in the browser, without a submit.
// Without this script the same buttons submit the form, and the server redraws it with what was
// typed kept and a row added or removed. Loaded as a file of this site: the CSP allows no inline script.
(function () {
  "use strict";

  function renumber(list) {
    var rows = list.querySelectorAll("[data-row]");
    for (var i = 0; i < rows.length; i += 1) {
      var number = rows[i].querySelector("[data-row-number]");
      if (number) { number.textContent = String(i + 1); }
    }
    var count = list.parentNode.querySelector("[data-row-count]");
    if (count) { count.value = String(rows.length); }
  }

  function nextIndex(list, name) {
    var highest = -1;
    var prefix = name + "[";
    var inputs = list.querySelectorAll("[name]");
    for (var i = 0; i < inputs.length; i += 1) {
      var field = inputs[i].getAttribute("name");
      if (field.indexOf(prefix) === 0) {
        var index = parseInt(field.slice(prefix.length), 10);
        if (!isNaN(index) && index > highest) { highest = index; }
      }
    }
    return highest + 1;
  }

  function fill(node, index) {
    var attributes = ["name", "id", "for", "value", "aria-describedby"];
    var all = node.querySelectorAll("*");
    for (var i = 0; i < all.length; i += 1) {
      for (var a = 0; a < attributes.length; a += 1) {
        var value = all[i].getAttribute(attributes[a]);
        if (value && (value.indexOf("__INDEX__") !== -1 || value.indexOf("--INDEX--") !== -1)) {
          all[i].setAttribute(attributes[a], value.split("__INDEX__").join(String(index))
            .split("--INDEX--").join(String(index)));
        }
      }
    }
  }

  function addRow(button) {
    var group = button.parentNode;
    var name = button.value;
    var list = group.querySelector("[data-rows]");
    var template = group.querySelector("template[data-row-template]");
    if (!list || !template) { return false; }
    var row = template.content.firstElementChild.cloneNode(true);
    fill(row, nextIndex(list, name));
    list.appendChild(row);
    renumber(list);
    var first = row.querySelector("input, select, textarea");
    if (first) { first.focus(); }
    return true;
  }

  function removeRow(button) {
    var row = button.closest("[data-row]");
    var list = row && row.parentNode;
    if (!row || !list) { return false; }
    var following = row.nextElementSibling || row.previousElementSibling;
    list.removeChild(row);
    renumber(list);
    var target = following ? following.querySelector("input, select, textarea")
      : list.parentNode.querySelector("button.add-row");
    if (target) { target.focus(); }
    return true;
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.add-row, button.remove-row");
    if (!button || button.closest("fieldset[disabled]")) { return; }
    var done = button.classList.contains("add-row") ? addRow(button) : removeRow(button);
    if (done) { event.preventDefault(); }
  });
}());
