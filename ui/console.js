/*
 * console.js - the review console's behaviour: sign in, take the next
 * case, show it veiled, classify it from the keyboard.
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

const state = { csrf: "", user: "", caseId: 0, chosen: "", mediaUrl: "", unblurred: false, renew: 0, busy: false };

function $(id) { return document.getElementById(id); }

function show(view) {
  for (const v of ["signin", "queue", "case"]) $("view-" + v).hidden = v !== view;
  $("signout").hidden = view === "signin";
  if (view === "signin") $("signin-name").focus();
  if (view === "queue") $("next").focus();
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
  state.user = "";
  $("who").textContent = "";
  $("signin-error").textContent = why || "";
  show("signin");
}

/* The banks a confirmed case's hashes may go into (the feedback loop:
 * the next upload of the same content then matches). */
async function loadBanks() {
  const sel = $("bank");
  const keep = sel.value;
  while (sel.options.length > 1) sel.remove(1);
  try {
    const r = await api("GET", "/v1/banks");
    for (const b of (r && r.banks) || []) {
      const o = document.createElement("option");
      o.value = b.name;
      o.textContent = b.name;
      sel.append(o);
    }
    sel.value = keep;
  } catch (e) { /* no banks to offer */ }
}

function signedIn(s) {
  loadBanks();
  state.csrf = s.csrf_token;
  state.user = s.user;
  $("who").textContent = s.user + " (" + s.role + ")";
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
  Object.assign(state, { caseId: 0, chosen: "", mediaUrl: "", unblurred: false, renew: 0 });
  const img = $("media");
  img.removeAttribute("src");
  img.hidden = true;
  img.classList.add("veiled");
}

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
    const r = await api("POST", "/v1/cases/next");
    if (!r.case) {
      $("queue-status").textContent = "The queue is empty.";
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

function showCase(c, leaseEnd) {
  clearCase();
  state.caseId = c.id;
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
  choose("");
  $("case-error").textContent = "";
  show("case");
  loadMedia(c.id);
  state.renew = setInterval(renewLease, LEASE_RENEW_MS);
}

async function loadMedia(id) {
  $("media-none").hidden = true;
  $("unblur").hidden = true;
  try {
    const r = await fetch("/v1/cases/" + id + "/evidence", { credentials: "same-origin", cache: "no-store" });
    if (!r.ok || id !== state.caseId) throw new Error("none");
    const blob = await r.blob();
    if (!blob.type.startsWith("image/")) throw new Error("not a picture");
    state.mediaUrl = URL.createObjectURL(blob);
    const img = $("media");
    img.classList.add("veiled");
    img.src = state.mediaUrl;
    img.hidden = false;
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
  if (!state.caseId || $("media").hidden || on === state.unblurred) return;
  state.unblurred = on;
  $("media").classList.toggle("veiled", !on);
  $("media").alt = on ? "case media" : "case media, blurred";
  /* each unblur is on record; if it cannot be recorded the media is veiled again */
  if (on) api("POST", "/v1/cases/" + state.caseId + "/unblur").catch(() => {
    state.unblurred = false;
    $("media").classList.add("veiled");
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
  else if (state.chosen === "none") body = { decision: "dismiss" };
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
    clearCase();
    $("queue-status").textContent = "Case #" + id + ": " + body.decision + (body.classification ? " " + body.classification : "") +
      (body.add_to_bank ? " into bank " + body.add_to_bank : "") + ". Take the next case when you are ready.";
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
  if (!$("view-queue").hidden && ev.key === "Enter") { ev.preventDefault(); nextCase(); return; }
  if ($("view-case").hidden) return;
  if (ev.key === "u") { ev.preventDefault(); if (!ev.repeat) unveil(true); return; }
  if (ev.repeat) return;
  if (KEYS[ev.key]) { ev.preventDefault(); choose(KEYS[ev.key]); return; }
  if (ev.key === "Enter") { ev.preventDefault(); decide("confirm"); return; }
  if (ev.key === "e") { ev.preventDefault(); decide("escalate"); return; }
  if (ev.key === "s") { ev.preventDefault(); skip(); }
}

function onKeyUp(ev) { if (ev.key === "u") unveil(false); }

document.addEventListener("DOMContentLoaded", () => {
  $("signin-form").addEventListener("submit", onSignIn);
  $("signout").addEventListener("click", onSignOut);
  $("next").addEventListener("click", nextCase);
  $("confirm").addEventListener("click", () => decide("confirm"));
  $("escalate").addEventListener("click", () => decide("escalate"));
  $("skip").addEventListener("click", skip);
  for (const b of $("classes").querySelectorAll("button")) b.addEventListener("click", () => choose(b.dataset.cls));
  const u = $("unblur");
  u.addEventListener("pointerdown", () => unveil(true));
  for (const t of ["pointerup", "pointerleave", "blur"]) u.addEventListener(t, () => unveil(false));
  document.addEventListener("keydown", onKeyDown);
  document.addEventListener("keyup", onKeyUp);
  window.addEventListener("blur", () => unveil(false));
  start();
});
