// "Ajouter un créneau": clones the last empty slot row with the next row number. The form works
// without it (three empty rows are always there); this only adds more.
(function () {
  "use strict";
  var button = document.querySelector("[data-add-slot]");
  var container = document.querySelector("[data-slot-rows]");
  if (!button || !container) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    var rows = container.querySelectorAll("[data-slot-row]");
    var last = rows[rows.length - 1];
    var next = 0;
    rows.forEach(function (row) { next = Math.max(next, Number(row.dataset.slotRow) + 1); });
    var from = "slots-" + last.dataset.slotRow + "-";
    var to = "slots-" + next + "-";
    var clone = last.cloneNode(true);
    clone.dataset.slotRow = String(next);
    clone.querySelectorAll("[name], [id], [for], [aria-describedby]").forEach(function (el) {
      ["name", "id", "for", "aria-describedby"].forEach(function (attr) {
        var value = el.getAttribute(attr);
        if (value) el.setAttribute(attr, value.split(from).join(to));
      });
    });
    clone.querySelectorAll("input[type=hidden], .field-errors, [data-existing]").forEach(function (el) { el.remove(); });
    clone.querySelectorAll("input, select, textarea").forEach(function (el) {
      if (el.type === "checkbox") el.checked = false; else el.value = "";
      el.removeAttribute("aria-invalid");
    });
    clone.querySelectorAll(".has-error").forEach(function (el) { el.classList.remove("has-error"); });
    clone.querySelector("legend").textContent = "Créneau " + (rows.length + 1);
    container.appendChild(clone);
    var first = clone.querySelector("select, input");
    if (first) first.focus();
  });
})();
