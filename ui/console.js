/* SPDX-License-Identifier: Apache-2.0 */
/*
 * console.js - the review console's behaviour: sign in, filter the queue
 * and take the next case, show it veiled as the reviewer's display
 * settings say, classify it from the keyboard; open a decided case from
 * the queue to read it and, when confirmed, report it to NCMEC's
 * CyberTipline (after a confirm step); go back and forth between the cases
 * seen in this session ([ and ]); the dashboard, and for admins the
 * people, banks (with import and hash look-up), audit log and webhooks
 * pages.
 *
 * Rules kept throughout: data from the service reaches the page only as
 * text (textContent, never innerHTML), URLs from data are never made into
 * links, media is fetched as a blob and shown veiled (console.css) until
 * the reviewer holds the unblur key, and each unblur is recorded by the
 * service (POST /v1/cases/{id}/unblur).  Every state-changing call carries
 * the session's CSRF token.
 */
"use strict";

const LEASE_RENEW_MS = 60 * 1000;
const KEYS = { j: "A1", k: "A2", l: "B1", ";": "B2", n: "none" };

const SEVERITY = { 1: "A1", 2: "A2", 3: "B1", 4: "B2" };
const VIEWS = ["signin", "queue", "case", "dashboard", "settings", "people", "banks", "audit", "tester", "keys", "hooks"];
const LOADERS = {};

const state = { csrf: "", user: "", role: "", child: false, caseId: 0, leased: false, chosen: "", mediaUrl: "", unblurred: false,
                renew: 0, busy: false, display: { blur: 28, greyscale: true, video_muted: true, video_paused: true },
                auditAfter: 0, history: [], pos: -1, heldId: 0 };
const HISTORY_MAX = 50;

function $(id) { return document.getElementById(id); }

/* A new element whose text is text: data never becomes markup. */
function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function button(label, onClick) {
  const b = el("button", label);
  b.type = "button";
  b.addEventListener("click", onClick);
  return b;
}

/* A table row of cells: strings become text, elements are kept. */
function row(cells) {
  const tr = document.createElement("tr");
  for (const c of cells) {
    const td = document.createElement("td");
    if (c instanceof Node) td.append(c);
    else td.textContent = c === null || c === undefined ? "" : String(c);
    tr.append(td);
  }
  return tr;
}

function show(view) {
  /* a new key is shown once, and not again after leaving its page */
  $("key-new").hidden = true;
  $("key-secret").textContent = "";
  $("hook-new").hidden = true;
  $("hook-secret").textContent = "";
  for (const v of VIEWS) $("view-" + v).hidden = v !== view;
  $("signout").hidden = view === "signin";
  $("nav").hidden = view === "signin";
  for (const b of $("nav").querySelectorAll("button")) b.classList.toggle("current", b.dataset.view === view);
  if (view === "signin") $("signin-name").focus();
  if (view === "queue") $("next").focus();
  if (LOADERS[view]) LOADERS[view]();
}

/* What the person's role and permission allow is shown; the service
 * enforces it either way. */
function applyRole() {
  const admin = state.role === "admin", audit = admin || state.role === "auditor";
  for (const e of document.querySelectorAll("[data-admin]")) e.hidden = !admin;
  for (const e of document.querySelectorAll("[data-audit]")) e.hidden = !audit;
  for (const o of document.querySelectorAll("option[data-child]")) { o.hidden = !state.child; o.disabled = !state.child; }
}

/* The veil's strength and colour, from the display settings (console.css
 * reads the two properties). */
function applyDisplay(d) {
  state.display = d;
  document.documentElement.style.setProperty("--veil-blur", d.blur + "px");
  document.documentElement.style.setProperty("--veil-grey", d.greyscale ? "1" : "0");
}

async function loadDisplay() {
  try { applyDisplay((await api("GET", "/v1/settings/display")).effective); } catch (e) { /* the default veil stays */ }
}

class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

async function api(method, path, body) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && state.csrf) headers["X-CSRF-Token"] = state.csrf;
  const r = await fetch(path, { method, headers, credentials: "same-origin", cache: "no-store",
                                body: body === undefined ? undefined : JSON.stringify(body) });
  let data = null;
  if ((r.headers.get("Content-Type") || "").startsWith("application/json")) data = await r.json();
  if (!r.ok) {
    const e = (data && data.error) || {};
    if (r.status === 401 && path !== "/v1/session") signedOut("Your session has ended; sign in again.");
    throw new ApiError(r.status, e.code || "error", e.message || ("HTTP " + r.status));
  }
  return data;
}

function signedOut(why) {
  clearCase();
  state.csrf = "";
  Object.assign(state, { history: [], pos: -1, heldId: 0 }); /* the next person does not step into these */
  state.user = "";
  state.role = "";
  state.child = false;
  /* the next person at this browser starts with nothing of the last one's */
  for (const f of ["filters", "audit-filters", "person-form", "key-form", "tester-form", "hook-form", "import-form",
                   "lookup-form"]) $(f).reset();
  for (const t of ["queue-table", "people-table", "banks-table", "audit-table", "keys-table", "hooks-table", "tester-table",
                   "lookup-table"])
    $(t).tBodies[0].replaceChildren();
  for (const t of ["import-status", "import-errors", "lookup-status"]) $(t).replaceChildren();
  $("import-progress").hidden = true;
  $("tester-hashes").replaceChildren();
  $("tester-status").textContent = "";
  $("who").textContent = "";
  $("signin-error").textContent = why || "";
  show("signin");
}

/* The banks a confirmed case's hashes may go into (the feedback loop:
 * the next upload of the same content then matches). */
async function loadBanks() {
  try {
    const r = await api("GET", "/v1/banks");
    for (const sel of [$("bank"), $("f-bank")]) {
      const keep = sel.value;
      while (sel.options.length > 1) sel.remove(1);
      for (const b of (r && r.banks) || []) sel.append(new Option(b.name, b.name));
      sel.value = keep;
    }
  } catch (e) { /* no banks to offer */ }
}

function signedIn(s) {
  state.csrf = s.csrf_token;
  state.user = s.user;
  state.role = s.role;
  state.child = !!s.child_safety;
  applyRole();
  loadBanks();
  loadDisplay();
  $("who").textContent = s.user + " (" + s.role + (s.child_safety ? ", child-safety" : "") + ")";
  $("queue-status").textContent = "Take the next case when you are ready.";
  show("queue");
}

async function start() {
  try {
    signedIn(await api("GET", "/v1/session"));
    return;
  } catch (e) { /* no session yet */ }
  try {
    /* behind a single sign-on proxy an empty sign-in is vouched for by it */
    signedIn(await api("POST", "/v1/session", {}));
  } catch (e) {
    signedOut("");
  }
}

async function onSignIn(ev) {
  ev.preventDefault();
  $("signin-error").textContent = "";
  const name = $("signin-name").value, password = $("signin-password").value;
  $("signin-password").value = "";
  try {
    signedIn(await api("POST", "/v1/session", { name, password }));
  } catch (e) {
    $("signin-error").textContent = e.message;
  }
}

async function onSignOut() {
  try { await api("DELETE", "/v1/session"); } catch (e) { /* ended already */ }
  signedOut("Signed out.");
}

function clearCase() {
  if (state.renew) clearInterval(state.renew);
  if (state.mediaUrl) URL.revokeObjectURL(state.mediaUrl);
  Object.assign(state, { caseId: 0, leased: false, chosen: "", mediaUrl: "", unblurred: false, renew: 0 });
  $("report-box").hidden = true;
  $("report-confirm").hidden = true;
  $("report-table").hidden = true;
  $("report-table").tBodies[0].replaceChildren();
  for (const t of ["report-what", "report-status", "report-error", "report-held"]) $(t).replaceChildren();
  const img = $("media"), vid = $("media-video");
  img.removeAttribute("src");
  vid.pause();
  vid.removeAttribute("src");
  vid.load();
  for (const m of [img, vid]) { m.hidden = true; m.classList.add("veiled"); }
}

/* The queue's filters as query parameters; for "next" only those it takes. */
function filterQuery(forNext) {
  const q = new URLSearchParams();
  const put = (k, v) => { if (v) q.set(k, v); };
  put("bank", $("f-bank").value);
  put("tag", $("f-tag").value.trim());
  if ($("f-queue").value !== "all") q.set("queue", $("f-queue").value);
  if (!forNext) {
    q.set("status", $("f-status").value);
    put("assignee", $("f-assignee").value.trim());
    q.set("limit", "50");
  }
  const t = q.toString();
  return t ? "?" + t : "";
}

/* "bank: tag, tag" for each matched entry of a case. */
function matched(c) {
  const seen = new Set();
  for (const m of ((c.detail && c.detail.matches) || [])) {
    if (typeof m.bank !== "string") continue;
    const tags = Array.isArray(m.tags) ? m.tags.filter(t => typeof t === "string") : [];
    seen.add(m.bank + (tags.length ? ": " + tags.join(", ") : ""));
  }
  return [...seen].join("; ");
}

async function loadQueue() {
  const body = $("queue-table").tBodies[0];
  try {
    const r = await api("GET", "/v1/cases" + filterQuery(false));
    body.replaceChildren();
    for (const c of r.cases || []) {
      const q = c.child_abuse ? el("span", "child-safety", "tag child") : el("span", "general", "tag");
      /* an open case is taken with Next (a lease); a decided one can be read, and reported */
      const view = c.status === "open" ? "" : button("View", () => viewCase(c.id));
      body.append(row(["#" + c.id, SEVERITY[c.severity] || "\u2014", q, c.status, matched(c), c.content_id, c.uploader_id,
                       c.assignee || c.decided_by || "", c.created_at, view]));
    }
    if (!body.children.length) {
      const tr = row(["No cases match these filters."]);
      tr.firstChild.colSpan = 10;
      tr.className = "muted";
      body.append(tr);
    }
    $("queue-more").textContent = r.next_after ? "Showing the first 50; narrow the filters to see others." : "";
  } catch (e) {
    $("queue-status").textContent = e.message;
  }
}
LOADERS.queue = loadQueue;

function fact(dl, name, value) {
  if (value === null || value === undefined || value === "") return;
  const dt = document.createElement("dt"), dd = document.createElement("dd");
  dt.textContent = name;
  dd.textContent = String(value);
  dl.append(dt, dd);
}

async function nextCase() {
  if (state.busy) return;
  state.busy = true;
  try {
    const r = await api("POST", "/v1/cases/next" + filterQuery(true));
    if (!r.case) {
      $("queue-status").textContent = "No case is waiting in this queue.";
      show("queue");
      return;
    }
    showCase(r.case, r.lease_expires_at);
  } catch (e) {
    $("queue-status").textContent = e.message;
  } finally {
    state.busy = false;
  }
}

/* A decided case from the queue: shown without a lease and without the
 * decision controls. */
async function viewCase(id, fromHistory) {
  try {
    showCase(await api("GET", "/v1/cases/" + id), "", fromHistory);
  } catch (e) {
    $("queue-status").textContent = e.message;
    if (fromHistory) $("case-nav-status").textContent = "Case #" + id + ": " + e.message;
  }
}

/* ---- previous / next: the cases seen in this session ----
 *
 * Each case shown (taken or viewed) is remembered in order; [ opens the one
 * before, ] the one after, and ] on the newest takes the next case from
 * the queue.  A case from the past is shown to read; the case the reviewer
 * holds comes back with its hold (POST /v1/cases/next hands a holder their
 * case again), so stepping back to check an earlier decision loses nothing.
 * While a case is held and newest, ] does not leave it: it is decided,
 * escalated or skipped first. */
function remember(id) {
  if (state.history[state.pos] === id) return;
  state.history = state.history.slice(0, state.pos + 1).filter(x => x !== id);
  state.history.push(id);
  if (state.history.length > HISTORY_MAX) state.history.shift();
  state.pos = state.history.length - 1;
}

function navState() {
  $("case-prev").disabled = state.pos <= 0;
  $("case-nav-status").textContent = state.history.length > 1 ?
    "case " + (state.pos + 1) + " of " + state.history.length + " seen" : "";
}

async function openFromHistory(pos) {
  const id = state.history[pos];
  state.pos = pos;
  if (id === state.heldId) {
    const r = await api("POST", "/v1/cases/next" + filterQuery(true)).catch(() => null);
    if (r && r.case && r.case.id === id) { showCase(r.case, r.lease_expires_at, true); return; }
    state.heldId = 0;
    if (r && r.case) {
      /* the hold ran out and the service handed over another case: it is
       * held now, so it is shown (never held unseen) */
      showCase(r.case, r.lease_expires_at, false);
      $("case-nav-status").textContent = "Your hold on case #" + id + " ran out; this is the next case.";
      return;
    }
  }
  await viewCase(id, true);
}

function prevCase() {
  if (state.busy || state.pos <= 0) return;
  openFromHistory(state.pos - 1);
}

function nextInHistory() {
  if (state.busy) return;
  if (state.pos >= 0 && state.pos < state.history.length - 1) { openFromHistory(state.pos + 1); return; }
  if (state.leased) {
    $("case-nav-status").textContent = "This is the newest case: decide, escalate or skip it (s) first.";
    return;
  }
  nextCase();
}

function showCase(c, leaseEnd, fromHistory) {
  clearCase();
  state.caseId = c.id;
  state.leased = !!leaseEnd;
  if (state.leased) state.heldId = c.id;
  else if (state.heldId === c.id) state.heldId = 0; /* decided or given back since */
  if (!fromHistory) remember(c.id);
  navState();
  $("decide").hidden = !state.leased;
  $("case-view-note").hidden = state.leased;
  $("case-id").textContent = "#" + c.id;
  $("case-lease").textContent = leaseEnd ? "held for you until " + leaseEnd : "";
  const dl = $("case-facts");
  dl.replaceChildren();
  fact(dl, "status", c.status);
  fact(dl, "source", c.source);
  fact(dl, "content id", c.content_id);
  fact(dl, "uploader", c.uploader_id);
  fact(dl, "URL", c.url); /* text, never a link */
  fact(dl, "reason", c.reason);
  fact(dl, "PDQ", c.pdq);
  fact(dl, "MD5", c.md5);
  fact(dl, "SHA-256", c.sha256);
  fact(dl, "opened", c.created_at);
  fact(dl, "opened by", c.opened_by);
  const s = c.sightings;
  if (s && s.count > 1) {
    fact(dl, "sightings", s.count + " (first " + s.first_seen + ", last " + s.last_seen + ")");
    fact(dl, "uploaders", (s.uploaders || []).map(u => u.uploader_id + " \u00d7" + u.count).join(", "));
  }
  const rel = $("case-related");
  rel.replaceChildren();
  for (const d of c.related || []) {
    const li = document.createElement("li");
    li.textContent = "same " + d.same + ": case #" + d.id + " " + d.status + (d.classification ? " " + d.classification : "") +
                     (d.decided_by ? " by " + d.decided_by : "") + (d.decided_at ? " at " + d.decided_at : "");
    rel.append(li);
  }
  if (!rel.children.length) {
    const li = document.createElement("li");
    li.className = "muted";
    li.textContent = "none";
    rel.append(li);
  }
  $("case-detail").textContent = c.detail ? JSON.stringify(c.detail, null, 2) : "(none)";
  $("note").value = "";
  $("dispute").checked = false;
  choose("");
  $("case-error").textContent = "";
  show("case");
  loadMedia(c.id);
  showReport(c);
  if (state.leased) state.renew = setInterval(renewLease, LEASE_RENEW_MS);
}

/* ---- reporting a confirmed case to NCMEC's CyberTipline ---- */

/* the roles of POST /v1/cases/{id}/report (routes.c); the service
 * enforces it either way */
function canReport() { return state.role === "admin" || state.role === "reviewer"; }

function showReport(c) {
  if (c.status !== "confirmed") return;
  $("report-box").hidden = false;
  $("report-start").hidden = !canReport();
  /* what the report will carry, as docs/report.md lists it */
  const what = $("report-what");
  what.replaceChildren();
  const cls = ["A1", "A2", "B1", "B2"].includes(c.classification) ? c.classification : "";
  what.append(el("li", "Case #" + c.id + ", confirmed" + (cls ? " " + cls + " (its industry classification)" : "") +
                        ", opened " + c.created_at + " (the incident time)"));
  what.append(el("li", "The person reported: uploader " + (c.uploader_id || "(none)") +
                        " and any user details the case's submitter gave"));
  what.append(el("li", "The file's MD5 and SHA-256, and the file itself when its media was kept"));
  if (c.url) what.append(el("li", "The web page: " + c.url));
  what.append(el("li", "The reporting person and company from the service's report configuration"));
  what.append(el("li", "The case's evidence is then held (preserved) for 365 days"));
  loadReports(c.id);
}

function openReport() {
  $("report-error").textContent = "";
  $("report-status").textContent = "";
  $("report-viewed").checked = false;
  $("report-confirm").hidden = false;
  $("report-mode").focus();
}

/* A refused report in words a reviewer can act on, with the service's own
 * message. */
function reportError(e) {
  let why = "";
  if (e.status === 409 && e.code === "not_configured")
    why = "the service is not set up for this kind of report (vigil serve --report-config); ask an administrator. ";
  else if (e.status === 409) why = "the case cannot be reported as it stands. ";
  else if (e.status === 422) why = "the report does not pass the CyberTipline schema. ";
  return "Not reported (HTTP " + e.status + "): " + why + "The service said: " + e.message;
}

async function sendReport() {
  if (!state.caseId || state.busy) return;
  const id = state.caseId, mode = $("report-mode").value;
  state.busy = true;
  $("report-error").textContent = "";
  $("report-status").textContent = "Sending\u2026";
  try {
    const r = await api("POST", "/v1/cases/" + id + "/report", { mode, viewed_by_esp: $("report-viewed").checked });
    if (id !== state.caseId) return;
    $("report-confirm").hidden = true;
    $("report-status").textContent = (mode === "submit"
      ? "Report " + r.report + " is queued for the CyberTipline (" + r.state + ")."
      : "Report " + r.report + " is exported to " + r.directory + " for filing by hand.") +
      " The evidence is held until " + r.held_until + ".";
  } catch (e) {
    if (id !== state.caseId) return;
    $("report-status").textContent = "";
    $("report-error").textContent = reportError(e);
  } finally {
    state.busy = false;
  }
  loadReports(id);
}

async function loadReports(id) {
  try {
    const r = await api("GET", "/v1/cases/" + id + "/reports");
    if (id !== state.caseId) return;
    const body = $("report-table").tBodies[0];
    body.replaceChildren();
    for (const p of r.reports || [])
      body.append(row(["#" + p.id, p.mode, p.state, p.ncmec_report_id || "\u2014", p.directory || "", p.created_at,
                       p.created_by || ""]));
    $("report-table").hidden = !body.children.length;
    /* a second report of the same case is allowed, but never by accident */
    $("report-start").textContent = body.children.length ? "Report to NCMEC again" : "Report to NCMEC";
    $("report-held").textContent = (body.children.length ? "" : "Not reported yet. ") +
      (r.held_until ? "Evidence held until " + r.held_until + "." : "No preservation hold is in force.");
  } catch (e) {
    if (id === state.caseId) $("report-held").textContent = "Reports: " + e.message;
  }
}

/* The media element on show: the picture or the video. */
function mediaShown() {
  if (!$("media").hidden) return $("media");
  if (!$("media-video").hidden) return $("media-video");
  return null;
}

async function loadMedia(id) {
  $("media-none").hidden = true;
  $("unblur").hidden = true;
  try {
    const r = await fetch("/v1/cases/" + id + "/evidence", { credentials: "same-origin", cache: "no-store" });
    if (!r.ok || id !== state.caseId) throw new Error("none");
    const blob = await r.blob();
    const video = blob.type.startsWith("video/");
    if (!video && !blob.type.startsWith("image/")) throw new Error("not a picture or a video");
    state.mediaUrl = URL.createObjectURL(blob);
    const m = video ? $("media-video") : $("media");
    m.classList.add("veiled");
    if (video) {
      /* the reviewer's settings: muted and paused unless they chose otherwise */
      m.muted = state.display.video_muted;
      m.autoplay = !state.display.video_paused;
    }
    m.src = state.mediaUrl;
    m.hidden = false;
    if (video && !state.display.video_paused) m.play().catch(() => {});
    $("unblur").hidden = false;
  } catch (e) {
    if (id === state.caseId) $("media-none").hidden = false;
  }
}

async function renewLease() {
  if (!state.caseId) return;
  try {
    const r = await api("POST", "/v1/cases/" + state.caseId + "/lease");
    $("case-lease").textContent = "held for you until " + r.lease_expires_at;
  } catch (e) {
    $("case-error").textContent = "Your hold on this case ended: " + e.message;
  }
}

function unveil(on) {
  const m = mediaShown();
  if (!state.caseId || !m || on === state.unblurred) return;
  state.unblurred = on;
  m.classList.toggle("veiled", !on);
  $("media").alt = on ? "case media" : "case media, blurred";
  /* each unblur is on record; if it cannot be recorded the media is veiled again */
  if (on) api("POST", "/v1/cases/" + state.caseId + "/unblur").catch(() => {
    state.unblurred = false;
    m.classList.add("veiled");
  });
}

function choose(cls) {
  state.chosen = cls;
  for (const b of $("classes").querySelectorAll("button"))
    b.classList.toggle("chosen", b.dataset.cls === cls);
  $("chosen").textContent = cls ? "Chosen: " + cls + ". Press Enter to confirm." : "Nothing chosen.";
}

async function decide(decision) {
  if (!state.caseId || state.busy) return;
  let body;
  if (decision === "escalate") body = { decision: "escalate" };
  else if (!state.chosen) { $("case-error").textContent = "Choose a classification first (j k l ; or n)."; return; }
  else if (state.chosen === "none") {
    body = { decision: "dismiss" };
    if ($("dispute").checked) body.dispute = true; /* a false positive, reported to the bank's owner */
  }
  else {
    body = { decision: "confirm", classification: state.chosen };
    if ($("bank").value) body.add_to_bank = $("bank").value;
  }
  const note = $("note").value.trim();
  if (note) body.note = note;
  state.busy = true;
  try {
    await api("POST", "/v1/cases/" + state.caseId + "/decision", body);
    const id = state.caseId;
    if (state.heldId === id) state.heldId = 0;
    clearCase();
    $("queue-status").textContent = "Case #" + id + ": " + body.decision + (body.classification ? " " + body.classification : "") +
      (body.add_to_bank ? " into bank " + body.add_to_bank : "") + (body.dispute ? ", match disputed" : "") +
      ". Take the next case when you are ready.";
    show("queue");
  } catch (e) {
    $("case-error").textContent = e.message;
  } finally {
    state.busy = false;
  }
}

async function skip() {
  if (!state.caseId) return;
  try { await api("POST", "/v1/cases/" + state.caseId + "/skip"); } catch (e) { /* the lease ended anyway */ }
  if (state.heldId === state.caseId) state.heldId = 0;
  clearCase();
  $("queue-status").textContent = "Skipped. Take the next case when you are ready.";
  show("queue");
}

function typing(ev) {
  const t = ev.target;
  return t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
}

function onKeyDown(ev) {
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (ev.key === "Escape" && typing(ev)) { ev.target.blur(); return; }
  if (typing(ev)) return;
  if (!$("view-queue").hidden && ev.key === "Enter") {
    if (ev.target && ev.target.closest && ev.target.closest("form, nav")) return; /* Apply, a page button */
    ev.preventDefault();
    nextCase();
    return;
  }
  if ($("view-case").hidden) return;
  if (ev.key === "u") { ev.preventDefault(); if (!ev.repeat) unveil(true); return; }
  if (ev.key === "[" && !ev.repeat) { ev.preventDefault(); prevCase(); return; }
  if (ev.key === "]" && !ev.repeat) { ev.preventDefault(); nextInHistory(); return; }
  if (ev.repeat || !state.leased) return; /* a case viewed, not taken: no decision keys */
  if (KEYS[ev.key]) { ev.preventDefault(); choose(KEYS[ev.key]); return; }
  if (ev.key === "Enter") { ev.preventDefault(); decide("confirm"); return; }
  if (ev.key === "e") { ev.preventDefault(); decide("escalate"); return; }
  if (ev.key === "d") { ev.preventDefault(); $("dispute").checked = !$("dispute").checked; return; }
  if (ev.key === "s") { ev.preventDefault(); skip(); }
}

function onKeyUp(ev) { if (ev.key === "u") unveil(false); }

/* ---- the dashboard ---- */

function facts(dl, pairs) {
  dl.replaceChildren();
  for (const [k, v] of pairs) fact(dl, k, v === undefined || v === null ? "\u2014" : v);
}

LOADERS.dashboard = async () => {
  $("dash-error").textContent = "";
  try {
    const s = await api("GET", "/v1/cases/stats");
    const sev = s.open_by_severity || {};
    facts($("dash-severity"), [["A1", sev.A1], ["A2", sev.A2], ["B1", sev.B1], ["B2", sev.B2], ["unlabelled", sev.none]]);
    const today = [["decisions", s.decisions_today], ["escalated, waiting", s.escalated],
                   ["oldest open case", s.oldest_open_at || "none open"]];
    if (s.open_child_safety !== undefined) today.push(["open in child-safety queue", s.open_child_safety]);
    facts($("dash-today"), today);
    const days = (s.decisions_by_day || []).map(d => [d.day, d.count]);
    facts($("dash-days"), days.length ? days : [["last 7 days", "none"]]);
  } catch (e) {
    $("dash-error").textContent = e.message;
  }
};

/* ---- display settings ---- */

function fillDisplay(prefix, d) {
  $(prefix + "-blur").value = d.blur;
  $(prefix + "-blur-out").textContent = String(d.blur);
  $(prefix + "-grey").checked = d.greyscale;
  $(prefix + "-muted").checked = d.video_muted;
  $(prefix + "-paused").checked = d.video_paused;
  if (prefix === "mine") preview();
}

function readDisplay(prefix) {
  return { blur: Number($(prefix + "-blur").value), greyscale: $(prefix + "-grey").checked,
           video_muted: $(prefix + "-muted").checked, video_paused: $(prefix + "-paused").checked };
}

/* the preview pattern wears the veil the form describes */
function preview() {
  const p = $("mine-preview"), d = readDisplay("mine");
  p.style.setProperty("--veil-blur", d.blur + "px");
  p.style.setProperty("--veil-grey", d.greyscale ? "1" : "0");
  $("mine-blur-out").textContent = String(d.blur);
}

function showSettings(r) {
  applyDisplay(r.effective);
  fillDisplay("mine", r.mine || r.effective);
  fillDisplay("org", r.organisation);
  $("mine-state").textContent = r.mine ? "(your own)" : "(following the organisation's)";
}

LOADERS.settings = async () => {
  try { showSettings(await api("GET", "/v1/settings/display")); } catch (e) { $("settings-status").textContent = e.message; }
};

async function saveDisplay(path, body, done) {
  try {
    showSettings(await api("POST", path, body));
    $("settings-status").textContent = done;
  } catch (e) {
    $("settings-status").textContent = e.message;
  }
}

/* ---- people (admin) ---- */

async function changePerson(name, body, done) {
  try {
    await api("POST", "/v1/users/" + encodeURIComponent(name), body);
    $("people-status").textContent = done;
  } catch (e) {
    $("people-status").textContent = e.message;
  }
  LOADERS.people();
}

LOADERS.people = async () => {
  const body = $("people-table").tBodies[0];
  try {
    const r = await api("GET", "/v1/users");
    body.replaceChildren();
    for (const u of r.users || []) {
      const role = document.createElement("select");
      for (const x of ["reviewer", "auditor", "submitter", "admin"]) role.append(new Option(x, x));
      role.value = u.role;
      role.setAttribute("aria-label", "role of " + u.name);
      role.addEventListener("change", () => changePerson(u.name, { role: role.value }, u.name + " is now " + role.value + "."));
      const child = document.createElement("input");
      child.type = "checkbox";
      child.checked = !!u.child_safety;
      child.setAttribute("aria-label", "child-safety permission of " + u.name);
      child.addEventListener("change", () => changePerson(u.name, { child_safety: child.checked },
        u.name + (child.checked ? " has" : " no longer has") + " the child-safety permission."));
      const stateText = u.disabled_at ? "disabled" : u.locked ? "locked" : "active";
      const actions = el("span");
      actions.append(u.disabled_at
        ? button("Enable", () => changePerson(u.name, { enabled: true }, u.name + " is enabled."))
        : button("Disable", () => changePerson(u.name, { enabled: false }, u.name + " is disabled; their sessions ended.")));
      if (u.locked && !u.disabled_at)
        actions.append(" ", button("Unlock", async () => {
          try { await api("POST", "/v1/users/" + encodeURIComponent(u.name) + "/unlock"); } catch (e) { $("people-status").textContent = e.message; }
          LOADERS.people();
        }));
      body.append(row([u.name, role, child, stateText, u.created_at, actions]));
    }
  } catch (e) {
    $("people-status").textContent = e.message;
  }
};

async function createPerson(ev) {
  ev.preventDefault();
  const name = $("p-name").value.trim(), password = $("p-password").value;
  $("p-password").value = "";
  try {
    await api("POST", "/v1/users", { name, role: $("p-role").value, child_safety: $("p-child").checked, password });
    $("people-status").textContent = name + " can now sign in.";
    $("p-name").value = "";
    $("p-child").checked = false;
  } catch (e) {
    $("people-status").textContent = e.message;
  }
  LOADERS.people();
}

/* ---- banks ---- */

async function changeBank(name, body, done) {
  try {
    await api("POST", "/v1/banks/" + encodeURIComponent(name), body);
    $("banks-status").textContent = done;
  } catch (e) {
    $("banks-status").textContent = e.message;
  }
  LOADERS.banks();
}

LOADERS.banks = async () => {
  const body = $("banks-table").tBodies[0];
  $("disputes").hidden = true;
  const admin = state.role === "admin";
  try {
    const r = await api("GET", "/v1/banks");
    body.replaceChildren();
    for (const b of r.banks || []) {
      const actions = el("span");
      if (admin) {
        actions.append(button(b.enabled ? "Disable" : "Enable", () =>
          changeBank(b.name, { enabled: !b.enabled }, b.name + (b.enabled ? " is no longer matched." : " is matched again."))));
        actions.append(" ", button(b.review ? "No review" : "Review", () =>
          changeBank(b.name, { review: !b.review }, b.name + (b.review ? "'s matches no longer open cases." :
            "'s matches now open cases for review."))));
        actions.append(" ", button(b.child_abuse ? "Not child abuse" : "Mark child abuse", () =>
          changeBank(b.name, { child_abuse: !b.child_abuse }, b.name + (b.child_abuse ? " is no longer" : " is now") +
            " a child-abuse bank.")));
      }
      const child = b.child_abuse ? el("span", "child abuse", "tag child") : el("span", "no", "muted");
      const disputed = el("span", String(b.disputed || 0));
      if (b.disputed) disputed.append(" ", button("Show", () => showDisputes(b.name)));
      body.append(row([b.name, b.description, b.active, b.enabled ? "enabled" : "disabled", b.review ? "yes" : "no", child,
                       disputed, actions]));
    }
    /* the banks to import into and look up in; a name is an option's text, never markup */
    for (const [sel, first] of [[$("i-bank"), null], [$("l-bank"), "(all)"]]) {
      const keep = sel.value;
      sel.replaceChildren();
      if (first) sel.append(new Option(first, ""));
      for (const b of r.banks || []) sel.append(new Option(b.name, b.name));
      if ([...sel.options].some(o => o.value === keep)) sel.value = keep;
    }
  } catch (e) {
    $("banks-status").textContent = e.message;
  }
};

async function showDisputes(bank) {
  const body = $("disputes-table").tBodies[0];
  try {
    const r = await api("GET", "/v1/banks/" + encodeURIComponent(bank) + "/disputes");
    body.replaceChildren();
    for (const d of r.disputes || [])
      body.append(row([d.entry_id, (d.signal_type || "") + " " + (d.value || ""), "#" + d.case_id, d.disputed_by, d.at, d.note]));
    $("disputes-bank").textContent = bank;
    $("disputes").hidden = false;
  } catch (e) {
    $("banks-status").textContent = e.message;
  }
}

/* An import: the file goes up with XMLHttpRequest, whose upload reports
 * progress (fetch does not); then the service imports it in one
 * transaction and answers the counts, or 422 with the bad lines. */
function importFile(ev) {
  ev.preventDefault();
  const file = $("i-file").files[0], bank = $("i-bank").value;
  if (!file || !bank || state.busy) return;
  const prog = $("import-progress"), status = $("import-status"), errs = $("import-errors");
  const q = new URLSearchParams({ format: $("i-format").value });
  if ($("i-skip").checked) q.set("skip_bad", "true");
  errs.replaceChildren();
  prog.value = 0;
  prog.hidden = false;
  status.textContent = "Sending " + file.name + "\u2026";
  state.busy = true;
  const x = new XMLHttpRequest();
  x.open("POST", "/v1/banks/" + encodeURIComponent(bank) + "/import?" + q.toString());
  x.setRequestHeader("Content-Type", "application/octet-stream");
  x.setRequestHeader("X-CSRF-Token", state.csrf);
  x.responseType = "json";
  x.upload.addEventListener("progress", e => {
    if (!e.lengthComputable) return;
    prog.value = Math.round(100 * e.loaded / e.total);
    status.textContent = e.loaded < e.total ? "Sending: " + prog.value + "%" : "Importing\u2026";
  });
  x.addEventListener("loadend", () => {
    state.busy = false;
    prog.value = 100;
    const r = x.response || {};
    if (x.status === 200) {
      status.textContent = "Imported into " + bank + ": " + r.lines + " line(s), " + r.added + " added, " + r.existing +
        " already there" + (r.removed ? ", " + r.removed + " removed" : "") + (r.bad ? ", " + r.bad + " bad line(s) skipped" : "") + ".";
    } else {
      status.textContent = "Not imported (HTTP " + (x.status || "error") + "): " +
        ((r.error && r.error.message) || "the service did not answer");
    }
    /* the lines as the service numbers them, at most 100 shown */
    const list = Array.isArray(r.errors) ? r.errors : [];
    for (const e of list.slice(0, 100)) errs.append(el("li", "line " + e.line + ": " + e.message));
    if (list.length > 100) errs.append(el("li", (list.length - 100) + " more"));
    if (x.status === 401) signedOut("Your session has ended; sign in again.");
    else LOADERS.banks();
  });
  x.send(file);
}

/* A hash looked up in the banks: a real match of the hash alone
 * (POST /v1/match with it as JSON, review=false: no case opens). */
async function lookupHash(ev) {
  ev.preventDefault();
  const type = $("l-type").value, value = $("l-value").value.trim().toLowerCase(), body = $("lookup-table").tBodies[0];
  body.replaceChildren();
  $("lookup-status").textContent = "Looking up\u2026";
  const req = { [type]: value, review: false };
  if ($("l-bank").value) req.banks = [$("l-bank").value];
  if (type === "pdq") req.threshold = Math.trunc(Number($("l-threshold").value) || 0);
  try {
    const r = await api("POST", "/v1/match", req);
    for (const m of r.matches || [])
      body.append(row([m.bank, m.id, m.signal_type, m.distance, m.matched_by, (m.tags || []).join(", ")]));
    $("lookup-status").textContent = (r.matches || []).length ? (r.matches.length + " hit(s)" +
      (r.truncated ? "; more were left out" : "") + ".") : "No bank entry matches this hash.";
  } catch (e) {
    $("lookup-status").textContent = e.message;
  }
}

/* ---- the audit log ---- */

function auditQuery(after, forExport) {
  const q = new URLSearchParams();
  const who = $("a-who").value.trim(), action = $("a-action").value.trim();
  if (who) q.set("key_id", who);
  if (action) q.set("action", action);
  if (!forExport) {
    q.set("limit", "100");
    if (after) q.set("after_id", String(after));
  }
  const t = q.toString();
  return t ? "?" + t : "";
}

async function loadAudit(fresh) {
  const body = $("audit-table").tBodies[0];
  if (fresh) { body.replaceChildren(); state.auditAfter = 0; }
  $("audit-export").href = "/v1/audit/export" + auditQuery(0, true);
  try {
    const r = await api("GET", "/v1/audit" + auditQuery(state.auditAfter, false));
    for (const e of r.entries || [])
      body.append(row([e.id, e.at, e.key_id, e.action, e.target, e.status, e.detail ? JSON.stringify(e.detail) : ""]));
    state.auditAfter = r.next_after || 0;
    $("audit-more").hidden = !r.next_after;
    $("audit-status").textContent = body.children.length ? "" : "No entries match.";
  } catch (e) {
    $("audit-status").textContent = e.message;
  }
}
LOADERS.audit = () => loadAudit(true);

/* ---- the match tester (admin) ---- */

async function testMatch(ev) {
  ev.preventDefault();
  const file = $("t-file").files[0], body = $("tester-table").tBodies[0];
  if (!file) return;
  body.replaceChildren();
  $("tester-hashes").replaceChildren();
  $("tester-status").textContent = "Matching\u2026";
  try {
    /* review=false: a test opens no case */
    const q = new URLSearchParams({ review: "false", threshold: String(Number($("t-threshold").value) || 0) });
    const r = await fetch("/v1/match?" + q.toString(), {
      method: "POST", credentials: "same-origin", cache: "no-store", body: file,
      headers: { "Content-Type": file.type || "application/octet-stream", "X-CSRF-Token": state.csrf } });
    const data = (r.headers.get("Content-Type") || "").startsWith("application/json") ? await r.json() : null;
    if (!r.ok) throw new Error((data && data.error && data.error.message) || "HTTP " + r.status);
    const h = data.hashes || {};
    facts($("tester-hashes"), [["PDQ", h.pdq], ["MD5", h.md5], ["SHA-256", h.sha256]]);
    for (const m of data.matches || [])
      body.append(row([m.bank, m.id, m.signal_type, m.distance, m.matched_by + (m.variant ? " (" + m.variant + ")" : ""),
                       (m.tags || []).join(", ")]));
    $("tester-status").textContent = (data.matches || []).length + " match(es) at threshold " + data.threshold +
      (data.truncated ? "; more were left out" : "") + ".";
  } catch (e) {
    $("tester-status").textContent = e.message;
  }
}

/* ---- API keys (admin) ---- */

LOADERS.keys = async () => {
  const body = $("keys-table").tBodies[0];
  try {
    const r = await api("GET", "/v1/keys");
    body.replaceChildren();
    for (const k of r.keys || []) {
      const act = k.active ? button("Revoke", async () => {
        try {
          await api("DELETE", "/v1/keys/" + encodeURIComponent(k.id));
          $("keys-status").textContent = "Key " + k.id + " is revoked.";
        } catch (e) { $("keys-status").textContent = e.message; }
        LOADERS.keys();
      }) : "";
      body.append(row([k.id, k.name, k.role, k.created_at, k.active ? "active" : "revoked " + k.revoked_at, act]));
    }
  } catch (e) {
    $("keys-status").textContent = e.message;
  }
};

async function createKey(ev) {
  ev.preventDefault();
  try {
    const body = { role: $("k-role").value };
    if ($("k-name").value.trim()) body.name = $("k-name").value.trim();
    const k = await api("POST", "/v1/keys", body);
    $("key-secret").textContent = k.key;
    $("key-new").hidden = false;
    $("keys-status").textContent = "";
    $("k-name").value = "";
  } catch (e) {
    $("keys-status").textContent = e.message;
  }
  LOADERS.keys();
}

/* ---- webhooks (admin) ---- */

async function createHook(ev) {
  ev.preventDefault();
  const events = [...$("hook-form").querySelectorAll("input[name=event]:checked")].map(i => i.value);
  try {
    const h = await api("POST", "/v1/hooks", { url: $("h-url").value.trim(), events });
    $("hook-secret").textContent = h.secret || "";
    $("hook-new").hidden = !h.secret;
    $("hooks-status").textContent = "Subscribed " + h.id + ".";
    $("h-url").value = "";
  } catch (e) {
    $("hooks-status").textContent = e.message;
  }
  LOADERS.hooks();
}

LOADERS.hooks = async () => {
  const body = $("hooks-table").tBodies[0];
  try {
    const r = await api("GET", "/v1/hooks");
    body.replaceChildren();
    for (const h of r.hooks || [])
      body.append(row([h.id, h.url, (h.events || []).join(", "), h.created_at, button("Delete", async () => {
        try {
          await api("DELETE", "/v1/hooks/" + encodeURIComponent(h.id));
          $("hooks-status").textContent = "Subscription " + h.id + " is deleted.";
        } catch (e) { $("hooks-status").textContent = e.message; }
        LOADERS.hooks();
      })]));
    $("hooks-status").textContent = body.children.length ? "" : "No subscriptions.";
  } catch (e) {
    $("hooks-status").textContent = e.message;
  }
};

document.addEventListener("DOMContentLoaded", () => {
  $("signin-form").addEventListener("submit", onSignIn);
  $("signout").addEventListener("click", onSignOut);
  $("next").addEventListener("click", nextCase);
  for (const b of $("nav").querySelectorAll("button")) b.addEventListener("click", () => { clearCase(); show(b.dataset.view); });
  $("filters").addEventListener("submit", ev => { ev.preventDefault(); loadQueue(); });
  for (const id of ["f-bank", "f-status", "f-queue"]) $(id).addEventListener("change", loadQueue);
  $("mine-form").addEventListener("submit", ev => { ev.preventDefault(); saveDisplay("/v1/settings/display", readDisplay("mine"), "Saved."); });
  $("mine-reset").addEventListener("click", () => saveDisplay("/v1/settings/display", { reset: true }, "You follow the organisation's default."));
  $("org-form").addEventListener("submit", ev => { ev.preventDefault(); saveDisplay("/v1/settings/display/organisation", readDisplay("org"), "Saved for everyone."); });
  for (const id of ["mine-blur", "mine-grey"]) $(id).addEventListener("input", preview);
  $("org-blur").addEventListener("input", () => { $("org-blur-out").textContent = $("org-blur").value; });
  $("person-form").addEventListener("submit", createPerson);
  $("key-form").addEventListener("submit", createKey);
  $("tester-form").addEventListener("submit", testMatch);
  $("import-form").addEventListener("submit", importFile);
  $("lookup-form").addEventListener("submit", lookupHash);
  $("hook-form").addEventListener("submit", createHook);
  $("audit-filters").addEventListener("submit", ev => { ev.preventDefault(); loadAudit(true); });
  $("audit-more").addEventListener("click", () => loadAudit(false));
  $("confirm").addEventListener("click", () => decide("confirm"));
  $("escalate").addEventListener("click", () => decide("escalate"));
  $("skip").addEventListener("click", skip);
  $("case-prev").addEventListener("click", prevCase);
  $("case-next").addEventListener("click", nextInHistory);
  $("report-start").addEventListener("click", openReport);
  $("report-cancel").addEventListener("click", () => { $("report-confirm").hidden = true; });
  $("report-send").addEventListener("click", sendReport);
  for (const b of $("classes").querySelectorAll("button")) b.addEventListener("click", () => choose(b.dataset.cls));
  const u = $("unblur");
  u.addEventListener("pointerdown", () => unveil(true));
  for (const t of ["pointerup", "pointerleave", "blur"]) u.addEventListener(t, () => unveil(false));
  document.addEventListener("keydown", onKeyDown);
  document.addEventListener("keyup", onKeyUp);
  window.addEventListener("blur", () => unveil(false));
  start();
});
