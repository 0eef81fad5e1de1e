// The volunteer's scanner (/scan/). Talks only to the check-in API with the device token.
// Everything read from a QR or returned by the server is untrusted: it is shown with
// textContent only, never as HTML.
(() => {
  "use strict";

  const config = JSON.parse(document.getElementById("scanner-config").textContent);
  const T = JSON.parse(document.getElementById("scanner-strings").textContent);
  const $ = (id) => document.getElementById(id);
  const statusBar = document.querySelector(".scanner-bar");
  const fmt = (text, values) => text.replace(/\{(\w+)\}/g, (m, key) => (key in values ? String(values[key]) : m));

  const TICKET = /^JUB1:([A-Z2-7]{20})$/;
  const BARE_TICKET = /^[A-Z2-7]{20}$/;
  // A pairing QR holds this page's address with the code in its fragment (…/scan/#pair=<code>),
  // which a phone's own camera app opens; QRs made before that hold JUBSCAN:<code>. Matched
  // upper-cased.
  const PAIRING = /^(?:JUBSCAN:|HTTPS?:\/\/[^\s#]+#PAIR=)([A-Z0-9]{8})$/;
  const PAIRING_LINK = /^#pair=([A-Za-z0-9]{8})$/;
  // How long the big result shows before the "last scan" line takes over. The camera goes on
  // decoding meanwhile: the next ticket replaces the panel at once.
  const RESULT_MS = 2000;
  // The same code from the camera is read once while it stays in view: each sighting within
  // this window extends it (a ticket held up for a while is not admitted twice).
  const DEBOUNCE_MS = 4000;
  // The verdict comes from the manifest at once; the server's answer follows. A server that
  // has not answered within this long is treated as away: the scan is queued as offline.
  const REDEEM_TIMEOUT_MS = 1000;
  const API_TIMEOUT_MS = 15000;
  // Nothing in view for this long: decode a downscaled frame twice a second, not every frame.
  const IDLE_AFTER_MS = 4000;
  const IDLE_EVERY_MS = 500;
  const IDLE_SIDE = 640;
  // The zxing options that cost half of the defaults per 720p frame, with the same success.
  const READER_OPTIONS = { formats: ["QRCode"], tryInvert: false, maxNumberOfSymbols: 1 };
  const COUNTS_MS = 5000;
  const MANIFEST_MS = 30000;
  const TOKEN_KEY = "jubileum.scanner.token";
  // The server is there but cannot serve for now: its database gone for a moment (503), or the
  // proxy in front of a restarting server (502, 504). The phone works offline until it answers.
  const UNAVAILABLE = new Set([502, 503, 504]);

  const state = {
    token: localStorage.getItem(TOKEN_KEY),
    device: null,
    activities: [],
    activity: null,
    online: navigator.onLine,
    stream: null,
    cameras: [],
    cameraIndex: 0,
    manifestLoaded: false, // this activity's ticket list has arrived once
    warmStream: null, // the camera opened while the activities call runs
    lastCode: null, // the camera's last code and when it was last seen (typed codes not)
    lastCodeAt: 0,
    busy: false, // a pairing is on its way
    lastScan: null, // the answer the "Laatste scan" line shows once the big result has gone
    resultTimer: null,
    announceTimer: null,
    lastTicket: null,
    refusedPairing: null,
  };

  // --- IndexedDB: key-value settings, the manifest and the queue of offline scans -----------

  let dbPromise = null;
  function db() {
    if (!dbPromise) {
      dbPromise = new Promise((resolve, reject) => {
        const request = indexedDB.open("jubileum-scanner", 1);
        request.onupgradeneeded = () => {
          const d = request.result;
          d.createObjectStore("kv");
          d.createObjectStore("tickets");
          d.createObjectStore("queue", { keyPath: "nonce" });
        };
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
    }
    return dbPromise;
  }
  async function tx(store, mode, fn) {
    const d = await db();
    return new Promise((resolve, reject) => {
      const t = d.transaction(store, mode);
      let value;
      const result = fn(t.objectStore(store));
      if (result) result.onsuccess = () => { value = result.result; };
      t.oncomplete = () => resolve(value);
      t.onerror = () => reject(t.error);
    });
  }
  const kvGet = (key) => tx("kv", "readonly", (s) => s.get(key));
  const kvSet = (key, value) => tx("kv", "readwrite", (s) => s.put(value, key));
  const ticketKey = (hash) => `${state.activity.id}:${hash}`;

  // --- Status bar ---------------------------------------------------------------------------

  async function queueSize() {
    return (await tx("queue", "readonly", (s) => s.count())) || 0;
  }
  async function showStatus() {
    const net = $("net-state");
    net.textContent = state.online ? T.online : T.offline;
    net.className = `net ${state.online ? "net--online" : "net--offline"}`;
    const n = await queueSize();
    $("queue-state").textContent = n === 0 ? T.queue_zero : n === 1 ? T.queue_one : fmt(T.queue_many, { n });
  }
  function setOnline(online) {
    const was = state.online;
    state.online = online;
    showStatus();
    if (online && !was) {
      flushQueue();
      refreshManifest();
    }
  }

  // --- API ----------------------------------------------------------------------------------

  class Offline extends Error {}
  class Revoked extends Error {}

  // `timeout` (ms): a server that takes longer counts as away (Offline), as one that is down; a
  // call on a stalled connection would otherwise wait for ever (and hold up the queue behind it).
  async function api(method, path, body, { timeout = API_TIMEOUT_MS } = {}) {
    if (!navigator.onLine) {
      setOnline(false);
      throw new Offline();
    }
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeout);
    let response;
    try {
      response = await fetch(config.api + path, {
        signal: abort.signal,
        method,
        headers: {
          Accept: "application/json",
          ...(body ? { "Content-Type": "application/json" } : {}),
          ...(state.token ? { Authorization: `Bearer ${state.token}` } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
        cache: "no-store",
        credentials: "omit",
      });
    } catch (error) {
      setOnline(false);
      throw new Offline();
    } finally {
      clearTimeout(timer);
    }
    if (UNAVAILABLE.has(response.status)) {
      setOnline(false);
      throw new Offline();
    }
    setOnline(true);
    // Only a 401 ends the pairing: the server knows the token no longer counts.
    if (response.status === 401 && state.token) {
      unpair(T.revoked);
      throw new Revoked();
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = new Error(data.message || T.error);
      error.code = data.code;
      error.status = response.status;
      throw error;
    }
    return data;
  }

  // --- Camera and decoding ------------------------------------------------------------------

  // The decoder: a Worker where the browser has one (OffscreenCanvas, ImageBitmap), started at
  // page load so that the WebAssembly is downloaded and compiled while the page gets ready;
  // otherwise the same reader on this thread, with one canvas for every frame. <html
  // data-decoder="worker|page"> says which one is ready (for the tests and the bench).
  const decoder = {
    worker: null,
    pending: new Map(),
    nextId: 0,
    reader: null, // the main-thread fallback: a promise of the loaded ZXingWASM
    canvas: null,
    context: null,
  };

  function loadReaderHere() {
    if (!decoder.reader) {
      decoder.reader = new Promise((resolve, reject) => {
        const script = document.createElement("script");
        script.src = config.reader;
        script.onload = () => {
          window.ZXingWASM.prepareZXingModule({
            overrides: { locateFile: (path, prefix) => (path.endsWith(".wasm") ? config.wasm : prefix + path) },
            fireImmediately: true,
          }).then(() => {
            document.documentElement.dataset.decoder = "page";
            resolve(window.ZXingWASM);
          }, reject);
        };
        script.onerror = reject;
        document.head.append(script);
      });
    }
    return decoder.reader;
  }

  function dropWorker() {
    if (decoder.worker) decoder.worker.terminate();
    decoder.worker = null;
    for (const resolve of decoder.pending.values()) resolve(null);
    decoder.pending.clear();
    loadReaderHere();
  }

  function startDecoder() {
    const canWork = "Worker" in window && "OffscreenCanvas" in window && "createImageBitmap" in window;
    if (!canWork) {
      loadReaderHere();
      return;
    }
    try {
      decoder.worker = new Worker(config.decoder);
    } catch (error) {
      loadReaderHere();
      return;
    }
    decoder.worker.addEventListener("message", (event) => {
      const message = event.data;
      if (message.type === "ready") document.documentElement.dataset.decoder = "worker";
      if (message.type === "failed") dropWorker();
      if (message.type !== "decoded") return;
      const resolve = decoder.pending.get(message.id);
      decoder.pending.delete(message.id);
      if (resolve) resolve(message.text);
    });
    decoder.worker.addEventListener("error", dropWorker);
    decoder.worker.postMessage({ type: "init", reader: config.reader, wasm: config.wasm, options: READER_OPTIONS });
  }

  // The size to decode a frame at: the camera's own, or at most `side` on its longer edge.
  function frameSize(video, side) {
    const w = video.videoWidth;
    const h = video.videoHeight;
    const scale = side ? Math.min(1, side / Math.max(w, h)) : 1;
    return { width: Math.round(w * scale), height: Math.round(h * scale) };
  }

  // The text of the QR in the video's current frame, or null.
  async function decodeFrame(video, side) {
    const { width, height } = frameSize(video, side);
    if (decoder.worker) {
      const bitmap = await createImageBitmap(video, { resizeWidth: width, resizeHeight: height, resizeQuality: "low" });
      if (!decoder.worker) {
        bitmap.close();
        return null;
      }
      const id = (decoder.nextId += 1);
      return new Promise((resolve) => {
        decoder.pending.set(id, resolve);
        decoder.worker.postMessage({ type: "decode", id, bitmap }, [bitmap]);
      });
    }
    const reader = await loadReaderHere();
    if (!decoder.canvas) {
      decoder.canvas = document.createElement("canvas");
      decoder.context = decoder.canvas.getContext("2d", { willReadFrequently: true });
    }
    const canvas = decoder.canvas;
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
    }
    decoder.context.drawImage(video, 0, 0, width, height);
    const found = await reader.readBarcodes(decoder.context.getImageData(0, 0, width, height), READER_OPTIONS);
    return found.length ? found[0].text : null;
  }

  // Each start or stop of the camera; a start that was overtaken (the screen changed while the
  // camera was still opening, e.g. a 401 sent the phone back to pairing) gives up.
  let cameraRun = 0;

  function stopCamera() {
    cameraRun += 1;
    if (state.stream) state.stream.getTracks().forEach((track) => track.stop());
    state.stream = null;
  }

  function constraints() {
    const camera = state.cameras[state.cameraIndex];
    return camera
      ? { deviceId: camera.deviceId }
      : { facingMode: "environment", width: { ideal: 1280 }, height: { ideal: 720 } };
  }

  // Open the camera before it is needed (while the activities call runs): the first
  // startCamera takes this stream instead of asking again.
  function warmCamera() {
    if (!navigator.mediaDevices || state.warmStream) return;
    state.warmStream = navigator.mediaDevices.getUserMedia({ video: constraints(), audio: false });
    state.warmStream.catch(() => {});
  }

  async function openStream() {
    const warm = state.warmStream;
    state.warmStream = null;
    if (warm) {
      try {
        return await warm;
      } catch (error) {
        /* ask again below: the error, if any, is the one to show */
      }
    }
    return navigator.mediaDevices.getUserMedia({ video: constraints(), audio: false });
  }

  async function startCamera(video, onCode) {
    stopCamera();
    const run = cameraRun;
    let stream;
    try {
      stream = await openStream();
    } catch (error) {
      if (run === cameraRun) announce(T.camera_failed);
      return;
    }
    if (run !== cameraRun) {
      stream.getTracks().forEach((track) => track.stop());
      return;
    }
    state.stream = stream;
    video.srcObject = stream;
    await video.play().catch(() => {});
    const devices = await navigator.mediaDevices.enumerateDevices().catch(() => []);
    if (run !== cameraRun) return;
    state.cameras = devices.filter((d) => d.kind === "videoinput");
    $("switch-camera").hidden = state.cameras.length < 2;
    const track = stream.getVideoTracks()[0];
    const caps = track && track.getCapabilities ? track.getCapabilities() : {};
    $("torch").hidden = !caps.torch;

    // Every new frame is decoded (one at a time), at full size while codes come by; after a
    // few seconds with nothing in view, a small frame twice a second, until a code shows again.
    let seenAt = performance.now();
    let decodedAt = 0;
    const nextFrame = (fn) => {
      if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(() => fn());
      else setTimeout(fn, 40);
    };
    const loop = async () => {
      if (state.stream !== stream) return;
      const now = performance.now();
      const idle = now - seenAt > IDLE_AFTER_MS;
      if (idle && now - decodedAt < IDLE_EVERY_MS) {
        setTimeout(() => nextFrame(loop), IDLE_EVERY_MS - (now - decodedAt));
        return;
      }
      if (video.readyState >= 2 && video.videoWidth) {
        decodedAt = now;
        try {
          const text = await decodeFrame(video, idle ? IDLE_SIDE : 0);
          if (text && state.stream === stream) {
            seenAt = performance.now();
            onCode(text);
          }
        } catch (error) {
          /* a frame that could not be read: try the next one */
        }
      }
      nextFrame(loop);
    };
    loop();
  }

  // --- Feedback -----------------------------------------------------------------------------

  let audio = null;
  function beep(ok) {
    if (!$("sound").checked) return;
    audio = audio || new AudioContext();
    const osc = audio.createOscillator();
    osc.frequency.value = ok ? 880 : 220;
    osc.connect(audio.destination);
    osc.start();
    osc.stop(audio.currentTime + (ok ? 0.15 : 0.4));
  }
  // A live region only speaks when its text changes: empty it first, so that the same answer
  // twice in a row (two tickets already in) is announced twice.
  function announce(text) {
    const announcer = $("announcer");
    announcer.textContent = "";
    clearTimeout(state.announceTimer); // a newer answer replaces one not yet spoken
    state.announceTimer = setTimeout(() => { announcer.textContent = text; }, 50);
  }

  function timeOf(iso) {
    try {
      return new Intl.DateTimeFormat(document.documentElement.lang, {
        hour: "2-digit", minute: "2-digit", timeZone: config.timeZone,
      }).format(new Date(iso));
    } catch (error) {
      return "";
    }
  }

  // Show an answer of redeem: the scanner's own (from the manifest), the server's, or both.
  // `nonce` and `confirmed` go on the panel ("local" until the server answered, "server", or
  // "queued"); `note` says that the server's verdict replaced the scanner's; `quiet` updates the
  // panel without a sound or an announcement (the server agreed).
  function showResult(answer, { offline = false, retry = null, nonce = "", confirmed = "", note = "", quiet = false } = {}) {
    const r = answer.result;
    const kind = r === "ok" ? "ok" : r === "partial" || r === "already_checked_in" ? "warn" : "bad";
    const icon = { ok: "✓", warn: "!", bad: "✕" }[kind];
    const title = verdictTitle(answer);
    const details = [];
    const size = answer.party_size;
    if (r === "already_checked_in") {
      const parts = [];
      if (answer.first_checked_in_at) parts.push(fmt(T.already_at, { time: timeOf(answer.first_checked_in_at) }));
      if (answer.device_name) parts.push(fmt(T.already_device, { device: answer.device_name }));
      details.push(parts.join(", "));
    }
    if (size && r !== "ok" && r !== "not_ours") {
      details.push(fmt(T.checked_in_of, { checked_in: answer.checked_in || 0, size }));
    }
    if (offline) details.push(T.offline_checked);
    const panel = $("result");
    panel.className = `result result--${kind}`;
    panel.dataset.result = r;
    panel.dataset.nonce = nonce;
    panel.dataset.confirmed = confirmed;
    $("result-note").textContent = note;
    $("result-note").hidden = !note;
    $("result-icon").textContent = icon;
    $("result-title").textContent = title;
    $("result-detail").textContent = details.join(" · ");
    $("result-name").textContent = answer.name || "";
    const rest = $("admit-rest");
    rest.hidden = !(retry && answer.remaining > 0 && (r === "partial" || r === "ok"));
    if (!rest.hidden) {
      rest.textContent = fmt(T.admit_rest, { n: answer.remaining });
      rest.onclick = () => retry(answer.remaining);
    }
    // A quiet update (the server agreed) leaves the page where it is: the volunteer may have
    // scrolled to the panel's buttons meanwhile.
    const shown = !panel.hidden;
    panel.hidden = false;
    if (!(quiet && shown)) revealResult(panel);
    // While the big result shows, the line below waits; it takes over when the result goes.
    $("last-scan").hidden = true;
    state.lastScan = { kind, icon, text: [title, answer.name].filter(Boolean).join(" · "), at: new Date() };
    if (!quiet) {
      announce([note, title, ...details, answer.name || ""].filter(Boolean).join(". "));
      beep(kind === "ok");
      if ($("vibrate").checked && navigator.vibrate) navigator.vibrate(kind === "ok" ? 80 : [200, 100, 200]);
    }
    clearTimeout(state.resultTimer);
    const hold = rest.hidden && !note ? RESULT_MS : RESULT_MS * 3;
    state.resultTimer = setTimeout(hideResult, hold);
  }
  // The verdict's headline (also for "Server zegt: ...").
  function verdictTitle(answer) {
    const r = answer.result;
    if (r === "ok") {
      const n = answer.admitted || answer.party_size;
      return n === 1 ? T.welcome_one : fmt(T.welcome_many, { n });
    }
    if (r === "partial") {
      return fmt(T.partial, { n: answer.admitted || answer.checked_in, remaining: answer.remaining, size: answer.party_size });
    }
    if (r === "already_checked_in") return T.already;
    return T[r] || T.error;
  }
  // On a phone the page has often scrolled down to the code field, the name search or the
  // walk-in form (its keyboard open): bring the result up into what the volunteer sees, below
  // the sticky status bar. Only when it is not fully in view already, so a camera scan at the
  // top of the page moves nothing.
  function revealResult(panel) {
    const view = window.visualViewport;
    const top = Math.max(statusBar.getBoundingClientRect().bottom, view ? view.offsetTop : 0);
    const bottom = view ? view.offsetTop + view.height : window.innerHeight;
    const box = panel.getBoundingClientRect();
    if (box.top < top) window.scrollBy(0, box.top - top);
    else if (box.bottom > bottom) window.scrollBy(0, Math.min(box.bottom - bottom, box.top - top));
  }
  function showLastScan({ kind, icon, text, at }) {
    const line = $("last-scan");
    line.className = `last-scan last-scan--${kind}`;
    $("last-scan-icon").textContent = icon;
    $("last-scan-text").textContent = text;
    // The <time> is made here: an empty one in the page would be invalid HTML.
    const time = document.createElement("time");
    time.dateTime = at.toISOString();
    time.textContent = timeOf(at.toISOString());
    $("last-scan-time").replaceChildren(time);
    line.hidden = false;
  }
  function hideResult() {
    clearTimeout(state.resultTimer);
    $("result").hidden = true;
    if (state.lastScan) showLastScan(state.lastScan);
  }
  // Another activity, or a device unpaired: the last answer (with a name) goes.
  function forgetLastScan() {
    state.lastScan = null;
    $("last-scan").hidden = true;
    $("last-scan-text").textContent = "";
  }

  // --- Redeeming ----------------------------------------------------------------------------

  const nonce = () => (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`);

  async function sha256(text) {
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
    return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function requestedCount() {
    const input = $("fewer-count");
    const n = parseInt(input.value, 10);
    input.value = "";
    return n > 0 ? n : null;
  }

  // The scanner's own verdict on a ticket, from the manifest it holds, by the server's rules in
  // the server's order (registrations/checkin/services.py, _redeem_locked): unknown, another
  // activity's, cancelled (or otherwise no access), unpaid, not yet open, already in; else admit
  // (part of) the party. An admission is written to the manifest at once, so that the same
  // ticket again shows "already in". Returns the answer, and the ticket when it admitted.
  async function localVerdict(code, count, scan) {
    const hash = await sha256(code);
    const key = ticketKey(hash);
    const ticket = await tx("tickets", "readonly", (s) => s.get(key));
    if (!ticket) {
      // The manifests of this device's other activities: a ticket in one of them is theirs.
      const elsewhere = await tx("tickets", "readonly", (s) => s.getAllKeys());
      const foreign = (elsewhere || []).some((k) => k.endsWith(`:${hash}`) && k !== key);
      return { answer: { result: foreign ? "wrong_activity" : "unknown" }, admitted: null };
    }
    const party = { party_size: ticket.party_size, checked_in: ticket.checked_in, name: ticket.name };
    if (ticket.status === "cancelled" || ticket.status === "other") return { answer: { result: "cancelled", ...party }, admitted: null };
    if (ticket.status === "unpaid") return { answer: { result: "unpaid", ...party }, admitted: null };
    const opens = state.activity.checkin_opens_at;
    if (opens && new Date(opens) > new Date(scan.scanned_at)) return { answer: { result: "not_yet_open", ...party }, admitted: null };
    const left = ticket.party_size - ticket.checked_in;
    if (left <= 0) {
      return {
        answer: {
          result: "already_checked_in",
          ...party,
          remaining: 0,
          first_checked_in_at: ticket.first_at || ticket.local_at || null,
          device_name: ticket.first_device || (ticket.local_at ? state.device && state.device.name : null) || null,
        },
        admitted: null,
      };
    }
    const n = Math.min(count || left, left);
    ticket.checked_in += n;
    ticket.local_at = ticket.local_at || scan.scanned_at;
    await tx("tickets", "readwrite", (s) => s.put(ticket, key));
    const remaining = ticket.party_size - ticket.checked_in;
    return {
      answer: { result: remaining > 0 ? "partial" : "ok", admitted: n, ...party, checked_in: ticket.checked_in, remaining },
      admitted: n,
    };
  }

  // After the server's answer: the manifest takes over what the server knows of the ticket (how
  // many are in, a status that changed since the manifest was loaded, who was first).
  async function learnFromServer(code, answer) {
    const hash = await sha256(code);
    const key = ticketKey(hash);
    const ticket = await tx("tickets", "readonly", (s) => s.get(key));
    if (!ticket) return;
    if (typeof answer.checked_in === "number" && answer.party_size) ticket.checked_in = answer.checked_in;
    if (answer.result === "cancelled" || answer.result === "unpaid") ticket.status = answer.result;
    if (answer.first_checked_in_at) ticket.first_at = answer.first_checked_in_at;
    if (answer.device_name) ticket.first_device = answer.device_name;
    await tx("tickets", "readwrite", (s) => s.put(ticket, key));
  }

  // An admission the server refused to record (not a verdict: the request itself, e.g. too many
  // scans at once) leaves the manifest as it was.
  async function takeBack(code, n) {
    const key = ticketKey(await sha256(code));
    const ticket = await tx("tickets", "readonly", (s) => s.get(key));
    if (!ticket) return;
    ticket.checked_in = Math.max(ticket.checked_in - n, 0);
    await tx("tickets", "readwrite", (s) => s.put(ticket, key));
  }

  // The panel still shows this scan (no newer scan replaced it).
  const showing = (scanNonce) => !$("result").hidden && $("result").dataset.nonce === scanNonce;

  // A ticket code (already validated): the verdict from the manifest at once, then the server's
  // in the background. Online and offline are one path: a server that does not answer within
  // REDEEM_TIMEOUT_MS (or not at all) leaves an admission queued by its nonce, sent later; the
  // server stays the judge, and a nonce it has seen already gets its first answer back.
  async function redeemCode(code, count) {
    const scan = { code, activity: state.activity.id, nonce: nonce(), scanned_at: new Date().toISOString() };
    if (count) scan.count = count;
    const retry = (n) => { hideResult(); redeemCode(code, n); };
    const id = scan.nonce;
    // Before this activity's manifest first arrived, the scanner knows no ticket: it waits for
    // the server rather than show every ticket red.
    const local = state.manifestLoaded ? await localVerdict(code, count, scan) : { answer: { result: "unknown" }, admitted: null, blind: true };
    if (!local.blind) showResult(local.answer, { retry, nonce: id, confirmed: "local" });
    let answer;
    try {
      answer = await api("POST", "checkin/redeem", scan, { timeout: REDEEM_TIMEOUT_MS });
    } catch (error) {
      if (error instanceof Revoked) return;
      if (!(error instanceof Offline)) {
        // The server refused the request itself (e.g. too many scans): nothing was recorded.
        if (local.admitted) await takeBack(code, local.admitted);
        if (showing(id)) showResult({ result: "error" }, { nonce: id, confirmed: "server", note: error.message });
        return;
      }
      if (local.admitted) {
        if (count) scan.count = local.admitted;
        scan.offline = true;
        await tx("queue", "readwrite", (s) => s.put(scan));
        showStatus();
      }
      if (showing(id) || local.blind) {
        const confirmed = local.admitted ? "queued" : "local";
        showResult(local.answer, { retry, nonce: id, confirmed, offline: true, quiet: !local.blind });
      }
      return;
    }
    await learnFromServer(code, answer);
    refreshCounts();
    if (local.blind) {
      showResult(answer, { retry, nonce: id, confirmed: "server" });
      return;
    }
    if (!showing(id)) return;
    const same = answer.result === local.answer.result && (answer.admitted || 0) === (local.admitted || 0);
    if (same) showResult(answer, { retry, nonce: id, confirmed: "server", quiet: true });
    else showResult(answer, { retry, nonce: id, confirmed: "server", note: fmt(T.server_says, { verdict: verdictTitle(answer) }) });
  }

  // Whatever a camera or a hardware scanner read. Only the camera's codes are debounced, and a
  // typed code leaves the camera's memory alone.
  async function onTicketText(raw, { fromCamera = true } = {}) {
    const text = String(raw).trim();
    if (fromCamera) {
      const now = Date.now();
      const again = text === state.lastCode && now - state.lastCodeAt < DEBOUNCE_MS;
      state.lastCode = text;
      state.lastCodeAt = now;
      if (again) return;
    }
    const upper = text.toUpperCase();
    const match = TICKET.exec(upper) || (!fromCamera && BARE_TICKET.test(upper) ? [upper, upper] : null);
    if (!match) {
      showResult({ result: "not_ours" }); // nothing is sent to the server
      return;
    }
    await redeemCode(match[1], requestedCount());
  }

  // --- The offline queue and the manifest --------------------------------------------------

  let flushing = false;
  async function flushQueue() {
    if (flushing || !state.token) return;
    flushing = true;
    try {
      const scans = await tx("queue", "readonly", (s) => s.getAll());
      if (scans.length) {
        const answer = await api("POST", "checkin/sync", { scans });
        const sent = (answer.results || []).map((result, i) => (result && result.nonce) || scans[i].nonce);
        await tx("queue", "readwrite", (s) => { sent.forEach((key) => s.delete(key)); return null; });
        refreshCounts();
      }
    } catch (error) {
      /* still offline: try again later */
    } finally {
      flushing = false;
      showStatus();
    }
  }

  async function refreshManifest() {
    if (!state.activity || !state.online) return;
    const metaKey = `manifest:${state.activity.id}`;
    const meta = (await kvGet(metaKey)) || {};
    let path = `checkin/manifest?activity=${encodeURIComponent(state.activity.id)}`;
    if (meta.since) path += `&since=${encodeURIComponent(meta.since)}`;
    let data;
    try {
      data = await api("GET", path);
    } catch (error) {
      return;
    }
    const prefix = `${state.activity.id}:`;
    await tx("tickets", "readwrite", (s) => {
      if (data.full) s.delete(IDBKeyRange.bound(prefix, `${prefix}\uffff`));
      return null;
    });
    const existing = new Map();
    if (!data.full) {
      const keys = data.tickets.map((t) => prefix + t.hash);
      for (const key of keys) existing.set(key, await tx("tickets", "readonly", (s) => s.get(key)));
    }
    await tx("tickets", "readwrite", (s) => {
      for (const t of data.tickets) {
        const key = prefix + t.hash;
        const old = existing.get(key);
        s.put({
          party_size: t.party_size,
          checked_in: Math.max(t.checked_in, old ? old.checked_in : 0),
          status: t.status,
          name: t.name,
          local_at: old ? old.local_at : null,
        }, key);
      }
      return null;
    });
    if (data.activity) state.activity = { ...state.activity, ...data.activity };
    await kvSet(metaKey, { since: data.generated_at });
    state.manifestLoaded = true;
    await kvSet("activity", state.activity);
  }

  // Also while offline: this poll is how the phone notices the server answers again (and then
  // sends its queue); without a network, api() gives up before asking.
  async function refreshCounts() {
    if (!state.activity) return;
    try {
      const c = await api("GET", `checkin/counts?activity=${encodeURIComponent(state.activity.id)}`);
      $("counts").textContent = fmt(T.counts, c);
    } catch (error) {
      /* shown again on the next refresh */
    }
  }

  // --- Screens ------------------------------------------------------------------------------

  function show(screen) {
    for (const id of ["pair", "choose", "scan"]) $(id).hidden = id !== screen;
  }

  // The server refused the token (401: revoked or expired). Back to pairing, and the names of
  // the manifest leave the phone: a device that may no longer scan has no use for them.
  function unpair(message) {
    stopCamera();
    hideResult(); // also ends the scan that met the 401, so the camera reads pairing codes again
    forgetLastScan();
    state.token = null;
    state.activity = null;
    localStorage.removeItem(TOKEN_KEY);
    kvSet("activity", null);
    tx("tickets", "readwrite", (s) => s.clear());
    tx("kv", "readwrite", (s) => s.delete(IDBKeyRange.bound("manifest:", "manifest:\uffff")));
    $("activity-name").textContent = "";
    $("counts").textContent = "";
    showPairing(message);
  }

  function showPairing(message) {
    show("pair");
    const status = $("pair-message");
    status.textContent = message || "";
    startCamera($("pair-video"), async (text) => {
      const match = PAIRING.exec(String(text).trim().toUpperCase());
      if (!match) {
        // Keep why we are here (e.g. revoked) in view; set it once, not on every frame.
        const hint = [message, T.pairing_qr].filter(Boolean).join(" ");
        if (status.textContent !== hint) status.textContent = hint;
        return;
      }
      // A code the server refused stays refused: asking again on every frame would only use
      // up the pairing rate limit of everyone behind the same address.
      if (match[1] === state.refusedPairing || state.busy) return;
      await pair(match[1]);
    });
  }

  // True when paired.
  async function pair(code) {
    state.busy = true;
    try {
      const data = await api("POST", "scanner/pair", { code });
      state.token = data.token;
      state.device = data.device;
      localStorage.setItem(TOKEN_KEY, data.token);
      await kvSet("device", data.device);
      await kvSet("activities", data.activities);
      state.activities = data.activities;
      stopCamera();
      chooseActivity();
      return true;
    } catch (error) {
      if (!(error instanceof Offline)) state.refusedPairing = code;
      $("pair-message").textContent = error instanceof Offline ? T.offline : T.pair_failed;
      return false;
    } finally {
      state.busy = false;
    }
  }

  // The code of a pairing link this page was opened with, taken out of the address bar at once:
  // it is a secret, and should not stay in the history or be bookmarked.
  function pairingCodeFromLink() {
    const match = PAIRING_LINK.exec(location.hash);
    if (!match) return null;
    history.replaceState(null, "", location.pathname + location.search);
    return match[1].toUpperCase();
  }

  // Opened from the pairing QR by the phone's camera app: pair at once, without our camera; if
  // the code does not work, the pairing screen says so and the camera reads a new one.
  async function pairFromLink(code) {
    stopCamera();
    hideResult();
    show("pair");
    $("pair-message").textContent = "";
    if (!(await pair(code))) showPairing($("pair-message").textContent);
  }

  function chooseActivity() {
    if (state.activities.length === 1) {
      startScanning(state.activities[0]);
      return;
    }
    show("choose");
    // The camera opened early is not needed until an activity is chosen.
    if (state.warmStream) state.warmStream.then((stream) => stream.getTracks().forEach((t) => t.stop()), () => {});
    state.warmStream = null;
    const list = $("activity-list");
    list.replaceChildren();
    for (const activity of state.activities) {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "button button--light";
      button.textContent = activity.title;
      button.addEventListener("click", () => startScanning(activity));
      item.append(button);
      list.append(item);
    }
  }

  async function startScanning(activity) {
    state.activity = activity;
    await kvSet("activity", activity);
    $("activity-name").textContent = `— ${activity.title}`;
    $("change-activity").hidden = state.activities.length < 2;
    show("scan");
    forgetLastScan();
    hideResult();
    const meta = await kvGet(`manifest:${activity.id}`);
    state.manifestLoaded = Boolean(meta && meta.since);
    startCamera($("scan-video"), (text) => onTicketText(text));
    await refreshManifest();
    refreshCounts();
    flushQueue();
  }

  // --- Forms --------------------------------------------------------------------------------

  function wire() {
    $("pair-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const code = $("pair-code").value.trim().toUpperCase().replace(/^JUBSCAN:/, "");
      if (code) pair(code);
    });
    $("code-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const input = $("code-input");
      const value = input.value;
      input.value = "";
      if (value.trim()) onTicketText(value, { fromCamera: false });
      input.focus();
    });
    $("fewer-form").addEventListener("submit", (event) => event.preventDefault());
    $("result-close").addEventListener("click", hideResult);
    $("switch-camera").addEventListener("click", () => {
      state.cameraIndex = (state.cameraIndex + 1) % Math.max(state.cameras.length, 1);
      startCamera($("scan-video"), (text) => onTicketText(text));
    });
    $("torch").addEventListener("click", async () => {
      const track = state.stream && state.stream.getVideoTracks()[0];
      if (!track) return;
      const on = $("torch").getAttribute("aria-pressed") !== "true";
      try {
        await track.applyConstraints({ advanced: [{ torch: on }] });
        $("torch").setAttribute("aria-pressed", String(on));
        $("torch").textContent = on ? T.torch_on : T.torch_off;
      } catch (error) {
        /* this camera has no lamp after all */
      }
    });
    $("change-activity").addEventListener("click", () => {
      stopCamera();
      chooseActivity();
    });
    for (const id of ["sound", "vibrate"]) {
      const box = $(id);
      box.checked = localStorage.getItem(`jubileum.scanner.${id}`) === "1";
      box.addEventListener("change", () => localStorage.setItem(`jubileum.scanner.${id}`, box.checked ? "1" : "0"));
    }
    $("search-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const q = $("search-q").value.trim();
      const list = $("search-results");
      list.replaceChildren();
      if (q.length < 3 || !state.activity) return;
      let data;
      try {
        data = await api("GET", `checkin/search?activity=${encodeURIComponent(state.activity.id)}&q=${encodeURIComponent(q)}`);
      } catch (error) {
        const item = document.createElement("li");
        item.textContent = error instanceof Offline ? T.offline : error.message;
        list.append(item);
        return;
      }
      if (!data.results.length) {
        const item = document.createElement("li");
        item.textContent = T.no_results;
        list.append(item);
      }
      for (const hit of data.results) {
        const item = document.createElement("li");
        const text = document.createElement("span");
        const status = T[`status_${hit.status}`] || hit.status;
        text.textContent = `${hit.name} — ${fmt(T.persons, { n: hit.party_size })} — ${status} — ${fmt(T.checked_in_of, { checked_in: hit.checked_in, size: hit.party_size })}`;
        item.append(text);
        if (hit.status === "admit" && hit.checked_in < hit.party_size) {
          const button = document.createElement("button");
          button.type = "button";
          button.className = "button";
          button.textContent = T.admit;
          button.addEventListener("click", () => redeemRegistration(hit.registration));
          item.append(button);
        }
        list.append(item);
      }
    });
    $("walkin-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const name = $("walkin-name").value.trim();
      const size = parseInt($("walkin-size").value, 10);
      $("walkin-message").textContent = "";
      if (!name || !(size > 0) || !state.activity) return;
      try {
        const answer = await api("POST", "checkin/walk-in", {
          activity: state.activity.id, name, party_size: size, nonce: nonce(),
        });
        $("walkin-name").value = "";
        $("walkin-size").value = "1";
        showResult(answer, { confirmed: "server" });
        refreshCounts();
      } catch (error) {
        if (error instanceof Revoked) return;
        $("walkin-message").textContent =
          error instanceof Offline ? T.offline : error.code === "activity_full" ? T.activity_full : error.message;
      }
    });
    // The link opened again in this tab only changes the fragment: the page does not reload.
    window.addEventListener("hashchange", () => {
      const code = pairingCodeFromLink();
      if (code) pairFromLink(code);
    });
    window.addEventListener("online", () => setOnline(true));
    window.addEventListener("offline", () => setOnline(false));
  }

  async function redeemRegistration(id) {
    const count = requestedCount();
    const body = { registration: id, activity: state.activity.id, nonce: nonce() };
    if (count) body.count = count;
    try {
      const answer = await api("POST", "checkin/redeem", body);
      showResult(answer, { confirmed: "server" });
      $("search-results").replaceChildren();
      refreshCounts();
    } catch (error) {
      if (!(error instanceof Revoked)) showResult({ result: "error" });
    }
  }

  // --- Start --------------------------------------------------------------------------------

  async function start() {
    startDecoder();
    wire();
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.register(config.serviceWorker, { scope: config.scope }).catch(() => {});
    }
    showStatus();
    setInterval(() => { refreshCounts(); flushQueue(); }, COUNTS_MS);
    setInterval(refreshManifest, MANIFEST_MS);
    const linked = pairingCodeFromLink();
    if (linked) {
      await pairFromLink(linked);
      return;
    }
    if (!state.token) {
      showPairing();
      return;
    }
    // The camera opens while the activities are asked for (on the pairing screen too).
    warmCamera();
    state.device = await kvGet("device");
    state.activities = (await kvGet("activities")) || [];
    try {
      const fresh = await api("GET", "checkin/activities");
      if (Array.isArray(fresh)) state.activities = fresh;
      await kvSet("activities", state.activities);
    } catch (error) {
      if (error instanceof Revoked) return;
    }
    const saved = await kvGet("activity");
    const current = saved && state.activities.find((a) => a.id === saved.id);
    if (current) startScanning({ ...saved, ...current });
    else if (state.activities.length) chooseActivity();
    else showPairing();
  }

  start();
})();
