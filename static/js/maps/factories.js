// Factory map: draws the sites of /api/v1/maps/sites (compact rows) in a client-side cluster; a popup's
// slots and seats are fetched when it opens; "Autour de moi" sorts the sites by distance from the phone.
(function () {
  "use strict";
  var config = document.getElementById("factory-map-config");
  if (!config) return;
  var map = window[config.dataset.map];
  var MARK = "987654321";
  var DAY_LABELS = ["ven.", "sam."];

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function summary(row, pos, sectors) {
    var days = DAY_LABELS.filter(function (_label, i) { return row[pos.days] & (1 << i); }).join(", ");
    var url = config.dataset.siteUrl.replace(MARK, row[pos.id]);
    return '<div class="map-popup"><strong><a href="' + url + '">' + escapeHtml(row[pos.name]) +
      "</a></strong><br>" + escapeHtml(sectors[row[pos.sector]] || row[pos.sector]) + " · " +
      escapeHtml(row[pos.city]) + "<br>" + (days || "") + " · " + row[pos.seats_left] +
      " places restantes<br><em>Chargement des créneaux…</em></div>";
  }

  // {name: [south, north, west, east]}: metropolitan France and the five overseas departments.
  var AREAS = JSON.parse(config.dataset.areas || "{}");
  function inArea(latlng, box) {
    return box && latlng.lat >= box[0] && latlng.lat <= box[1] && latlng.lng >= box[2] && latlng.lng <= box[3];
  }
  Array.prototype.forEach.call(document.querySelectorAll("[data-area]"), function (button) {
    button.addEventListener("click", function () {
      var box = AREAS[button.dataset.area];
      map.fitBounds([[box[0], box[2]], [box[1], box[3]]], { animate: false });
      document.documentElement.dataset.mapArea = button.dataset.area;
    });
  });

  function draw(data) {
    var pos = {};
    data.fields.forEach(function (name, i) { pos[name] = i; });
    var cluster = L.markerClusterGroup({ chunkedLoading: true, showCoverageOnHover: false });
    var markers = new Array(data.sites.length);
    data.sites.forEach(function (row, i) {
      // alt names the focusable marker (Leaflet's default is "Marker"); Enter opens its popup.
      var marker = L.marker([row[pos.lat], row[pos.lon]], { title: row[pos.name], alt: row[pos.name] });
      marker.siteId = row[pos.id];
      marker.bindPopup(function () { return summary(row, pos, data.sectors); });
      markers[i] = marker;
    });
    cluster.addLayers(markers);
    cluster.on("popupopen", function (event) {
      var marker = event.popup._source;
      fetch(config.dataset.popupUrl.replace(MARK, marker.siteId))
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) { event.popup.setContent(html); })
        .catch(function () { /* the summary stays */ });
    });
    map.addLayer(cluster);
    var byId = {};
    markers.forEach(function (marker) { byId[marker.siteId] = marker; });
    // Opens a site's popup, zooming into its cluster first (used by the near-me list and tests).
    window.factoryMap = {
      openSite: function (siteId) {
        var marker = byId[siteId];
        if (marker) cluster.zoomToShowLayer(marker, function () { marker.openPopup(); });
      },
    };
    // The map opens on metropolitan France (the overseas departments are one click away, above it), or
    // on the postcode searched for.
    var center = (config.dataset.center || "").split(",").map(parseFloat);
    var metropole = markers.filter(function (m) { return inArea(m.getLatLng(), AREAS["France métropolitaine"]); });
    // Without animation: a view set while an animated one runs would be undone when it ends.
    var still = { maxZoom: 12, padding: [20, 20], animate: false };
    if (center.length === 2 && isFinite(center[0])) {
      map.setView(center, 11, { animate: false });
    } else if (metropole.length) {
      map.fitBounds(L.featureGroup(metropole).getBounds(), still);
    } else if (markers.length) {
      map.fitBounds(cluster.getBounds(), still);
    }
    document.documentElement.dataset.markersDrawn = String(markers.length);
    window.dispatchEvent(new CustomEvent("factory-map:drawn", { detail: markers.length }));
  }

  fetch(config.dataset.url, { headers: { Accept: "application/json" } })
    .then(function (r) { return r.json(); })
    .then(draw);

  var button = document.getElementById("near-me");
  if (button && navigator.geolocation) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var list = document.getElementById("near-list");
      navigator.geolocation.getCurrentPosition(function (position) {
        var query = config.dataset.query ? config.dataset.query + "&" : "";
        var url = config.dataset.nearUrl + "?" + query + "lat=" + position.coords.latitude +
          "&lon=" + position.coords.longitude;
        fetch(url).then(function (r) { return r.json(); }).then(function (data) {
          var items = data.sites.map(function (s) {
            return '<li><a href="' + config.dataset.siteUrl.replace(MARK, s.id) + '">' + escapeHtml(s.name) +
              "</a> — " + escapeHtml(s.city) + ", " + s.distance_km.toFixed(1).replace(".", ",") + " km · " +
              s.seats_left + " places</li>";
          });
          list.innerHTML = "<h2>Autour de vous</h2><ol class=\"near-sites\">" +
            (items.join("") || '<li class="muted">Aucun site ne correspond aux filtres.</li>') + "</ol>";
          map.setView([position.coords.latitude, position.coords.longitude], 10);
        });
      }, function () {
        list.innerHTML = '<p class="form-errors" role="alert">Position indisponible : indiquez un code postal.</p>';
      });
    });
  }
})();
