// The nst-tf page: photos, settings (drawn from the server's list, which is TransferConfig's
// fields), a run followed through server-sent events, the live picture, the numbers and a loss
// plot, and the downloads. No library, no external asset.
"use strict";

const $ = (id) => document.getElementById(id);
const POST_HEADERS = { "X-Requested-With": "nst-tf" };
const PARTS = ["total", "direct", "content", "raw", "texture", "tv"];
const COLOURS = { total: "#111", direct: "#1f77b4", content: "#2ca02c", raw: "#9467bd",
                  texture: "#d62728", tv: "#ff7f0e" };
const FINISHED = ["done", "stopped", "failed", "cancelled"];

let info = null;
const photos = { content: null, texture: null };   // {upload: id} or {example: name}
const inputs = {};                                   // setting name -> its element
let runId = null, events = null, reports = [], previewShown = 0, lastStatus = null;
let checkTimer = null, checkNumber = 0;

function fmt(value) {
  if (typeof value === "number") {
    const size = Math.abs(value);
    if (value !== 0 && (size < 1e-3 || size >= 1e5)) return value.toExponential(3).replace(/\.?0+e/, "e");
    return String(Number(value.toPrecision(5)));
  }
  if (typeof value === "boolean") return value ? "on" : "off";
  if (value === "" || value === null || value === undefined) return "empty";
  return String(value);
}

function duration(seconds) {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) return "–";
  seconds = Math.round(seconds);
  if (seconds < 60) return seconds + " s";
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return minutes + " min " + String(seconds % 60).padStart(2, "0") + " s";
  return Math.floor(minutes / 60) + " h " + String(minutes % 60).padStart(2, "0") + " min";
}

async function api(path, options = {}) {
  const response = await fetch(path, options);
  let body = null;
  try { body = await response.json(); } catch (e) { body = null; }
  if (!response.ok) {
    throw new Error((body && body.error) || ("the server answered " + response.status));
  }
  return body;
}

function postJSON(path, value) {
  return api(path, { method: "POST", body: JSON.stringify(value),
                     headers: { ...POST_HEADERS, "Content-Type": "application/json" } });
}

// ---- the settings ------------------------------------------------------------------------

function currentMode() { return inputs.mode ? inputs.mode.value : "texture"; }
function currentPreset() { return inputs.preset ? inputs.preset.value : info.preset; }

function modeDefault(field) {
  const mode = currentMode(), preset = currentPreset();
  if (field.name === "iterations") {
    const chosen = inputs.optimizer && inputs.optimizer.value;
    const optimizer = chosen || byName("optimizer").mode_defaults[mode][preset];
    return field.optimizer_defaults[mode][preset][optimizer] + " (" + optimizer + ")";
  }
  if (field.mode_defaults) return fmt(field.mode_defaults[mode][preset]);
  if (field.name === "preset") return info.preset;
  return fmt(field.default);
}

function byName(name) { return info.fields.find((f) => f.name === name); }

function makeField(field) {
  const box = document.createElement("div");
  box.className = "field";
  box.id = "field-" + field.name;
  const label = document.createElement("label");
  label.textContent = field.name;
  label.htmlFor = "setting-" + field.name;
  label.title = field.help;
  let input;
  if (field.widget === "select" || (field.widget === "bool" && field.mode_defaults)) {
    input = document.createElement("select");
    const choices = field.widget === "bool" ? ["true", "false"] : field.choices;
    if (field.mode_defaults || field.name === "init") {
      const option = document.createElement("option");
      option.value = "";
      option.dataset.byMode = "1";
      input.appendChild(option);
    }
    for (const choice of choices) {
      const option = document.createElement("option");
      option.value = option.textContent = choice;
      input.appendChild(option);
    }
    if (field.name === "preset") input.value = info.preset;
    else if (!field.mode_defaults && field.name !== "init") input.value = field.default;
  } else if (field.widget === "bool") {
    input = document.createElement("input");
    input.type = "checkbox";
    input.checked = !!field.default;
  } else {
    input = document.createElement("input");
    input.type = "text";
    input.autocomplete = "off";
    input.spellcheck = false;
  }
  input.id = "setting-" + field.name;
  input.name = field.name;
  input.title = field.help;
  input.addEventListener(input.tagName === "SELECT" || input.type === "checkbox" ? "change" : "input",
                         () => { if (["mode", "preset", "optimizer"].includes(field.name)) refreshDefaults(); scheduleCheck(); });
  inputs[field.name] = input;
  box.appendChild(label);
  if (field.widget === "bool" && !field.mode_defaults) {
    label.prepend(input);
    label.append(" ");
  } else {
    box.appendChild(input);
  }
  const help = document.createElement("small");
  help.textContent = field.short || field.help.split(/(?<=\.)\s/)[0];
  help.title = field.help;
  box.appendChild(help);
  return box;
}

function refreshDefaults() {
  for (const field of info.fields) {
    const input = inputs[field.name];
    if (input.tagName === "SELECT") {
      const blank = input.querySelector("option[data-by-mode]");
      if (blank) blank.textContent = "default (" + modeDefault(field) + ")";
    } else if (input.type === "text") {
      input.placeholder = modeDefault(field);
    }
  }
  const mode = currentMode();
  $("content-box").classList.toggle("unused", mode === "synthesize");
  $("texture-box").classList.toggle("unused", mode === "reconstruct");
  $("content-box").querySelector(".hint").textContent = mode === "synthesize"
    ? "Not used by synthesize (only its size, when --size is 0x0)." : "The photo whose layout and colours are kept.";
  $("texture-box").querySelector(".hint").textContent = mode === "reconstruct"
    ? "Not used by reconstruct." : mode === "style" ? "The style photo." : "The photo whose texture is wanted.";
}

function buildForm() {
  const main = $("main-fields"), more = $("more-fields");
  const groups = {};
  for (const field of info.fields) {
    const element = makeField(field);
    if (field.group === "main") { main.appendChild(element); continue; }
    if (!groups[field.group]) {
      const set = document.createElement("fieldset");
      const legend = document.createElement("legend");
      legend.textContent = field.group;
      set.appendChild(legend);
      more.appendChild(set);
      groups[field.group] = set;
    }
    groups[field.group].appendChild(element);
  }
  refreshDefaults();
}

function settings() {
  const values = {};
  for (const field of info.fields) {
    const input = inputs[field.name];
    if (input.type === "checkbox") {
      if (input.checked !== !!field.default) values[field.name] = input.checked;
    } else if (input.value.trim() !== "") {
      if (field.name === "preset" && input.value === info.preset) continue;
      if (input.tagName === "SELECT" && !field.mode_defaults && input.value === field.default) continue;
      values[field.name] = input.value.trim();
    }
  }
  return values;
}

function request() {
  return { content: photos.content, texture: photos.texture, settings: settings() };
}

function scheduleCheck() {
  clearTimeout(checkTimer);
  checkTimer = setTimeout(check, 250);
}

function markBad(message) {
  document.querySelectorAll(".field.bad").forEach((e) => e.classList.remove("bad"));
  const name = (message.match(/^(?:--)?([a-z_0-9]+)\b/) || [])[1];
  if (name && $("field-" + name)) {
    $("field-" + name).classList.add("bad");
    if ($("field-" + name).closest("details")) $("more").open = true;
  }
}

function needed() {
  const mode = currentMode(), missing = [];
  if (mode !== "synthesize" && !photos.content) missing.push("a content photo");
  if (mode !== "reconstruct" && !photos.texture) missing.push("a texture photo");
  return missing;
}

async function check() {
  const number = ++checkNumber;
  const missing = needed();
  try {
    const body = request();
    if (missing.length) {  // the settings alone: the photos are not there yet
      body.content = body.content || (info.examples.includes("cat.jpg") ? { example: "cat.jpg" } : null);
      body.texture = body.texture || (info.examples.includes("gravel.jpg") ? { example: "gravel.jpg" } : null);
    }
    const answer = await postJSON("/api/check", body);
    if (number !== checkNumber) return;
    $("settings-message").textContent = "";
    markBad("");
    const steps = answer.steps.reduce((a, b) => a + b, 0);
    $("plan").textContent = missing.length ? "Choose " + missing.join(" and ") + "."
      : "Result: " + answer.width + "×" + answer.height + " px, up to " + steps + " "
        + answer.optimizer + (answer.optimizer === "lbfgs" ? " evaluations" : " steps")
        + (answer.steps.length > 1 ? " over " + answer.steps.length + " levels" : "") + ".";
    if (!runId || isFinished()) $("command").textContent = missing.length ? "" : answer.command;
    return true;
  } catch (error) {
    if (number !== checkNumber) return;
    $("settings-message").textContent = error.message;
    $("plan").textContent = "";
    markBad(error.message);
    return false;
  }
}

// ---- the photos ----------------------------------------------------------------------------

function showPhoto(role, source, name) {
  const img = $(role + "-thumb");
  img.hidden = !source;
  img.parentElement.querySelector(".empty").hidden = !!source;
  if (source) img.src = source;
  $(role + "-name").textContent = name || "";
}

async function upload(role, file) {
  $(role + "-message").textContent = "";
  photos[role] = null;
  showPhoto(role, null, "");
  if (!file) return;
  if (file.size > info.max_upload_mb * 1024 * 1024) {
    $(role + "-message").textContent = file.name + ": " + (file.size / 1048576).toFixed(1)
      + " MB, more than the " + info.max_upload_mb + " MB this server takes";
    scheduleCheck();
    return;
  }
  $(role + "-name").textContent = "sending " + file.name + "…";
  try {
    const answer = await api("/api/uploads", {
      method: "POST", body: file,
      headers: { ...POST_HEADERS, "Content-Type": "application/octet-stream",
                 "X-Filename": encodeURIComponent(file.name) } });
    photos[role] = { upload: answer.id };
    showPhoto(role, URL.createObjectURL(file), answer.name + " (" + answer.width + "×" + answer.height + ")");
  } catch (error) {
    showPhoto(role, null, "");
    $(role + "-message").textContent = error.message;
  }
  scheduleCheck();
}

function useExample(role, name) {
  $(role + "-message").textContent = "";
  $(role + "-file").value = "";
  photos[role] = { example: name };
  showPhoto(role, "/examples/" + encodeURIComponent(name), "examples/" + name);
  scheduleCheck();
}

// ---- the run -------------------------------------------------------------------------------

function isFinished() { return !lastStatus || FINISHED.includes(lastStatus.state); }

async function start() {
  $("settings-message").textContent = "";
  const missing = needed();
  if (missing.length) {
    $("settings-message").textContent = "Choose " + missing.join(" and ") + " first.";
    return;
  }
  $("start").disabled = true;
  try {
    const status = await postJSON("/api/runs", request());
    follow(status.id, status);
  } catch (error) {
    $("settings-message").textContent = error.message;
    markBad(error.message);
    $("start").disabled = false;
  }
}

async function stop() {
  if (!runId) return;
  $("stop").disabled = true;
  try {
    show(await postJSON("/api/runs/" + runId + "/stop", {}));
  } catch (error) {
    $("run-message").textContent = error.message;
  }
}

function follow(id, status) {
  if (events) events.close();
  runId = id;
  reports = [];
  previewShown = 0;
  lastStatus = null;
  $("live").removeAttribute("src");
  history.replaceState(null, "", "#run=" + id);
  try { localStorage.setItem("nst_tf_run", id); } catch (e) { /* private mode */ }
  $("run").hidden = false;
  if (status) show(status);
  events = new EventSource("/api/runs/" + encodeURIComponent(id) + "/events");
  events.onmessage = (event) => show(JSON.parse(event.data));
  events.onerror = async () => {
    if (lastStatus && FINISHED.includes(lastStatus.state)) { events.close(); return; }
    $("run-message").textContent = "connection to the server lost; retrying…";
    try {
      await api("/api/runs/" + encodeURIComponent(runId));
    } catch (error) {  // the server is gone (or has forgotten the run): not "running" for ever
      if (events) { events.close(); events = null; }
      $("run-state").textContent = "– the server is not answering";
      $("run-state").dataset.state = "lost";
      $("run-message").textContent = "The server stopped or cannot be reached; start the run again "
        + "once it is back.";
      $("start").disabled = false;
      $("stop").disabled = true;
    }
  };
}

function describe(status) {
  switch (status.state) {
    case "waiting":
      return status.position === 1 && status.running_ahead
        ? "waiting: next in line (one run ahead is running)"
        : "waiting: place " + status.position + " in line";
    case "starting": return "starting";
    case "running": return "running";
    case "stopping": return "stopping…";
    case "done": return "done";
    case "stopped": return "stopped";
    case "failed": return "failed";
    case "cancelled": return "left the line";
  }
  return status.state;
}

function show(status) {
  if (status.id !== runId) return;
  // A reply that comes late (a Stop's answer after the stream's newer news) is older than what
  // is shown: it is ignored, so a run never goes back to "stopping…".
  if (lastStatus && lastStatus.id === status.id && status.version < lastStatus.version) return;
  if (status.since === 0) reports = [];
  if (status.since <= reports.length) reports = reports.slice(0, status.since).concat(status.reports);
  lastStatus = status;
  const finished = FINISHED.includes(status.state);
  $("run-state").textContent = "– " + describe(status);
  $("run-state").dataset.state = status.state;
  $("run-message").textContent = status.message || "";
  $("run-message").classList.toggle("bad", status.state === "failed");
  $("start").disabled = !finished;
  $("stop").disabled = finished || status.state === "stopping";
  $("command").textContent = status.command;
  const last = reports[reports.length - 1];
  const totalSteps = status.steps.reduce((a, b) => a + b, 0);
  if (last) {
    const level = status.steps.length > 1 ? " (level " + (last.level + 1) + " of " + last.levels + ")" : "";
    $("stat-step").textContent = (last.step + 1) + " / " + status.steps[Math.min(last.level, status.steps.length - 1)] + level;
  } else {
    $("stat-step").textContent = "– / " + totalSteps;
  }
  $("stat-rate").textContent = status.rate ? status.rate.toFixed(status.rate < 10 ? 2 : 1) : "–";
  $("stat-left").textContent = finished ? "–" : duration(status.seconds_left);
  $("stat-elapsed").textContent = duration(status.elapsed);
  const body = $("losses").querySelector("tbody");
  body.textContent = "";
  if (last) {
    for (const part of PARTS) {
      if (part !== "total" && !reports.some((r) => r[part] > 0)) continue;
      const row = body.insertRow();
      const name = row.insertCell();
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = COLOURS[part];
      name.append(swatch, part);
      row.insertCell().textContent = fmt(last[part]);
    }
    if (last.lr !== null && last.lr !== undefined) {
      const row = body.insertRow();
      row.insertCell().textContent = "learning rate";
      row.insertCell().textContent = fmt(last.lr);
    }
  }
  plot();
  if (status.preview && status.preview !== previewShown) {
    previewShown = status.preview;
    $("live").src = "/api/runs/" + runId + "/preview.jpg?v=" + status.preview;
  }
  $("live-caption").textContent = status.width + "×" + status.height + " px"
    + (status.names.content ? ", " + status.names.content : "") + (status.names.texture ? " + " + status.names.texture : "")
    + ", " + status.mode + " mode";
  $("downloads").hidden = !status.result;
  if (status.result) {
    const base = "/api/runs/" + runId;
    $("download-result").href = base + "/result.png";
    $("download-sheet").href = base + "/sheet.png";
    $("download-command").href = base + "/command.txt";
  }
  if (finished && events) { events.close(); events = null; }
}

function plot() {
  const svg = $("plot");
  const W = 360, H = 180, left = 44, right = 6, top = 6, bottom = 18;
  svg.textContent = "";
  const ns = "http://www.w3.org/2000/svg";
  const add = (name, attributes, text) => {
    const element = document.createElementNS(ns, name);
    for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
    if (text !== undefined) element.textContent = text;
    svg.appendChild(element);
    return element;
  };
  add("rect", { x: left, y: top, width: W - left - right, height: H - top - bottom, fill: "#fff", stroke: "#ccc" });
  if (reports.length < 2) return;
  const every = Math.max(1, Math.floor(reports.length / 600));   // at most ~600 points a line
  const shown = reports.filter((r, i) => i % every === 0 || i === reports.length - 1);
  const parts = PARTS.filter((p) => p === "total" || reports.some((r) => r[p] > 0));
  let low = Infinity, high = -Infinity;
  for (const r of shown) for (const p of parts) if (r[p] > 0) { low = Math.min(low, r[p]); high = Math.max(high, r[p]); }
  if (!isFinite(low)) return;
  let a = Math.floor(Math.log10(low)), b = Math.ceil(Math.log10(high));
  if (a === b) { a -= 1; b += 1; }
  const x = (i) => left + (W - left - right) * i / (reports.length - 1);
  const y = (v) => top + (H - top - bottom) * (1 - (Math.log10(v) - a) / (b - a));
  const stride = Math.ceil((b - a) / 6);   // at most about seven labelled decades
  for (let e = a; e <= b; e++) {
    if ((e - a) % stride) continue;
    add("line", { x1: left, x2: W - right, y1: y(10 ** e), y2: y(10 ** e), stroke: "#eee" });
    add("text", { x: 2, y: y(10 ** e) + 3 }, "1e" + e);
  }
  add("text", { x: left, y: H - 4 }, "step 1");
  add("text", { x: W - right - 60, y: H - 4 }, reports.length + " steps");
  for (const p of parts) {
    const points = shown.map((r) => [reports.indexOf(r), r[p]]).filter(([, v]) => v > 0)
      .map(([i, v]) => x(i).toFixed(1) + "," + y(v).toFixed(1)).join(" ");
    add("polyline", { points, fill: "none", stroke: COLOURS[p], "stroke-width": p === "total" ? 2 : 1.2 });
  }
}

// ---- start-up ------------------------------------------------------------------------------

async function init() {
  try {
    info = await api("/api/info");
  } catch (error) {
    document.body.textContent = error.message;
    return;
  }
  if (location.search.includes("token=")) history.replaceState(null, "", location.pathname + location.hash);
  $("server").textContent = "weights: " + info.weights.split(/[\\/]/).pop() + (info.weights === "random" ? " (untrained: for trying the page, not for pictures)" : "")
    + " · photos up to " + info.max_megapixels + " MP and " + info.max_upload_mb + " MB · one run at a time";
  buildForm();
  for (const role of ["content", "texture"]) {
    $(role + "-file").addEventListener("change", (event) => upload(role, event.target.files[0]));
    // A photo dropped on its box, or pasted while the box (or something in it) has the focus.
    const box = $(role + "-box");
    box.addEventListener("dragover", (event) => { event.preventDefault(); box.classList.add("dropping"); });
    box.addEventListener("dragleave", () => box.classList.remove("dropping"));
    box.addEventListener("drop", (event) => {
      event.preventDefault();
      box.classList.remove("dropping");
      const file = event.dataTransfer.files[0];
      if (file) upload(role, file);
    });
    for (const name of info.examples) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = name;
      button.title = "use the shipped example examples/" + name;
      button.addEventListener("click", () => useExample(role, name));
      $(role + "-examples").appendChild(button);
    }
  }
  document.addEventListener("paste", (event) => {
    const file = [...(event.clipboardData || {}).files || []].find((f) => f.type.startsWith("image/"));
    if (!file) return;
    const focused = document.activeElement && document.activeElement.closest(".photo");
    const role = focused ? focused.dataset.role : (photos.content ? "texture" : "content");
    event.preventDefault();
    upload(role, file);
  });
  $("start").addEventListener("click", start);
  $("stop").addEventListener("click", stop);
  scheduleCheck();
  // A second tab (or a reload) follows the same run: its id is in the address or remembered.
  let id = (location.hash.match(/run=([\w-]+)/) || [])[1];
  if (!id) { try { id = localStorage.getItem("nst_tf_run"); } catch (e) { id = null; } }
  if (id) {
    try {
      const status = await api("/api/runs/" + encodeURIComponent(id));
      follow(id, status);
    } catch (error) { /* forgotten by the server */ }
  }
}

init();
