'use strict';
// The status bar (time left before the idle stop, the job's name, a "Resume job" button) and
// the warning a few minutes before the stop, with a "Keep working" button.
//
// The job decides; this only shows. Each reply of the channel carries the session's status:
// seconds_left (until the idle stop), warn_seconds (how long before it to warn),
// max_idle_seconds, idle_source. The time left is counted down locally between replies with
// a monotonic clock, and the status is asked again every POLL_MS (asking is not activity).
const vscode = require('vscode');
const { performance } = require('perf_hooks');
const { describe, formatDuration } = require('./countdown');

const POLL_MS = 10000;
const TICK_MS = 1000;
const KEEP_WORKING = 'Keep working';
const RESUME = 'Resume job';

class StatusView {
    constructor(context, session, actions) {
        this.session = session;
        this.actions = actions;
        this.status = null;
        this.receivedAt = 0;
        this.warnedAt = null;
        this.failures = 0;
        this.countdown = vscode.window.createStatusBarItem(
            'vscode-interactive.countdown', vscode.StatusBarAlignment.Left, 100);
        this.countdown.name = 'vscode-interactive: idle countdown';
        this.countdown.command = 'vscode-interactive.keepWorking';
        this.resume = vscode.window.createStatusBarItem(
            'vscode-interactive.resume', vscode.StatusBarAlignment.Left, 99);
        this.resume.name = 'vscode-interactive: resume the job';
        this.resume.text = `$(debug-continue) ${RESUME}`;
        this.resume.tooltip = `Stop the IDE and let ${session.job} run again with its original inputs`;
        this.resume.command = 'vscode-interactive.resume';
        context.subscriptions.push(this.countdown, this.resume, this);
        this.render();
        this.countdown.show();
        this.resume.show();
        this.ticker = setInterval(() => this.tick(), TICK_MS);
        this.poller = setInterval(() => this.poll(), POLL_MS);
    }

    update(status) {
        if (!status || typeof status !== 'object') return;
        this.status = status;
        this.receivedAt = performance.now();
        this.failures = 0;
        if (this.warnedAt !== null && Number(status.seconds_left) > Number(status.warn_seconds || 0)) {
            this.warnedAt = null; // the deadline moved away: warn again when it comes near
        }
        this.tick();
    }

    lost(error) {
        this.failures += 1;
        if (this.failures >= 2) {
            this.status = null;
            this.countdown.text = `$(debug-disconnect) ${this.session.job}: not reachable`;
            this.countdown.tooltip = `The job does not answer on its channel (${error.message}).`;
        }
    }

    async poll() {
        try {
            const reply = await this.session.send('status');
            if (reply && reply.ok) this.update(reply.status);
            else this.lost(new Error((reply && reply.message) || 'refused'));
        } catch (error) {
            this.lost(error);
        }
    }

    tick() {
        const view = this.render();
        const warn = Number(this.status && this.status.warn_seconds);
        if (view.state === 'running' && view.left !== null && view.left <= warn && this.warnedAt === null) {
            this.warnedAt = performance.now();
            this.warn(view.left);
        }
    }

    render() {
        const elapsed = (performance.now() - this.receivedAt) / 1000;
        const view = describe(this.session.job, this.status, elapsed);
        if (this.failures < 2) this.countdown.text = view.text;
        const idle = this.status ? formatDuration(this.status.max_idle_seconds) : 'a while';
        const tooltip = new vscode.MarkdownString(
            `**${this.session.job}** waits in this IDE${this.session.jobPid ? ` (pid ${this.session.jobPid})` : ''}. ` +
            `It stops after ${idle} without activity and the job then fails with IdleTimeoutError.\n\n` +
            'Activity is typing, moving the cursor, switching editors, using a terminal or the ' +
            'debugger; an open tab is not. Click to keep working.');
        this.countdown.tooltip = tooltip;
        this.countdown.backgroundColor = view.left !== null && view.left <= Number(this.status && this.status.warn_seconds)
            ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
        return view;
    }

    async warn(left) {
        const choice = await vscode.window.showWarningMessage(
            `vscode-interactive: the IDE stops in ${formatDuration(left)} without activity, and ` +
            `${this.session.job} then fails with IdleTimeoutError.`, KEEP_WORKING, RESUME);
        if (choice === KEEP_WORKING) this.actions.keepWorking();
        else if (choice === RESUME) this.actions.resume();
    }

    dispose() {
        clearInterval(this.ticker);
        clearInterval(this.poller);
    }
}

function activate(context, session, actions) {
    return new StatusView(context, session, actions);
}

module.exports = { activate, KEEP_WORKING, RESUME };
