// The site's pin on a Leaflet map: a click places it, a drag moves it, and the latitude and longitude
// inputs follow (typing in them moves the pin back). The inputs stay the form's truth: without
// JavaScript, or from the keyboard, they are enough.
(function () {
  "use strict";
  var box = document.getElementById("pin-map");
  if (!box || typeof L !== "object") return;
  var lat = document.querySelector("input[name=lat]");
  var lon = document.querySelector("input[name=lon]");
  function number(value) {
    var parsed = parseFloat(String(value).replace(",", "."));
    return isFinite(parsed) ? parsed : null;
  }
  var start = [number(box.dataset.lat), number(box.dataset.lon)];
  var known = start[0] !== null && start[1] !== null;
  var map = L.map(box, { scrollWheelZoom: false }).setView(known ? start : [46.6, 2.4], known ? 16 : 5);
  L.tileLayer(box.dataset.tiles, { attribution: box.dataset.attribution, maxZoom: 19 }).addTo(map);
  var marker = L.marker(known ? start : map.getCenter(), { draggable: true, keyboard: false, title: "Repère du site" });
  if (known) marker.addTo(map);
  function place(latlng) {
    marker.setLatLng(latlng);
    if (!map.hasLayer(marker)) marker.addTo(map);
    lat.value = latlng.lat.toFixed(6);
    lon.value = latlng.lng.toFixed(6);
    box.dataset.placed = "true";
  }
  map.on("click", function (event) { place(event.latlng); });
  marker.on("dragend", function () { place(marker.getLatLng()); });
  function typed() {
    var a = number(lat.value), b = number(lon.value);
    if (a === null || b === null || Math.abs(a) > 90 || Math.abs(b) > 180) return;
    marker.setLatLng([a, b]);
    if (!map.hasLayer(marker)) marker.addTo(map);
    map.panTo([a, b]);
  }
  lat.addEventListener("change", typed);
  lon.addEventListener("change", typed);
})();
