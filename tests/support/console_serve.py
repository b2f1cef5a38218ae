# SPDX-License-Identifier: Apache-2.0
# console_serve.py - what the review console's browser tests share, whatever
# browser drives them: a JSON client for the service's API, starting a
# `vigil serve` with evidence retention on a free port, and the hostile
# metadata they put in the data (each payload sets window.__pwned if it
# ever runs).  Standard library only.
import http.client
import json
import os
import subprocess
import time
import urllib.parse

PW = "correct horse battery"
HOSTILE_ID = '<script>window.__pwned=1</script>'
HOSTILE_UP = '<img src=x onerror="window.__pwned=2">'
HOSTILE_URL = 'javascript:window.__pwned=3'
HOSTILE_NOTE = '<svg onload="window.__pwned=6">'


class Api:
    """Calls to the service's API: (status, parsed JSON or None, Set-Cookie)."""

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


def start_serve(vigil, db, evidence, extra=()):
    """`vigil serve` on 127.0.0.1 with a free port: (process, port); port 0 if it did not start.

    The caller terminates the process, started or not."""
    portf = db + ".port"
    srv = subprocess.Popen([vigil, "serve", "--db", db, "--listen", "127.0.0.1:0", "--threads", "2", "--port-file",
                            portf, "--evidence-dir", evidence, "--quiet"] + list(extra),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(400):
        if os.path.exists(portf):
            t = open(portf).read().strip()
            if t.isdigit() and int(t) > 0:
                return srv, int(t)
        if srv.poll() is not None:
            break
        time.sleep(0.025)
    return srv, 0


def create_accounts(vigil, db, reviewers=("alice",)):
    """An admin and a submitter key, child-safety reviewers and the admin person `root`, all with PW:
    (admin key, submitter key)."""
    key = lambda role: subprocess.run([vigil, "keys", "create", "--role", role, "--db", db], check=True,
                                      capture_output=True, text=True).stdout.strip()
    admin, sub = key("admin"), key("submitter")
    for name in reviewers:
        subprocess.run([vigil, "users", "create", name, "--role", "reviewer", "--child-safety", "--db", db],
                       check=True, capture_output=True, text=True, input=PW + "\n")
    subprocess.run([vigil, "users", "create", "root", "--role", "admin", "--db", db],
                   check=True, capture_output=True, text=True, input=PW + "\n")
    return admin, sub


def open_hostile_case(api, src, admin, sub):
    """The rings sample put in review bank `known` (beside bank `confirmed`, whose description is
    hostile), then uploaded with hostile content id, uploader and URL, which opens a case.

    Returns a dict: jpg (the sample's bytes), pdq, query (the upload's query string), entry_status (of
    the bank entry's creation) and case_id (0 when no case opened)."""
    jpg = open(os.path.join(src, "samples", "rings.jpg"), "rb").read()
    st, h, _ = api.call("POST", "/v1/hash", sub, jpg, "image/jpeg")
    pdq = (h or {}).get("pdq", "")
    api.call("POST", "/v1/banks", admin, {"name": "known", "review": True})
    api.call("POST", "/v1/banks", admin, {"name": "confirmed", "description": HOSTILE_UP})
    entry_status, _, _ = api.call("POST", "/v1/banks/known/entries", admin, {"signal_type": "pdq", "value": pdq})
    q = urllib.parse.urlencode({"content_id": HOSTILE_ID, "uploader_id": HOSTILE_UP, "url": HOSTILE_URL})
    case_id = 0
    for _ in range(40):  # the bank index picks the entry up within its sync interval
        st, m, _ = api.call("POST", "/v1/match?" + q, sub, jpg, "image/jpeg")
        case_id = (m or {}).get("case_id") or ((m or {}).get("case") or {}).get("id") or 0
        if case_id:
            break
        time.sleep(0.25)
    return {"jpg": jpg, "pdq": pdq, "query": q, "entry_status": entry_status, "case_id": case_id}
