"""The extension's VS Code-free JavaScript (throttle.js, countdown.js) run under Node.

What touches the VS Code API is tested on the real code-server (tests/e2e); these check
the timing rules with a fake clock. Skipped when no ``node`` is on PATH.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from vscode_interactive._extension._pack import EXTENSION_ROOT

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="no node on PATH")

FAKE_TIMERS = """
const timers = (() => {
  let now = 0, next = 1; const jobs = new Map();
  return {
    now: () => now,
    setTimeout: (fn, ms) => { jobs.set(next, {at: now + ms, fn}); return next++; },
    clearTimeout: (id) => jobs.delete(id),
    setInterval: (fn, ms) => {
      const id = next++;
      const run = () => { jobs.set(id, {at: now + ms, fn: () => { run(); fn(); }}); };
      run();
      return id;
    },
    clearInterval: (id) => jobs.delete(id),
    advance(ms) {
      const end = now + ms;
      for (;;) {
        let first = null;
        for (const [id, job] of jobs) {
          if (job.at <= end && (!first || job.at < first[1].at)) first = [id, job];
        }
        if (!first) break;
        jobs.delete(first[0]); now = first[1].at; first[1].fn();
      }
      now = end;
    },
  };
})();
"""


def run_js(body: str) -> Any:
    """Run ``body`` with ``timers`` and the extension's modules; it prints one JSON value."""
    assert NODE is not None
    script = f"const root = {json.dumps(str(EXTENSION_ROOT))};\n{FAKE_TIMERS}\n{body}"
    done = subprocess.run(
        [NODE, "-e", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_burst_of_keystrokes_is_one_message_then_one_at_the_end() -> None:
    """Fifty events within one period: the first at once, the rest of the burst as one."""
    sent = run_js("""
const { Throttle } = require(root + '/throttle.js');
const sent = []; const t = new Throttle((k) => sent.push([timers.now(), k]), 5000, timers);
for (let i = 0; i < 50; i++) { t.report(i === 49 ? 'cursor' : 'edit'); timers.advance(50); }
timers.advance(10000);
console.log(JSON.stringify(sent));
""")
    assert sent == [[0, "edit"], [5000, "cursor"]]


def test_a_lone_event_after_a_quiet_period_is_sent_at_once() -> None:
    """After a quiet period the next event is not delayed."""
    sent = run_js("""
const { Throttle } = require(root + '/throttle.js');
const sent = []; const t = new Throttle((k) => sent.push(timers.now()), 5000, timers);
t.report('edit'); timers.advance(7000); t.report('edit'); timers.advance(100);
console.log(JSON.stringify(sent));
""")
    assert sent == [0, 7000]


def test_keep_working_is_sent_at_once_even_inside_a_period() -> None:
    """reportNow bypasses the throttle and drops the pending burst."""
    sent = run_js("""
const { Throttle } = require(root + '/throttle.js');
const sent = []; const t = new Throttle((k) => sent.push([timers.now(), k]), 5000, timers);
t.report('edit'); timers.advance(1000); t.report('edit'); t.reportNow('keep-working');
timers.advance(20000);
console.log(JSON.stringify(sent));
""")
    assert sent == [[0, "edit"], [1000, "keep-working"]]


def test_long_work_reports_every_period_until_it_ends() -> None:
    """A debug session reports every period while it lasts, and no longer."""
    sent = run_js("""
const { Busy } = require(root + '/throttle.js');
const sent = []; const b = new Busy((k) => sent.push([timers.now(), k]), 30000, timers);
b.set('debug', true); timers.advance(95000); b.set('debug', false); timers.advance(100000);
console.log(JSON.stringify(sent));
""")
    assert sent == [[30000, "debug"], [60000, "debug"], [90000, "debug"]]


def test_two_overlapping_sessions_keep_reporting_until_both_end() -> None:
    """Busy counts: one of two debug sessions ending does not stop the reports."""
    sent = run_js("""
const { Busy } = require(root + '/throttle.js');
const sent = []; const b = new Busy((k) => sent.push(timers.now()), 10000, timers);
b.set('debug', true); b.set('debug', true); b.set('debug', false); timers.advance(25000);
b.set('debug', false); timers.advance(50000);
console.log(JSON.stringify(sent));
""")
    assert sent == [10000, 20000]


def test_the_countdown_text_names_the_job_and_the_time_left() -> None:
    """'<job> · idle stop in N'; counted down from the last status; 'stopping' when ending."""
    views = run_js("""
const { describe, formatDuration } = require(root + '/countdown.js');
console.log(JSON.stringify([
  describe('train', {state: 'running', seconds_left: 3600}, 0).text,
  describe('train', {state: 'running', seconds_left: 100}, 40).text,
  describe('train', {state: 'running', seconds_left: 10}, 40).left,
  describe('train', {state: 'stopping', seconds_left: 0}, 0).text,
  describe('train', null, 0).state,
  [formatDuration(36000), formatDuration(5400), formatDuration(9000)],
]));
""")
    assert views == [
        "$(watch) train · idle stop in 60 min",
        "$(watch) train · idle stop in 60 s",
        0,
        "$(debug-stop) train: stopping",
        "connecting",
        ["10 h", "90 min", "2 h 30 min"],
    ]
