// realvoice web page: sign in with an API key, record or upload samples, build a voice, speak with it.
"use strict";

const PROMPTS = [
  "Good morning everyone, and welcome back to the channel.",
  "Today I want to show you how I plan a whole week of videos in one afternoon.",
  "Have you ever wondered why some podcasts sound so much warmer than others?",
  "This is honestly the best coffee I have had all year!",
  "First, open the settings menu, then choose the audio tab, and set the level to seventy percent.",
  "Thanks for listening, and I will see you in the next episode.",
  "The quick brown fox jumps over the lazy dog near the riverbank.",
  "Could you send me the report by Friday afternoon, please?",
];
const MIN_SAMPLES = 5;
const MAX_RECORD_SECONDS = 30;

const $ = (id) => document.getElementById(id);
const state = {
  key: null, samples: [], nextId: 1, prompt: 0, recorder: null, voices: [], playing: null,
  history: [], heard: null, audioUrls: {}, historyTimer: null, previewing: null, previewUrls: {},
  consent: { required: false, challenge: null, file: null },
};

// ---- talking to the API --------------------------------------------------------------------

class ApiError extends Error {
  constructor(problem, status) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.problem = problem;
    this.status = status;
  }
}

async function api(path, options = {}) {
  const headers = Object.assign({ Authorization: `Bearer ${state.key}` }, options.headers || {});
  const response = await fetch(path, Object.assign({}, options, { headers }));
  if (!response.ok) {
    let problem = { detail: `${response.status} ${response.statusText}` };
    try { problem = await response.json(); } catch (_) { /* not JSON */ }
    if (response.status === 401 && state.key) signOut(problem.detail);
    throw new ApiError(problem, response.status);
  }
  return response;
}

async function apiJson(path, options) {
  return (await api(path, options)).json();
}

function say(id, text, isError = false) {
  const el = $(id);
  el.textContent = text;
  el.classList.toggle("error", isError);
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child);
  return node;
}

// ---- signing in ----------------------------------------------------------------------------

async function signIn(key, remember) {
  state.key = key;
  let me;
  try {
    [state.voices, me] = await Promise.all([apiJson("/v1/voices"), apiJson("/v1/me")]);
  } catch (err) {
    state.key = null;
    say("signin-status", err.message, true);
    return;
  }
  (remember ? localStorage : sessionStorage).setItem("realvoice-key", key);
  $("signin").hidden = true;
  $("app").hidden = false;
  $("whoami").hidden = false;
  $("whoami-text").textContent = `Signed in as ${me.user}`;
  say("signin-status", "");
  renderVoices();
  loadHistory();
  $("create-h").focus();  // the heading has tabindex="-1": focus lands where the work starts
}

function signOut(reason = "") {
  state.key = null;
  localStorage.removeItem("realvoice-key");
  sessionStorage.removeItem("realvoice-key");
  $("app").hidden = true;
  $("whoami").hidden = true;
  $("signin").hidden = false;
  say("signin-status", reason ? `Signed out: ${reason}` : "Signed out.", Boolean(reason));
  $("api-key").value = "";
  $("api-key").focus();
}

// ---- samples: recording, uploading, checking ------------------------------------------------

function showPrompt() {
  $("prompt").textContent = PROMPTS[state.prompt % PROMPTS.length];
}

function toggleRecording() {
  record($("record"), "record-status", "Start recording", (file) => {
    const n = state.samples.length + 1;
    addSample(new File([file], `recording-${n}.${file.name.split(".").pop()}`, { type: file.type }));
    say("record-status", `Recorded sample ${n}. Checking it…`);
    state.prompt += 1;
    showPrompt();
  });
}

function toggleConsentRecording() {
  record($("record-consent"), "consent-status", "Record the statement", (file) => {
    state.consent.file = file;
    say("consent-status", "Statement recorded: it is checked when the voice is built.");
    updateCreateButton();
  });
}

async function record(button, statusId, idleLabel, done) {
  if (state.recorder) {
    state.recorder.stop();
    return;
  }
  if (!navigator.mediaDevices?.getUserMedia || typeof MediaRecorder === "undefined") {
    say(statusId, "This browser cannot record audio; upload a file instead.", true);
    return;
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: false, noiseSuppression: false } });
  } catch (err) {
    say(statusId, `The microphone is not available: ${err.message}. Upload a file instead.`, true);
    return;
  }
  const recorder = new MediaRecorder(stream);
  const chunks = [];
  const meter = startMeter(stream);
  const started = Date.now();
  const timer = setInterval(() => {
    const s = (Date.now() - started) / 1000;
    $("rec-time").textContent = `${s.toFixed(0)} s`;
    if (s >= MAX_RECORD_SECONDS) recorder.stop();
  }, 250);
  recorder.ondataavailable = (e) => e.data.size && chunks.push(e.data);
  recorder.onstop = () => {
    clearInterval(timer);
    meter.stop();
    stream.getTracks().forEach((t) => t.stop());
    state.recorder = null;
    button.textContent = idleLabel;
    button.classList.remove("recording");
    $("rec-time").textContent = "";
    const type = recorder.mimeType || "audio/webm";
    const ext = type.includes("ogg") ? "ogg" : type.includes("mp4") ? "m4a" : "webm";
    done(new File([new Blob(chunks, { type })], `recording.${ext}`, { type }));
  };
  recorder.start(250);
  state.recorder = recorder;
  button.textContent = "Stop recording";
  button.classList.add("recording");
  say(statusId, "Recording… read the text aloud, then press Stop.");
}

// ---- the speaker's consent ------------------------------------------------------------------

async function loadConsentRule() {
  try {
    const health = await (await fetch("/healthz")).json();
    state.consent.required = Boolean(health.consent_recording_required);
  } catch {
    state.consent.required = false;
  }
  $("attest").hidden = state.consent.required;
  updateCreateButton();
}

async function getStatement() {
  const name = $("speaker-name").value.trim();
  if (!name) {
    say("consent-status", "Type the speaker's name first.", true);
    $("speaker-name").focus();
    return;
  }
  try {
    const challenge = await apiJson("/v1/consent/statements", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ speaker_name: name }),
    });
    state.consent.challenge = challenge;
    state.consent.file = null;
    $("statement").textContent = challenge.statement;
    $("statement").hidden = false;
    $("record-consent").disabled = false;
    $("consent-file").disabled = false;
    const until = new Date(challenge.expires_at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    say("consent-status", `Record the speaker reading this, word for word, before ${until}. The code works once.`);
  } catch (err) {
    say("consent-status", err.message, true);
  }
  updateCreateButton();
}

function consentReady() {
  return Boolean(state.consent.challenge && state.consent.file);
}

function startMeter(stream) {
  const ctx = new (window.AudioContext || window.webkitAudioContext)();
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 1024;
  ctx.createMediaStreamSource(stream).connect(analyser);
  const buf = new Float32Array(analyser.fftSize);
  let running = true;
  const tick = () => {
    if (!running) return;
    analyser.getFloatTimeDomainData(buf);
    let sum = 0;
    for (const v of buf) sum += v * v;
    $("level").value = Math.min(1, Math.sqrt(sum / buf.length) * 4);
    requestAnimationFrame(tick);
  };
  tick();
  return { stop() { running = false; $("level").value = 0; ctx.close(); } };
}

function addSample(file) {
  const sample = { id: state.nextId++, file, report: null, error: null, url: URL.createObjectURL(file) };
  state.samples.push(sample);
  renderSamples();
  checkSample(sample);
}

async function checkSample(sample) {
  const form = new FormData();
  form.append("file", sample.file, sample.file.name);
  try {
    sample.report = await apiJson("/v1/samples/check", { method: "POST", body: form });
  } catch (err) {
    sample.error = err.message;
  }
  renderSamples();
}

// One player for every sample, each driven by its own Play button: one Tab stop per sample where a
// native <audio controls> costs a stop for each of its controls.
// state.playing is the sample loaded in it; that sample plays while the player is not paused.
const samplePlayer = new Audio();
for (const event of ["play", "pause", "ended"]) samplePlayer.addEventListener(event, showPlayButtons);

function isPlaying(sample) {
  return sample !== undefined && state.playing === sample.id && !samplePlayer.paused;
}

function togglePlay(sample) {
  if (isPlaying(sample)) {
    samplePlayer.pause();
    return;
  }
  if (state.playing !== sample.id) {
    state.playing = sample.id;
    samplePlayer.src = sample.url;
  }
  samplePlayer.play().catch(showPlayButtons); // a file the browser cannot play stays "Play"
  showPlayButtons();
}

// Relabels the buttons in place (a re-render would take the focus away from the one just pressed).
function showPlayButtons() {
  for (const button of document.querySelectorAll("#samples button.play")) {
    const sample = state.samples.find((x) => x.id === Number(button.dataset.sample));
    const playing = isPlaying(sample);
    button.textContent = playing ? "⏸ Pause" : "▶ Play";
    button.setAttribute("aria-label", `${playing ? "Pause" : "Play"} ${sample?.file.name ?? ""}`);
  }
}

function renderSamples() {
  const list = $("samples");
  list.replaceChildren();
  for (const s of state.samples) {
    const r = s.report;
    const status = s.error ? "rejected" : !r ? "checking" : r.accepted ? "accepted" : "rejected";
    const verdict = s.error ? "Could not check" : !r ? "Checking…" : r.accepted ? "Accepted" : "Rejected";
    const item = el("li", { class: status },
      el("strong", {}, s.file.name), " — ", el("span", { class: "verdict" }, verdict));
    if (r) {
      const m = r.metrics;
      if (m.duration_s > 0) item.append(el("div", { class: "meta" },
        `${m.duration_s.toFixed(1)} s, ${m.speech_s.toFixed(1)} s of speech, SNR ${m.snr_db.toFixed(0)} dB, quality ${r.quality.toFixed(0)}/100`));
      if (r.issues.length) {
        const ul = el("ul", { class: "reasons" });
        for (const issue of r.issues) ul.append(el("li", { class: issue.severity }, `${issue.severity === "error" ? "Problem" : "Note"}: ${issue.message}`));
        item.append(ul);
      }
    }
    if (s.error) item.append(el("p", { class: "reasons" }, s.error));
    item.append(el("button", {
      type: "button", class: "secondary play", "data-sample": String(s.id), onclick: () => togglePlay(s),
    }));
    item.append(el("button", {
      type: "button", class: "secondary", "aria-label": `Remove ${s.file.name}`,
      onclick: () => {
        if (isPlaying(s)) samplePlayer.pause();
        URL.revokeObjectURL(s.url);
        state.samples = state.samples.filter((x) => x !== s);
        renderSamples();
      },
    }, "Remove"));
    list.append(item);
  }
  showPlayButtons();
  const good = state.samples.filter((s) => s.report?.accepted).length;
  const checking = state.samples.filter((s) => !s.report && !s.error).length;
  say("samples-summary", state.samples.length
    ? `${good} of ${state.samples.length} samples accepted${checking ? `, ${checking} being checked` : ""}. ` +
      (good >= MIN_SAMPLES ? "Enough to make a voice." : `You need at least ${MIN_SAMPLES} accepted samples.`)
    : "No samples yet.");
  updateCreateButton();
}

function updateCreateButton() {
  const good = state.samples.filter((s) => s.report?.accepted).length;
  const consented = consentReady() || (!state.consent.required && $("consent").checked);
  $("create-button").disabled = good < MIN_SAMPLES || !consented || Boolean(state.building);
}

// ---- building a voice -----------------------------------------------------------------------

async function createVoice(event) {
  event.preventDefault();
  const form = new FormData();
  form.append("name", $("voice-name").value.trim());
  form.append("description", $("voice-description").value.trim());
  if (consentReady()) {
    form.append("consent_challenge", state.consent.challenge.challenge_id);
    form.append("consent_recording", state.consent.file, state.consent.file.name);
  } else {
    form.append("consent", $("consent").checked ? "true" : "false");
  }
  for (const s of state.samples.filter((x) => x.report?.accepted)) form.append("files", s.file, s.file.name);
  state.building = true;
  updateCreateButton();
  $("progress").value = 0;
  $("result").hidden = true;
  say("create-status", "Uploading…");
  try {
    const job = await apiJson("/v1/voices", { method: "POST", body: form });
    const final = await followJob(job.events_url, (j) => {
      $("progress").value = j.progress;
      $("progress").textContent = `${j.progress}%`;
      say("create-status", `${j.progress.toFixed(0)}% — ${j.message}`);
    });
    showResult(final);
    if (state.consent.challenge) resetConsent();  // a code is good for one attempt
  } catch (err) {
    say("create-status", err.message, true);
  } finally {
    state.building = false;
    updateCreateButton();
  }
}

function resetConsent() {
  state.consent.challenge = null;
  state.consent.file = null;
  $("statement").hidden = true;
  $("record-consent").disabled = true;
  $("consent-file").disabled = true;
  say("consent-status", "That statement's code is used: show a new statement to try again.");
}

// Calls show(job) at each progress event; resolves to the job once it has ended.
async function followJob(url, show, early = "The progress stream ended early; the voice list shows the result when it is ready.") {
  // EventSource cannot send the key, so the stream is read with fetch.
  const response = await api(url, { headers: { Accept: "text/event-stream" } });
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const fields = {};
      for (const line of block.split("\n")) {
        const i = line.indexOf(": ");
        if (i > 0) fields[line.slice(0, i)] = line.slice(i + 2);
      }
      if (!fields.event || !fields.data) continue;
      const job = JSON.parse(fields.data);
      show(job);
      if (fields.event === "done") return job;
    }
  }
  throw new Error(early);
}

// How close the voice is to the speaker, by the build's fit_outcome (the CLI's likeness column says the same).
const LIKENESS = {
  fitted: { headline: "Voice ready", badge: "", closeness: "Your voice: fitted to your recordings" },
  partly_fitted: {
    headline: "Voice ready, but only partly like you", badge: "partly like you",
    closeness: "Partly like you: part way from a stock voice toward yours",
  },
  stock: {
    headline: "Voice made, but it is not your voice: a stock voice", badge: "stock voice, not yours",
    closeness: "Not like you: a stock voice, the closest one to yours",
  },
};

function showResult(job) {
  const r = job.result;
  const box = $("result-body");
  box.replaceChildren();
  $("result").hidden = false;
  if (!r || !r.success) {
    say("create-status", "The voice could not be made.", true);
    box.append(el("p", { class: "status error" }, (r?.errors || [job.message]).join("\n")));
    appendList(box, "What to fix", r?.recommendations || []);
    $("result").focus();
    return;
  }
  const likeness = LIKENESS[r.fit_outcome] || LIKENESS.fitted;
  say("create-status", `${likeness.headline} (${r.elapsed_s.toFixed(0)} s).`, r.fit_outcome !== "fitted");
  if (r.fit_outcome !== "fitted") {
    // the reason comes first, where the eye lands, not among the notes below
    box.append(el("p", { class: `likeness ${r.fit_outcome}`, role: "alert" }, r.warnings[0] || likeness.headline));
  }
  const c = r.characteristics || {};
  box.append(el("p", {}, el("span", { class: "score" }, `${r.quality_score.toFixed(0)}/100`), ` — ${r.quality_tier}`));
  const dl = el("dl");
  const row = (k, v) => dl.append(el("dt", {}, k), el("dd", {}, v));
  row("Voice", `${c.gender} (${Math.round(100 * c.gender_confidence)}% sure)`);
  row("Age (estimate)", `${c.age_band} (${Math.round(100 * c.age_confidence)}% sure)`);
  row("Tone", (c.tone || []).join(", ") || "—");
  row("Pitch", `${c.pitch_hz.toFixed(0)} Hz, range ${c.pitch_range_semitones.toFixed(1)} semitones`);
  row("Speaking rate", `${c.speaking_rate_wps.toFixed(1)} words/s`);
  row("Speech used", `${r.total_speech_s.toFixed(1)} s from ${r.sample_reports.filter((s) => s.accepted).length} samples`);
  row("Likeness", likeness.closeness);
  row("Consent", consentText(r.consent));
  box.append(dl);
  appendScoreParts(box, r.quality_breakdown);
  appendList(box, "Recommendations", r.recommendations);
  appendList(box, "Notes", r.fit_outcome === "fitted" ? r.warnings : r.warnings.slice(1));
  if (r.refine_advised) {
    // a rough draft or a stock voice: the way to a closer voice, where the verdict was read
    box.append(el("p", { class: "row" },
      el("button", { type: "button", class: "refine-now", onclick: () => refineVoice({ voice_id: r.voice_id, name: r.name }) },
        "Refine this voice"),
      el("span", { class: "meta" }, " A few minutes in the background; it replaces the voice only if it comes out closer to you.")));
  }
  $("result").focus();
  loadVoices(r.voice_id);
  showReportPicture(box, r.voice_id);
}

// The score's parts with their meanings as the API sends them: the words live in one place, on the server.
function appendScoreParts(parent, breakdown) {
  const parts = breakdown?.parts || [];
  if (!parts.length) return;
  parent.append(el("h4", {}, "What the score is made of"));
  const ul = el("ul", { class: "score-parts" });
  for (const p of parts) ul.append(el("li", { "data-part": p.key }, `${p.score.toFixed(0)}/100 — ${p.meaning}`));
  parent.append(ul);
}

function consentText(c) {
  if (!c || c.method === "none") return "not recorded";
  if (c.method === "attested") return "confirmed by you (no consent recording)";
  return `recorded and checked: statement, code and speaker (similarity ${(c.similarity ?? 0).toFixed(2)})`;
}

async function showReportPicture(parent, voiceId) {
  try {
    const blob = await (await api(`/v1/voices/${voiceId}/report.png`)).blob();
    parent.append(el("img", {
      class: "report", src: URL.createObjectURL(blob),
      alt: "Charts of the voice: pitch distribution, each sample's quality, and how consistent the samples are.",
    }));
  } catch (_) { /* the picture is a nicety; the numbers above say the same */ }
}

function appendList(parent, title, items) {
  if (!items.length) return;
  parent.append(el("h4", {}, title));
  const ul = el("ul");
  for (const item of items) ul.append(el("li", {}, item));
  parent.append(ul);
}

// ---- voices ---------------------------------------------------------------------------------

async function loadVoices(select) {
  try {
    state.voices = await apiJson("/v1/voices");
    renderVoices(select);
  } catch (err) {
    say("voices-status", err.message, true);
  }
}

function renderVoices(select) {
  const list = $("voices");
  list.replaceChildren();
  say("voices-status", state.voices.length ? `${state.voices.length} voice(s).` : "No voices yet: make one above.");
  const chooser = $("speak-voice");
  const previous = select || chooser.value;
  chooser.replaceChildren(...state.voices.map((v) => el("option", { value: v.voice_id }, v.name)));
  if (previous && state.voices.some((v) => v.voice_id === previous)) chooser.value = previous;
  $("speak-button").disabled = !state.voices.length;
  for (const v of state.voices) {
    const item = el("li", { "data-voice": v.voice_id },
      el("strong", {}, v.name), " ",
      el("span", { class: "meta" }, `— ${v.quality_score.toFixed(0)}/100, ${v.quality_tier}, made ${new Date(v.created_at).toLocaleString()}`),
      (LIKENESS[v.fit_outcome] || LIKENESS.fitted).badge
        ? el("span", { class: `badge ${v.fit_outcome}` }, ` ${LIKENESS[v.fit_outcome].badge}`) : "",
      el("div", { class: "traits" }, soundsLike(v.characteristics)),
      v.description ? el("div", { class: "description" }, v.description) : "",
      v.refine_advised ? el("div", { class: "rough" }, v.fit_outcome === "stock"
        ? "Not your voice yet: refine it to fit it to your recordings."
        : "A rough draft: refine it for a voice closer to yours.") : "",
      v.version > 1 ? el("div", { class: "meta version" }, `Version ${v.version} (refined)`) : "");
    const edit = el("button", {
      type: "button", class: "secondary edit", "aria-expanded": "false", "aria-label": `Edit ${v.name}`,
      onclick: () => toggleEdit(v, item, edit),
    }, "Edit");
    item.append(
      el("div", { class: "row" },
        el("button", { type: "button", class: "secondary preview", "data-voice": v.voice_id, onclick: () => togglePreview(v) }, "▶ Preview"),
        el("button", { type: "button", class: "secondary", onclick: () => { chooser.value = v.voice_id; $("speak-text").focus(); } }, "Use in playground"),
        edit,
        // refining is open to every voice; a rough draft gets the button in full colour
        el("button", {
          type: "button", class: v.refine_advised ? "refine" : "secondary refine",
          "aria-label": `Refine ${v.name}`, onclick: () => refineVoice(v),
        }, "Refine"),
        el("button", { type: "button", class: "danger", onclick: () => deleteVoice(v) }, "Delete")),
      el("progress", { class: "refine-progress", max: "100", value: "0", hidden: "", "aria-label": `Refinement of ${v.name}` }));
    list.append(item);
  }
  showPreviewButtons();
}

// Refine a voice in the background: its own job, its progress shown under the voice, its verdict in words.
async function refineVoice(voice) {
  const item = () => document.querySelector(`#voices li[data-voice="${voice.voice_id}"]`);
  const show = (job) => {
    const bar = item()?.querySelector("progress.refine-progress");
    if (bar) { bar.hidden = false; bar.value = job.progress; bar.textContent = `${job.progress}%`; }
    say("voices-status", `Refining ${voice.name}: ${job.progress.toFixed(0)}% — ${job.message}`);
  };
  item()?.querySelector("button.refine")?.setAttribute("disabled", "");
  say("voices-status", `Refining ${voice.name}…`);
  try {
    const job = await apiJson(`/v1/voices/${voice.voice_id}/refine`, { method: "POST" });
    const done = await followJob(job.events_url, show);
    const r = done.refinement;
    await loadVoices();
    if (!r || !r.success) {
      say("voices-status", `${voice.name} could not be refined: ${(r?.errors || [done.message]).join(" ")}`, true);
      return;
    }
    // the verdict's sentence gives the likeness before and after, or the words lost
    say("voices-status", `${r.improved ? `${voice.name} is refined (version ${r.version}).` : `${voice.name} is kept as it was.`} ${r.message}`);
  } catch (err) {
    say("voices-status", err.message, true);
    item()?.querySelector("button.refine")?.removeAttribute("disabled");
  }
}

// Rename a voice or change its description, in a small form that opens under the voice.
function toggleEdit(voice, item, button) {
  const open = item.querySelector("form.edit");
  if (open) {
    open.remove();
    button.setAttribute("aria-expanded", "false");
    return;
  }
  const id = voice.voice_id;
  const name = el("input", { id: `name-${id}`, maxlength: "100", required: "" });
  const description = el("textarea", { id: `description-${id}`, maxlength: "2000", rows: "2" });
  name.value = voice.name;
  description.value = voice.description || "";
  const form = el("form", { class: "edit" },
    el("label", { for: `name-${id}` }, "Name"), name,
    el("label", { for: `description-${id}` }, "Description"), description,
    el("button", { type: "submit" }, "Save"),
    el("button", { type: "button", class: "secondary", onclick: () => { form.remove(); button.setAttribute("aria-expanded", "false"); button.focus(); } }, "Cancel"));
  form.addEventListener("submit", (e) => { e.preventDefault(); saveVoice(voice, name.value, description.value); });
  item.append(form);
  button.setAttribute("aria-expanded", "true");
  name.focus();
}

async function saveVoice(voice, name, description) {
  try {
    // sent as typed: the server trims and checks them as it does when a voice is made
    const saved = await apiJson(`/v1/voices/${voice.voice_id}`, {
      method: "PATCH",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name, description }),
    });
    await loadVoices();
    say("voices-status", `Saved “${saved.name}”.`);
    document.querySelector(`#voices li[data-voice="${voice.voice_id}"] button.edit`)?.focus();
  } catch (err) {
    say("voices-status", err.message, true);
  }
}

// One line to tell voices apart by, as the CLI's list shows it: "Sounds male, adult, 118 Hz; warm, calm".
function soundsLike(c) {
  if (!c) return "";
  const known = [c.gender, c.age_band].filter((x) => x && x !== "unknown");
  if (c.pitch_hz > 0) known.push(`${c.pitch_hz.toFixed(0)} Hz`);
  const tone = (c.tone || []).length ? `; ${c.tone.join(", ")}` : "";
  return known.length ? `Sounds ${known.join(", ")}${tone} (estimates)` : "";
}

// One player for the voices' previews, as for the samples: the Preview button plays and pauses it, one Tab
// stop per voice where a native <audio controls> costs six. Each preview is fetched once, on first play.
const previewPlayer = new Audio();
for (const event of ["play", "pause", "ended"]) previewPlayer.addEventListener(event, showPreviewButtons);

async function togglePreview(voice) {
  const id = voice.voice_id;
  if (state.previewing === id && !previewPlayer.paused) {
    previewPlayer.pause();
    return;
  }
  if (!state.previewUrls[id]) {
    say("voices-status", `Loading the preview of ${voice.name}…`);
    try {
      state.previewUrls[id] = URL.createObjectURL(await (await api(`/v1/voices/${id}/preview`)).blob());
    } catch (err) {
      say("voices-status", err.message, true);
      return;
    }
    say("voices-status", "");
  }
  if (state.previewing !== id) {
    previewPlayer.src = state.previewUrls[id];
    state.previewing = id;
  }
  await previewPlayer.play().catch(() => {});
  showPreviewButtons();
}

// Relabels in place: a re-render would take the focus from the button just pressed.
function showPreviewButtons() {
  for (const button of document.querySelectorAll("#voices button.preview")) {
    const playing = state.previewing === button.dataset.voice && !previewPlayer.paused;
    button.textContent = playing ? "⏸ Pause preview" : "▶ Preview";
  }
}

async function deleteVoice(voice) {
  if (!confirm(`Delete the voice “${voice.name}” and all its recordings? This cannot be undone.`)) return;
  try {
    await api(`/v1/voices/${voice.voice_id}`, { method: "DELETE" });
    if (state.previewing === voice.voice_id) previewPlayer.pause();
    await loadVoices();
    loadHistory();  // the voice's renders went with it
    say("voices-status", `Deleted ${voice.name}. ${state.voices.length} voice(s) left.`);
  } catch (err) {
    say("voices-status", err.message, true);
  }
}

// ---- playground -----------------------------------------------------------------------------

const PCM_RATE = 24000; // the stream's pcm format: 16-bit little-endian mono at 24 kHz

// Plays 16-bit PCM as it arrives: each piece becomes an AudioBuffer queued right after the one before.
class PcmPlayer {
  constructor() {
    this.ctx = new (window.AudioContext || window.webkitAudioContext)();
    this.next = 0;
    this.carry = null; // an odd byte left over from the last piece
    this.pieces = [];
    this.samples = 0;
  }
  push(bytes) {
    let data = bytes;
    if (this.carry) { data = new Uint8Array(bytes.length + 1); data[0] = this.carry[0]; data.set(bytes, 1); this.carry = null; }
    if (data.length % 2) { this.carry = data.slice(-1); data = data.slice(0, -1); }
    if (!data.length) return;
    const ints = new Int16Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.length));
    this.pieces.push(ints);
    this.samples += ints.length;
    const buffer = this.ctx.createBuffer(1, ints.length, PCM_RATE);
    const channel = buffer.getChannelData(0);
    for (let i = 0; i < ints.length; i += 1) channel[i] = ints[i] / 32768;
    const source = this.ctx.createBufferSource();
    source.buffer = buffer;
    source.connect(this.ctx.destination);
    this.next = Math.max(this.next, this.ctx.currentTime + 0.05);
    source.start(this.next);
    this.next += buffer.duration;
  }
  get seconds() { return this.samples / PCM_RATE; }
  stop() { this.ctx.close().catch(() => {}); }
  wav() { // everything received, as a WAV file for the player and the download
    const header = new DataView(new ArrayBuffer(44));
    const text = (o, t) => [...t].forEach((c, i) => header.setUint8(o + i, c.charCodeAt(0)));
    text(0, "RIFF"); header.setUint32(4, 36 + 2 * this.samples, true); text(8, "WAVEfmt ");
    header.setUint32(16, 16, true); header.setUint16(20, 1, true); header.setUint16(22, 1, true);
    header.setUint32(24, PCM_RATE, true); header.setUint32(28, 2 * PCM_RATE, true);
    header.setUint16(32, 2, true); header.setUint16(34, 16, true); text(36, "data");
    header.setUint32(40, 2 * this.samples, true);
    return new Blob([header, ...this.pieces], { type: "audio/wav" });
  }
}

function speechBody(format) {
  const preset = $("speak-preset").value;
  const effects = [...document.querySelectorAll("input[name=effect]:checked")].map((x) => x.value);
  return {
    text: $("speak-text").value,
    format,
    speed: Number($("speak-speed").value),
    pitch_semitones: Number($("speak-pitch").value),
    pause_scale: Number($("speak-pause").value),
    background_music: $("speak-music").value || false,
    effects: preset ? [preset, ...effects] : effects,
  };
}

function showDownload(blob, name) {
  const link = $("speak-download");
  if (link.href.startsWith("blob:")) URL.revokeObjectURL(link.href);
  link.href = URL.createObjectURL(blob);
  link.download = name;
  const format = name.split(".").pop().toUpperCase();
  link.textContent = `Download (${format}, ${(blob.size / 1024).toFixed(0)} kB)`;
  link.hidden = false;
}

// The audio plays while it streams; then the file in the chosen format is made as a speech job, which
// the server keeps in the history (and names for download).
async function speak(event) {
  event.preventDefault();
  const voiceId = $("speak-voice").value;
  const format = $("speak-format").value;
  const asked = speechBody(format);  // read once: settings changed while it plays belong to the next render
  const words = asked.text.split(/\s+/).filter(Boolean).length;
  const expected = Math.max(1, words / 2.6 / asked.speed); // seconds, roughly: for the progress bar only
  const bar = $("speak-progress");
  $("speak-button").disabled = true;
  $("speak-download").hidden = true;
  bar.hidden = false;
  bar.value = 0;
  say("speak-status", "Starting…");
  const player = new PcmPlayer();
  try {
    const response = await api(`/v1/voices/${voiceId}/speech/stream`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(Object.assign({}, asked, { format: "pcm" })),
    });
    const reader = response.body.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      player.push(value);
      bar.value = Math.min(99, (100 * player.seconds) / expected);
      say("speak-status", `Playing… ${player.seconds.toFixed(1)} s of audio so far`);
    }
    bar.value = 100;
    const audio = $("speak-audio");
    audio.src = URL.createObjectURL(player.wav());
    audio.hidden = false;
    const heard = `${player.seconds.toFixed(1)} s of audio`;
    const fmt = format.toUpperCase();
    say("speak-status", `${heard}; making the ${fmt} file…`);
    const job = await apiJson(`/v1/voices/${voiceId}/speech/jobs`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(asked),
    });
    loadHistory();
    const ended = await followJob(job.events_url,
      (j) => say("speak-status", `${heard}; making the ${fmt} file: ${j.progress.toFixed(0)}%`),
      "The progress stream ended early; the file will be in your history when it is ready.");
    await loadHistory();
    if (ended.status !== "done") throw new Error(ended.message || "The file could not be made.");
    const item = state.history.find((x) => x.job_id === job.job_id);
    showDownload(await (await api(ended.audio_url)).blob(), item?.file_name || `realvoice-speech.${format}`);
    say("speak-status", `Done: ${heard}, kept in your history below.`);
  } catch (err) {
    player.stop();
    say("speak-status", err.message, true);
  } finally {
    $("speak-button").disabled = false;
  }
}

function pausesWord(scale) {
  if (scale === 0) return "none";
  if (scale === 1) return "natural";
  return `${scale.toFixed(1)}× ${scale < 1 ? "shorter" : "longer"}`;
}

// ---- history: what the server kept of your renders (GET /v1/speech) --------------------------------

async function loadHistory() {
  try {
    state.history = await apiJson("/v1/speech");
    renderHistory();
  } catch (err) {
    say("history-status", err.message, true);
  }
}

// A render still being made is shown with its progress, and the list reloads until it has ended.
function renderHistory() {
  clearTimeout(state.historyTimer);
  const list = $("history");
  // a reload must not take the focus from the button a keyboard user is on
  const active = document.activeElement;
  const keep = list.contains(active) ? [active.closest("li")?.dataset.job, active.dataset.act] : null;
  list.replaceChildren();
  say("history-status", state.history.length
    ? `${state.history.length} render(s), newest first.`
    : "Nothing spoken yet: what you make in the playground is kept here.");
  for (const item of state.history) {
    const r = item.request;
    const excerpt = r.text.length > 160 ? `${r.text.slice(0, 160)}…` : r.text;
    const when = new Date(item.created_at).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
    const li = el("li", { class: item.status, "data-job": item.job_id },
      el("strong", {}, item.voice_name), " ",
      el("span", { class: "meta" }, `— ${when}; ${renderFacts(item)}`),
      el("blockquote", { class: "said" }, excerpt));
    const what = `${item.voice_name}: ${r.text.split(/\s+/).slice(0, 6).join(" ")}`;
    const buttons = el("div", { class: "row" });
    if (item.status === "done") {
      buttons.append(
        el("button", { type: "button", class: "secondary play", "data-act": "play", "data-job": item.job_id, onclick: () => toggleHeard(item) }),
        el("button", { type: "button", class: "secondary download", "data-act": "download", "aria-label": `Download ${item.file_name}`,
          onclick: () => downloadRender(item) }, "Download"));
    }
    if (item.status === "done" || item.status === "failed") {
      buttons.append(
        el("button", { type: "button", class: "secondary again", "data-act": "again", "aria-label": `Make again: ${what}`,
          onclick: () => renderAgain(item) }, "Make again"),
        el("button", { type: "button", class: "danger", "data-act": "delete", "aria-label": `Delete ${what}`,
          onclick: () => deleteRender(item) }, "Delete"));
    }
    li.append(buttons);
    list.append(li);
  }
  showHeardButtons();
  if (keep) list.querySelector(`li[data-job="${keep[0]}"] button[data-act="${keep[1]}"]`)?.focus();
  if (state.history.some((x) => x.status === "queued" || x.status === "running")) {
    state.historyTimer = setTimeout(loadHistory, 1500);
  }
}

// "3.2 s, MP3, 1.2× speed, +2 semitones, podcast + reverb, lofi music" — how it was made, in short.
function renderFacts(item) {
  const r = item.request;
  if (item.status === "failed") return `failed: ${item.message}`;
  if (item.status !== "done") return `being made… ${item.progress.toFixed(0)}%`;
  const facts = [`${item.duration_s.toFixed(1)} s`, r.format.toUpperCase()];
  if (r.speed !== 1) facts.push(`${r.speed}× speed`);
  if (r.pitch_semitones) facts.push(`${r.pitch_semitones > 0 ? "+" : ""}${r.pitch_semitones} semitones`);
  if (r.pause_scale !== 1) facts.push(`pauses ${pausesWord(r.pause_scale)}`);
  const effects = Array.isArray(r.effects) ? r.effects : Object.keys(r.effects || {});
  if (effects.length) facts.push(effects.join(" + "));
  if (r.background_music) facts.push(`${r.background_music === true ? "default" : r.background_music} music`);
  return facts.join(", ");
}

async function renderAudio(item) {
  if (!state.audioUrls[item.job_id]) {
    state.audioUrls[item.job_id] = URL.createObjectURL(await (await api(item.audio_url)).blob());
  }
  return state.audioUrls[item.job_id];
}

// One player for the history, as for the samples: a Play button per render, one Tab stop each.
const heardPlayer = new Audio();
for (const event of ["play", "pause", "ended"]) heardPlayer.addEventListener(event, showHeardButtons);

async function toggleHeard(item) {
  if (state.heard === item.job_id && !heardPlayer.paused) {
    heardPlayer.pause();
    return;
  }
  try {
    if (state.heard !== item.job_id) {
      heardPlayer.src = await renderAudio(item);
      state.heard = item.job_id;
    }
    await heardPlayer.play();
  } catch (err) {
    say("history-status", err.message, true);
  }
  showHeardButtons();
}

function showHeardButtons() {
  for (const button of document.querySelectorAll("#history button.play")) {
    const item = state.history.find((x) => x.job_id === button.dataset.job);
    const playing = state.heard === button.dataset.job && !heardPlayer.paused;
    button.textContent = playing ? "⏸ Pause" : "▶ Play";
    button.setAttribute("aria-label", `${playing ? "Pause" : "Play"} ${item?.voice_name}: ${item?.request.text.slice(0, 40)}`);
  }
}

async function downloadRender(item) {
  try {
    const link = el("a", { href: await renderAudio(item), download: item.file_name, hidden: "" });
    document.body.append(link);
    link.click();
    link.remove();
  } catch (err) {
    say("history-status", err.message, true);
  }
}

// The same voice, text and settings, made anew as a new speech job at the top of the list.
async function renderAgain(item) {
  try {
    await apiJson(`/v1/voices/${item.voice_id}/speech/jobs`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(item.request),
    });
    await loadHistory();
    say("history-status", `Making “${item.request.text.slice(0, 40)}” again in ${item.voice_name}…`);
  } catch (err) {
    say("history-status", err.message, true);
  }
}

async function deleteRender(item) {
  try {
    await api(item.job_url, { method: "DELETE" });
    if (state.heard === item.job_id) { heardPlayer.pause(); state.heard = null; }
    if (state.audioUrls[item.job_id]) URL.revokeObjectURL(state.audioUrls[item.job_id]);
    delete state.audioUrls[item.job_id];
    await loadHistory();
    say("history-status", `Deleted. ${state.history.length} render(s) left.`);
    $("history-h").focus();  // the button pressed is gone: focus stays in the list's section
  } catch (err) {
    say("history-status", err.message, true);
  }
}

// ---- wiring ---------------------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", () => {
  showPrompt();
  $("signin-form").addEventListener("submit", (e) => {
    e.preventDefault();
    signIn($("api-key").value.trim(), $("remember").checked);
  });
  $("sign-out").addEventListener("click", () => signOut());
  $("record").addEventListener("click", toggleRecording);
  $("next-prompt").addEventListener("click", () => { state.prompt += 1; showPrompt(); });
  $("upload").addEventListener("change", (e) => {
    say("record-status", "");  // a no-microphone message is answered by the upload
    for (const f of e.target.files) addSample(f);
    e.target.value = "";
  });
  $("consent").addEventListener("change", updateCreateButton);
  $("get-statement").addEventListener("click", getStatement);
  $("record-consent").addEventListener("click", toggleConsentRecording);
  $("consent-file").addEventListener("change", (e) => {
    state.consent.file = e.target.files[0] || null;
    if (state.consent.file) say("consent-status", `Using ${state.consent.file.name}: it is checked when the voice is built.`);
    updateCreateButton();
  });
  loadConsentRule();
  $("create-form").addEventListener("submit", createVoice);
  $("speak-form").addEventListener("submit", speak);
  $("speak-speed").addEventListener("input", (e) => { $("speed-out").textContent = `${Number(e.target.value).toFixed(1)}×`; });
  $("speak-pitch").addEventListener("input", (e) => {
    const v = Number(e.target.value);
    $("pitch-out").textContent = `${v > 0 ? "+" : ""}${v} semitone${Math.abs(v) === 1 ? "" : "s"}`;
  });
  $("speak-pause").addEventListener("input", (e) => { $("pause-out").textContent = pausesWord(Number(e.target.value)); });
  const count = () => { $("text-count").textContent = $("speak-text").value.length; };
  $("speak-text").addEventListener("input", count);
  count();
  const saved = localStorage.getItem("realvoice-key") || sessionStorage.getItem("realvoice-key");
  if (saved) signIn(saved, Boolean(localStorage.getItem("realvoice-key")));
});
