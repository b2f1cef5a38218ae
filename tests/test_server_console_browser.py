#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# test_server_console_browser.py VIGIL SOURCE_DIR [SHOTS_DIR] - the review
# console in a real browser: Debian's chromium, headless, driven by
# python3-selenium through chromium-driver.
#
# A real `vigil serve` with evidence retention, a review bank holding the
# sample picture, and an upload whose content id, uploader and URL are
# hostile (<script>, onerror=, javascript:).  Then, as a person at the
# keyboard: sign in, take the next case, see it blurred and grey, hold `u`
# to unblur (the audit log records it), classify with `j` (A1), confirm
# with Enter into the bank chosen on the page; the case is decided by
# user:alice, its hashes are in the bank, and the audit rows name her.  A second session (carol) cannot take the case alice holds.  The
# hostile metadata shows as text and nothing of it runs.  The queue page
# lists the case and filters it; the reviewer's display settings (blur
# strength, no greyscale) are kept by the service and veil the next case.
# On that case [ opens the earlier case to read and ] comes back to the
# held one (] alone does not leave a held case; both are off while typing).
# The reviewer dismisses that case with n d Enter, disputing the match.
# A video case (a ../shared sample clip, when present) plays veiled, muted
# and paused, and u unveils it while held.
# The confirmed case, opened from the queue with View, offers "Report to
# NCMEC" with a confirm step listing what is sent and the viewed-by-ESP
# choice: with the CyberTipline schema in ../shared the service has a report
# configuration without an export folder, so an export is refused with a
# clear 409 and a submission is queued (pending; no API section, so nothing
# leaves the machine) and listed with its hold; without the schema the
# service has no report configuration and the page shows that 409.
# An admin (root, without the child-safety permission) creates a person,
# sees hostile bank descriptions, notes, sign-in names, key names and
# webhook URLs as text, imports a hash file on the Banks page (a bad line
# refused by number, then the count) and looks up one of its hashes, marks
# a bank as child abuse (its cases leave
# root's queue), exports the audit log (on record), tests a picture in the
# match tester (no case opens) and makes an API key that works.  Screenshots of each page go to SHOTS_DIR
# (default: a new temporary folder, printed).
# Exit 77 (skipped) without chromium, chromedriver or python3-selenium.
import http.client
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "support"))
from console_serve import Api, create_accounts, open_hostile_case, start_serve, PW, HOSTILE_ID, HOSTILE_UP, HOSTILE_URL, HOSTILE_NOTE  # noqa: E402

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait
except ImportError:
    # Debian's python3-selenium lives with Debian's python3, which may not
    # be the first python3 on PATH
    if os.path.exists("/usr/bin/python3") and os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    print("skipped: python3-selenium is not installed (scripts/install-deps --test)")
    sys.exit(77)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
if not (os.path.exists(CHROMIUM) and os.path.exists(DRIVER)):
    print("skipped: chromium and chromium-driver are needed (scripts/install-deps --test)")
    sys.exit(77)

failures = []


def settled_filter(driver, el, want, timeout=5.0):
    """el's computed CSS filter once want(filter) holds, or the last value read after timeout: the
    veil has a short CSS transition, so one read at a fixed moment may catch it half way."""
    deadline = time.monotonic() + timeout
    while True:
        f = driver.execute_script("return getComputedStyle(arguments[0]).filter", el)
        if want(f) or time.monotonic() > deadline:
            return f
        time.sleep(0.05)


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def main():
    vigil, src = sys.argv[1], sys.argv[2]
    shots = sys.argv[3] if len(sys.argv) > 3 else tempfile.mkdtemp(prefix="vigil-console-shots-")
    os.makedirs(shots, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="vigil-console-")
    db, ev = os.path.join(tmp, "vigil.db"), os.path.join(tmp, "evidence")
    admin, sub = create_accounts(vigil, db, ("alice", "carol"))
    # the report configuration, when the CyberTipline schema is at hand: no
    # export_dir (an export is refused, 409) and no api section (a
    # submission is recorded and queued, and its delivery never connects)
    xsd = os.path.join(src, "..", "shared", "docs", "ncmec", "cyber_tipline.xsd")
    report_args = []
    if os.path.exists(xsd):
        rcfg = os.path.join(tmp, "report.json")
        with open(rcfg, "w") as f:
            json.dump({"ncmec": {"schema": os.path.abspath(xsd), "company": "Example Inc.",
                                 "reporter": {"first_name": "Ada", "last_name": "Lovelace",
                                              "email": "trust@example.org"}}}, f)
        report_args = ["--report-config", rcfg]
    else:
        print("note: no ../shared CyberTipline schema; the report flow is checked for its 409 only")
    srv, port = start_serve(vigil, db, ev, report_args)
    driver = None
    try:
        if not port:
            print("vigil serve did not start")
            return 1
        api = Api(port)
        seed = open_hostile_case(api, src, admin, sub)
        check(seed["entry_status"] in (200, 201), f"the sample's hash is in a review bank ({seed['entry_status']})")
        case_id = seed["case_id"]
        check(case_id > 0, f"the upload opened case {case_id}")
        jpg, pdq, q = seed["jpg"], seed["pdq"], seed["query"]

        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,800",
                  "--disable-dev-shm-usage", "--no-first-run", "--disable-extensions"):
            opts.add_argument(a)
        driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
        driver.set_window_size(1280, 800)
        wait = WebDriverWait(driver, 15)
        base = f"http://127.0.0.1:{port}"

        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        c.request("GET", "/ui/")
        r = c.getresponse()
        r.read()
        csp = r.getheader("Content-Security-Policy", "")
        c.close()
        check("default-src 'self'" in csp and "script-src" not in csp and "unsafe" not in csp and
              "media-src 'self' blob:" in csp, f"the console's CSP is strict ({csp})")
        driver.get(base + "/ui/")
        wait.until(lambda d: d.find_element(By.ID, "view-signin").is_displayed())
        driver.find_element(By.ID, "signin-name").send_keys("alice")
        driver.find_element(By.ID, "signin-password").send_keys("wrong password")
        driver.find_element(By.ID, "signin-password").submit()
        wait.until(lambda d: d.find_element(By.ID, "signin-error").text)
        check("wrong name or password" in driver.find_element(By.ID, "signin-error").text, "a wrong password is refused")
        driver.save_screenshot(os.path.join(shots, "1-signin.png"))
        driver.find_element(By.ID, "signin-name").clear()
        driver.find_element(By.ID, "signin-name").send_keys("alice")
        driver.find_element(By.ID, "signin-password").send_keys(PW)
        driver.find_element(By.ID, "signin-password").submit()
        wait.until(lambda d: d.find_element(By.ID, "view-queue").is_displayed())
        check("alice" in driver.find_element(By.ID, "who").text, "signed in as alice")
        cookies = {c["name"]: c for c in driver.get_cookies()}
        sc = cookies.get("vigil_session", {})
        check(sc.get("httpOnly") is True and sc.get("sameSite") == "Strict", "the session cookie is HttpOnly, Strict")
        check(driver.execute_script("return document.cookie") == "", "no script can read the session cookie")
        wait.until(lambda d: HOSTILE_ID in d.find_element(By.ID, "queue-table").text)
        check("#%d" % case_id in driver.find_element(By.ID, "queue-table").text, "the queue page lists the case")
        check(driver.execute_script("return window.__pwned === undefined"), "the queue list ran nothing")
        driver.save_screenshot(os.path.join(shots, "2-queue.png"))
        driver.find_element(By.ID, "f-tag").send_keys("A1\ue007")  # Enter in the field applies the filter
        wait.until(lambda d: "No cases match" in d.find_element(By.ID, "queue-table").text)
        check(True, "a tag filter that matches nothing empties the list")
        driver.find_element(By.ID, "f-tag").clear()
        Select(driver.find_element(By.ID, "f-bank")).select_by_value("known")
        wait.until(lambda d: HOSTILE_ID in d.find_element(By.ID, "queue-table").text)
        check(True, "the bank filter finds the case")
        driver.find_element(By.TAG_NAME, "body").click()

        ActionChains(driver).send_keys("\ue007").perform()  # Enter: next case
        wait.until(lambda d: d.find_element(By.ID, "view-case").is_displayed())
        wait.until(lambda d: d.find_element(By.ID, "media").is_displayed())
        check(driver.find_element(By.ID, "case-id").text == f"#{case_id}", "the case page shows the case")
        img = driver.find_element(By.ID, "media")
        filt = driver.execute_script("return getComputedStyle(arguments[0]).filter", img)
        check("blur" in filt and "grayscale" in filt, f"the media is blurred and grey by default ({filt})")
        driver.save_screenshot(os.path.join(shots, "3-case-blurred.png"))

        # a second session cannot take the case alice holds
        st, s2, cookie = api.call("POST", "/v1/session", None, {"name": "carol", "password": PW})
        hdr = {"Cookie": cookie.split(";")[0], "X-CSRF-Token": (s2 or {}).get("csrf_token", "")}
        st, n2, _ = api.call("POST", "/v1/cases/next", headers=hdr)
        check(st == 200 and n2 and n2.get("case") is None, "a second session gets no case while alice holds it")

        facts = driver.find_element(By.ID, "case-facts").text
        check(HOSTILE_ID in facts and HOSTILE_UP in facts and HOSTILE_URL in facts, "hostile metadata shows as text")
        check(driver.execute_script("return window.__pwned === undefined"), "nothing of the metadata ran")
        check(driver.execute_script("return document.querySelectorAll('main script, main a:not(#audit-export), "
                                    "main img:not(#media)').length") == 0, "no element was made from the metadata")

        ActionChains(driver).key_down("u").perform()
        filt = settled_filter(driver, img, lambda f: f == "none")
        check(filt == "none", f"holding u unblurs ({filt})")
        driver.save_screenshot(os.path.join(shots, "4-case-unblurred.png"))
        ActionChains(driver).key_up("u").perform()
        filt = settled_filter(driver, img, lambda f: "blur(28px)" in f)
        check("blur" in filt, "letting go of u blurs again")

        # the bank to confirm into, chosen with the keyboard: the select takes focus, keys go to it
        Select(driver.find_element(By.ID, "bank")).select_by_value("confirmed")
        driver.find_element(By.TAG_NAME, "body").click()
        ActionChains(driver).send_keys("j").perform()
        check("A1" in driver.find_element(By.ID, "chosen").text, "j chooses A1")
        driver.save_screenshot(os.path.join(shots, "5-case-chosen.png"))
        ActionChains(driver).send_keys("\ue007").perform()  # Enter: confirm
        wait.until(lambda d: d.find_element(By.ID, "view-queue").is_displayed())
        check("confirm A1 into bank confirmed" in driver.find_element(By.ID, "queue-status").text, "Enter confirms")
        driver.save_screenshot(os.path.join(shots, "6-queue-after.png"))

        st, c, _ = api.call("GET", f"/v1/cases/{case_id}", admin)
        check(c and c.get("status") == "confirmed" and c.get("classification") == "A1" and
              c.get("decided_by") == "user:alice", f"the case is confirmed A1 by user:alice ({c and c.get('decided_by')})")
        st, bk, _ = api.call("GET", "/v1/banks/confirmed", admin)
        check(st == 200 and (bk or {}).get("active") == 3 and (bk or {}).get("by_type", {}).get("pdq") == 1,
              f"the case's PDQ, MD5 and SHA-256 are in bank confirmed ({(bk or {}).get('by_type')})")
        st, a, _ = api.call("GET", "/v1/audit?limit=1000", admin)
        rows = [(e["key_id"], e["action"], e["status"]) for e in (a or {}).get("entries", [])]
        for act in ("session.create", "cases.next", "cases.evidence", "cases.unblur", "cases.decide"):
            check(("user:alice", act, 200 if act != "session.create" else 201) in rows, f"audit: user:alice {act}")

        # the confirmed case, viewed from the queue, is reported to NCMEC after a confirm step
        Select(driver.find_element(By.ID, "f-status")).select_by_value("confirmed")
        wait.until(lambda d: "#%d" % case_id in d.find_element(By.ID, "queue-table").text)
        rows = driver.find_elements(By.CSS_SELECTOR, "#queue-table tbody tr")
        mine = [r for r in rows if r.find_element(By.TAG_NAME, "td").text == "#%d" % case_id][0]
        mine.find_element(By.XPATH, ".//button[text()='View']").click()
        wait.until(lambda d: d.find_element(By.ID, "view-case").is_displayed())
        check(driver.find_element(By.ID, "case-id").text == f"#{case_id}", "View opens the confirmed case")
        check(not driver.find_element(By.ID, "decide").is_displayed(), "a viewed case has no decision controls")
        wait.until(lambda d: d.find_element(By.ID, "report-start").is_displayed())
        wait.until(lambda d: "Not reported yet" in d.find_element(By.ID, "report-held").text)
        check(True, "a confirmed case offers Report to NCMEC and says it is not reported yet")
        ActionChains(driver).send_keys("k").perform()  # decision keys do nothing on a viewed case
        check(driver.find_element(By.ID, "chosen").get_attribute("textContent") == "Nothing chosen.",
              "decision keys are off on a viewed case")
        driver.find_element(By.ID, "report-start").click()
        wait.until(lambda d: d.find_element(By.ID, "report-confirm").is_displayed())
        what = driver.find_element(By.ID, "report-what").text
        check(f"Case #{case_id}, confirmed A1" in what and HOSTILE_UP in what and HOSTILE_URL in what,
              "the confirm step says what will be sent (hostile uploader and URL as text)")
        check(not driver.find_element(By.ID, "report-viewed").is_selected(), "viewed by ESP is a choice, off at first")
        st, before, _ = api.call("GET", f"/v1/cases/{case_id}/reports", admin)
        Select(driver.find_element(By.ID, "report-mode")).select_by_value("export")
        driver.save_screenshot(os.path.join(shots, "6a-report-confirm.png"))
        driver.find_element(By.ID, "report-send").click()
        wait.until(lambda d: d.find_element(By.ID, "report-error").text)
        err = driver.find_element(By.ID, "report-error").text
        if report_args:
            check("HTTP 409" in err and "export_dir is not set" in err, f"an export without an export folder: clear 409 ({err})")
        else:
            check("HTTP 409" in err and "--report-config" in err, f"no report configuration: clear 409 ({err})")
        st, after, _ = api.call("GET", f"/v1/cases/{case_id}/reports", admin)
        check(len((after or {}).get("reports", [])) == len((before or {}).get("reports", [])) == 0,
              "a refused report records nothing")
        driver.save_screenshot(os.path.join(shots, "6b-report-refused.png"))
        if report_args:
            Select(driver.find_element(By.ID, "report-mode")).select_by_value("submit")
            driver.find_element(By.ID, "report-viewed").click()
            driver.find_element(By.ID, "report-send").click()
            wait.until(lambda d: "queued for the CyberTipline" in d.find_element(By.ID, "report-status").text)
            check(driver.find_element(By.ID, "report-error").text == "", "the submission is accepted")
            wait.until(lambda d: d.find_element(By.ID, "report-table").is_displayed())
            st, rp, _ = api.call("GET", f"/v1/cases/{case_id}/reports", admin)
            reps = (rp or {}).get("reports", [])
            check(len(reps) == 1 and reps[0]["mode"] == "submit" and reps[0]["created_by"] == "user:alice",
                  f"one submission on record, by user:alice ({reps})")
            check(bool((rp or {}).get("held_until")), "the reported case is held")
            tt = driver.find_element(By.ID, "report-table").text
            held = driver.find_element(By.ID, "report-held").text
            check(reps and f"#{reps[0]['id']}" in tt and "submit" in tt and "pending" in tt,
                  f"the page lists the report, its mode and state ({tt})")
            check((rp or {}).get("held_until", "-") in held, f"the page shows the hold's end ({held})")
            st, a, _ = api.call("GET", "/v1/audit?limit=1000&action=cases.report", admin)
            ents = [e for e in (a or {}).get("entries", []) if e["key_id"] == "user:alice"]
            check(len(ents) == 1 and (ents[0].get("detail") or {}).get("mode") == "submit",
                  "audit: user:alice cases.report, once")
            driver.save_screenshot(os.path.join(shots, "6c-report-sent.png"))
        check(driver.execute_script("return window.__pwned === undefined"), "nothing of the report page ran")
        driver.find_element(By.CSS_SELECTOR, "nav button[data-view=queue]").click()
        Select(driver.find_element(By.ID, "f-status")).select_by_value("open")

        # display settings: a lighter blur without grey, kept by the service, veil the next case
        driver.find_element(By.CSS_SELECTOR, "nav button[data-view=settings]").click()
        wait.until(lambda d: d.find_element(By.ID, "view-settings").is_displayed())
        wait.until(lambda d: d.find_element(By.ID, "mine-blur").get_attribute("value") == "28")
        driver.execute_script("const b = document.getElementById('mine-blur'); b.value = 12;"
                              "b.dispatchEvent(new Event('input'));")
        driver.find_element(By.ID, "mine-grey").click()
        driver.find_element(By.CSS_SELECTOR, "#mine-form button[type=submit]").click()
        wait.until(lambda d: "Saved" in d.find_element(By.ID, "settings-status").text)
        check(driver.find_element(By.ID, "org-form").is_displayed() is False, "a reviewer has no organisation form")
        driver.save_screenshot(os.path.join(shots, "7-display.png"))
        st, m, _ = api.call("POST", "/v1/match?" + q, sub, jpg, "image/jpeg")
        case2 = (m or {}).get("case_id") or 0
        driver.find_element(By.CSS_SELECTOR, "nav button[data-view=queue]").click()
        wait.until(lambda d: d.find_element(By.ID, "view-queue").is_displayed())
        driver.find_element(By.ID, "next").click()
        wait.until(lambda d: d.find_element(By.ID, "media").is_displayed())
        check(driver.find_element(By.ID, "case-id").text == f"#{case2}", f"the next case is the new upload ({case2})")
        filt = driver.execute_script("return getComputedStyle(arguments[0]).filter", driver.find_element(By.ID, "media"))
        check("blur(12px)" in filt and "grayscale(0)" in filt, f"the reviewer's settings veil the media ({filt})")
        # previous / next between the cases seen: off while typing, ] does not leave a held newest case,
        # [ shows the earlier case to read, ] comes back to the held one with its hold
        check("[ previous case, ] next case" in driver.find_element(By.ID, "case-keys").text,
              "the shortcut help names [ and ]")
        driver.find_element(By.ID, "note").send_keys("[")
        time.sleep(0.2)
        check(driver.find_element(By.ID, "case-id").text == f"#{case2}", "[ typed in the note field is only text")
        driver.find_element(By.ID, "note").clear()
        driver.find_element(By.ID, "note").send_keys("\ue00c")  # Esc leaves the field
        ActionChains(driver).send_keys("]").perform()
        wait.until(lambda d: "decide, escalate or skip" in d.find_element(By.ID, "case-nav-status").text)
        check(driver.find_element(By.ID, "case-id").text == f"#{case2}", "] keeps the held newest case")
        ActionChains(driver).send_keys("[").perform()
        wait.until(lambda d: d.find_element(By.ID, "case-id").text == f"#{case_id}")
        check(not driver.find_element(By.ID, "decide").is_displayed() and
              "1 of 2" in driver.find_element(By.ID, "case-nav-status").text,
              "[ opens the previous case to read (case 1 of 2 seen)")
        driver.save_screenshot(os.path.join(shots, "7a-case-previous.png"))
        # the hold runs out meanwhile: ] takes the case again (it is still the next one), never unseen
        con = sqlite3.connect(db, timeout=10)
        con.execute("UPDATE server_case_claims SET until_at = 0")
        con.commit()
        con.close()
        ActionChains(driver).send_keys("]").perform()
        wait.until(lambda d: d.find_element(By.ID, "case-id").text == f"#{case2}")
        wait.until(lambda d: d.find_element(By.ID, "media").is_displayed())
        check(driver.find_element(By.ID, "decide").is_displayed() and
              "held for you" in driver.find_element(By.ID, "case-lease").text, "] comes back to the held case, still held")
        # a false positive: none, dispute the match, with a hostile note
        driver.find_element(By.ID, "note").send_keys(HOSTILE_NOTE + "\ue00c")  # Esc leaves the field
        ActionChains(driver).send_keys("n").send_keys("d").perform()
        check(driver.find_element(By.ID, "dispute").is_selected(), "d marks the match as disputed")
        ActionChains(driver).send_keys("\ue007").perform()
        wait.until(lambda d: d.find_element(By.ID, "view-queue").is_displayed())
        check("match disputed" in driver.find_element(By.ID, "queue-status").text, "n d Enter dismisses and disputes")
        st, ds, _ = api.call("GET", "/v1/settings/display", None,
                             headers={"Cookie": "vigil_session=" + sc.get("value", "")})
        check(st == 200 and (ds or {}).get("mine", {}).get("blur") == 12, "the settings are kept by the service")

        # a video case: the media plays veiled, muted and paused; u unveils it while held
        clip = os.path.join(src, "..", "shared", "vpdq", "debian-ffmpeg", "videos", "c07_vp9_853x479_25_odd.webm")
        if os.path.exists(clip):
            webm = open(clip, "rb").read()
            st, vh, _ = api.call("POST", "/v1/hash", sub, webm, "video/webm")
            api.call("POST", "/v1/banks", admin, {"name": "videos", "review": True, "child_abuse": True})
            st, _, _ = api.call("POST", "/v1/banks/videos/entries", admin,
                                {"signal_type": "video_md5", "value": (vh or {}).get("video_md5", "")})
            st, vm, _ = api.call("POST", "/v1/match?content_id=clip-1", sub, webm, "video/webm")
            vcase = (vm or {}).get("case_id") or 0
            check(vcase > 0 and (vm or {}).get("evidence_kept") is True, f"the video opened case {vcase}, kept")
            Select(driver.find_element(By.ID, "f-bank")).select_by_value("")  # every bank's cases
            driver.find_element(By.TAG_NAME, "body").click()
            ActionChains(driver).send_keys("\ue007").perform()  # Enter: next case
            wait.until(lambda d: d.find_element(By.ID, "case-id").text == f"#{vcase}")
            vid = driver.find_element(By.ID, "media-video")
            wait.until(lambda d: vid.is_displayed() and d.execute_script("return arguments[0].readyState", vid) >= 1)
            props = driver.execute_script("const v = arguments[0]; return [v.muted, v.paused, v.videoWidth, "
                                          "getComputedStyle(v).filter]", vid)
            check(props[0] is True and props[1] is True and props[2] == 853,
                  f"the video is loaded muted and paused ({props[:3]})")
            check("blur(12px)" in props[3], f"the video is veiled as the reviewer chose ({props[3]})")
            check(not driver.find_element(By.ID, "media").is_displayed(), "no picture is shown for a video")
            driver.save_screenshot(os.path.join(shots, "7b-case-video.png"))
            ActionChains(driver).key_down("u").perform()
            filt = settled_filter(driver, vid, lambda f: f == "none")
            check(filt == "none", f"holding u unveils the video ({filt})")
            ActionChains(driver).key_up("u").perform()
            check("blur" in settled_filter(driver, vid, lambda f: "blur" in f and f != "none"),
                  "letting go of u veils the video again")
            ActionChains(driver).send_keys("s").perform()  # skip: it goes back to the queue
            wait.until(lambda d: d.find_element(By.ID, "view-queue").is_displayed())
        else:
            print("note: no ../shared sample video; the video case is not checked")

        driver.find_element(By.ID, "signout").click()
        wait.until(lambda d: d.find_element(By.ID, "view-signin").is_displayed())
        st, _, _ = api.call("GET", "/v1/cases", None, headers={"Cookie": "vigil_session=" + sc.get("value", "")})
        check(st == 401, "sign-out ended the session on the server")

        # hostile text in the audit log (a sign-in name) and a webhook URL
        HOSTILE_NAME = '<img src=x onerror=window.__pwned=4>'
        api.call("POST", "/v1/session", None, {"name": HOSTILE_NAME, "password": "wrong password"})
        HOSTILE_HOOK = 'https://hooks.invalid/"><script>window.__pwned=5</script>'
        st, _, _ = api.call("POST", "/v1/hooks", admin, {"url": HOSTILE_HOOK, "events": ["case.opened"]})
        check(st == 201, f"a webhook with a hostile URL is subscribed ({st})")

        # an admin without the child-safety permission
        driver.find_element(By.ID, "signin-name").clear()
        driver.find_element(By.ID, "signin-name").send_keys("root")
        driver.find_element(By.ID, "signin-password").send_keys(PW)
        driver.find_element(By.ID, "signin-password").submit()
        wait.until(lambda d: d.find_element(By.ID, "view-queue").is_displayed())
        check(driver.find_element(By.CSS_SELECTOR, "nav button[data-view=people]").is_displayed(), "an admin has the People page")

        driver.find_element(By.CSS_SELECTOR, "nav button[data-view=people]").click()
        wait.until(lambda d: "alice" in d.find_element(By.ID, "people-table").text)
        driver.find_element(By.ID, "p-name").send_keys("erin")
        driver.find_element(By.ID, "p-child").click()
        driver.find_element(By.ID, "p-password").send_keys(PW)
        driver.find_element(By.CSS_SELECTOR, "#person-form button[type=submit]").click()
        wait.until(lambda d: "erin can now sign in" in d.find_element(By.ID, "people-status").text)
        wait.until(lambda d: "erin" in d.find_element(By.ID, "people-table").text)
        st, us, _ = api.call("GET", "/v1/users", admin)
        erin = [u for u in (us or {}).get("users", []) if u["name"] == "erin"]
        check(erin and erin[0]["child_safety"] is True and erin[0]["role"] == "reviewer", "the People page created erin")
        driver.save_screenshot(os.path.join(shots, "8-people.png"))

        driver.find_element(By.CSS_SELECTOR, "nav button[data-view=banks]").click()
        wait.until(lambda d: HOSTILE_UP in d.find_element(By.ID, "banks-table").text)
        check(True, "a hostile bank description shows as text")
        rows = driver.find_elements(By.CSS_SELECTOR, "#banks-table tbody tr")
        known = [r for r in rows if r.find_element(By.TAG_NAME, "td").text == "known"][0]
        known.find_element(By.XPATH, ".//button[text()='Mark child abuse']").click()
        wait.until(lambda d: "now a child-abuse bank" in d.find_element(By.ID, "banks-status").text)
        st, bk, _ = api.call("GET", "/v1/banks/known", admin)
        check((bk or {}).get("child_abuse") is True, "the Banks page marked bank known as child abuse")
        check((bk or {}).get("disputed") == 1, "bank known has one disputed entry")
        rows = driver.find_elements(By.CSS_SELECTOR, "#banks-table tbody tr")
        known = [r for r in rows if r.find_element(By.TAG_NAME, "td").text == "known"][0]
        known.find_element(By.XPATH, ".//button[text()='Show']").click()
        wait.until(lambda d: d.find_element(By.ID, "disputes").is_displayed())
        dt = driver.find_element(By.ID, "disputes-table").text
        check(f"#{case2}" in dt and "user:alice" in dt and HOSTILE_NOTE in dt, "the disputed entry shows, its note as text")
        driver.save_screenshot(os.path.join(shots, "9-banks.png"))

        # import a file with progress: bad lines are refused with their numbers, then a good file is counted
        bad_csv, good_csv = os.path.join(tmp, "bad.csv"), os.path.join(tmp, "good.csv")
        md5s = ["%032x" % (0xfeed0000 + i) for i in range(3)]
        with open(bad_csv, "w") as f:
            f.write("signal_type,value,external_id\nmd5,%s,ok-1\nmd5,xyz,<b>bad</b>\n" % md5s[0])
        with open(good_csv, "w") as f:
            f.write("signal_type,value,external_id,tags\n" +
                    "".join("md5,%s,imp-%d,ncii\n" % (m, i) for i, m in enumerate(md5s)))
        Select(driver.find_element(By.ID, "i-bank")).select_by_value("confirmed")
        driver.find_element(By.ID, "i-file").send_keys(bad_csv)
        driver.find_element(By.CSS_SELECTOR, "#import-form button[type=submit]").click()
        wait.until(lambda d: "Not imported" in d.find_element(By.ID, "import-status").text)
        ie = driver.find_element(By.ID, "import-errors").text
        check("HTTP 422" in driver.find_element(By.ID, "import-status").text and ie.startswith("line 3:"),
              f"a file with a bad line is refused, the line numbered ({ie})")
        driver.find_element(By.ID, "i-file").clear()
        driver.find_element(By.ID, "i-file").send_keys(good_csv)
        driver.find_element(By.CSS_SELECTOR, "#import-form button[type=submit]").click()
        wait.until(lambda d: "Imported into confirmed" in d.find_element(By.ID, "import-status").text)
        it = driver.find_element(By.ID, "import-status").text
        check("3 added" in it and driver.find_element(By.ID, "import-errors").text == "" and
              driver.find_element(By.ID, "import-progress").get_attribute("value") == "100",
              f"the import shows its progress and its count ({it})")
        st, bk, _ = api.call("GET", "/v1/banks/confirmed", admin)
        check((bk or {}).get("by_type", {}).get("md5") == 4, f"the bank holds the imported entries ({(bk or {}).get('by_type')})")
        # look up one of its hashes, and one that is in no bank
        Select(driver.find_element(By.ID, "l-type")).select_by_value("md5")
        Select(driver.find_element(By.ID, "l-bank")).select_by_value("confirmed")
        hit = False
        for _ in range(20):  # the matcher picks the import up within its sync interval
            driver.find_element(By.ID, "l-value").clear()
            driver.find_element(By.ID, "l-value").send_keys(md5s[1].upper() + "\ue007")
            wait.until(lambda d: d.find_element(By.ID, "lookup-status").text not in ("", "Looking up\u2026"))
            if "hit(s)" in driver.find_element(By.ID, "lookup-status").text:
                hit = True
                break
            time.sleep(0.25)
        lt = driver.find_element(By.ID, "lookup-table").text
        check(hit and "confirmed" in lt and "md5" in lt and "ncii" in lt, f"looking up an imported hash finds it ({lt})")
        driver.execute_script("document.getElementById('lookup-table').scrollIntoView({block: 'end'})")
        driver.save_screenshot(os.path.join(shots, "9a-banks-import-lookup.png"))
        driver.find_element(By.ID, "l-value").clear()
        driver.find_element(By.ID, "l-value").send_keys("%032x\ue007" % 0xdead)
        wait.until(lambda d: "No bank entry" in d.find_element(By.ID, "lookup-status").text)
        check(driver.find_element(By.ID, "lookup-table").text.count("\n") == 0, "a hash in no bank finds nothing")
        st, cl, _ = api.call("GET", "/v1/cases?status=all&limit=1000", admin)
        check(not any(c.get("md5") in md5s for c in (cl or {}).get("cases", [])), "a look-up opens no case")
        check(driver.execute_script("return window.__pwned === undefined"), "nothing of the import or look-up ran")

        driver.find_element(By.CSS_SELECTOR, "nav button[data-view=queue]").click()
        Select(driver.find_element(By.ID, "f-status")).select_by_value("all")
        time.sleep(0.5)
        wait.until(lambda d: "No cases match" in d.find_element(By.ID, "queue-table").text)
        check(True, "without the child-safety permission the bank's cases leave the queue")

        driver.find_element(By.CSS_SELECTOR, "nav button[data-view=audit]").click()
        wait.until(lambda d: HOSTILE_NAME in d.find_element(By.ID, "audit-table").text)
        check(True, "a hostile sign-in name shows as text in the audit log")
        driver.find_element(By.ID, "a-who").send_keys("user:alice")
        driver.find_element(By.ID, "a-action").send_keys("cases.unblur\ue007")
        wait.until(lambda d: "user:alice" in d.find_element(By.ID, "audit-table").text and
                   HOSTILE_NAME not in d.find_element(By.ID, "audit-table").text)
        check(True, "the audit log filters by person and action")
        driver.save_screenshot(os.path.join(shots, "10-audit.png"))
        csv = driver.execute_async_script("const done = arguments[0];"
                                          "fetch(document.getElementById('audit-export').href).then(r => r.text()).then(done)")
        check(csv.startswith('"id","at","key_id"') and "cases.unblur" in csv and "cases.decide" not in csv,
              "Export CSV hands the filtered log")
        st, a, _ = api.call("GET", "/v1/audit?limit=1000&action=audit.export", admin)
        check(any(e["key_id"] == "user:root" for e in (a or {}).get("entries", [])), "the export is on record under root")

        st, cl, _ = api.call("GET", "/v1/cases?status=all&limit=1000", admin)
        ncases = len((cl or {}).get("cases", []))
        driver.find_element(By.CSS_SELECTOR, "nav button[data-view=tester]").click()
        driver.find_element(By.ID, "t-file").send_keys(os.path.join(src, "samples", "rings.jpg"))
        driver.find_element(By.CSS_SELECTOR, "#tester-form button[type=submit]").click()
        wait.until(lambda d: "match(es)" in d.find_element(By.ID, "tester-status").text)
        tt = driver.find_element(By.ID, "tester-table").text
        check("known" in tt and "pdq" in tt and pdq in driver.find_element(By.ID, "tester-hashes").text,
              "the match tester shows the picture's hashes and its match in bank known")
        st, cl, _ = api.call("GET", "/v1/cases?status=all&limit=1000", admin)
        check(len((cl or {}).get("cases", [])) == ncases, "the match tester opened no case")
        driver.save_screenshot(os.path.join(shots, "10-tester.png"))

        HOSTILE_KEYNAME = '<b onmouseover="window.__pwned=7">ci</b>'
        driver.find_element(By.CSS_SELECTOR, "nav button[data-view=keys]").click()
        wait.until(lambda d: "submitter" in d.find_element(By.ID, "keys-table").text)
        driver.find_element(By.ID, "k-name").send_keys(HOSTILE_KEYNAME)
        driver.find_element(By.CSS_SELECTOR, "#key-form button[type=submit]").click()
        wait.until(lambda d: d.find_element(By.ID, "key-new").is_displayed())
        newkey = driver.find_element(By.ID, "key-secret").text
        st, _, _ = api.call("GET", "/v1/banks", newkey)
        check(st == 200, "the API keys page made a working key, shown once")
        wait.until(lambda d: HOSTILE_KEYNAME in d.find_element(By.ID, "keys-table").text)
        check(True, "a hostile key name shows as text")
        driver.save_screenshot(os.path.join(shots, "11-keys.png"))

        driver.find_element(By.CSS_SELECTOR, "nav button[data-view=hooks]").click()
        wait.until(lambda d: HOSTILE_HOOK in d.find_element(By.ID, "hooks-table").text)
        check(True, "a hostile webhook URL shows as text")
        driver.find_element(By.ID, "h-url").send_keys("https://receiver.invalid/vigil")
        driver.find_element(By.CSS_SELECTOR, "#hook-form button[type=submit]").click()
        wait.until(lambda d: d.find_element(By.ID, "hook-new").is_displayed())
        check(len(driver.find_element(By.ID, "hook-secret").text) >= 32, "a subscription made on the page shows its secret once")
        st, hk, _ = api.call("GET", "/v1/hooks", admin)
        mine = [h for h in (hk or {}).get("hooks", []) if h["url"] == "https://receiver.invalid/vigil"]
        check(mine and sorted(mine[0]["events"]) == ["case.decided", "case.opened"], "the page subscribed to the events ticked")
        check(driver.find_element(By.ID, "key-secret").text == "", "the new key is gone from the page")
        driver.save_screenshot(os.path.join(shots, "12-hooks.png"))

        driver.find_element(By.CSS_SELECTOR, "nav button[data-view=dashboard]").click()
        wait.until(lambda d: "decisions" in d.find_element(By.ID, "dash-today").text)
        check("A1" in driver.find_element(By.ID, "dash-severity").text, "the dashboard counts the queue by severity")
        driver.save_screenshot(os.path.join(shots, "13-dashboard.png"))
        check(driver.execute_script("return window.__pwned === undefined"), "nothing hostile ran on any page")
        check(driver.execute_script("return document.querySelectorAll('main script, main a:not(#audit-export), "
                                    "main img:not(#media)').length") == 0, "no element was made from data")
    finally:
        if driver:
            driver.quit()
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
