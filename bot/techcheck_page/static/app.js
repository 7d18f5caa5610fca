/* Tech check in the client's browser: camera, microphone, speaker, browser, connection.
 *
 * Nothing leaves the device but the numbers posted at the end (and the random bytes of the
 * connection measurement). Camera and microphone are only looked at, never recorded.
 *
 * Connection measurement, within a data budget (config.budget: at most 1 MB down, 0.6 MB up):
 * - round trip: 1 warm-up + 5 tiny requests; median and jitter (mean change between them);
 * - download, then upload: a small first transfer (32 KB down, 16 KB up), then transfers
 *   sized to last about 1.2 s at the rate seen so far (at most 8 times larger each step).
 *   A transfer's rate is a lower bound (it includes the round trip), so the measurement stops
 *   as soon as the answer is clear: a transfer of at least 128 KB well above the HD figure,
 *   one that took a second or more, the direction's 8 s time limit, or the budget.
 */
(() => {
  "use strict";

  const config = JSON.parse(document.getElementById("config").textContent);
  const byId = (id) => document.getElementById(id);
  const number = new Intl.NumberFormat(config.lang, { maximumFractionDigits: 1 });
  const KB = 1024;
  const FIRST_SIZE = { down: 32 * KB, up: 16 * KB };
  const MIN_SIZE = 16 * KB;
  const MAX_GROWTH = 8;
  const TARGET_SECONDS = 1.2;
  const LONG_ENOUGH_SECONDS = 1;
  const CLEAR_BYTES = 128 * KB;
  const DIRECTION_SECONDS = 8;
  const LISTEN_SECONDS = 8;
  const VOICE_LEVEL = 0.04;

  const result = {
    camera: null,
    microphone: null,
    speaker: null,
    connection: null,
    browser: { webrtc: typeof RTCPeerConnection === "function", touch: navigator.maxTouchPoints > 1 },
  };
  const streams = [];
  let audio = null;

  // On a right-to-left page each figure is a left-to-right isolate (LRI … PDI), so that
  // "1280 × 720" or "8 Mbit/s" keeps its order inside Arabic or Persian text (the pattern is
  // bot/i18n.py's; the page gets the catalog's texts unisolated).
  const FIGURE = config.dir === "rtl" ? new RegExp(config.figurePattern, "g") : null;
  const isolate = (line) =>
    FIGURE
      ? line.replace(FIGURE, (_, start, figure) => `${start}\u2066${figure.split(" ").join("\u00a0")}\u2069`)
      : line;

  function text(key, params = {}) {
    const template = config.texts[key] || key;
    return isolate(template.replace(/\{(\w+)\}/g, (_, name) => (name in params ? params[name] : "")));
  }

  function status(message) {
    byId("status").textContent = message;
  }

  /* One check's outcome: a line with its verdict, and advice when something is wrong. */
  function report(check, tone, message, adviceKey) {
    const line = byId(`${check}-result`);
    line.className = `result ${tone}`;
    line.textContent = message;
    const advice = byId(`${check}-advice`);
    advice.hidden = !adviceKey;
    advice.textContent = adviceKey ? text(`advice.${adviceKey}`) : "";
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  function mediaProblem(error) {
    if (!navigator.mediaDevices) return "error";
    switch (error && error.name) {
      case "NotAllowedError":
      case "SecurityError":
        return "denied";
      case "NotFoundError":
      case "OverconstrainedError":
        return "missing";
      case "NotReadableError":
      case "AbortError":
        return "busy";
      default:
        return "error";
    }
  }

  async function media(constraints) {
    const stream = await navigator.mediaDevices.getUserMedia(constraints);
    streams.push(stream);
    return stream;
  }

  function stopMedia() {
    for (const stream of streams) stream.getTracks().forEach((track) => track.stop());
    streams.length = 0;
    byId("preview").hidden = true;
  }

  function audioContext() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!audio && Context) audio = new Context();
    if (audio && audio.state === "suspended") audio.resume();
    return audio;
  }

  /* ---- browser ------------------------------------------------------------------------ */

  function showBrowser() {
    let verdict = config.browser.verdict;
    if (verdict === "ok" && !result.browser.webrtc) verdict = "other";
    const tone = verdict === "ok" ? "good" : "warn";
    report("browser", tone, text(`browser_${verdict}`), verdict === "ok" ? "" : `browser_${verdict}`);
  }

  /* ---- camera ------------------------------------------------------------------------- */

  function frameRate(video, fallback) {
    if (!video.requestVideoFrameCallback) return Promise.resolve(fallback || 0);
    return new Promise((resolve) => {
      let frames = 0;
      let started = 0;
      const count = (now) => {
        if (!started) started = now;
        else frames += 1;
        if (now - started < 1500) video.requestVideoFrameCallback(count);
        else resolve((frames * 1000) / (now - started));
      };
      video.requestVideoFrameCallback(count);
      setTimeout(() => resolve(fallback || 0), 4000);
    });
  }

  async function checkCamera() {
    status(text("camera_asking"));
    try {
      const stream = await media({ video: { width: { ideal: 1280 }, height: { ideal: 720 } } });
      const video = byId("preview");
      video.srcObject = stream;
      video.hidden = false;
      await video.play().catch(() => undefined);
      const settings = stream.getVideoTracks()[0].getSettings();
      const fps = Math.round((await frameRate(video, settings.frameRate)) * 10) / 10;
      const width = video.videoWidth || settings.width || 0;
      const height = video.videoHeight || settings.height || 0;
      result.camera = { status: "ok", width, height, fps };
      report("camera", "good", text("camera_ok", { width, height, fps: number.format(fps) }));
    } catch (error) {
      const problem = mediaProblem(error);
      result.camera = { status: problem };
      report("camera", "bad", text(`camera_${problem}`), `camera_${problem}`);
    }
  }

  /* ---- microphone --------------------------------------------------------------------- */

  async function checkMicrophone() {
    status(text("microphone_asking"));
    let stream;
    try {
      stream = await media({ audio: true });
    } catch (error) {
      const problem = mediaProblem(error);
      result.microphone = { status: problem };
      report("microphone", "bad", text(`microphone_${problem}`), `microphone_${problem}`);
      return;
    }
    const context = audioContext();
    const source = context.createMediaStreamSource(stream);
    const analyser = context.createAnalyser();
    analyser.fftSize = 1024;
    source.connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    const meter = byId("level");
    report("microphone", "", text("speak_now"));
    status(text("speak_now"));
    let loud = 0;
    const until = performance.now() + LISTEN_SECONDS * 1000;
    while (performance.now() < until && loud < 2) {
      await sleep(50);
      analyser.getFloatTimeDomainData(samples);
      const level = Math.sqrt(samples.reduce((sum, x) => sum + x * x, 0) / samples.length);
      meter.value = Math.min(100, Math.round(level * 400));
      if (level > VOICE_LEVEL) loud += 1;
    }
    source.disconnect();
    stream.getTracks().forEach((track) => track.stop());
    meter.value = 0;
    const heard = loud >= 2;
    result.microphone = { status: heard ? "ok" : "silent" };
    report(
      "microphone",
      heard ? "good" : "warn",
      text(heard ? "microphone_ok" : "microphone_silent"),
      heard ? "" : "microphone_silent",
    );
  }

  /* ---- speaker ------------------------------------------------------------------------ */

  function playTone() {
    const context = audioContext();
    if (context) {
      const start = context.currentTime + 0.05;
      const oscillator = context.createOscillator();
      const gain = context.createGain();
      oscillator.frequency.value = 660;
      gain.gain.setValueAtTime(0, start);
      gain.gain.linearRampToValueAtTime(0.3, start + 0.05);
      gain.gain.setValueAtTime(0.3, start + 1.2);
      gain.gain.linearRampToValueAtTime(0, start + 1.4);
      oscillator.connect(gain).connect(context.destination);
      oscillator.start(start);
      oscillator.stop(start + 1.5);
    }
    byId("heard").hidden = false;
    byId("play").textContent = text("play_again");
    status(text("tone_playing"));
    byId("heard-yes").focus();
  }

  function answerSpeaker(heard) {
    result.speaker = { status: heard ? "heard" : "not_heard" };
    byId("heard").hidden = true;
    byId("play").disabled = true;
    report(
      "speaker",
      heard ? "good" : "warn",
      text(heard ? "speaker_ok" : "speaker_not_heard"),
      heard ? "" : "speaker_not_heard",
    );
    checkConnection().then(finish);
  }

  /* ---- connection --------------------------------------------------------------------- */

  class HttpError extends Error {
    constructor(response) {
      super(`HTTP ${response.status}`);
      this.status = response.status;
    }
  }

  async function api(path, options = {}) {
    const headers = { "X-Techcheck-Token": config.token, ...(options.headers || {}) };
    const response = await fetch(path, { ...options, headers, cache: "no-store" });
    if (!response.ok) throw new HttpError(response);
    return response;
  }

  async function roundTrip() {
    const times = [];
    for (let i = 0; i < 6; i += 1) {
      const started = performance.now();
      await api("/techcheck/api/ping");
      times.push(performance.now() - started);
    }
    times.shift(); // the first one may open the connection
    const sorted = [...times].sort((a, b) => a - b);
    const changes = times.slice(1).map((time, i) => Math.abs(time - times[i]));
    const jitter = changes.reduce((sum, x) => sum + x, 0) / changes.length;
    return { rtt: sorted[Math.floor(sorted.length / 2)], jitter };
  }

  async function timed(limitMs, transfer) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), limitMs);
    const started = performance.now();
    let partial = false;
    let bytes = 0;
    try {
      bytes = await transfer(controller.signal, (n) => (bytes += n));
    } catch (error) {
      if (error.name !== "AbortError") throw error;
      partial = true;
    } finally {
      clearTimeout(timer);
    }
    return { bytes, seconds: (performance.now() - started) / 1000, partial };
  }

  function download(size, limitMs) {
    return timed(limitMs, async (signal, counted) => {
      const response = await api(`/techcheck/api/down?bytes=${size}`, { signal });
      const reader = response.body.getReader();
      let total = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return total;
        total += value.byteLength;
        counted(value.byteLength);
      }
    });
  }

  function upload(size, limitMs) {
    const body = new Uint8Array(size);
    for (let i = 0; i < size; i += 65536) {
      crypto.getRandomValues(body.subarray(i, Math.min(size, i + 65536)));
    }
    return timed(limitMs, async (signal, counted) => {
      const response = await api("/techcheck/api/up", {
        method: "POST",
        body,
        signal,
        headers: { "Content-Type": "application/octet-stream" },
      });
      const received = (await response.json()).bytes;
      counted(received);
      return received;
    });
  }

  /* Throughput of one direction in kbit/s, and the bytes it cost. */
  async function throughput(direction, budget, onProgress) {
    const transfer = direction === "down" ? download : upload;
    const started = performance.now();
    let size = FIRST_SIZE[direction];
    let used = 0;
    let best = 0;
    for (;;) {
      size = Math.min(size, budget - used);
      const left = DIRECTION_SECONDS * 1000 - (performance.now() - started);
      if (size < MIN_SIZE || left < 500) break;
      const sample = await transfer(size, left);
      used += sample.partial && direction === "up" ? size : sample.bytes;
      const rate = sample.seconds > 0 ? (sample.bytes * 8) / sample.seconds / 1000 : 0;
      best = Math.max(best, rate);
      onProgress(Math.min(1, (performance.now() - started) / (DIRECTION_SECONDS * 1000)));
      const clear = rate >= config.thresholds.hd * 1.25 && sample.bytes >= CLEAR_BYTES;
      if (sample.partial || clear || sample.seconds >= LONG_ENOUGH_SECONDS) break;
      const next = Math.round(((rate * 1000) / 8) * TARGET_SECONDS);
      size = Math.max(MIN_SIZE, Math.min(size * MAX_GROWTH, next));
    }
    return { kbps: best, bytes: used };
  }

  function judge(connection) {
    if (connection.status !== "ok") return "failed";
    const rate = Math.min(connection.down_kbps, connection.up_kbps);
    const limits = config.thresholds;
    let verdict = "none";
    if (rate >= limits.hd) verdict = "hd";
    else if (rate >= limits.video) verdict = "video";
    else if (rate >= limits.audio) verdict = "audio";
    const slow = connection.rtt_ms > config.rttTarget || connection.jitter_ms > config.jitterTarget;
    return verdict === "hd" && slow ? "video" : verdict;
  }

  function estimate(verdict) {
    const order = ["audio", "360p", "720p"];
    const options = [config.qualities[verdict], config.deviceQuality];
    if (!result.camera || result.camera.status !== "ok") options.push("audio");
    if (!options[0]) return "";
    const quality = options.sort((a, b) => order.indexOf(a) - order.indexOf(b))[0];
    const megabytes = (minutes) => Math.round((config.mbPerHour[quality] * minutes) / 60);
    return text(`estimate.${quality === "audio" ? "audio" : "video"}`, {
      mb30: megabytes(30),
      mb60: megabytes(60),
    });
  }

  function speed(kbps) {
    return kbps < 1000 ? `${Math.round(kbps)} kbit/s` : `${number.format(kbps / 1000)} Mbit/s`;
  }

  async function checkConnection() {
    status(text("measuring"));
    const progress = byId("progress");
    const budget = config.budget;
    const connection = { status: "ok", down_kbps: 0, up_kbps: 0, rtt_ms: 0, jitter_ms: 0, bytes: 0 };
    try {
      if (budget.down < MIN_SIZE || budget.up < MIN_SIZE) throw new HttpError({ status: 429 });
      const { rtt, jitter } = await roundTrip();
      const down = await throughput("down", budget.down, (p) => (progress.value = 5 + p * 50));
      const up = await throughput("up", budget.up, (p) => (progress.value = 55 + p * 45));
      Object.assign(connection, {
        down_kbps: Math.round(down.kbps),
        up_kbps: Math.round(up.kbps),
        rtt_ms: Math.round(rtt * 10) / 10,
        jitter_ms: Math.round(jitter * 10) / 10,
        bytes: down.bytes + up.bytes,
      });
    } catch (error) {
      connection.status = error.status === 429 ? "budget" : "failed";
    }
    progress.value = 100;
    result.connection = connection;
    const verdict = judge(connection);
    const good = verdict === "hd" || verdict === "video";
    let message = text(`connection_${verdict}`);
    if (connection.status === "ok") {
      message += " " + text("connection_figures", {
        down: speed(connection.down_kbps),
        up: speed(connection.up_kbps),
        rtt: Math.round(connection.rtt_ms),
      });
    }
    const slow = connection.status === "ok" && verdict !== "none" &&
      (connection.rtt_ms > config.rttTarget || connection.jitter_ms > config.jitterTarget);
    let advice = "";
    if (!good) advice = `connection_${verdict === "failed" ? connection.status : verdict}`;
    else if (slow) advice = "connection_latency";
    report("connection", good ? "good" : verdict === "audio" ? "warn" : "bad", message, advice);
    const line = estimate(verdict);
    byId("estimate").hidden = !line;
    byId("estimate").textContent = line;
  }

  /* ---- sending -------------------------------------------------------------------------- */

  function finish() {
    stopMedia();
    byId("summary").textContent = text("summary_ready");
    const send = byId("send");
    send.disabled = false;
    byId("again").hidden = false;
    status(text("done"));
    send.focus();
  }

  async function send() {
    const button = byId("send");
    button.disabled = true;
    byId("sent").textContent = text("sending");
    try {
      await api("/techcheck/api/result", {
        method: "POST",
        body: JSON.stringify(result),
        headers: { "Content-Type": "application/json" },
      });
      byId("sent").textContent = text("sent");
      byId("again").hidden = true;
    } catch (error) {
      const gone = error.status === 410;
      byId("sent").textContent = text(gone ? "send_gone" : "send_failed");
      button.disabled = gone;
    }
  }

  async function start() {
    byId("start").disabled = true;
    audioContext(); // created while handling the click, so the browser lets it play
    await checkCamera();
    await checkMicrophone();
    const play = byId("play");
    play.disabled = false;
    status(text("speaker_next"));
    play.focus();
  }

  showBrowser();
  byId("start").addEventListener("click", start);
  byId("play").addEventListener("click", playTone);
  byId("heard-yes").addEventListener("click", () => answerSpeaker(true));
  byId("heard-no").addEventListener("click", () => answerSpeaker(false));
  byId("send").addEventListener("click", send);
  byId("again").addEventListener("click", () => window.location.reload());
  window.addEventListener("pagehide", stopMedia);
})();
