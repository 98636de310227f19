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
// {upload: id} or {example: name} (the content may be a clip: {clip: id}); extra: the second
// and third textures (null: not chosen);
// mask: the painted regions, uploaded as a PNG ({upload: id}), or null for none.
const photos = { content: null, texture: null, extra: [], mask: null };
const sources = {};                                  // role -> the picture shown for it
const inputs = {};                                   // setting name -> its element
let runId = null, events = null, reports = [], previewShown = 0, lastStatus = null;
let checkTimer = null, checkNumber = 0;
// Why Start cannot start a run now ("" when it can, as far as the last check knows), and
// whether a Start is being sent.
let startReason = "", starting = false;
// The choices are kept in the browser as they are made (a reload before Start puts them back);
// while a reload puts them back, nothing is saved.
const DRAFT = "nst_tf_draft";
let restoring = false;
const labels = {};                                   // role -> the name shown for its photo

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
  label.textContent = field.label || field.name;
  label.htmlFor = "setting-" + field.name;
  const flag = document.createElement("code");
  flag.className = "flag";
  flag.textContent = "--" + field.name;
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
    label.append(" ", flag);
  } else {
    label.append(" ", flag);
    box.appendChild(input);
  }
  if (field.slider) box.appendChild(makeSlider(field, input));
  const help = document.createElement("small");
  help.textContent = field.short || field.help.split(/(?<=\.)\s/)[0];
  help.title = field.help;
  box.appendChild(help);
  return box;
}

// ---- sliders: a range around the default shown, writing into the setting's box ----------------

function numericDefault(field) {
  const mode = currentMode(), preset = currentPreset();
  if (field.name === "iterations") {
    const optimizer = (inputs.optimizer && inputs.optimizer.value) || byName("optimizer").mode_defaults[mode][preset];
    return Number(field.optimizer_defaults[mode][preset][optimizer]);
  }
  return Number(field.mode_defaults ? field.mode_defaults[mode][preset] : field.default);
}

function makeSlider(field, box) {
  const slider = document.createElement("input");
  slider.type = "range";
  slider.id = "slider-" + field.name;
  slider.setAttribute("aria-label", (field.label || field.name) + " (slider)");
  slider.addEventListener("input", () => {
    const base = numericDefault(field), position = Number(slider.value);
    const value = field.slider.scale === "log"
      ? Number((base * 10 ** position).toPrecision(3)) : Math.round(position);
    // At the default the box is left empty: the default, and no flag on the command line.
    box.value = Math.abs(value - base) <= 1e-9 * Math.abs(base) ? "" : String(value);
    scheduleCheck();
  });
  box.addEventListener("input", () => syncSlider(field));
  return slider;
}

// The slider's range from the default in force (mode, preset, optimizer), at the box's value.
function syncSlider(field) {
  const slider = $("slider-" + field.name), box = inputs[field.name];
  if (!slider) return;
  const base = numericDefault(field), { scale, low, high } = field.slider;
  if (!(base > 0)) { slider.disabled = true; return; }
  slider.disabled = false;
  const text = box.value.trim(), value = text === "" ? base : Number(text);
  if (scale === "log") {
    slider.min = Math.log10(low);
    slider.max = Math.log10(high);
    slider.step = 0.05;
    if (value > 0) slider.value = Math.log10(value / base);
  } else {
    slider.min = Math.max(1, Math.round(base * low));
    slider.max = Math.round(base * high);
    slider.step = 1;
    if (isFinite(value)) slider.value = value;
  }
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
    if (field.slider) syncSlider(field);
  }
  syncSeamless();
  const mode = currentMode();
  $("content-box").classList.toggle("unused", mode === "synthesize");
  $("texture-box").classList.toggle("unused", mode === "reconstruct");
  $("content-box").querySelector(".hint").textContent = mode === "synthesize"
    ? "Not used by synthesize (only its size, when --size is 0x0)." : "The photo (or a clip) whose layout and colours are kept.";
  $("texture-box").querySelector(".hint").textContent = mode === "reconstruct"
    ? "Not used by reconstruct." : mode === "style" ? "The style photo." : "The photo whose texture is wanted.";
}

// ---- seamless: a checkbox for --seamless xy --------------------------------------------------
// The checkbox is the setting's usual value, both directions; the setting's own box under "more
// settings" keeps x and y. Only in the modes the server names (info.seamless_modes; not
// reconstruct, which remakes the content photo, whose edges do not meet); elsewhere the
// checkbox is off and unavailable.

function seamlessAllowed() { return info.seamless_modes.includes(currentMode()); }

function wireSeamless() {
  const box = $("seamless"), setting = inputs.seamless;
  if (!setting) { $("seamless-choice").hidden = true; return; }
  box.addEventListener("change", () => {
    setting.value = !box.checked ? "off" : setting.value === "off" ? "xy" : setting.value;
    syncSeamless();
    scheduleCheck();
  });
  setting.addEventListener("change", syncSeamless);
  inputs.mode.addEventListener("change", () => {
    if (!seamlessAllowed()) setting.value = "off";
    syncSeamless();
  });
  syncSeamless();
}

// The checkbox from the setting and the mode.
function syncSeamless() {
  const setting = inputs.seamless;
  if (!setting) return;
  const allowed = seamlessAllowed(), value = setting.value;
  $("seamless").checked = value !== "off";
  $("seamless").disabled = !allowed;
  $("seamless-choice").classList.toggle("unused", !allowed);
  $("seamless-note").textContent = !allowed ? "not for " + currentMode() + ": its edges do not meet"
    : value === "x" ? "left to right only (more settings)"
    : value === "y" ? "top to bottom only (more settings)" : "";
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

// The settings as chosen in the form (the quick preview aside).
function formValues() {
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

function settings() {
  const values = formValues();
  // A quick preview: the same run at most info.preview_size px a side.
  if ($("quick").checked) {
    const size = Number(values.max_dim);
    if (!values.max_dim || !(size > 0 && size <= info.preview_size)) values.max_dim = String(info.preview_size);
  }
  return values;
}

function textures() {
  return [photos.texture, ...photos.extra.filter((spec) => spec)];
}

function request() {
  const chosen = textures();
  const body = { content: photos.content, texture: chosen.length > 1 ? chosen : photos.texture,
                 mask: photos.mask, settings: settings() };
  if (isClipSpec(photos.content)) body.video = { frames: $("clip-frames").value.trim(), every: $("clip-every").value.trim() };
  return body;
}

function scheduleCheck() {
  clearTimeout(checkTimer);
  checkTimer = setTimeout(() => { saveDraft(); check(); }, 250);
}

// ---- the choices kept in the browser ------------------------------------------------------
// As a run's request is (photos, mask, settings, clip part), with the quick preview and the
// names shown: a reload before Start (or after it, with choices changed since) gets them back.

function draft() {
  const chosen = textures();
  return { content: photos.content, texture: chosen.length > 1 ? chosen : photos.texture,
           mask: photos.mask, settings: formValues(), quick: $("quick").checked,
           video: { frames: $("clip-frames").value.trim(), every: $("clip-every").value.trim() },
           labels: { ...labels } };
}

function saveDraft() {
  if (restoring || !info) return;
  try { localStorage.setItem(DRAFT, JSON.stringify(draft())); } catch (e) { /* private mode */ }
}

function savedDraft() {
  try { return JSON.parse(localStorage.getItem(DRAFT) || "null"); } catch (e) { return null; }
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
    setStartReason(missing.length ? "choose " + missing.join(" and ") + " first" : "");
    const steps = answer.steps.reduce((a, b) => a + b, 0);
    $("plan").textContent = missing.length ? "Choose " + missing.join(" and ") + "."
      : answer.frames ? "Result: a clip of " + answer.frames + " frame" + (answer.frames > 1 ? "s" : "")
        + " of " + answer.width + "×" + answer.height + " px: the first up to " + steps + " "
        + answer.optimizer + " steps, each later one " + answer.later_steps
        + " (about " + duration(answer.estimate_seconds) + ")."
      : "Result: " + answer.width + "×" + answer.height + " px, up to " + steps + " "
        + answer.optimizer + (answer.optimizer === "lbfgs" ? " evaluations" : " steps")
        + (answer.steps.length > 1 ? " over " + answer.steps.length + " levels" : "")
        + (answer.tiles > 1 ? ", the last in " + answer.tiles + " tiles" : "")
        + " (about " + duration(answer.estimate_seconds) + ").";
    // The box shows the followed run's command; before any run, the one Start would make.
    if (!runId) $("command").textContent = missing.length ? "" : answer.command;
    return true;
  } catch (error) {
    if (number !== checkNumber) return;
    $("settings-message").textContent = error.message;
    $("plan").textContent = "";
    markBad(error.message);
    setStartReason(error.message);
    return false;
  }
}

// ---- the photos ----------------------------------------------------------------------------

function showPhoto(role, source, name) {
  const img = $(role + "-thumb");
  img.hidden = !source;
  img.parentElement.querySelector(".empty").hidden = !!source;
  if (source) img.src = source;
  else img.removeAttribute("src");
  sources[role] = source;
  labels[role] = source ? name || "" : "";
  $(role + "-name").textContent = name || "";
  if (role === "content") contentChanged();
  if (role.startsWith("texture")) texturesChanged();
}

// A role: "content", "texture" (the first), "texture2", "texture3".
function setPhoto(role, spec) {
  if (role === "content" || role === "texture") photos[role] = spec;
  else photos.extra[Number(role.slice(7)) - 2] = spec;
}

function isClipSpec(spec) { return !!(spec && spec.clip); }

function isClipFile(file) {
  return file.type.startsWith("video/") || /\.(mp4|mov|mkv|webm|avi|m4v)$/i.test(file.name);
}

// A file's bytes to the server (its name in X-Filename, what it is for in X-Role: content,
// texture or mask): the server's JSON answer.
function sendFile(path, file, role) {
  return api(path, { method: "POST", body: file,
                     headers: { ...POST_HEADERS, "Content-Type": "application/octet-stream",
                                "X-Filename": encodeURIComponent(file.name),
                                ...(role ? { "X-Role": role } : {}) } });
}

// A file for a photo box. A file the server refuses leaves the photo chosen before it (and
// says why under the box).
async function upload(role, file) {
  $(role + "-message").textContent = "";
  if (!file) return;
  if (isClipFile(file)) return uploadClip(role, file);
  if (file.size > info.max_upload_mb * 1024 * 1024) {
    return refused(role, file.name + ": " + (file.size / 1048576).toFixed(1)
      + " MB, more than the " + info.max_upload_mb + " MB this server takes");
  }
  const before = $(role + "-name").textContent;
  $(role + "-name").textContent = "sending " + file.name + "…";
  try {
    const answer = await sendFile("/api/uploads", file, role === "content" ? "content" : "texture");
    setPhoto(role, { upload: answer.id });
    showPhoto(role, URL.createObjectURL(file), answer.name + " (" + answer.width + "×" + answer.height + ")");
  } catch (error) {
    $(role + "-name").textContent = before;
    return refused(role, error.message);
  }
  scheduleCheck();
}

function refused(role, message) {
  $(role + "-message").textContent = message + (sources[role] ? " (the photo chosen before is kept)" : "");
  scheduleCheck();
}

// A clip for the content: kept on the server (its first frame is shown, and painted on).
async function uploadClip(role, file) {
  const fail = (message) => refused(role, message);
  if (role !== "content") return fail(file.name + ": a clip goes in the content; a texture is a photo");
  if (!info.video) return fail("this server makes no clips: it needs the video extra (pip install 'nst-tf[video]')");
  if (file.size > info.max_clip_mb * 1024 * 1024) {
    return fail(file.name + ": " + (file.size / 1048576).toFixed(1) + " MB, more than the "
                + info.max_clip_mb + " MB this server takes for a clip");
  }
  const before = $(role + "-name").textContent;
  $(role + "-name").textContent = "sending " + file.name + "…";
  try {
    const answer = await sendFile("/api/clips", file);
    setPhoto(role, { clip: answer.id });
    showPhoto(role, "/api/clips/" + encodeURIComponent(answer.id), clipName(answer));
  } catch (error) {
    $(role + "-name").textContent = before;
    return fail(error.message);
  }
  scheduleCheck();
}

function clipName(clip) {
  return clip.name + " (clip: " + clip.frames + " frames, " + clip.width + "×" + clip.height
    + ", " + Number(clip.fps.toFixed(2)) + " fps" + (clip.audio ? ", with sound" : "") + ")";
}

function useExample(role, name) {
  $(role + "-message").textContent = "";
  $(role + "-file").value = "";
  setPhoto(role, { example: name });
  showPhoto(role, "/examples/" + encodeURIComponent(name), "examples/" + name);
  scheduleCheck();
}

// A photo box's upload, drop and examples (role: content, texture, texture2, texture3).
function wirePhoto(role) {
  $(role + "-file").addEventListener("change", (event) => upload(role, event.target.files[0]));
  const box = $(role + "-box");
  box.addEventListener("dragover", (event) => { event.preventDefault(); box.classList.add("dropping"); });
  box.addEventListener("dragleave", () => box.classList.remove("dropping"));
  box.addEventListener("drop", (event) => {
    event.preventDefault();
    event.stopPropagation();
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

// ---- more textures: a second and a third, each with a painted region ------------------------

function addTexture(spec) {
  const number = photos.extra.length + 2;
  if (number > info.max_textures) return null;
  const role = "texture" + number;
  photos.extra.push(null);
  const box = document.createElement("div");
  box.className = "more-texture";
  box.id = role + "-box";
  box.dataset.role = role;
  box.innerHTML = '<h3><span class="swatch"></span>Texture ' + number + '</h3>'
    + '<div class="thumb small"><img alt="" hidden><span class="empty">no photo yet</span></div>'
    + '<p class="name"></p><label class="button">Upload…<input type="file" accept="image/*"></label>'
    + '<span class="examples"></span><button type="button" class="remove">Remove</button>'
    + '<p class="message" role="alert"></p>';
  box.querySelector(".swatch").style.background = info.region_colors[number - 1];
  box.querySelector(".thumb img").id = role + "-thumb";
  box.querySelector(".name").id = role + "-name";
  box.querySelector("input").id = role + "-file";
  box.querySelector(".examples").id = role + "-examples";
  box.querySelector(".message").id = role + "-message";
  box.querySelector(".remove").addEventListener("click", removeLastTexture);
  $("more-textures").appendChild(box);
  wirePhoto(role);
  if (spec) restorePhoto(role, spec);
  texturesChanged();
  return role;
}

function removeLastTexture() {
  const number = photos.extra.length + 1;
  if (number < 2) return;
  photos.extra.pop();
  $("texture" + number + "-box").remove();
  delete sources["texture" + number];
  texturesChanged();
  paint.export();
}

function texturesChanged() {
  const count = photos.extra.length + 1;
  $("add-texture").disabled = !info || count >= info.max_textures;
  document.querySelectorAll(".more-texture .remove").forEach((button, index, all) => {
    button.hidden = index !== all.length - 1;
  });
  $("texture-box").querySelector(".swatch-main").hidden = count < 2;
  paint.brushes();
  const shown = sources.texture;
  $("texture-shown").src = shown || "";
  $("texture-beside").hidden = !shown;
  scheduleCheck();
}

function contentChanged() {
  $("clip-fields").hidden = !isClipSpec(photos.content);
  $("paint-open").disabled = !sources.content;
  $("before").src = sources.content || "";
  if (sources.content) paint.photo(sources.content);
  else { paint.close(); paint.clear(); }
}

// ---- painting where each texture goes ----------------------------------------------------
// The regions are painted on a canvas over the content photo (at most PAINT_SIZE px a side,
// the photo's shape: the library stretches a mask to the photo). What is sent is a PNG: one
// texture, a gray mask (white where painted, soft at the brush's edge); several, a label
// image of the server's region colours, each pixel the colour painted most there or black.

const PAINT_SIZE = 640;

const paint = (() => {
  const canvas = () => $("paint-canvas");
  let brush = 0, drawing = false, last = null, painted = false, exportTimer = null;
  // Painting by keyboard: the brush's place on the canvas (canvas pixels), and whether it is
  // down (painting where it goes).
  let cursor = null, down = false;

  function photo(source) {
    const img = $("paint-photo");
    if (img.dataset.source === source) return;
    img.dataset.source = source;
    img.dataset.ready = "";
    img.onload = () => {
      const scale = Math.min(1, PAINT_SIZE / Math.max(img.naturalWidth, img.naturalHeight));
      canvas().width = Math.max(1, Math.round(img.naturalWidth * scale));
      canvas().height = Math.max(1, Math.round(img.naturalHeight * scale));
      cursor = null;
      clear();
      img.dataset.ready = source;  // the canvas has the photo's shape: a mask may be drawn
    };
    img.src = source;
  }

  function clear() {
    const context = canvas().getContext("2d");
    context.clearRect(0, 0, canvas().width, canvas().height);
    painted = false;
    exportNow();
  }

  function brushes() {
    if (!info) return;
    const box = $("brushes");
    const count = photos.extra.length + 1;
    box.textContent = "";
    if (brush >= count) brush = 0;
    const choices = [...info.region_colors.slice(0, count).map((colour, index) =>
      [index, count > 1 ? "texture " + (index + 1) : "texture", colour]), [-1, "eraser", null]];
    for (const [value, name, colour] of choices) {
      const label = document.createElement("label");
      label.className = "brush";
      const input = document.createElement("input");
      input.type = "radio";
      input.name = "brush";
      input.value = String(value);
      input.id = "brush-" + (value < 0 ? "eraser" : value + 1);
      input.checked = value === brush;
      input.addEventListener("change", () => { brush = value; showCursor(); });
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      if (colour) swatch.style.background = colour;
      label.append(input, swatch, name);
      box.appendChild(label);
    }
  }

  function dot(x, y) {
    const context = canvas().getContext("2d");
    const radius = Number($("brush-size").value) / 2;
    const gradient = context.createRadialGradient(x, y, radius * 0.5, x, y, radius);
    if (brush < 0) {
      context.globalCompositeOperation = "destination-out";
      gradient.addColorStop(0, "rgba(0,0,0,1)");
      gradient.addColorStop(1, "rgba(0,0,0,0)");
    } else {
      context.globalCompositeOperation = "source-over";
      const [r, g, b] = [1, 3, 5].map((k) => parseInt(info.region_colors[brush].slice(k, k + 2), 16));
      gradient.addColorStop(0, "rgba(" + r + "," + g + "," + b + ",1)");
      gradient.addColorStop(1, "rgba(" + r + "," + g + "," + b + ",0)");
      painted = true;
    }
    context.fillStyle = gradient;
    context.beginPath();
    context.arc(x, y, radius, 0, 2 * Math.PI);
    context.fill();
  }

  function at(event) {
    const box = canvas().getBoundingClientRect();
    return [(event.clientX - box.left) * canvas().width / box.width,
            (event.clientY - box.top) * canvas().height / box.height];
  }

  // The brush from where it last was (if it was down) to [x, y].
  function strokeTo([x, y]) {
    const radius = Number($("brush-size").value) / 2;
    if (last) {  // dots along the way, a quarter of the brush apart
      const [x0, y0] = last, steps = Math.ceil(Math.hypot(x - x0, y - y0) / Math.max(1, radius / 4));
      for (let i = 1; i <= steps; i++) dot(x0 + (x - x0) * i / steps, y0 + (y - y0) * i / steps);
    } else {
      dot(x, y);
    }
    last = [x, y];
  }

  function stroke(event) { strokeTo(at(event)); }

  // The whole picture in the chosen brush's colour (the eraser: cleared).
  function fillAll() {
    if (brush < 0) return clear();
    const context = canvas().getContext("2d");
    context.globalCompositeOperation = "source-over";
    context.fillStyle = info.region_colors[brush];
    context.fillRect(0, 0, canvas().width, canvas().height);
    painted = true;
    schedule();
  }

  // ---- by keyboard: the arrow keys move the brush (Shift: four times as far), Space puts it
  // down or lifts it, Escape lifts it; down, it paints where it goes.

  function showCursor() {
    const element = canvas(), ring = $("paint-cursor");
    if (!cursor || document.activeElement !== element || !element.width) { ring.hidden = true; return; }
    const scale = element.getBoundingClientRect().width / element.width;
    const size = Number($("brush-size").value) * scale;
    Object.assign(ring.style, { left: cursor[0] * scale + "px", top: cursor[1] * scale + "px",
                                width: size + "px", height: size + "px" });
    ring.classList.toggle("down", down);
    ring.hidden = false;
    const name = brush < 0 ? "the eraser" : photos.extra.length ? "texture " + (brush + 1) : "the texture";
    $("paint-status").textContent = "Brush at " + Math.round(100 * cursor[0] / element.width) + "% across, "
      + Math.round(100 * cursor[1] / element.height) + "% down; " + (down ? "painting " + name : "lifted") + ".";
  }

  function key(event) {
    const element = canvas(), moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    if (!element.width) return;
    if (!cursor) cursor = [element.width / 2, element.height / 2];
    if (moves[event.key]) {
      const step = Math.max(2, Number($("brush-size").value) / 2) * (event.shiftKey ? 4 : 1);
      const [dx, dy] = moves[event.key];
      cursor = [Math.min(element.width - 1, Math.max(0, cursor[0] + dx * step)),
                Math.min(element.height - 1, Math.max(0, cursor[1] + dy * step))];
      if (down) { strokeTo(cursor); schedule(); }
    } else if (event.key === " " || event.key === "Spacebar") {
      down = !down;
      last = null;
      if (down) { strokeTo(cursor); schedule(); }
    } else if (event.key === "Escape" && down) {
      down = false;
    } else {
      return;
    }
    event.preventDefault();
    showCursor();
  }

  function wire() {
    const element = canvas();
    element.addEventListener("pointerdown", (event) => {
      drawing = true;
      last = null;
      element.setPointerCapture(event.pointerId);
      stroke(event);
    });
    element.addEventListener("pointermove", (event) => { if (drawing) stroke(event); });
    const end = () => { if (drawing) { drawing = false; last = null; schedule(); } };
    element.addEventListener("pointerup", end);
    element.addEventListener("pointercancel", end);
    element.addEventListener("keydown", key);
    element.addEventListener("focus", () => { if (!cursor && element.width) cursor = [element.width / 2, element.height / 2]; showCursor(); });
    element.addEventListener("blur", () => { down = false; last = null; showCursor(); });
    $("brush-size").addEventListener("input", showCursor);
    $("clear-paint").addEventListener("click", clear);
    $("paint-all").addEventListener("click", fillAll);
    $("paint-open").addEventListener("click", open);
    // Done: the focus back on the button that opened the painting.
    $("paint-close").addEventListener("click", () => { close(); $("paint-open").focus(); });
    $("mask-file").addEventListener("change", (event) => load(event.target.files[0]));
  }

  function open() {
    $("regions").hidden = false;
    $("regions").scrollIntoView({ block: "nearest" });
    $("brush-1").focus();
  }

  function close() { $("regions").hidden = true; }

  function schedule() {
    clearTimeout(exportTimer);
    exportTimer = setTimeout(exportNow, 300);
  }

  // The mask as the server takes it, or null when nothing is painted.
  function labels() {
    const { width, height } = canvas();
    if (!painted || !width) return null;
    const pixels = canvas().getContext("2d").getImageData(0, 0, width, height).data;
    const count = photos.extra.length + 1;
    const colours = info.region_colors.slice(0, count).map((c) => [1, 3, 5].map((k) => parseInt(c.slice(k, k + 2), 16)));
    const out = new ImageData(width, height);
    let any = false;
    for (let i = 0; i < pixels.length; i += 4) {
      const alpha = pixels[i + 3];
      let value = [0, 0, 0];
      if (count === 1) {
        value = [alpha, alpha, alpha];
      } else if (alpha >= 128) {
        let best = 0, score = -1;
        colours.forEach((colour, index) => {
          const s = colour[0] * pixels[i] + colour[1] * pixels[i + 1] + colour[2] * pixels[i + 2];
          if (s > score) { score = s; best = index; }
        });
        value = colours[best];
      }
      any = any || alpha > 0;
      out.data.set([value[0], value[1], value[2], 255], i);
    }
    if (!any) return null;
    const flat = document.createElement("canvas");
    flat.width = width;
    flat.height = height;
    flat.getContext("2d").putImageData(out, 0, 0);
    return flat;
  }

  async function exportNow() {
    const flat = labels();
    $("mask-message").textContent = "";
    if (!flat) {
      photos.mask = null;
      $("mask-name").textContent = "";
      scheduleCheck();
      return;
    }
    const blob = await new Promise((resolve) => flat.toBlob(resolve, "image/png"));
    try {
      const answer = await api("/api/uploads", {
        method: "POST", body: blob,
        headers: { ...POST_HEADERS, "Content-Type": "application/octet-stream", "X-Filename": "mask.png",
                   "X-Role": "mask" } });
      photos.mask = { upload: answer.id };
      $("mask-name").textContent = "regions painted";
    } catch (error) {
      photos.mask = null;
      $("mask-message").textContent = error.message;
    }
    scheduleCheck();
  }

  // A mask from a file (or the server, after a reload: `kept`, its upload, is not sent again)
  // drawn as paint: black is unpainted. done() once drawn, or not.
  function draw(source, kept, done) {
    const img = new Image();
    img.onload = () => {
      const context = canvas().getContext("2d");
      const { width, height } = canvas();
      context.globalCompositeOperation = "source-over";
      context.clearRect(0, 0, width, height);
      context.drawImage(img, 0, 0, width, height);
      const data = context.getImageData(0, 0, width, height);
      const count = photos.extra.length + 1;
      for (let i = 0; i < data.data.length; i += 4) {
        const [r, g, b] = data.data.slice(i, i + 3);
        const strength = Math.max(r, g, b);
        if (count === 1) {  // gray: how much texture, shown in the first colour
          const [cr, cg, cb] = [1, 3, 5].map((k) => parseInt(info.region_colors[0].slice(k, k + 2), 16));
          data.data.set([cr, cg, cb, (r + g + b) / 3], i);
        } else {
          data.data[i + 3] = strength > 8 ? 255 : 0;
        }
      }
      context.putImageData(data, 0, 0);
      painted = true;
      if (kept) {
        clearTimeout(exportTimer);
        photos.mask = kept;
        $("mask-name").textContent = "regions painted";
        scheduleCheck();
      } else {
        exportNow();
      }
      if (done) done();
    };
    img.onerror = () => {
      if (kept) {
        photos.mask = null;
        $("mask-name").textContent = "";
      }
      $("mask-message").textContent = kept ? "the painted regions are no longer on the server; paint them again"
        : "that mask could not be read";
      if (done) done();
    };
    img.src = source;
  }

  function load(file) {
    if (!file) return;
    if (!sources.content) { $("mask-message").textContent = "choose the content photo first"; return; }
    open();
    draw(URL.createObjectURL(file));
  }

  return { photo, clear, brushes, wire, open, close, draw, export: schedule };
})();

// ---- the run -------------------------------------------------------------------------------

function isFinished() { return !lastStatus || FINISHED.includes(lastStatus.state); }

// Start: the run joins the line and the focus goes to Stop; a run that cannot start says why
// beside the button (again on each press), and the focus stays on Start.
async function start() {
  if (starting || !isFinished()) return;
  const missing = needed();
  if (missing.length) return notStarted("choose " + missing.join(" and ") + " first");
  starting = true;
  updateStart();
  try {
    const status = await postJSON("/api/runs", request());
    $("start-message").textContent = "";
    follow(status.id, status);
    $("stop").focus();
  } catch (error) {
    $("settings-message").textContent = error.message;
    markBad(error.message);
    notStarted(error.message);
  } finally {
    starting = false;
    updateStart();
  }
}

function notStarted(reason) {
  const message = $("start-message");
  message.textContent = "";
  message.classList.remove("again");
  setTimeout(() => {  // written anew: read out and shown again even when it is the same
    message.textContent = "Not started: " + reason.replace(/\.$/, "") + ".";
    message.classList.add("again");
  }, 30);
}

// What the last check said about starting ("" when a run can start).
function setStartReason(reason) {
  startReason = reason;
  if (!reason) $("start-message").textContent = "";
  updateStart();
}

// Start is disabled while a run is going (Stop is the control then); otherwise it stays
// reachable, marked unavailable when the last check says the run cannot start.
function updateStart() {
  const going = !isFinished();
  $("start").disabled = going;
  $("start").setAttribute("aria-disabled", String(!going && (starting || !!startReason)));
}

async function stop() {
  if (!runId || $("stop").getAttribute("aria-disabled") === "true") return;
  $("stop").setAttribute("aria-disabled", "true");  // still focused: the focus moves on at the end
  try {
    show(await postJSON("/api/runs/" + runId + "/stop", {}));
  } catch (error) {
    $("run-message").textContent = error.message;
    $("stop").setAttribute("aria-disabled", "false");
  }
}

function follow(id, status) {
  if (events) events.close();
  runId = id;
  reports = [];
  previewShown = 0;
  lastStatus = null;
  $("live").removeAttribute("src");
  $("compare-position").value = 0;
  compare();
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
      lastStatus = null;
      updateStart();
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
  const ended = lastStatus && lastStatus.id === status.id && !FINISHED.includes(lastStatus.state)
    && FINISHED.includes(status.state);
  lastStatus = status;
  const finished = FINISHED.includes(status.state);
  $("run-state").textContent = "– " + describe(status);
  $("run-state").dataset.state = status.state;
  $("run-message").textContent = status.message || "";
  $("run-message").classList.toggle("bad", status.state === "failed");
  updateStart();
  $("stop").disabled = finished;
  $("stop").setAttribute("aria-disabled", String(finished || status.state === "stopping"));
  $("command").textContent = status.command;
  const last = reports[reports.length - 1];
  const totalSteps = status.steps.reduce((a, b) => a + b, 0);
  const clip = status.clip;
  $("stat-frame-row").hidden = !clip;
  if (clip) $("stat-frame").textContent = (finished ? clip.done : Math.min(clip.done + 1, clip.frames)) + " / " + clip.frames;
  if (last && clip && clip.done > 0) {  // a later frame: its own steps
    $("stat-step").textContent = (last.step + 1) + " / " + clip.later_steps;
  } else if (last) {
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
  drawTiles(status);
  showRepeated(status);
  $("live-caption").textContent = status.width + "×" + status.height + " px"
    + (status.names.content ? ", " + status.names.content : "") + (status.names.texture ? " + " + status.names.texture : "")
    + ", " + status.mode + " mode";
  $("downloads").hidden = !status.result && !(status.clip && status.clip.video);
  $("compare-label").hidden = !status.preview || !sources.content;
  if (status.result) {
    const base = "/api/runs/" + runId;
    $("download-result").href = base + "/result.png";
    $("download-sheet").href = base + "/sheet.png";
    $("download-command").href = base + "/command.txt";
    $("download-mask").href = base + "/mask.png";
  }
  $("download-mask").hidden = !status.mask;
  $("download-video").hidden = !(clip && clip.video);
  if (clip && clip.video) $("download-video").href = "/api/runs/" + runId + "/result.mp4";
  $("download-result").textContent = clip ? "Last frame (PNG)" : "Download result (PNG)";
  if (finished && events) { events.close(); events = null; }
  // The run has just ended: a focus left on Stop (now disabled) or on nothing goes to the
  // first download (or to Start when there is none).
  const focused = document.activeElement;
  if (ended && (!focused || focused === document.body || focused === $("stop"))) {
    const next = ["download-video", "download-result"].map($).find((e) => e.offsetParent !== null);
    (next || $("start")).focus();
  }
}

// The before/after slider: the content photo over the result, shown from the left up to the
// slider's position.
function compare() {
  const position = Number($("compare-position").value);
  $("before").hidden = position === 0 || !sources.content;
  $("before").style.clipPath = "inset(0 " + (100 - position) + "% 0 0)";
}

// A seamless run's result repeated 2x2, as the tile is meant to be laid: where the copies meet,
// its wrapped edges meet (with x or y only, the other edges show their seam). Drawn once a run,
// at most REPEAT_MAX px a side (a 2048 px tile would make an 8k canvas), each copy alike.
const REPEAT_MAX = 2048;

function showRepeated(status) {
  const canvas = $("repeat");
  const shown = !!status.result && !!status.seamless && status.seamless !== "off" && !status.clip;
  $("repeat-view").hidden = !shown;
  if (!shown || canvas.dataset.run === status.id) return;
  canvas.dataset.run = status.id;
  delete canvas.dataset.drawn;
  $("repeat-caption").textContent = "the result repeated 2×2 (seamless " + status.seamless + ")";
  const image = new Image();
  image.onload = () => {
    if (canvas.dataset.run !== status.id) return;
    const scale = Math.min(1, REPEAT_MAX / (2 * Math.max(image.naturalWidth, image.naturalHeight)));
    const width = Math.max(1, Math.round(image.naturalWidth * scale));
    const height = Math.max(1, Math.round(image.naturalHeight * scale));
    canvas.width = 2 * width;
    canvas.height = 2 * height;
    const context = canvas.getContext("2d");
    for (const [x, y] of [[0, 0], [width, 0], [0, height], [width, height]]) {
      context.drawImage(image, x, y, width, height);
    }
    canvas.dataset.drawn = status.id;
  };
  image.src = "/api/runs/" + encodeURIComponent(status.id) + "/result.png";
}

// A full-resolution run's tiles, drawn over the live picture (the picture's own pixels).
function drawTiles(status) {
  const svg = $("tiles");
  const tiles = status.tiles || [];
  svg.toggleAttribute("hidden", tiles.length < 2);  // an SVG element has no `hidden` property
  if (svg.dataset.run === status.id) return;
  svg.dataset.run = status.id;
  svg.textContent = "";
  svg.setAttribute("viewBox", "0 0 " + status.width + " " + status.height);
  const ns = "http://www.w3.org/2000/svg";
  for (const [left, top, right, bottom] of tiles) {
    const rect = document.createElementNS(ns, "rect");
    for (const [key, value] of Object.entries({ x: left, y: top, width: right - left, height: bottom - top })) {
      rect.setAttribute(key, value);
    }
    svg.appendChild(rect);
  }
}

// A reloaded page: the choices kept in the browser, or the followed run's photos, mask and
// settings, back in the form. label: the name shown when the photo was chosen.
function restorePhoto(role, spec, label) {
  if (!spec) return;
  setPhoto(role, spec);
  if (label) labels[role] = label;
  if (spec.example) {
    showPhoto(role, "/examples/" + encodeURIComponent(spec.example), "examples/" + spec.example);
  } else if (spec.upload || spec.clip) {
    const source = spec.clip ? "/api/clips/" + encodeURIComponent(spec.clip)
      : "/api/uploads/" + encodeURIComponent(spec.upload);
    const img = new Image();
    const what = spec.clip ? "clip" : "photo";
    img.onload = () => showPhoto(role, source, label || "your " + what + " (" + img.naturalWidth + "×" + img.naturalHeight + ")");
    img.onerror = () => {
      setPhoto(role, null);
      $(role + "-message").textContent = "this " + what + " is no longer on the server; choose it again";
      scheduleCheck();
    };
    img.src = source;
  }
}

// asked: a run's request as the server echoes it, or the choices kept in the browser (the
// same, with the quick preview and the names shown).
function restore(asked) {
  if (!asked) return;
  restoring = true;
  const names = asked.labels || {};
  restorePhoto("content", asked.content, names.content);
  const chosen = Array.isArray(asked.texture) ? asked.texture : [asked.texture];
  restorePhoto("texture", chosen[0], names.texture);
  chosen.slice(1).forEach((spec, index) => {
    const role = addTexture(null);
    if (role) restorePhoto(role, spec, names[role]);
  });
  $("clip-frames").value = (asked.video && asked.video.frames) || "";
  $("clip-every").value = (asked.video && asked.video.every) || "";
  $("quick").checked = !!asked.quick;
  for (const [name, value] of Object.entries(asked.settings || {})) {
    const input = inputs[name];
    if (!input) continue;
    if (input.type === "checkbox") input.checked = !!value;
    else input.value = String(value);
  }
  refreshDefaults();
  const restored = () => { restoring = false; scheduleCheck(); };
  if (asked.mask && asked.mask.upload) {
    photos.mask = asked.mask;
    const source = "/api/uploads/" + encodeURIComponent(asked.mask.upload);
    const wait = () => {
      if (!photos.content) { photos.mask = null; restored(); }  // the photo is gone: so is its painting
      else if (sources.content && $("paint-photo").dataset.ready === sources.content) {
        paint.draw(source, asked.mask, restored);
      } else setTimeout(wait, 100);
    };
    wait();
  } else {
    restored();
  }
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
    + " · photos up to " + info.max_megapixels + " MP and " + info.max_upload_mb + " MB"
    + (info.video ? " · clips up to " + info.max_clip_mb + " MB" : "") + " · one run at a time";
  buildForm();
  wireSeamless();
  // A photo dropped on its box, or pasted while the box (or something in it) has the focus.
  for (const role of ["content", "texture"]) wirePhoto(role);
  for (const [content, texture] of info.example_pairs) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "pair";
    button.title = content + " with the texture of " + texture;
    for (const name of [content, texture]) {
      const img = document.createElement("img");
      img.src = "/examples/" + encodeURIComponent(name);
      img.alt = name;
      button.appendChild(img);
    }
    button.append(content.replace(/\.\w+$/, "") + " + " + texture.replace(/\.\w+$/, ""));
    button.addEventListener("click", () => { useExample("content", content); useExample("texture", texture); });
    $("pairs").appendChild(button);
  }
  const mainSwatch = document.createElement("span");
  mainSwatch.className = "swatch swatch-main";
  mainSwatch.style.background = info.region_colors[0];
  $("texture-box").querySelector("h2").prepend(mainSwatch);
  $("add-texture").addEventListener("click", () => {
    const role = addTexture(null);
    if (role) $(role + "-file").focus();
    paint.open();
  });
  paint.wire();
  texturesChanged();
  $("compare-position").addEventListener("input", compare);
  document.addEventListener("paste", (event) => {
    const file = [...(event.clipboardData || {}).files || []].find((f) => f.type.startsWith("image/"));
    if (!file) return;
    const focused = document.activeElement && document.activeElement.closest(".photo");
    const role = focused ? focused.dataset.role : (photos.content ? "texture" : "content");
    event.preventDefault();
    upload(role, file);
  });
  $("quick-size").textContent = info.preview_size;
  $("quick").addEventListener("change", scheduleCheck);
  for (const id of ["clip-frames", "clip-every"]) $(id).addEventListener("input", scheduleCheck);
  $("start").addEventListener("click", start);
  window.addEventListener("pagehide", saveDraft);
  $("stop").addEventListener("click", stop);
  scheduleCheck();
  // A second tab (or a reload) follows the same run: its id is in the address or remembered.
  // The form gets back the choices last made in this browser (before Start, or changed after
  // it), else the followed run's.
  let id = (location.hash.match(/run=([\w-]+)/) || [])[1];
  if (!id) { try { id = localStorage.getItem("nst_tf_run"); } catch (e) { id = null; } }
  const kept = savedDraft();
  let status = null;
  if (id) {
    try { status = await api("/api/runs/" + encodeURIComponent(id)); } catch (error) { /* forgotten */ }
  }
  restore(kept || (status && status.asked));
  if (status) follow(id, status);
}

init();
