#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# test_server_console_firefox.py VIGIL SOURCE_DIR [SHOTS_DIR] - the review
# console's main flow in Debian's firefox-esr, headless at 1280x800, driven
# through Firefox's own remote protocol (Marionette, tests/support/
# marionette.py: Debian has no geckodriver, so selenium cannot drive it).
#
# The same service as the Chromium test (tests/support/console_serve.py):
# evidence retention, a review bank holding the sample picture, an upload
# whose content id, uploader and URL are hostile.  Then alice, with the
# keyboard only (no click anywhere): signs in (type, Tab, type, Enter),
# takes the next case with Enter, sees the media blurred and grey (the
# computed CSS filter), holds u to unblur it and lets go to veil it again,
# tabs to the bank chooser and types its name, chooses A1 with j and
# confirms with Enter.  Through the API: the case is confirmed A1 by
# user:alice, its three hashes are in the bank, and the audit log has her
# sign-in, next, evidence, unblur and decision.  The hostile metadata shows
# as text, makes no element and runs nothing (window.__pwned stays unset).
# Her other pages (dashboard, display, banks) open from the menu with
# Enter; she signs out and root, an admin, opens the admin's pages the same
# way.  No page is wider than the window; the blur slider lines up with its
# label.  Screenshots go to SHOTS_DIR (default: a new temporary folder,
# printed), and failed.png when a step fails.
# Exit 77 (skipped) without firefox-esr.
import os
import shutil
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "support"))
from console_serve import Api, create_accounts, open_hostile_case, start_serve, PW, HOSTILE_ID, HOSTILE_UP, HOSTILE_URL  # noqa: E402
from marionette import Firefox, MarionetteError, find_firefox  # noqa: E402

ENTER, TAB, ESC, CTRL = "\ue007", "\ue004", "\ue00c", "\ue009"  # WebDriver's key codes
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def media_filter(ff, want):
    """The media's computed filter once it satisfies want (it has a 0.15 s transition), or after 5 s."""
    deadline = time.monotonic() + 5
    while True:
        f = ff.script("return getComputedStyle(document.getElementById('media')).filter")
        if want(f) or time.monotonic() > deadline:
            return f
        time.sleep(0.05)


def fits(ff, page):
    w = ff.script("return [document.documentElement.scrollWidth, window.innerWidth]")
    check(w[0] <= w[1], f"the {page} page fits the window's width ({w[0]} <= {w[1]})")


def flow(ff, api, base, admin, case_id, shots):
    ff.navigate(base + "/ui/")
    ff.wait("const e = document.getElementById('view-signin'); return e && !e.hidden")
    # sign in: the keyboard only (ElementSendKeys focuses the field, as a Tab would)
    ff.send_keys(ff.find("#signin-name"), "alice" + TAB)
    check(ff.script("return document.activeElement.id") == "signin-password", "Tab goes from the name to the password")
    ff.type(PW)
    ff.screenshot(os.path.join(shots, "1-signin.png"))
    ff.press(ENTER)
    ff.wait("return !document.getElementById('view-queue').hidden")
    check("alice" in ff.script("return document.getElementById('who').textContent"), "signed in as alice")
    ff.wait("return document.getElementById('queue-table').textContent.includes(arguments[0])", HOSTILE_ID)
    check(ff.script("return window.__pwned === undefined"), "the queue list ran nothing")
    fits(ff, "queue")
    ff.screenshot(os.path.join(shots, "2-queue.png"))

    ff.script("if (document.activeElement) document.activeElement.blur()")  # the keyboard on the page itself
    ff.press(ENTER)  # Enter: next case
    ff.wait("return !document.getElementById('view-case').hidden")
    ff.wait("const m = document.getElementById('media'); return !m.hidden && m.complete && m.naturalWidth > 0")
    check(ff.script("return document.getElementById('case-id').textContent") == f"#{case_id}",
          "Enter takes the case")
    filt = ff.script("return getComputedStyle(document.getElementById('media')).filter")
    check("blur(28px)" in filt and "grayscale(1)" in filt, f"the media is blurred and grey by default ({filt})")
    facts = ff.script("return document.getElementById('case-facts').textContent")
    check(HOSTILE_ID in facts and HOSTILE_UP in facts and HOSTILE_URL in facts, "hostile metadata shows as text")
    check(ff.script("return window.__pwned === undefined"), "nothing of the metadata ran")
    check(ff.script("return document.querySelectorAll('main script, main a:not(#audit-export), "
                    "main img:not(#media)').length") == 0, "no element was made from the metadata")
    fits(ff, "case")
    ff.screenshot(os.path.join(shots, "3-case-blurred.png"))

    # unblur while u is held: the key stays down between the two commands
    veiled = lambda f: "blur(28px)" in f and "grayscale(1)" in f
    ff.keys(("down", "u"))
    filt = media_filter(ff, lambda f: f == "none")
    check(filt == "none", f"holding u unblurs ({filt})")
    ff.screenshot(os.path.join(shots, "4-case-unblurred.png"))
    check(ff.script("return getComputedStyle(document.getElementById('media')).filter") == "none",
          "still clear while u is held")
    ff.keys(("up", "u"))
    ff.release()
    filt = media_filter(ff, veiled)
    check(veiled(filt), f"letting go of u veils it again ({filt})")

    # the bank to confirm into: Tab to the chooser, type its name, Esc back to the page's keys
    for _ in range(40):
        if ff.script("return document.activeElement && document.activeElement.id") == "bank":
            break
        ff.press(TAB)
    check(ff.script("return document.activeElement.id") == "bank", "Tab reaches the bank chooser")
    ff.type("confirmed")
    check(ff.script("return document.getElementById('bank').value") == "confirmed", "typing a bank's name chooses it")
    ff.press(ESC)
    check(ff.script("return document.activeElement === document.body"), "Esc leaves the chooser")
    ff.press("j")
    check("A1" in ff.script("return document.getElementById('chosen').textContent"), "j chooses A1")
    ff.screenshot(os.path.join(shots, "5-case-chosen.png"))
    ff.press(ENTER)  # Enter: confirm
    ff.wait("return !document.getElementById('view-queue').hidden")
    st = ff.script("return document.getElementById('queue-status').textContent")
    check("confirm A1 into bank confirmed" in st, f"Enter confirms ({st})")
    fits(ff, "queue after a decision")
    ff.screenshot(os.path.join(shots, "6-queue-after.png"))

    # the other pages a reviewer has, opened from the menu with Tab's focus and Enter
    for view, ready, shot in (
            ("dashboard", "return document.getElementById('dash-today').textContent.includes('decisions')",
             "7-dashboard.png"),
            ("settings", "return document.getElementById('mine-blur').value === '28'", "8-display.png"),
            ("banks", "return document.getElementById('banks-table').textContent.includes(arguments[0])",
             "9-banks.png")):
        ff.send_keys(ff.find(f"nav button[data-view={view}]"), ENTER)
        ff.wait(f"return !document.getElementById('view-{view}').hidden")
        ff.wait(ready, HOSTILE_UP)
        fits(ff, view)
        if view == "settings":  # the slider on its label's line: centres within a few pixels
            dy = ff.script("const c = id => { const r = document.getElementById(id).getBoundingClientRect();"
                           " return r.top + r.height / 2; }; return Math.abs(c('mine-blur') - c('mine-blur-out'))")
            check(dy <= 4, f"the blur slider sits on its label's line ({dy:.1f} px off)")
        ff.screenshot(os.path.join(shots, shot))
    check(ff.script("return window.__pwned === undefined"), "nothing hostile ran on any page")
    check(ff.script("return document.querySelectorAll('main script, main a:not(#audit-export), "
                    "main img:not(#media)').length") == 0, "no element was made from data")

    # sign out (Enter on the button) and, as root (admin), the admin's pages
    ff.send_keys(ff.find("#signout"), ENTER)
    ff.wait("return !document.getElementById('view-signin').hidden")
    # the name field keeps the last name: Ctrl+A selects it to be typed over (a key
    # action: ElementSendKeys's Ctrl+A does not select a field's text in Firefox)
    ff.send_keys(ff.find("#signin-name"), "")
    ff.keys(("down", CTRL), ("down", "a"), ("up", "a"), ("up", CTRL))
    ff.type("root" + TAB + PW + ENTER)
    ff.wait("return !document.getElementById('view-queue').hidden")
    for view, ready, shot in (
            ("people", "return document.getElementById('people-table').textContent.includes('alice')",
             "10-people.png"),
            ("audit", "return document.getElementById('audit-table').textContent.includes('user:alice')",
             "11-audit.png"),
            ("tester", "return true", "12-tester.png"),
            ("keys", "return document.getElementById('keys-table').textContent.includes('submitter')",
             "13-keys.png"),
            ("hooks", "return true", "14-hooks.png"),
            ("banks", "return document.getElementById('banks-table').textContent.includes(arguments[0])",
             "15-banks-admin.png")):
        ff.send_keys(ff.find(f"nav button[data-view={view}]"), ENTER)
        ff.wait(f"return !document.getElementById('view-{view}').hidden")
        ff.wait(ready, HOSTILE_UP)
        fits(ff, view)
        ff.screenshot(os.path.join(shots, shot))
    check(ff.script("return window.__pwned === undefined"), "nothing hostile ran on the admin's pages")

    st, c, _ = api.call("GET", f"/v1/cases/{case_id}", admin)
    check(c and c.get("status") == "confirmed" and c.get("classification") == "A1" and
          c.get("decided_by") == "user:alice", f"the case is confirmed A1 by user:alice ({c and c.get('decided_by')})")
    st, bk, _ = api.call("GET", "/v1/banks/confirmed", admin)
    check(st == 200 and (bk or {}).get("active") == 3 and (bk or {}).get("by_type", {}).get("pdq") == 1,
          f"the case's PDQ, MD5 and SHA-256 are in bank confirmed ({(bk or {}).get('by_type')})")
    st, a, _ = api.call("GET", "/v1/audit?limit=1000", admin)
    rows = [(e["key_id"], e["action"], e["status"]) for e in (a or {}).get("entries", [])]
    for act in ("session.create", "cases.next", "cases.evidence", "cases.unblur", "cases.decide"):
        check(("user:alice", act, 201 if act == "session.create" else 200) in rows, f"audit: user:alice {act}")


def main():
    vigil, src = sys.argv[1], sys.argv[2]
    firefox = find_firefox()
    if not firefox:
        print("skipped: firefox-esr is not installed (scripts/install-deps --test)")
        return 77
    shots = sys.argv[3] if len(sys.argv) > 3 else tempfile.mkdtemp(prefix="vigil-console-shots-firefox-")
    os.makedirs(shots, exist_ok=True)
    if os.path.exists(os.path.join(shots, "failed.png")):
        os.remove(os.path.join(shots, "failed.png"))  # an earlier run's
    tmp = tempfile.mkdtemp(prefix="vigil-console-firefox-")
    db, ev = os.path.join(tmp, "vigil.db"), os.path.join(tmp, "evidence")
    srv = None
    try:
        admin, sub = create_accounts(vigil, db)
        srv, port = start_serve(vigil, db, ev)
        if not port:
            print("vigil serve did not start")
            return 1
        api = Api(port)
        seed = open_hostile_case(api, src, admin, sub)
        check(seed["entry_status"] in (200, 201), f"the sample's hash is in a review bank ({seed['entry_status']})")
        case_id = seed["case_id"]
        check(case_id > 0, f"the upload opened case {case_id}")
        with Firefox(firefox, 1280, 800) as ff:
            try:
                flow(ff, api, f"http://127.0.0.1:{port}", admin, case_id, shots)
            except MarionetteError:
                try:  # what the page showed when a step failed
                    ff.screenshot(os.path.join(shots, "failed.png"))
                    print("the page at the failure: failed.png")
                except MarionetteError:
                    pass
                raise
    except MarionetteError as e:
        check(False, f"firefox: {e}")
    finally:
        if srv:
            srv.terminate()
            srv.wait(timeout=60)
        shutil.rmtree(tmp, ignore_errors=True)
    print("screenshots:", shots)
    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
