#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# test_network_html_browser.py VIGIL [SHOTS_DIR] - the `vigil link` report
# in a real browser, driven as an analyst would: Debian's chromium,
# headless, through python3-selenium and chromium-driver.
#
# 300 groups of two to four ads (phones, names, places, dates, source
# URLs, a repost in every fourth group) plus one group whose ads carry
# hostile text (a </script> that would end the report's data block,
# <script>, <img onerror>, U+2028) are linked; then, in the report: only
# one page of rows is drawn, the pager moves through the groups, the search
# finds a group by its phone (typed with dashes), by name and by place, the
# risk filter narrows the table, clicking a row's link opens the group's
# section (graph, ads with the repost folded and counted, source links)
# built then and not before, "close" removes it, and nothing hostile ran or
# became an element.  Screenshots of the table, an opened group (top and
# ads) and the hostile group go to SHOTS_DIR
# (default: a new temporary folder, printed).
# Exit 77 (skipped) without chromium, chromedriver or python3-selenium.
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
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

GROUPS = 300
WORDS = ("sweet girl visiting city week only unforgettable time real companion smile relax long day soft music "
         "candles new town young fun upscale petite curvy blonde brunette classy discreet friendly private").split()
NAMES = ("Kira", "Lena", "Mia", "Anna", "Jade", "Ruby", "Lola", "Nina", "Cleo", "Tess")
PLACES = ("Los Angeles", "Houston", "Chicago", "Miami", "Phoenix", "Dallas", "Atlanta", "Denver")
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def phone(g):
    return f"{201 + g % 700:03d}-{200 + g // 700:03d}-{1000 + g:04d}"


def write_input(path):
    rnd = random.Random(18)
    with open(path, "w", encoding="utf-8") as f:
        for g in range(GROUPS):
            body = " ".join(rnd.choice(WORDS) for _ in range(28))
            for a in range(2 + g % 3):
                extra = f"w{a}" if a else ""
                ad = {"id": f"ad{g}_{a}", "title": f"{NAMES[g % 10]} new in town",
                      "body": f"hi my name is {NAMES[g % 10]} {body} {extra} call me {phone(g)}",
                      "location": PLACES[g % 8] if g != 7 else "Zanzibar",
                      "posted_at": f"2018-{1 + (g + a) % 12:02d}-{1 + (g * 7 + a) % 28:02d}",
                      "url": f"https://example.com/ads/{g}/{a}"}
                if g % 4 == 3 and a == 1:  # an identical repost of the first ad
                    ad["body"] = f"hi my name is {NAMES[g % 10]} {body}  call me {phone(g)}"
                f.write(json.dumps(ad) + "\n")
        # the hostile group: eight ads around one phone, each with another
        # phone, name and place (a risky group)
        hostile = ("</script><script>window.__pwned=1</script> <img src=x onerror=\"window.__pwned=2\">"
                   " \u2028 sweet hostile companion who loves long walks call me 213-301-7788 tonight only or ")
        for a in range(8):
            f.write(json.dumps({"id": f"evil{a}</script>", "title": "</script><script>window.__pwned=3</script>",
                                "body": f"hi my name is {NAMES[a]} {hostile} {phone(500 + a)}",
                                "location": PLACES[a] + " </script><!--"}) + "\n")


def main():
    vigil = sys.argv[1]
    shots = sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp(prefix="vigil-link-shots-")
    os.makedirs(shots, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="vigil-link-html-")
    driver = None
    try:
        write_input(os.path.join(tmp, "ads.jsonl"))
        out = subprocess.run([vigil, "link", "--out", os.path.join(tmp, "out"), os.path.join(tmp, "ads.jsonl")],
                             capture_output=True, text=True, timeout=120)
        check(out.returncode == 0 and f"{GROUPS + 1} groups" in out.stdout, f"vigil link made the groups ({out.stdout.strip()})")
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1000",
                  "--disable-dev-shm-usage", "--no-first-run", "--disable-extensions"):
            opts.add_argument(a)
        driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
        driver.set_window_size(1280, 1000)
        wait = WebDriverWait(driver, 15)
        driver.get("file://" + os.path.join(tmp, "out", "report.html"))
        wait.until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready-ms"))
        rows = lambda: driver.find_elements(By.CSS_SELECTOR, "#groups tbody tr")
        text = lambda i: driver.find_element(By.ID, i).text
        n = GROUPS + 1
        check(len(rows()) == 100, f"one page of rows is drawn ({len(rows())} of {n})")
        check(text("count") == f"{n} groups", f"the count names every group ({text('count')})")
        check(text("pinfo") == f"rows 1\u2013100 of {n}", f"the pager says where it is ({text('pinfo')})")
        check(len(driver.find_elements(By.CSS_SELECTOR, "section.g")) == 1, "only the top group is opened at start")
        driver.save_screenshot(os.path.join(shots, "link-table.png"))
        driver.find_element(By.ID, "next").click()
        driver.find_element(By.ID, "next").click()
        check(text("pinfo") == f"rows 201\u2013300 of {n}", f"next pages on ({text('pinfo')})")
        check(rows()[0].find_element(By.TAG_NAME, "a").text == "200", "the third page starts at group 200")
        driver.find_element(By.ID, "next").click()
        check(len(rows()) == n - 300 and not driver.find_element(By.ID, "next").is_enabled(),
              "the last page holds the rest and next is off")

        # search by phone, typed with dashes: exactly the group of that phone
        q = driver.find_element(By.ID, "q")
        q.send_keys(phone(119))
        wait.until(lambda d: text("count").startswith("1 of"))
        check(text("count") == f"1 of {n} groups shown", f"a phone finds its group ({text('count')})")
        r = rows()
        check(len(r) == 1 and r[0].find_elements(By.CSS_SELECTOR, "td")[3].text == "1",
              "the one row drawn is that group (one phone)")
        link = r[0].find_element(By.TAG_NAME, "a")
        gid = link.text
        # opening it builds its section on demand
        check(not driver.find_elements(By.ID, "g" + gid), "its section does not exist before it is opened")
        link.click()
        wait.until(lambda d: d.find_elements(By.ID, "g" + gid))
        sec = driver.find_element(By.ID, "g" + gid)
        check(sec.find_elements(By.CSS_SELECTOR, "svg.graph"), "the opened group draws its graph")
        check(phone(119).replace("-", "") in sec.text, "the opened group names its phone")
        check("\u00d72" in sec.text and "4 ads, 3 distinct texts" in sec.text, "the repost is folded and counted")
        srcs = [a.get_attribute("href") for a in sec.find_elements(By.CSS_SELECTOR, "a.src")]
        check("https://example.com/ads/119/0" in srcs, "each ad links to its source")
        driver.execute_script("arguments[0].scrollIntoView()", sec)
        driver.save_screenshot(os.path.join(shots, "link-group.png"))
        driver.execute_script("arguments[0].scrollIntoView()", sec.find_element(By.CSS_SELECTOR, ".body > table"))
        driver.save_screenshot(os.path.join(shots, "link-group-ads.png"))
        sec.find_element(By.CSS_SELECTOR, "button.close").click()
        check(not driver.find_elements(By.ID, "g" + gid), "close removes the section")

        # by name, in the name field; by place; then a minimum risk
        q.clear()
        Select(driver.find_element(By.ID, "f")).select_by_value("name")
        q.send_keys("cleo")
        wait.until(lambda d: "groups shown" in text("count") and text("count").startswith("30 of"))
        check(len(rows()) == 30, f"a name finds the groups of that name ({text('count')})")
        Select(driver.find_element(By.ID, "f")).select_by_value("place")
        q.clear()
        q.send_keys("zanzibar")
        wait.until(lambda d: text("count").startswith("1 of"))
        check(text("count") == f"1 of {n} groups shown", "a place finds its group")
        q.clear()
        Select(driver.find_element(By.ID, "f")).select_by_value("all")
        Select(driver.find_element(By.ID, "r")).select_by_value("0.5")
        with open(os.path.join(tmp, "out", "groups.json"), encoding="utf-8") as f:
            risky = sum(1 for g in json.load(f)["groups"] if round(g["risk"], 3) >= 0.5)
        shown = int(text("count").split()[0])
        check(0 < shown == risky < n and len(rows()) == min(shown, 100) and
              all(float(rw.find_elements(By.CSS_SELECTOR, "td")[1].text) >= 0.5 for rw in rows()),
              f"the risk filter keeps the groups of risk >= 0.5 ({text('count')}, {risky} in groups.json)")
        Select(driver.find_element(By.ID, "r")).select_by_value("0")
        wait.until(lambda d: text("count") == f"{n} groups")

        # the hostile group: found, opened, shown as text
        q.send_keys("213-301-7788")
        wait.until(lambda d: text("count").startswith("1 of"))
        rows()[0].find_element(By.TAG_NAME, "a").click()
        sec = driver.find_elements(By.CSS_SELECTOR, "section.g")[0]
        check("</script><script>window.__pwned=1</script>" in sec.text, "hostile ad text shows as text")
        driver.save_screenshot(os.path.join(shots, "link-hostile.png"))
        check(driver.title == "vigil link report", f"the title is the report's ({driver.title})")
        check(driver.execute_script("return window.__pwned === undefined"), "nothing hostile ran")
        check(driver.execute_script("return document.querySelectorAll('script').length") == 2 and
              not driver.find_elements(By.CSS_SELECTOR, "img, iframe"), "no element was made from an ad")
    finally:
        if driver:
            driver.quit()
        shutil.rmtree(tmp, ignore_errors=True)
    print("screenshots:", shots)
    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
