# SPDX-License-Identifier: Apache-2.0
# marionette.py - a small client for Firefox's built-in remote protocol,
# Marionette, so the console's browser tests can drive Debian's firefox-esr
# (Debian ships no geckodriver, so selenium cannot).  Standard library only.
#
# The wire format: every message is "LEN:JSON" with LEN the byte length of
# the JSON.  On connecting the browser sends a hello object; then each
# command is [0, msgid, "WebDriver:Name", {params}] and its answer
# [1, msgid, error-or-null, result].  The commands mirror W3C WebDriver.
#
# The tests run on small shared machines and a browser may hang or die, so
# the client is hostile to it: every read has a deadline, a closed socket or
# a malformed frame is an error (MarionetteError), and close() always kills
# the browser's process group and removes the temporary profile, whatever
# state the session is in.  Use it as a context manager.
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

# W3C WebDriver's key for an element reference in JSON
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"

# Keep a test browser quiet and quick: no first-run pages, updates,
# telemetry or network look-ups (Marionette's recommended preferences cover
# most of it; these are belt and braces), and let Marionette pick a free
# port, which it writes to MarionetteActivePort in the profile.
_PREFS = {
    "marionette.port": 0,
    "app.update.disabledForTesting": True,
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "browser.startup.page": 0,
    "datareporting.policy.dataSubmissionEnabled": False,
    "toolkit.telemetry.enabled": False,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "browser.safebrowsing.update.enabled": False,
    "extensions.update.enabled": False,
    "app.normandy.enabled": False,
    "messaging-system.rsexperimentloader.enabled": False,
}


class MarionetteError(Exception):
    """A failed command, a dead browser or a protocol error."""


def find_firefox():
    """The path of Debian's firefox-esr (or a firefox), or None."""
    for name in ("firefox-esr", "firefox"):
        p = shutil.which(name)
        if p:
            return p
    return None


class Firefox:
    """A headless Firefox and one Marionette session on it."""

    def __init__(self, binary, width=1280, height=800, start_timeout=60, timeout=30):
        self.timeout = timeout
        self.proc = None
        self.sock = None
        self.buf = b""
        self.msgid = 0
        # one temporary folder holds the profile and stands in for HOME, so
        # nothing the browser writes (caches included) outlives the test
        self.root = tempfile.mkdtemp(prefix="vigil-firefox-")
        self.profile = os.path.join(self.root, "profile")
        try:
            os.mkdir(self.profile)
            with open(os.path.join(self.profile, "user.js"), "w") as f:
                for k, v in _PREFS.items():
                    f.write("user_pref(%s, %s);\n" % (json.dumps(k), json.dumps(v)))
            env = dict(os.environ, MOZ_HEADLESS="1", MOZ_CRASHREPORTER_DISABLE="1", HOME=self.root,
                       XDG_CACHE_HOME=os.path.join(self.root, "cache"),
                       XDG_CONFIG_HOME=os.path.join(self.root, "config"))
            self.proc = subprocess.Popen(
                [binary, "--headless", "--marionette", "--no-remote", "--profile", self.profile,
                 "--width", str(width), "--height", str(height), "about:blank"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                env=env, start_new_session=True)  # its own group: close() kills every child
            self._connect(start_timeout)
            self.command("WebDriver:NewSession", {"capabilities": {"alwaysMatch": {"acceptInsecureCerts": True}}})
            self.command("WebDriver:SetWindowRect", {"width": width, "height": height})
        except BaseException:
            self.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _connect(self, start_timeout):
        portfile = os.path.join(self.profile, "MarionetteActivePort")
        deadline = time.monotonic() + start_timeout
        while True:
            if self.proc.poll() is not None:
                raise MarionetteError("firefox exited with status %d before Marionette listened" % self.proc.returncode)
            port = 0
            try:
                with open(portfile) as f:
                    t = f.read().strip()
                port = int(t) if t.isdigit() else 0
            except OSError:
                pass
            if port:
                try:
                    self.sock = socket.create_connection(("127.0.0.1", port), timeout=self.timeout)
                    break
                except OSError:
                    pass
            if time.monotonic() > deadline:
                raise MarionetteError("Marionette did not listen within %d s" % start_timeout)
            time.sleep(0.1)
        hello = self._read()
        if not isinstance(hello, dict) or hello.get("marionetteProtocol") != 3:
            raise MarionetteError("unexpected Marionette hello: %r" % (hello,))

    def _read(self):
        """One LEN:JSON frame, within the timeout."""
        deadline = time.monotonic() + self.timeout
        while True:
            colon = self.buf.find(b":")
            if colon >= 0:
                head = self.buf[:colon]
                if not head.isdigit() or colon > 10:
                    raise MarionetteError("malformed Marionette frame: %r" % self.buf[:40])
                n = int(head)
                if len(self.buf) >= colon + 1 + n:
                    body, self.buf = self.buf[colon + 1:colon + 1 + n], self.buf[colon + 1 + n:]
                    try:
                        return json.loads(body)
                    except ValueError as e:
                        raise MarionetteError("bad JSON from Marionette: %s" % e)
            elif len(self.buf) > 10:
                raise MarionetteError("malformed Marionette frame: %r" % self.buf[:40])
            left = deadline - time.monotonic()
            if left <= 0:
                raise MarionetteError("no answer from Marionette within %d s" % self.timeout)
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise MarionetteError("no answer from Marionette within %d s" % self.timeout)
            except OSError as e:
                raise MarionetteError("Marionette connection failed: %s" % e)
            if not chunk:
                raise MarionetteError("firefox closed the Marionette connection")
            self.buf += chunk

    def command(self, name, params=None):
        """Send one command and return its result (a MarionetteError on error)."""
        if self.sock is None:
            raise MarionetteError("no Marionette connection")
        self.msgid += 1
        data = json.dumps([0, self.msgid, name, params or {}]).encode()
        try:
            self.sock.settimeout(self.timeout)
            self.sock.sendall(b"%d:%s" % (len(data), data))
        except OSError as e:
            raise MarionetteError("%s: cannot send: %s" % (name, e))
        while True:
            msg = self._read()
            if not (isinstance(msg, list) and len(msg) == 4 and msg[0] == 1):
                raise MarionetteError("%s: unexpected message %r" % (name, msg))
            if msg[1] != self.msgid:
                continue  # the answer to an earlier command that timed out
            if msg[2]:
                err = msg[2]
                raise MarionetteError("%s: %s: %s" % (name, err.get("error"), err.get("message")))
            return msg[3]

    # WebDriver commands the tests use, with results unwrapped
    def navigate(self, url):
        self.command("WebDriver:Navigate", {"url": url})

    def find(self, css):
        """The element matching a CSS selector (its reference), or an error."""
        return self.command("WebDriver:FindElement", {"using": "css selector", "value": css})["value"]

    def click(self, el):
        self.command("WebDriver:ElementClick", {"id": el[ELEMENT]})

    def send_keys(self, el, text):
        self.command("WebDriver:ElementSendKeys", {"id": el[ELEMENT], "text": text})

    def script(self, body, *args):
        """Run a function body (it may `return`) with arguments; its value."""
        return self.command("WebDriver:ExecuteScript", {"script": body, "args": list(args)})["value"]

    def keys(self, *actions):
        """Key actions: ("down", "u"), ("up", "u"), ("pause", ms); then all keys are released."""
        seq = []
        for kind, v in actions:
            seq.append({"type": "pause", "duration": v} if kind == "pause" else
                       {"type": "keyDown" if kind == "down" else "keyUp", "value": v})
        self.command("WebDriver:PerformActions", {"actions": [{"type": "key", "id": "keyboard", "actions": seq}]})

    def press(self, key):
        self.keys(("down", key), ("up", key))

    def type(self, text):
        """Type text into whatever has the focus, a key down and up per character."""
        self.keys(*[(k, c) for c in text for k in ("down", "up")])

    def release(self):
        self.command("WebDriver:ReleaseActions")

    def wait(self, body, *args, timeout=15):
        """Poll a script until it returns something true; that value (an error after timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            v = self.script(body, *args)
            if v:
                return v
            if time.monotonic() > deadline:
                raise MarionetteError("timed out waiting for: " + body)
            time.sleep(0.1)

    def screenshot(self, path):
        png = base64.b64decode(self.command("WebDriver:TakeScreenshot", {"full": False})["value"])
        with open(path, "wb") as f:
            f.write(png)

    def close(self):
        """End the session if it answers, then kill the browser and remove the profile, always."""
        if self.sock is not None:
            try:
                self.timeout = min(self.timeout, 5)
                self.command("WebDriver:DeleteSession")
            except (MarionetteError, OSError):
                pass
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None
        if self.proc is not None:
            if self.proc.poll() is None:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except OSError:
                    self.proc.kill()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
            # the content processes die a moment after the parent: wait (a
            # little) until the group is gone, so none outlives the test
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                try:
                    os.killpg(self.proc.pid, 0)
                except OSError:
                    break
                time.sleep(0.05)
            self.proc = None
        if self.root:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = self.profile = None
