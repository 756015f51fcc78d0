// Gate scanner: reads QR codes from the phone camera (BarcodeDetector where the browser has it, else the
// vendored jsQR), sends the ticket to the server and shows ONE verdict per ticket, large, until the next
// different code (a code that stays in view is not sent again). Entry or exit, undo of the last scan,
// women/men taps for a party whose breakdown is unknown and for walk-ins, a live counter of who is on
// site. Without network it checks against the slot's signed list kept in localStorage, queues the
// check-ins (each with its own key) and sends them later; the server counts each ticket once whatever
// the phones send.
(function () {
  "use strict";
  var gate = document.getElementById("gate");
  if (!gate) return;
  var csrf = (document.querySelector("meta[name=csrf-token]") || {}).content || "";
  var slotId = gate.dataset.slotId;
  var base = gate.dataset.baseUrl;
  var listKey = "jou-checkin-list-" + slotId;
  var queueKey = "jou-checkin-queue-" + slotId;
  var answerBox = gate.querySelector("[data-answer]");
  var admittedInput = gate.querySelector("[data-admitted]");
  var offlineStatus = gate.querySelector("[data-offline-status]");
  var LABELS = { valid: "Valide", already_checked_in: "Déjà entré", refused: "Refusé" };
  // A code still in view within this delay is the same presentation: not sent again.
  var SAME_CODE_MS = 5000;

  function text(tag, value, className) {
    var el = document.createElement(tag);
    el.textContent = value;
    if (className) el.className = className;
    return el;
  }
  function persons(n) { return n + (n > 1 ? " personnes" : " personne"); }
  function key() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }
  function direction() {
    var checked = gate.querySelector("[data-direction]:checked");
    return checked ? checked.value : "entry";
  }

  // ---- feedback: sound and vibration, distinct per verdict ----
  var audio = null;
  function tone(freq, start, length) {
    var osc = audio.createOscillator(), gain = audio.createGain();
    osc.frequency.value = freq;
    osc.type = "square";
    gain.gain.value = 0.08;
    osc.connect(gain);
    gain.connect(audio.destination);
    osc.start(audio.currentTime + start);
    osc.stop(audio.currentTime + start + length);
  }
  function signal(status) {
    var patterns = { valid: 90, already_checked_in: [120, 80, 120], refused: [400] };
    if (navigator.vibrate) navigator.vibrate(patterns[status] || 0);
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      if (status === "valid") tone(1320, 0, 0.12);
      else if (status === "already_checked_in") { tone(660, 0, 0.12); tone(660, 0.2, 0.12); }
      else tone(200, 0, 0.45);
    } catch (e) { /* no sound on this browser */ }
  }

  // ---- the verdict ----
  function show(answer, offline) {
    answerBox.className = "gate-answer " + answer.status;
    answerBox.dataset.status = answer.status;
    answerBox.innerHTML = "";
    var title = LABELS[answer.status] || answer.status;
    if (answer.direction === "exit" && answer.status === "valid") title = "Sortie";
    if (answer.status !== "refused" && answer.party_size) {
      var n = answer.admitted || answer.party_size;
      title += " : " + n + (n === answer.party_size ? "" : " / " + answer.party_size) + " pers.";
    }
    answerBox.appendChild(text("strong", title + (offline ? " (hors connexion)" : "")));
    if (answer.name) answerBox.appendChild(text("span", answer.name + (answer.school ? " · UAI " + answer.school : "")));
    if (answer.status === "valid" && answer.direction !== "exit" && answer.remaining) {
      answerBox.appendChild(text("p", "Encore attendu·e·s : " + persons(answer.remaining) + " (scannez à nouveau à leur arrivée)."));
    }
    if (answer.reason) answerBox.appendChild(text("p", answer.reason));
    // The day's warning is on the page already; the verdict stays short.
    if (answer.warning && !document.querySelector("[data-day-warning]")) answerBox.appendChild(text("p", answer.warning));
    if (answer.status === "valid" && answer.id) {
      if (answer.direction !== "exit" && answer.breakdown_known === false) breakdown(answer);
      var undo = text("button", "Annuler ce contrôle", "button");
      undo.type = "button";
      undo.dataset.undo = answer.id;
      undo.addEventListener("click", function () { undoScan(answer.id); });
      answerBox.appendChild(undo);
    }
    signal(answer.status);
  }

  function stepper(label, onChange) {
    var wrap = text("span", "", "stepper");
    var value = 0;
    var out = document.createElement("output");
    out.textContent = "0";
    function button(sign, name) {
      var b = text("button", sign, "button");
      b.type = "button";
      b.setAttribute("aria-label", name);
      b.addEventListener("click", function () {
        value = Math.max(0, value + (sign === "+" ? 1 : -1));
        out.textContent = String(value);
        onChange(value);
      });
      return b;
    }
    wrap.appendChild(text("span", label));
    wrap.appendChild(button("−", label + " : moins un"));
    wrap.appendChild(out);
    wrap.appendChild(button("+", label + " : plus un"));
    return wrap;
  }

  // A party whose booking did not say women/men: tap them; saved at each tap (the rest unspecified).
  function breakdown(answer) {
    var counts = { female: 0, male: 0 };
    var box = text("div", "", "breakdown");
    box.dataset.breakdown = answer.id;
    var status = text("span", "Répartition inconnue : touchez pour compter.");
    function save(name) {
      return function (value) {
        counts[name] = value;
        if (counts.female + counts.male > answer.admitted) {
          status.textContent = "Au plus " + persons(answer.admitted) + ".";
          return;
        }
        post(base + "/repartition/" + answer.id, counts).then(function (r) {
          status.textContent = r.ok ? "Enregistré." : "Non enregistré.";
        }).catch(function () { status.textContent = "Non enregistré (pas de réseau)."; });
      };
    }
    box.appendChild(stepper(gate.dataset.women, save("female")));
    box.appendChild(stepper(gate.dataset.men, save("male")));
    box.appendChild(status);
    answerBox.appendChild(box);
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body),
    });
  }
  function errorOf(data) { return (data && data.error && data.error.message) || "Erreur."; }

  function admitted() {
    var value = admittedInput && admittedInput.value ? parseInt(admittedInput.value, 10) : null;
    if (admittedInput) admittedInput.value = "";
    return value;
  }

  function submit(token) {
    var body = { token: token, admitted: admitted(), direction: direction(), client_key: key() };
    return post(gate.dataset.scanUrl, body)
      .then(function (r) {
        if (r.status >= 500 || r.status === 0) throw new Error("server");
        return r.json().then(function (data) {
          if (!r.ok) show({ status: "refused", reason: errorOf(data) });
          else show(data);
          refresh();
        });
      })
      .catch(function () { return checkOffline(body); });
  }

  function undoScan(id) {
    post(base + "/annuler/" + id, {}).then(function (r) {
      return r.json().then(function (data) {
        answerBox.className = "gate-answer";
        answerBox.dataset.status = r.ok ? "undone" : "refused";
        answerBox.innerHTML = "";
        answerBox.appendChild(text("strong", r.ok ? "Contrôle annulé" : "Annulation refusée"));
        answerBox.appendChild(text("p", r.ok ? persons(data.admitted) + " retirée(s) du comptage." : errorOf(data)));
        last.value = null; // the same ticket may now be scanned again at once
        refresh();
      });
    });
  }

  // ---- who is on site ----
  function refresh() {
    return fetch(gate.dataset.presenceUrl, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) return;
        ["arrived", "expected", "on_site"].forEach(function (name) {
          gate.querySelector('[data-count="' + name + '"]').textContent = data.slot[name];
        });
        gate.querySelector("[data-seats-left]").textContent = data.seats_left;
        gate.querySelector("[data-site-on-site]").textContent = data.total.on_site;
      })
      .catch(function () {});
  }
  setInterval(refresh, 5000);

  // ---- camera ----
  var video = gate.querySelector("[data-camera]");
  var canvas = gate.querySelector("[data-canvas]");
  var cameraStatus = gate.querySelector("[data-camera-status]");
  var startButton = gate.querySelector("[data-camera-start]");
  var detector = null;
  var last = { value: null, at: 0 };
  var busy = false;

  function found(value) {
    var now = Date.now();
    if (value === last.value && now - last.at < SAME_CODE_MS) {
      last.at = now; // still in view: the verdict shown is its verdict
      return;
    }
    if (busy) return;
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
    readFrame().catch(function () {}).finally(function () { setTimeout(loop, 150); });
  }

  function pickDetector() {
    if (!("BarcodeDetector" in window)) return Promise.resolve(null);
    return window.BarcodeDetector.getSupportedFormats()
      .then(function (formats) {
        return formats.indexOf("qr_code") >= 0 ? new window.BarcodeDetector({ formats: ["qr_code"] }) : null;
      })
      .catch(function () { return null; });
  }

  startButton.addEventListener("click", function () {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      cameraStatus.textContent = "Caméra indisponible : saisissez le code ci-dessous.";
      cameraStatus.hidden = false;
      return;
    }
    navigator.mediaDevices
      .getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (stream) {
        video.srcObject = stream;
        video.hidden = false;
        startButton.hidden = true;
        return video.play().then(pickDetector);
      })
      .then(function (d) {
        detector = d;
        cameraStatus.textContent = "";
        gate.dataset.cameraReady = d ? "barcodedetector" : "jsqr";
        loop();
      })
      .catch(function () {
        cameraStatus.textContent = "Caméra refusée ou absente : saisissez le code ci-dessous.";
        cameraStatus.hidden = false;
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
          var state = item.checked_in ? " (tous entrés)" : item.entered ? " (" + item.entered + " entrés)" : "";
          var li = text("li", item.name + " · " + item.party_size + " pers." + state);
          var button = text("button", direction() === "exit" ? "Faire sortir" : "Faire entrer", "button");
          button.type = "button";
          button.addEventListener("click", function () { submit(item.token); });
          li.appendChild(button);
          results.appendChild(li);
        });
      });
  });

  // ---- walk-ins: one tap per person ----
  var walkInStatus = gate.querySelector("[data-walk-in-status]");
  var undoWalkIn = gate.querySelector("[data-undo-walk-in]");
  var override = gate.querySelector("[data-override]");
  var lastWalkIn = null;
  Array.prototype.forEach.call(gate.querySelectorAll("[data-walk-in]"), function (button) {
    button.addEventListener("click", function () {
      var body = { client_key: key(), override: !!(override && override.checked) };
      body[button.dataset.walkIn] = 1;
      post(gate.dataset.walkInUrl, body).then(function (r) {
        return r.json().then(function (data) {
          if (!r.ok) { walkInStatus.textContent = errorOf(data); signal("refused"); return; }
          lastWalkIn = data.id;
          undoWalkIn.hidden = false;
          walkInStatus.textContent = "Entrée enregistrée : " + button.textContent.replace("+1 ", "") + ".";
          signal("valid");
          refresh();
        });
      }).catch(function () { walkInStatus.textContent = "Pas de réseau : réessayez."; });
    });
  });
  undoWalkIn.addEventListener("click", function () {
    if (!lastWalkIn) return;
    post(base + "/sans-billet/" + lastWalkIn + "/annuler", {}).then(function (r) {
      return r.json().then(function (data) {
        walkInStatus.textContent = r.ok ? "Dernière entrée sans billet annulée." : errorOf(data);
        if (r.ok) { lastWalkIn = null; undoWalkIn.hidden = true; refresh(); }
      });
    });
  });
  gate.querySelector("[data-walk-out]").addEventListener("click", function () {
    post(gate.dataset.walkOutUrl, { persons: 1, client_key: key() }).then(function (r) {
      return r.json().then(function (data) {
        walkInStatus.textContent = r.ok ? "Sortie sans billet enregistrée." : errorOf(data);
        refresh();
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
      .then(function (k) {
        return crypto.subtle.verify("HMAC", k, unhex(signed.signature), new TextEncoder().encode(canonical(signed.payload)));
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
    var n = queue().length;
    offlineStatus.textContent = (list ? "Liste hors connexion enregistrée. " : "Pas de liste hors connexion. ") +
      (n ? n + (n > 1 ? " contrôles" : " contrôle") + " en attente d'envoi." : "Aucun contrôle en attente.");
    offlineStatus.dataset.pending = n;
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
        var mine = pending.filter(function (e) { return e.token === token && e.direction === body.direction; });
        var sent = mine.reduce(function (sum, e) { return sum + (e.admitted || (ticket ? ticket.party_size : 0)); }, 0);
        if (!ticket) {
          show({ status: "refused", reason: "Billet absent de la liste de ce créneau (autre créneau, annulé ou falsifié)." }, true);
        } else if (body.direction === "entry" && (ticket.entered || 0) + sent >= ticket.party_size) {
          show({ status: "already_checked_in", name: ticket.name, party_size: ticket.party_size, reason: "Déjà contrôlé." }, true);
        } else {
          pending.push({ token: token, admitted: body.admitted, direction: body.direction,
                         client_key: body.client_key, checked_in_at: new Date().toISOString() });
          localStorage.setItem(queueKey, JSON.stringify(pending));
          show({ status: "valid", direction: body.direction, name: ticket.name, party_size: ticket.party_size,
                 admitted: body.admitted }, true);
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
        // Sending the same batch again is harmless: each entry's key makes the server add it once.
        localStorage.setItem(queueKey, JSON.stringify(queue().slice(pending.length)));
        status();
        refresh();
      })
      .catch(status);
  }
  gate.querySelector("[data-offline-sync]").addEventListener("click", sync);
  window.addEventListener("online", sync);
  status();
  if (navigator.onLine) sync();
})();
