#!/usr/bin/env python3
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
# hostile metadata shows as text and nothing of it runs.  Screenshots of
# each page go to SHOTS_DIR (default: a new temporary folder, printed).
# Exit 77 (skipped) without chromium, chromedriver or python3-selenium.
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
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

PW = "correct horse battery"
HOSTILE_ID = '<script>window.__pwned=1</script>'
HOSTILE_UP = '<img src=x onerror="window.__pwned=2">'
HOSTILE_URL = 'javascript:window.__pwned=3'
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


class Api:
    def __init__(self, port):
        self.port = port

    def call(self, method, path, key=None, body=None, ctype=None, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        h = dict(headers or {})
        if key:
            h["Authorization"] = "Bearer " + key
        if isinstance(body, dict):
            body, ctype = json.dumps(body).encode(), "application/json"
        if body is not None:
            h["Content-Type"] = ctype or "application/octet-stream"
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        cookie = r.getheader("Set-Cookie", "")
        c.close()
        try:
            parsed = json.loads(data) if data else None
        except ValueError:
            parsed = None
        return r.status, parsed, cookie


def main():
    vigil, src = sys.argv[1], sys.argv[2]
    shots = sys.argv[3] if len(sys.argv) > 3 else tempfile.mkdtemp(prefix="vigil-console-shots-")
    os.makedirs(shots, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="vigil-console-")
    db, ev, portf = os.path.join(tmp, "vigil.db"), os.path.join(tmp, "evidence"), os.path.join(tmp, "port")
    key = lambda role: subprocess.run([vigil, "keys", "create", "--role", role, "--db", db], check=True,
                                      capture_output=True, text=True).stdout.strip()
    admin, sub = key("admin"), key("submitter")
    for name in ("alice", "carol"):
        subprocess.run([vigil, "users", "create", name, "--role", "reviewer", "--child-safety", "--db", db],
                       check=True, capture_output=True, text=True, input=PW + "\n")
    srv = subprocess.Popen([vigil, "serve", "--db", db, "--listen", "127.0.0.1:0", "--threads", "2", "--port-file",
                            portf, "--evidence-dir", ev, "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    driver = None
    try:
        port = 0
        for _ in range(400):
            if os.path.exists(portf):
                t = open(portf).read().strip()
                if t.isdigit() and int(t) > 0:
                    port = int(t)
                    break
            time.sleep(0.025)
        if not port:
            print("vigil serve did not start")
            return 1
        api = Api(port)
        jpg = open(os.path.join(src, "samples", "rings.jpg"), "rb").read()
        st, h, _ = api.call("POST", "/v1/hash", sub, jpg, "image/jpeg")
        pdq = (h or {}).get("pdq", "")
        api.call("POST", "/v1/banks", admin, {"name": "known", "review": True})
        api.call("POST", "/v1/banks", admin, {"name": "confirmed"})
        st, _, _ = api.call("POST", "/v1/banks/known/entries", admin, {"signal_type": "pdq", "value": pdq})
        check(st in (200, 201), f"the sample's hash is in a review bank ({st})")
        q = urllib.parse.urlencode({"content_id": HOSTILE_ID, "uploader_id": HOSTILE_UP, "url": HOSTILE_URL})
        case_id = 0
        for _ in range(40):  # the bank index picks the entry up within its sync interval
            st, m, _ = api.call("POST", "/v1/match?" + q, sub, jpg, "image/jpeg")
            case_id = (m or {}).get("case_id") or ((m or {}).get("case") or {}).get("id") or 0
            if case_id:
                break
            time.sleep(0.25)
        check(case_id > 0, f"the upload opened case {case_id}")

        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,800",
                  "--disable-dev-shm-usage", "--no-first-run", "--disable-extensions"):
            opts.add_argument(a)
        driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
        driver.set_window_size(1280, 800)
        wait = WebDriverWait(driver, 15)
        base = f"http://127.0.0.1:{port}"

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
        driver.save_screenshot(os.path.join(shots, "2-queue.png"))

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
        check(driver.execute_script("return document.querySelectorAll('main script, main a, main img:not(#media)').length") == 0,
              "no element was made from the metadata")

        ActionChains(driver).key_down("u").perform()
        time.sleep(0.4)
        filt = driver.execute_script("return getComputedStyle(arguments[0]).filter", img)
        check(filt == "none", f"holding u unblurs ({filt})")
        driver.save_screenshot(os.path.join(shots, "4-case-unblurred.png"))
        ActionChains(driver).key_up("u").perform()
        time.sleep(0.3)
        filt = driver.execute_script("return getComputedStyle(arguments[0]).filter", img)
        check("blur" in filt, "letting go of u blurs again")

        # the bank to confirm into, chosen with the keyboard: the select takes focus, keys go to it
        from selenium.webdriver.support.ui import Select
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

        driver.find_element(By.ID, "signout").click()
        wait.until(lambda d: d.find_element(By.ID, "view-signin").is_displayed())
        st, _, _ = api.call("GET", "/v1/cases", None, headers={"Cookie": "vigil_session=" + sc.get("value", "")})
        check(st == 401, "sign-out ended the session on the server")
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
