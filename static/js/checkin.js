// Gate scanner: reads QR codes from the phone camera (BarcodeDetector where the browser has it, else the
// vendored jsQR), sends the ticket to the server and shows its answer in big colours. Without network it
// checks against the slot's signed list kept in localStorage, queues the check-ins and sends them later;
// the server counts each ticket once whatever the phones send.
(function () {
  "use strict";
  var gate = document.getElementById("gate");
  if (!gate) return;
  var csrf = (document.querySelector("meta[name=csrf-token]") || {}).content || "";
  var slotId = gate.dataset.slotId;
  var listKey = "jou-checkin-list-" + slotId;
  var queueKey = "jou-checkin-queue-" + slotId;
  var answerBox = gate.querySelector("[data-answer]");
  var admittedInput = gate.querySelector("[data-admitted]");
  var offlineStatus = gate.querySelector("[data-offline-status]");
  var LABELS = { valid: "Valide", already_checked_in: "Déjà entré", refused: "Refusé" };

  function text(tag, value) {
    var el = document.createElement(tag);
    el.textContent = value;
    return el;
  }

  function show(answer, offline) {
    answerBox.hidden = false;
    answerBox.className = "gate-answer " + answer.status;
    answerBox.dataset.status = answer.status;
    answerBox.innerHTML = "";
    var title = LABELS[answer.status] || answer.status;
    if (answer.status !== "refused" && answer.party_size) {
      var n = answer.admitted || answer.party_size;
      title += " : " + n + (n === answer.party_size ? "" : " / " + answer.party_size) + " pers.";
    }
    answerBox.appendChild(text("strong", title + (offline ? " (hors connexion)" : "")));
    if (answer.name) answerBox.appendChild(text("span", answer.name + (answer.school ? " · UAI " + answer.school : "")));
    if (answer.reason) answerBox.appendChild(text("p", answer.reason));
    if (answer.warning) answerBox.appendChild(text("p", answer.warning));
    if (navigator.vibrate) navigator.vibrate(answer.status === "valid" ? 80 : [200, 80, 200]);
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body),
    });
  }

  function admitted() {
    var value = admittedInput && admittedInput.value ? parseInt(admittedInput.value, 10) : null;
    if (admittedInput) admittedInput.value = "";
    return value;
  }

  function submit(token) {
    var body = { token: token, admitted: admitted() };
    return post(gate.dataset.scanUrl, body)
      .then(function (r) {
        if (r.status >= 500 || r.status === 0) throw new Error("server");
        return r.json().then(function (data) {
          if (!r.ok) show({ status: "refused", reason: (data.error && data.error.message) || "Erreur." });
          else show(data);
        });
      })
      .catch(function () { return checkOffline(body); });
  }

  // ---- camera ----
  var video = gate.querySelector("[data-camera]");
  var canvas = gate.querySelector("[data-canvas]");
  var cameraStatus = gate.querySelector("[data-camera-status]");
  var detector = null;
  var last = { value: null, at: 0 };
  var busy = false;

  function found(value) {
    var now = Date.now();
    if (busy || (value === last.value && now - last.at < 4000)) return;
    last = { value: value, at: now };
    busy = true;
    submit(value).finally(function () { busy = false; });
  }

  function readFrame() {
    if (video.readyState < 2) return Promise.resolve();
    if (detector) {
      return detector.detect(video).then(function (codes) {
        if (codes.length) found(codes[0].rawValue);
      });
    }
    var w = video.videoWidth, h = video.videoHeight;
    if (!w || !h || typeof jsQR !== "function") return Promise.resolve();
    canvas.width = w;
    canvas.height = h;
    var ctx = canvas.getContext("2d", { willReadFrequently: true });
    ctx.drawImage(video, 0, 0, w, h);
    var code = jsQR(ctx.getImageData(0, 0, w, h).data, w, h, { inversionAttempts: "dontInvert" });
    if (code && code.data) found(code.data);
    return Promise.resolve();
  }

  function loop() {
    readFrame().catch(function () {}).finally(function () { setTimeout(loop, 200); });
  }

  function pickDetector() {
    if (!("BarcodeDetector" in window)) return Promise.resolve(null);
    return window.BarcodeDetector.getSupportedFormats()
      .then(function (formats) {
        return formats.indexOf("qr_code") >= 0 ? new window.BarcodeDetector({ formats: ["qr_code"] }) : null;
      })
      .catch(function () { return null; });
  }

  gate.querySelector("[data-camera-start]").addEventListener("click", function () {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      cameraStatus.textContent = "Caméra indisponible : saisissez le code ci-dessous.";
      return;
    }
    navigator.mediaDevices
      .getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (stream) {
        video.srcObject = stream;
        video.hidden = false;
        return video.play().then(pickDetector);
      })
      .then(function (d) {
        detector = d;
        cameraStatus.textContent = "Caméra active (" + (d ? "BarcodeDetector" : "jsQR") + ").";
        gate.dataset.cameraReady = d ? "barcodedetector" : "jsqr";
        loop();
      })
      .catch(function () {
        cameraStatus.textContent = "Caméra refusée ou absente : saisissez le code ci-dessous.";
      });
  });

  // ---- manual ----
  gate.querySelector("[data-manual]").addEventListener("submit", function (event) {
    event.preventDefault();
    var input = gate.querySelector("[data-token-input]");
    if (input.value.trim()) submit(input.value.trim());
    input.value = "";
  });

  var results = gate.querySelector("[data-search-results]");
  gate.querySelector("[data-search]").addEventListener("submit", function (event) {
    event.preventDefault();
    var q = gate.querySelector("[data-search-input]").value;
    fetch(gate.dataset.searchUrl + "?q=" + encodeURIComponent(q), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        results.innerHTML = "";
        if (!data.results.length) results.appendChild(text("li", "Aucune réservation à ce nom."));
        data.results.forEach(function (item) {
          var li = text("li", item.name + " · " + item.party_size + " pers." + (item.checked_in ? " (déjà entré)" : ""));
          var button = text("button", "Faire entrer");
          button.type = "button";
          button.className = "button";
          button.addEventListener("click", function () { submit(item.token); });
          li.appendChild(document.createTextNode(" "));
          li.appendChild(button);
          results.appendChild(li);
        });
      });
  });

  // ---- offline ----
  function hex(buffer) {
    return Array.prototype.map.call(new Uint8Array(buffer), function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function unhex(value) {
    var out = new Uint8Array(value.length / 2);
    for (var i = 0; i < out.length; i++) out[i] = parseInt(value.substr(i * 2, 2), 16);
    return out;
  }
  // The server signs json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).
  function canonical(value) {
    if (Array.isArray(value)) return "[" + value.map(canonical).join(",") + "]";
    if (value && typeof value === "object") {
      return "{" + Object.keys(value).sort().map(function (k) { return JSON.stringify(k) + ":" + canonical(value[k]); }).join(",") + "}";
    }
    return JSON.stringify(value);
  }
  function verify(signed) {
    if (!window.crypto || !crypto.subtle) return Promise.resolve(false);
    return crypto.subtle
      .importKey("raw", unhex(signed.key), { name: "HMAC", hash: "SHA-256" }, false, ["verify"])
      .then(function (key) {
        return crypto.subtle.verify("HMAC", key, unhex(signed.signature), new TextEncoder().encode(canonical(signed.payload)));
      });
  }
  function digest(token) {
    return crypto.subtle.digest("SHA-256", new TextEncoder().encode(token)).then(hex);
  }
  function bareToken(scanned) {
    var t = scanned.trim();
    var at = t.lastIndexOf("/controle/");
    if (at >= 0) t = t.slice(at + "/controle/".length);
    return t.split("?")[0].split("#")[0].replace(/\/+$/, "");
  }
  function queue() { return JSON.parse(localStorage.getItem(queueKey) || "[]"); }
  function status() {
    var list = localStorage.getItem(listKey);
    offlineStatus.textContent = (list ? "Liste hors connexion enregistrée. " : "Pas de liste hors connexion. ") +
      queue().length + " contrôle(s) en attente d'envoi.";
  }

  function checkOffline(body) {
    var signed = JSON.parse(localStorage.getItem(listKey) || "null");
    if (!signed) {
      show({ status: "refused", reason: "Pas de réseau et pas de liste hors connexion : réessayez." });
      return Promise.resolve();
    }
    var token = bareToken(body.token);
    return verify(signed).then(function (ok) {
      if (!ok) {
        show({ status: "refused", reason: "Liste hors connexion altérée : téléchargez-la à nouveau." });
        return;
      }
      return digest(token).then(function (d) {
        var ticket = signed.payload.tickets.filter(function (t) { return t.digest === d; })[0];
        var pending = queue();
        if (!ticket) {
          show({ status: "refused", reason: "Billet absent de la liste de ce créneau (autre créneau, annulé ou falsifié)." }, true);
        } else if (ticket.checked_in || pending.some(function (e) { return e.token === token; })) {
          show({ status: "already_checked_in", name: ticket.name, party_size: ticket.party_size, reason: "Déjà contrôlé." }, true);
        } else {
          pending.push({ token: token, admitted: body.admitted, checked_in_at: new Date().toISOString() });
          localStorage.setItem(queueKey, JSON.stringify(pending));
          show({ status: "valid", name: ticket.name, party_size: ticket.party_size, admitted: body.admitted }, true);
        }
        status();
      });
    });
  }

  gate.querySelector("[data-offline-download]").addEventListener("click", function () {
    fetch(gate.dataset.listUrl, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (signed) {
        return verify(signed).then(function (ok) {
          if (ok) localStorage.setItem(listKey, JSON.stringify(signed));
          status();
        });
      })
      .catch(status);
  });

  function sync() {
    var pending = queue();
    if (!pending.length) return Promise.resolve();
    return post(gate.dataset.syncUrl, { entries: pending, device: navigator.userAgent.slice(0, 64) })
      .then(function (r) {
        if (!r.ok) throw new Error("sync");
        // Replaying the same batch is harmless: the server answers "already_checked_in" and adds nothing.
        localStorage.setItem(queueKey, JSON.stringify(queue().slice(pending.length)));
        status();
      })
      .catch(status);
  }
  gate.querySelector("[data-offline-sync]").addEventListener("click", sync);
  window.addEventListener("online", sync);
  status();
  if (navigator.onLine) sync();
})();
