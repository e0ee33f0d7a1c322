'use strict';
// Timing of activity reports, free of the VS Code API (tests/test_extension_js.py runs it
// under Node with a fake clock).
//
// Throttle: at most one report per period. The first event of a burst is sent at once,
// the rest of the burst as one report at the end of the period.
// Busy: while some long work lasts (a debug session, a task, a terminal command), report it
// every period.
const realTimers = { now: Date.now, setTimeout, clearTimeout, setInterval, clearInterval };

class Throttle {
    constructor(send, periodMs, timers = realTimers) {
        this.send = send;
        this.periodMs = periodMs;
        this.timers = timers;
        this.lastSent = -Infinity;
        this.pending = null;
        this.timer = null;
    }

    report(kind) {
        const now = this.timers.now();
        if (this.timer !== null) {
            this.pending = kind;
        } else if (now - this.lastSent >= this.periodMs) {
            this.flush(kind);
        } else {
            this.pending = kind;
            this.timer = this.timers.setTimeout(() => this.fire(), this.lastSent + this.periodMs - now);
        }
    }

    // Send now, whatever the period (an explicit "Keep working").
    reportNow(kind) {
        this.cancel();
        this.flush(kind);
    }

    fire() {
        this.timer = null;
        const kind = this.pending;
        this.pending = null;
        if (kind !== null) this.flush(kind);
    }

    flush(kind) {
        this.lastSent = this.timers.now();
        this.send(kind);
    }

    cancel() {
        if (this.timer !== null) this.timers.clearTimeout(this.timer);
        this.timer = null;
        this.pending = null;
    }
}

class Busy {
    constructor(report, periodMs, timers = realTimers) {
        this.report = report;
        this.periodMs = periodMs;
        this.timers = timers;
        this.reasons = new Map();
        this.timer = null;
    }

    set(reason, busy) {
        const count = Math.max(0, (this.reasons.get(reason) || 0) + (busy ? 1 : -1));
        if (count) this.reasons.set(reason, count);
        else this.reasons.delete(reason);
        this.schedule();
    }

    reset(reason, busy) {
        if (busy) this.reasons.set(reason, 1);
        else this.reasons.delete(reason);
        this.schedule();
    }

    schedule() {
        if (this.reasons.size && this.timer === null) {
            this.timer = this.timers.setInterval(() => {
                const reason = this.reasons.keys().next().value;
                if (reason !== undefined) this.report(reason);
            }, this.periodMs);
        } else if (!this.reasons.size && this.timer !== null) {
            this.timers.clearInterval(this.timer);
            this.timer = null;
        }
    }

    setPeriod(periodMs) {
        if (periodMs === this.periodMs) return;
        this.periodMs = periodMs;
        if (this.timer !== null) {
            this.timers.clearInterval(this.timer);
            this.timer = null;
            this.schedule();
        }
    }

    dispose() {
        this.reasons.clear();
        this.schedule();
    }
}

module.exports = { Throttle, Busy, realTimers };
