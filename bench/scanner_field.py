"""The door scanner (/scan/) in Chromium with a fake camera, as a volunteer meets it in the field.

    .venv/bin/python bench/scanner_field.py [--quick] [--write] [--fps 10] [--tickets 10]

The site is served by gunicorn (production settings, bench/settings.py) on a throwaway SQLite
database that this script prepares: one activity whose check-in is open, registrations made
through the sign-up service (each with a name of its own: `Gast017 Bank`, which the scanner shows
as `Gast017 B.`) and a scanner device whose token is put into the page's storage, as a paired
phone has it. Chromium (Debian's, `JUBILEUM_CHROMIUM` or /usr/bin/chromium) is started by this
script with a fake camera that plays a frame-stamped 720p video (bench/scanner_video.py) and is
driven through Playwright over CDP; the scanner's code is not touched.

A script put into every page before its own (`OBSERVER_JS`) reads each frame's number from the
video in requestVideoFrameCallback (so it knows when each ticket was first presented) and watches
the result panel (`#result`) with a MutationObserver: "painted" is the next animation frame after
the first visible change of the panel for a ticket (the panel names the ticket's holder; a
change that names nobody counts for the last ticket shown), not the server's confirmation.

What it measures, under three conditions: as is (1x), the CPU slowed down 4x (CDP
Emulation.setCPUThrottlingRate) and a slow connection (CDP Network.emulateNetworkConditions:
400 ms latency, 400 kbit/s each way):

- cold start: a fresh profile opens /scan/ with a ticket in view; time from the navigation to the
  result painted; then the page again in the same profile (cache and service worker warm, another
  ticket); the yardstick: a page that only opens the camera (`bench/camera/`), to its first frame;
- ticket to paint: single tickets (clean, blurred, small code, in turn in one page), each 2.2 s
  in view with 0.8 s of empty table between: how many were read, and the median and p95 from
  the first frame that showed the ticket to the result painted;
- the brisk queue: 42 tickets, one every 1.5 s, each 1.2 s in view: how many were painted, how
  many the server checked in, and their ticket-to-paint median and p95;
- idle CPU: nothing in view for `--idle-seconds`, from 6 s after the camera plays (the scanner's
  steady state once it has gone idle): the CPU of all of Chromium's processes with the scanner
  open, against the page that only opens the camera (measured before and after the scanner; their
  mean is the yardstick).

The videos start with a QR that is no ticket (the scanner answers "not ours" without the server),
which says when the scanner first read anything. `--quick` measures only 1x and fewer tickets.
On the slow connection the first visit registers no service worker: the emulation does not slow
the worker's own requests, and the page would take its files from what the worker fetched.
`--write` puts the figures into bench/RESULTS.md in a section of their own. See
bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import (
    REPO,
    free_port,
    manage,
    percentile,
    short_commit,
    site_env,
    start_gunicorn,
    stop,
    warm_up,
)
from playwright.sync_api import BrowserContext, Page, Playwright, ViewportSize, sync_playwright
from results import SCANNER_END, SCANNER_START, with_section
from scanner_video import (
    HEIGHT,
    NUMBER_BITS,
    STAMP_BITS,
    STAMP_BLOCK,
    STAMP_X,
    STAMP_Y,
    WIDTH,
    Segment,
    Shown,
    write_video,
)

SETTINGS = "bench.settings"
CHROMIUM = Path(os.environ.get("JUBILEUM_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]
PHONE: ViewportSize = {"width": 390, "height": 844}
TOKEN_KEY = "jubileum.scanner.token"
PANEL = "#result"
BRISK_TICKETS = 42
# gthread workers: a browser keeps idle connections open (pre-connections, keep-alive), each of
# which holds a sync worker until gunicorn's timeout; in production the proxy in front buffers.
THREADS = 4


@dataclass(frozen=True)
class Condition:
    name: str
    cpu_rate: int = 1
    slow: bool = False


CONDITIONS = [
    Condition("1x"),
    Condition("4x CPU", cpu_rate=4),
    Condition("slow connection", slow=True),
]
# 400 ms of latency and 400 kbit/s (50,000 bytes a second) each way.
SLOW_NETWORK = {
    "offline": False,
    "latency": 400,
    "downloadThroughput": 50_000,
    "uploadThroughput": 50_000,
}

# Run by `manage.py shell`: the activity, its registrations and the device; prints JSON.
BUILD = """
import datetime as dt, json
from django.utils import timezone
from events.models import Activity, Programme
from registrations.checkin import devices
from registrations.services import SignUp, register

count = {count}
programme = Programme.objects.create(
    name="Scannerbank", slug="scannerbank", starts_on=timezone.localdate(),
    ends_on=timezone.localdate() + dt.timedelta(days=30), description="Bank.",
    organiser_name="Gemeente", organiser_email="bank@example.org", is_public=True,
    privacy_statement="-", accessibility_statement="-",
)
starts = timezone.now() + dt.timedelta(minutes=90)  # the check-in opened half an hour ago
activity = Activity(
    programme=programme, title="Open dag", slug="open-dag", summary="Bank.", starts_at=starts,
    ends_at=starts + dt.timedelta(hours=3), location_name="Kazerne",
    location_address="Birkstraat 1, Soest", capacity=None, max_party_size=6, price=0,
)
activity.save()
activity.save(update_fields=activity.publish())
tickets = []
for n in range(count):
    result = register(activity.pk, SignUp(
        contact_name=f"Gast{n:03d} Bank", email=f"gast{n:03d}@example.org",
        party_size=1 + n % 3,
    ))
    registration = result.registration
    assert registration.status == "confirmed", registration.status
    tickets.append({"code": registration.ticket_code, "name": f"Gast{n:03d}"})
device = devices.create_device(programme, [activity.pk], name="Ingang", with_token=True)
print(json.dumps({"token": device.token, "activity": activity.pk, "tickets": tickets}))
"""

# Run by `manage.py shell` at the end: how many of each ticket's party the server checked in.
CHECKED_IN = """
import json
from registrations.checkin.services import checked_in_of
from registrations.models import Registration
print(json.dumps({r.ticket_code: checked_in_of(r.pk) for r in Registration.objects.all()}))
"""

# Put into every observed page before its own scripts. Reads each video frame's stamp (see
# bench/scanner_video.py) and records [frame, presentationTime]; records each visible change of
# the result panel with the time of the animation frame after it.
OBSERVER_JS = """
(() => {
  if (window.__scanBench) return;
  const C = %(config)s;
  const bench = (window.__scanBench = { frames: [], paints: [], confirms: [], errors: [] });
  const canvas = document.createElement("canvas");
  canvas.width = C.width;
  canvas.height = C.height;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });

  function readStamp(video) {
    const kx = video.videoWidth / C.videoWidth, ky = video.videoHeight / C.videoHeight;
    ctx.drawImage(video, C.x * kx, C.y * ky, C.width * kx, C.height * ky, 0, 0, C.width, C.height);
    const data = ctx.getImageData(0, 0, C.width, C.height).data;
    const bits = [];
    for (let b = 0; b < C.bits; b++) {
      const x0 = b * C.block + C.block / 2 - 2, y0 = C.block / 2 - 2;
      let sum = 0;
      for (let dy = 0; dy < 4; dy++) {
        for (let dx = 0; dx < 4; dx++) {
          const i = ((y0 + dy) * C.width + x0 + dx) * 4;
          sum += data[i] + data[i + 1] + data[i + 2];
        }
      }
      bits.push(sum / 48 < 128 ? 1 : 0);
    }
    if (bits[0] !== 1 || bits[1] !== 0) return null;
    let number = 0, ones = 0;
    for (let b = 2; b < 2 + C.numberBits; b++) { number = number * 2 + bits[b]; ones += bits[b]; }
    return ones %% 2 === bits[C.bits - 1] ? number : null;
  }

  const hooked = new WeakSet();
  function hook(video) {
    if (hooked.has(video) || !video.requestVideoFrameCallback) return;
    hooked.add(video);
    let last = -1;
    const onFrame = (now, meta) => {
      try {
        if (video.videoWidth) {
          const n = readStamp(video);
          if (n !== null && n !== last) {
            bench.frames.push([n, meta.presentationTime]);
            last = n;
          }
        }
      } catch (error) {
        if (bench.errors.length < 5) bench.errors.push(String(error));
      }
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  }

  let panel = null, observer = null, lastKey = "", lastConfirmed = "";
  function look() {
    const visible = !panel.hidden && (!panel.checkVisibility || panel.checkVisibility());
    const snap = {
      result: panel.dataset.result || "",
      nonce: panel.dataset.nonce || "",
      text: panel.textContent.replace(/\\s+/g, " ").trim(),
    };
    const confirmed = panel.dataset.confirmed || "";
    if (confirmed !== lastConfirmed) {
      bench.confirms.push([performance.now(), snap.nonce, confirmed]);
      lastConfirmed = confirmed;
    }
    if (!visible) { lastKey = ""; return; }
    const key = JSON.stringify(snap);
    if (key === lastKey) return;
    lastKey = key;
    const paint = { t: performance.now(), raf: null, ...snap };
    bench.paints.push(paint);
    requestAnimationFrame(() => { paint.raf = performance.now(); });
  }
  setInterval(() => {
    document.querySelectorAll("video").forEach((video) => { if (video.srcObject) hook(video); });
    const found = document.querySelector(C.panel);
    if (found && found !== panel) {
      if (observer) observer.disconnect();
      panel = found;
      observer = new MutationObserver(look);
      observer.observe(panel, {
        attributes: true, childList: true, subtree: true, characterData: true,
      });
      look();
    }
  }, 25);
})();
"""

TOKEN_JS = "localStorage.setItem(%s, %s);"
NO_SERVICE_WORKER_JS = """
if (navigator.serviceWorker) {
  Object.defineProperty(navigator.serviceWorker, "register", {
    value: () => Promise.reject(new Error("bench: no service worker on this visit")),
  });
}
"""


def observer_script() -> str:
    config = {
        "x": STAMP_X,
        "y": STAMP_Y,
        "width": STAMP_BITS * STAMP_BLOCK,
        "height": STAMP_BLOCK,
        "block": STAMP_BLOCK,
        "bits": STAMP_BITS,
        "numberBits": NUMBER_BITS,
        "videoWidth": WIDTH,
        "videoHeight": HEIGHT,
        "panel": PANEL,
    }
    return OBSERVER_JS % {"config": json.dumps(config)}


# Chromium ------------------------------------------------------------------------------------


def process_tree(root: int) -> list[int]:
    """`root` and every process below it (from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, parent in parents.items() if parent in frontier]
        tree += frontier
    return tree


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(root: int) -> float:
    """User and system CPU seconds of `root` and the processes below it, as they are now."""
    total = 0
    for pid in process_tree(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


class Chromium:
    """Chromium started here (so that its processes can be counted), with a profile of its own
    and a fake camera playing `video`; Playwright drives it over CDP."""

    def __init__(self, playwright: Playwright, video: Path, profile: Path, token: str) -> None:
        self.profile = profile
        self.log = (profile.parent / f"{profile.name}.log").open("wb")
        self.process = subprocess.Popen(
            [
                str(CHROMIUM),
                *CHROMIUM_ARGS,
                f"--use-file-for-fake-video-capture={video}",
                f"--user-data-dir={profile}",
                "--remote-debugging-port=0",
                f"--window-size={PHONE['width']},{PHONE['height']}",
                "about:blank",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Chromium did not start; see {self.log.name}")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        self.browser = playwright.chromium.connect_over_cdp(f"http://127.0.0.1:{port}")
        self.context: BrowserContext = self.browser.contexts[0]
        self.context.add_init_script(TOKEN_JS % (json.dumps(TOKEN_KEY), json.dumps(token)))

    def cpu_seconds(self) -> float:
        return tree_cpu_seconds(self.process.pid)

    def page(
        self, condition: Condition, *, observe: bool = True, service_worker: bool = True
    ) -> Page:
        """A new tab, phone-sized, under `condition`, with the observer unless `observe` is off.

        Network emulation slows the page's own requests, not those of its service worker, and
        what the worker fetches lands in the HTTP cache the page reads too. Without
        `service_worker` the page cannot register one (a first visit on a slow connection: what
        the page needs comes over the slow link, not from what a worker fetched at full
        speed)."""
        page = self.context.new_page()
        page.set_viewport_size(PHONE)
        if observe:
            page.add_init_script(observer_script())
        if not service_worker:
            page.add_init_script(NO_SERVICE_WORKER_JS)
        cdp = self.context.new_cdp_session(page)
        if condition.cpu_rate != 1:
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": condition.cpu_rate})
        if condition.slow:
            cdp.send("Network.enable")
            cdp.send("Network.emulateNetworkConditions", SLOW_NETWORK)
        page.set_default_timeout(180_000)
        return page

    def close(self) -> None:
        pids = process_tree(self.process.pid)
        with suppress(Exception):  # already gone
            self.browser.new_browser_cdp_session().send("Browser.close")
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            for pid in pids:
                with suppress(OSError):
                    os.kill(pid, 9)
            self.process.wait()
        self.log.close()


# What a page saw -----------------------------------------------------------------------------


@dataclass
class Seen:
    """One page's record: stamped frames [(frame, presented ms)] and panel changes."""

    frames: list[tuple[int, float]]
    paints: list[dict]
    confirms: list[list]
    errors: list[str]

    @classmethod
    def of(cls, page: Page) -> Seen:
        data = page.evaluate("window.__scanBench") or {}
        frames = [(int(n), float(t)) for n, t in data.get("frames", [])]
        # The video loops: keep the first pass.
        for i in range(1, len(frames)):
            if frames[i][0] < frames[i - 1][0]:
                frames = frames[:i]
                break
        return cls(frames, data.get("paints", []), data.get("confirms", []), data.get("errors", []))


def paint_time(paint: dict) -> float:
    return float(paint["raf"] if paint.get("raf") is not None else paint["t"])


@dataclass
class Outcome:
    """Per ticket: when it was first presented and when its result was painted (page ms)."""

    shown: dict[str, float] = field(default_factory=dict)
    painted: dict[str, float] = field(default_factory=dict)
    ready_ms: float | None = None  # first panel change, from the first frame (the warm-up QR)
    unseen: int = 0  # tickets none of whose frames the page presented
    answers: Counter = field(default_factory=Counter)  # data-result of each panel change

    def latencies(self) -> list[float]:
        return [self.painted[code] - self.shown[code] for code in self.painted]


def attribute(shown: Sequence[Shown], seen: Seen, names: dict[str, str]) -> Outcome:
    """Which panel change belongs to which ticket: the one it names, or else the last ticket
    presented before it (until the video's last frame). The first such change after the ticket
    appeared is its paint."""
    outcome = Outcome()
    order: list[str] = []
    for place in shown:
        if place.segment.kind != "ticket":
            continue
        times = [t for n, t in seen.frames if place.first <= n < place.end]
        if times:
            outcome.shown[place.segment.code] = min(times)
            order.append(place.segment.code)
        else:
            outcome.unseen += 1
    start = seen.frames[0][1] if seen.frames else 0.0
    # After the video's end it starts again with the warm-up QR: a change that names nobody
    # from then on is no ticket's.
    end = seen.frames[-1][1] if seen.frames else float("inf")
    first_ticket = min(outcome.shown.values(), default=float("inf"))
    for paint in seen.paints:
        at = paint_time(paint)
        outcome.answers[paint.get("result") or "?"] += 1
        if at < first_ticket:
            if outcome.ready_ms is None:
                outcome.ready_ms = at - start
            continue
        named = [code for code, name in names.items() if name in paint["text"]]
        if named:
            code = named[0]
        else:
            before = [c for c in order if outcome.shown[c] <= at]
            if not before or at > end:
                continue
            code = before[-1]
        if code in outcome.shown and code not in outcome.painted and at >= outcome.shown[code]:
            outcome.painted[code] = at
    return outcome


# Runs ----------------------------------------------------------------------------------------


def lead_in(fps: int) -> list[Segment]:
    """The warm-up QR for 2 s, then 2.3 s of empty table (the "not ours" result goes after 2 s)."""
    return [Segment("warm-up", 2 * fps), Segment("blank", round(2.3 * fps))]


def queue(
    tickets: Sequence[tuple[str, str]], fps: int, *, view: float, gap: float
) -> list[Segment]:
    """The lead-in, then each (code, variant) `view` seconds in view and `gap` seconds apart."""
    segments = lead_in(fps)
    for code, variant in tickets:
        segments += [
            Segment("ticket", round(view * fps), code, variant),
            Segment("blank", round(gap * fps)),
        ]
    return [*segments, Segment("blank", fps)]


def interleaved(codes: dict[str, list[str]]) -> list[tuple[str, str]]:
    """(code, variant): one ticket of each variant in turn."""
    lists = [[(code, variant) for code in vcodes] for variant, vcodes in codes.items()]
    rounds = zip(*lists, strict=True)
    return [ticket for each in rounds for ticket in each]


def subset(outcome: Outcome, codes: Sequence[str]) -> Outcome:
    """The outcome for some of its tickets."""
    return Outcome(
        shown={c: t for c, t in outcome.shown.items() if c in codes},
        painted={c: t for c, t in outcome.painted.items() if c in codes},
        ready_ms=outcome.ready_ms,
        unseen=sum(1 for c in codes if c not in outcome.shown),
    )


def wait_for(check: Callable[[], bool], timeout: float, every: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(every)
    return False


def last_frame(page: Page) -> int:
    return int(
        page.evaluate(
            "() => { const f = window.__scanBench && window.__scanBench.frames;"
            " return f && f.length ? f[f.length - 1][0] : -1; }"
        )
    )


KEEP: list[Path] = []  # --keep-json: the directory for each page's record


def keep(name: str, shown: Sequence[Shown], seen: Seen) -> None:
    if KEEP:
        record = {
            "shown": [[p.segment.kind, p.segment.code, p.first, p.end] for p in shown],
            "frames": seen.frames,
            "paints": seen.paints,
            "confirms": seen.confirms,
            "errors": seen.errors,
        }
        (KEEP[0] / f"{name}.json").write_text(json.dumps(record, indent=1), encoding="utf-8")


def play(
    chromium: Chromium,
    base: str,
    condition: Condition,
    video: Path,
    segments: Sequence[Segment],
    fps: int,
    *,
    names: dict[str, str],
    label: str,
) -> Outcome:
    """Opens the scanner under `condition` while the camera plays `segments` once; what it saw."""
    written = time.monotonic()
    shown = write_video(video, segments, fps=fps, seed=len(segments))
    total = shown[-1].end
    print(
        f"  {label}: {total} frames written in {time.monotonic() - written:.0f} s, playing ...",
        flush=True,
    )
    page = chromium.page(condition)
    try:
        page.goto(f"{base}/scan/", wait_until="commit")
        started = wait_for(lambda: last_frame(page) >= 0, 120)
        if started:
            previous = [0]

            def done() -> bool:
                n = last_frame(page)
                finished = n >= total - 1 or n < previous[0]
                previous[0] = max(previous[0], n)
                return finished

            wait_for(done, total / fps * 1.5 + 30)
        seen = Seen.of(page)
    finally:
        page.close()
        video.unlink(missing_ok=True)
    keep(label.replace(" ", "-"), shown, seen)
    return attribute(shown, seen, names)


def has_painted(page: Page, name: str) -> bool:
    return first_paint(page, name) is not None


def camera_playing(page: Page) -> bool:
    return bool(
        page.evaluate(
            "() => [...document.querySelectorAll('video')]"
            ".some((v) => v.srcObject && v.currentTime > 0.5)"
        )
    )


def first_paint(page: Page, name: str) -> float | None:
    paints = page.evaluate("window.__scanBench ? window.__scanBench.paints : []")
    for paint in paints:
        if name in paint["text"] and paint.get("raf") is not None:
            return float(paint["raf"])
    return None


def cold_start(
    playwright: Playwright,
    work: Path,
    base: str,
    condition: Condition,
    token: str,
    tickets,
    fps: int,
) -> dict[str, float | None]:
    """A fresh profile: the scanner opened with a ticket in view, then again, then the page that
    only opens the camera; ms from the navigation."""
    video = work / "cold.y4m"
    profile = work / f"profile-cold-{condition.cpu_rate}-{int(condition.slow)}"
    write_video(video, [Segment("ticket", 2 * fps, tickets[0]["code"])], fps=fps)
    chromium = Chromium(playwright, video, profile, token)
    figures: dict[str, float | None] = {}
    try:
        for label, ticket in (("open", tickets[0]), ("re-open", tickets[1])):
            write_video(video, [Segment("ticket", 2 * fps, ticket["code"])], fps=fps)
            # See Chromium.page: on the slow connection the first visit registers no worker.
            page = chromium.page(condition, service_worker=not (condition.slow and label == "open"))
            page.goto(f"{base}/scan/", wait_until="commit")
            wait_for(partial(has_painted, page, ticket["name"]), 150)
            figures[label] = first_paint(page, ticket["name"])
            page.close()
        write_video(video, [Segment("blank", 2 * fps)], fps=fps)
        page = chromium.page(condition)
        page.goto(f"{base}/bench/camera/", wait_until="commit")
        wait_for(lambda: last_frame(page) >= 0, 60)
        frames = Seen.of(page).frames
        figures["camera"] = frames[0][1] if frames else None
        page.close()
    finally:
        chromium.close()
    return figures


# Longer than the scanner's 4 s at full speed after the camera opens, so the window measures what
# an idle scanner costs for as long as it stays idle.
IDLE_SETTLE_SECONDS = 6


def idle_cpu(
    chromium: Chromium, base: str, condition: Condition, video: Path, fps: int, seconds: float
) -> dict[str, float]:
    """Cores used by all of Chromium with nothing in view: camera page, scanner, camera page."""
    write_video(video, [Segment("blank", 2 * fps)], fps=fps)
    figures: dict[str, float] = {}
    for label, path in (
        ("camera", "/bench/camera/"),
        ("scanner", "/scan/"),
        ("camera again", "/bench/camera/"),
    ):
        page = chromium.page(condition, observe=False)
        page.goto(f"{base}{path}", wait_until="commit")
        wait_for(partial(camera_playing, page), 120)
        # The page settles (manifest, counts, wasm) and, for the scanner, goes idle: it decodes
        # at full speed until IDLE_AFTER_MS (static/js/scanner.js) has passed with no code.
        time.sleep(IDLE_SETTLE_SECONDS)
        before, started = chromium.cpu_seconds(), time.monotonic()
        time.sleep(seconds)
        figures[label] = (chromium.cpu_seconds() - before) / (time.monotonic() - started)
        page.close()
    return figures


# The site ------------------------------------------------------------------------------------


@contextmanager
def served(var_dir: str, tickets: int, workers: int) -> Iterator[tuple[str, dict, dict[str, str]]]:
    """(base URL, what BUILD made, env): the site on a throwaway SQLite database under gunicorn."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = site_env(SETTINGS, base, var_dir)
    print("Migrating a SQLite database and making the tickets ...", flush=True)
    manage(env, "migrate", "--no-input", "-v", "0")
    manage(env, "collectstatic", "--no-input", "-v", "0")
    built = json.loads(
        manage(env, "shell", "-c", BUILD.replace("{count}", str(tickets))).strip().splitlines()[-1]
    )
    server = start_gunicorn(REPO, env, port, workers, threads=THREADS)
    try:
        warm_up(base, server)
        yield base, built, env
    finally:
        stop(server)


# Figures -------------------------------------------------------------------------------------


@dataclass
class Measured:
    """Everything measured under one condition."""

    condition: Condition
    cold: dict[str, float | None] = field(default_factory=dict)
    idle: dict[str, float] = field(default_factory=dict)
    single: dict[str, tuple[Outcome, int]] = field(default_factory=dict)  # variant: (, tickets)
    singles: Outcome | None = None  # all variants together, as they were shown in one page
    brisk: Outcome | None = None
    brisk_codes: list[str] = field(default_factory=list)


def seconds(ms: float | None) -> str:
    return "-" if ms is None else f"{ms / 1000:.2f} s"


def spread(latencies: Sequence[float]) -> str:
    if not latencies:
        return "-"
    return f"{statistics.median(latencies):,.0f} / {percentile(latencies, 95):,.0f}"


def variant_cell(m: Measured, variant: str) -> str:
    outcome, tickets = m.single[variant]
    return f"{spread(outcome.latencies())} ({len(outcome.painted)}/{tickets})"


def rows(measured: Sequence[Measured], checked_in: dict[str, int]) -> list[tuple[str, list[str]]]:
    """(what, one cell per condition) for the table."""

    def each(cell: Callable[[Measured], str]) -> list[str]:
        return [cell(m) for m in measured]

    def ratio(a: float | None, b: float | None) -> str:
        return f"{a / b:.2f}x" if a is not None and b else "-"

    out = [
        ("cold start: open → result painted", each(lambda m: seconds(m.cold.get("open")))),
        (
            "cold start: re-open (warm) → result painted",
            each(lambda m: seconds(m.cold.get("re-open"))),
        ),
        (
            "yardstick: camera-only page, open → first frame",
            each(lambda m: seconds(m.cold.get("camera"))),
        ),
        ("cold start ÷ yardstick", each(lambda m: ratio(m.cold.get("open"), m.cold.get("camera")))),
    ]
    for variant in measured[0].single:
        out.append(
            (
                f"ticket to paint, {variant}: median / p95 ms (read)",
                each(partial(variant_cell, variant=variant)),
            )
        )
    out += [
        (
            f"brisk queue: painted / checked in by the server (of {len(measured[0].brisk_codes)})",
            each(
                lambda m: (
                    f"{len(m.brisk.painted) if m.brisk else 0} / "
                    f"{sum(1 for code in m.brisk_codes if checked_in.get(code, 0) > 0)}"
                )
            ),
        ),
        (
            "brisk queue: ticket to paint median / p95 ms",
            each(lambda m: spread(m.brisk.latencies()) if m.brisk else "-"),
        ),
        ("idle CPU: scanner, % of a core", each(lambda m: f"{m.idle['scanner'] * 100:.1f}")),
        (
            "idle CPU: camera-only page (before, after), % of a core",
            each(lambda m: f"{m.idle['camera'] * 100:.1f}, {m.idle['camera again'] * 100:.1f}"),
        ),
        (
            "idle CPU: scanner ÷ camera-only page",
            each(
                lambda m: ratio(m.idle["scanner"], (m.idle["camera"] + m.idle["camera again"]) / 2)
            ),
        ),
    ]
    return out


def notes(measured: Sequence[Measured]) -> list[str]:
    lines = []
    for m in measured:
        outcomes = [("single tickets", m.singles)] if m.singles else []
        if m.brisk:
            outcomes.append(("brisk", m.brisk))
        ready = ", ".join(
            f"{name} {seconds(o.ready_ms)}" for name, o in outcomes if o.ready_ms is not None
        )
        missed = [name for name, o in outcomes if o.ready_ms is None]
        unseen = sum(o.unseen for _, o in outcomes)
        text = f"{m.condition.name}: the warm-up QR first answered after {ready or '-'}"
        if missed:
            text += f"; not before the first ticket in {', '.join(missed)}"
        if unseen:
            text += f"; {unseen} tickets none of whose frames the page presented"
        lines.append(text + ".")
    return lines


def chromium_version() -> str:
    done = subprocess.run([str(CHROMIUM), "--version"], capture_output=True, text=True, check=False)
    return done.stdout.strip().split(" built")[0] or "unknown"


def markdown(
    args: argparse.Namespace, measured: Sequence[Measured], checked_in: dict[str, int]
) -> str:
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    names = [m.condition.name for m in measured]
    lines = [
        SCANNER_START,
        "## Scanner in the field: cold start, ticket to paint, the brisk queue, idle CPU",
        "",
        f"`bench/scanner_field.py{' --quick' if args.quick else ''}`, "
        f"{time.strftime('%Y-%m-%d %H:%M %Z')}, commit {short_commit('HEAD')}"
        f"{' (with changes not committed)' if dirty else ''}; {chromium_version()} headless with "
        f"a fake camera playing a frame-stamped {WIDTH}x{HEIGHT} video at {args.fps} fps; "
        f"gunicorn with {args.workers} gthread workers of {THREADS} threads on SQLite; "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end. "
        "Paint: the animation frame after the result panel first changed for the ticket; "
        "from the first frame that showed it. 4x CPU: CDP CPU throttling; slow connection: "
        "400 ms latency, 400 kbit/s. Idle CPU: all of Chromium's processes over "
        f"{args.idle_seconds:g} s with nothing in view.",
        "",
        "| | " + " | ".join(names) + " |",
        "| --- |" + " ---: |" * len(names),
    ]
    for what, cells in rows(measured, checked_in):
        lines.append(f"| {what} | " + " | ".join(cells) + " |")
    lines += ["", *(f"- {line}" for line in notes(measured)), SCANNER_END]
    return "\n".join(lines) + "\n"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="1x only, 5 tickets a variant, 20 in the queue"
    )
    parser.add_argument(
        "--write", action="store_true", help="write the table into bench/RESULTS.md"
    )
    parser.add_argument("--fps", type=int, default=10, help="frames a second of the camera (10)")
    parser.add_argument("--tickets", type=int, default=10, help="single tickets per variant (10)")
    parser.add_argument("--idle-seconds", type=float, default=6.0, help="idle CPU window (6)")
    parser.add_argument("--keep-json", metavar="DIR", help="keep what each page saw, as JSON")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (2)")
    args = parser.parse_args()
    if not 2 <= args.fps <= 30 or not 1 <= args.tickets <= 50 or not 1 <= args.workers <= 8:
        parser.error("--fps 2-30, --tickets 1-50, --workers 1-8, please")
    args.brisk = BRISK_TICKETS
    if args.quick:
        args.brisk = 20
        args.tickets = min(args.tickets, 5)
        args.idle_seconds = min(args.idle_seconds, 4.0)
    return args


def measure(
    playwright: Playwright,
    args: argparse.Namespace,
    work: Path,
    base: str,
    condition: Condition,
    token: str,
    take: Callable[[int], list[dict]],
    names: dict[str, str],
) -> Measured:
    """Everything under one condition: the cold start in a fresh profile, then in another
    profile idle CPU (also the first visit: the scanner's files cached and its service worker
    installed before the tickets come), the single tickets of each variant and the queue."""
    fps, m = args.fps, Measured(condition)
    print(f"[{condition.name}] cold start ...", flush=True)
    m.cold = cold_start(playwright, work, base, condition, token, take(2), fps)
    print(f"[{condition.name}] cold start {m.cold}", flush=True)
    video = work / "camera.y4m"
    profile = work / f"profile-{condition.cpu_rate}-{int(condition.slow)}"
    chromium = Chromium(playwright, video, profile, token)
    try:
        m.idle = idle_cpu(chromium, base, condition, video, fps, args.idle_seconds)
        print(f"[{condition.name}] idle CPU {m.idle}", flush=True)
        codes = {v: [t["code"] for t in take(args.tickets)] for v in ("clean", "blurred", "small")}
        m.singles = play(
            chromium,
            base,
            condition,
            video,
            queue(interleaved(codes), fps, view=2.2, gap=0.8),
            fps,
            names=names,
            label=f"{condition.name} single",
        )
        for variant, vcodes in codes.items():
            m.single[variant] = (subset(m.singles, vcodes), len(vcodes))
            outcome = m.single[variant][0]
            print(f"[{condition.name}] {variant}: {summary(outcome, len(vcodes), panel=False)}")
        print(f"[{condition.name}] all: {summary(m.singles, 3 * args.tickets)}", flush=True)
        m.brisk_codes = [t["code"] for t in take(args.brisk)]
        m.brisk = play(
            chromium,
            base,
            condition,
            video,
            queue([(code, "clean") for code in m.brisk_codes], fps, view=1.2, gap=0.3),
            fps,
            names=names,
            label=f"{condition.name} brisk",
        )
        print(f"[{condition.name}] brisk: {summary(m.brisk, len(m.brisk_codes))}", flush=True)
    finally:
        chromium.close()
    return m


def summary(outcome: Outcome, tickets: int, *, panel: bool = True) -> str:
    """A line for the console; with `panel`, the answers the panel showed."""
    text = f"painted {len(outcome.painted)}/{tickets}, median/p95 {spread(outcome.latencies())} ms"
    if panel:
        answers = ", ".join(f"{k} x{v}" for k, v in sorted(outcome.answers.items()))
        text += f" (panel: {answers or 'no change'})"
    return text


def main() -> int:
    args = parse_args()
    if not CHROMIUM.exists():
        print(f"No Chromium at {CHROMIUM} (JUBILEUM_CHROMIUM names another).", file=sys.stderr)
        return 2
    conditions = CONDITIONS[:1] if args.quick else CONDITIONS
    if args.keep_json:
        KEEP.append(Path(args.keep_json))
        KEEP[0].mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    measured: list[Measured] = []
    with tempfile.TemporaryDirectory(prefix="jubileum-bench-scanner-") as tmp:
        work = Path(tmp)
        (work / "var").mkdir()
        count = (2 + 3 * args.tickets + args.brisk) * len(conditions)
        with served(str(work / "var"), count, args.workers) as (base, built, env):
            names = {t["code"]: t["name"] for t in built["tickets"]}
            pool = iter(built["tickets"])

            def take(n: int) -> list[dict]:
                return [next(pool) for _ in range(n)]

            with sync_playwright() as playwright:
                for condition in conditions:
                    measured.append(
                        measure(
                            playwright, args, work, base, condition, built["token"], take, names
                        )
                    )
            checked_in = json.loads(manage(env, "shell", "-c", CHECKED_IN).strip().splitlines()[-1])
    text = markdown(args, measured, checked_in)
    print()
    print(text)
    print(f"Run time {time.monotonic() - started:.0f} s.")
    if args.write:
        path = REPO / "bench" / "RESULTS.md"
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        path.write_text(with_section(old, text, SCANNER_START, SCANNER_END), encoding="utf-8")
        print(f"Wrote {path}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
