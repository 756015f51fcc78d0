// School autocomplete of the intervention form: asks /api/v1/schools?q= as the volunteer types and
// puts the chosen school's UAI in the hidden input. Also shows the school or the venue fields per the
// "Lieu" choice. Without it the form still works: a UAI typed in the search box is read by the server.
(function () {
  "use strict";
  var search = document.querySelector("[data-school-search]");
  var hidden = document.querySelector("[data-school-uai]");
  var list = document.getElementById("school-options");
  var chosen = document.querySelector("[data-school-chosen]");

  var radios = document.querySelectorAll("[data-place]");
  function showPlace() {
    var place = "school";
    radios.forEach(function (r) { if (r.checked) place = r.value; });
    document.querySelectorAll("[data-place-panel]").forEach(function (panel) {
      panel.hidden = panel.dataset.placePanel !== place;
    });
  }
  radios.forEach(function (r) { r.addEventListener("change", showPlace); });
  showPlace();

  if (!search || !hidden || !list) return;
  var timer = null;
  var latest = 0;

  function close() {
    list.hidden = true;
    list.innerHTML = "";
    search.setAttribute("aria-expanded", "false");
  }

  function choose(school) {
    hidden.value = school.uai;
    search.value = school.name + " (" + school.city + ")";
    if (chosen) chosen.textContent = "UAI " + school.uai + " · " + school.kind_label;
    close();
  }

  function show(schools) {
    list.innerHTML = "";
    schools.forEach(function (school) {
      var item = document.createElement("li");
      item.setAttribute("role", "option");
      item.tabIndex = -1;
      item.dataset.uai = school.uai;
      item.textContent = school.name + " — " + school.city + " (" + school.uai + ")";
      item.addEventListener("mousedown", function (event) { event.preventDefault(); });
      item.addEventListener("click", function () { choose(school); });
      item.addEventListener("keydown", function (event) {
        if (event.key === "Enter") { event.preventDefault(); choose(school); }
      });
      list.appendChild(item);
    });
    if (!schools.length) {
      var none = document.createElement("li");
      none.className = "muted";
      none.textContent = "Aucun établissement trouvé.";
      list.appendChild(none);
    }
    list.hidden = false;
    search.setAttribute("aria-expanded", "true");
  }

  function ask() {
    var q = search.value.trim();
    if (q.length < 2) { close(); return; }
    var ticket = ++latest;
    fetch(search.dataset.api + "?limit=8&q=" + encodeURIComponent(q), { headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : []; })
      .then(function (schools) { if (ticket === latest) show(schools); })
      .catch(function () { close(); });
  }

  search.addEventListener("input", function () {
    hidden.value = "";
    if (chosen) chosen.textContent = "";
    clearTimeout(timer);
    timer = setTimeout(ask, 200);
  });
  search.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown" && !list.hidden && list.firstElementChild) {
      event.preventDefault();
      list.firstElementChild.focus();
    } else if (event.key === "Escape") {
      close();
    }
  });
  search.addEventListener("blur", function () { setTimeout(close, 150); });
})();
