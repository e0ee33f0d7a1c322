'use strict';
// What a person does in the IDE, reported to the waiting job as activity.
//
// Counted: typing or editing a file or notebook, moving the cursor or selection with the
// keyboard or mouse, focusing the window or using it (VS Code's own "window is active"
// signal: keys, clicks, touches; switching editors is one of those), opening or using a
// terminal, and, for as long as they run, debug sessions, tasks and terminal commands. Not
// counted: an open tab, output channels writing, files opened by the job itself.
//
// A burst is one message: the first event is sent at once, the rest of the burst as one
// message at the end of the throttle period.
const vscode = require('vscode');
const { Throttle, Busy } = require('./throttle');

const THROTTLE_MS = 5000;
const BUSY_MS = 30000;
const EDITED_SCHEMES = new Set(['file', 'untitled', 'vscode-notebook-cell', 'vscode-remote']);

function isPerson(kind) {
    const { TextEditorSelectionChangeKind } = vscode;
    return kind === TextEditorSelectionChangeKind.Keyboard || kind === TextEditorSelectionChangeKind.Mouse;
}

function listen(context, event, handler) {
    if (typeof event === 'function') context.subscriptions.push(event(handler));
}

function subscribe(context, report, busy) {
    const { window, workspace, debug, tasks } = vscode;
    listen(context, workspace.onDidChangeTextDocument, (e) => {
        if (e.contentChanges.length && EDITED_SCHEMES.has(e.document.uri.scheme)) report('edit');
    });
    listen(context, workspace.onDidChangeNotebookDocument, (e) => {
        if (e.contentChanges.length || e.cellChanges.length) report('edit');
    });
    listen(context, window.onDidChangeTextEditorSelection, (e) => {
        if (isPerson(e.kind)) report('cursor');
    });
    // Only a change *to* focused or *to* active is someone: VS Code turns "active" off by
    // itself about 10 s after the last key or click, and files the job opens in a new window
    // change the active editor without anyone (a person switching editors clicks or types).
    let previous = window.state;
    listen(context, window.onDidChangeWindowState, (state) => {
        if ((state.focused && !previous.focused) || (state.active && !previous.active)) report('window');
        busy.reset('window', state.active === true);
        previous = state;
    });
    listen(context, window.onDidOpenTerminal, () => report('terminal'));
    listen(context, window.onDidChangeTerminalState, () => report('terminal'));
    listen(context, window.onDidStartTerminalShellExecution, () => {
        report('command');
        busy.set('command', true);
    });
    listen(context, window.onDidEndTerminalShellExecution, () => busy.set('command', false));
    listen(context, debug.onDidStartDebugSession, () => {
        report('debug');
        busy.set('debug', true);
    });
    listen(context, debug.onDidTerminateDebugSession, () => busy.set('debug', false));
    listen(context, debug.onDidChangeActiveStackItem, () => report('debug'));
    listen(context, tasks.onDidStartTaskProcess, () => {
        report('task');
        busy.set('task', true);
    });
    listen(context, tasks.onDidEndTaskProcess, () => busy.set('task', false));
}

// Starts reporting; returns { report(kind), reportNow(kind), configure(maxIdleSeconds) }.
function activate(context, send) {
    const throttle = new Throttle(send, THROTTLE_MS);
    const report = (kind) => throttle.report(kind);
    const busy = new Busy(report, BUSY_MS);
    context.subscriptions.push({ dispose: () => { throttle.cancel(); busy.dispose(); } });
    subscribe(context, report, busy);
    return {
        report,
        reportNow: (kind) => throttle.reportNow(kind),
        // Short idle limits need faster reports: a burst ends within 1/12 of the limit, and
        // long work reports four times per limit.
        configure(maxIdleSeconds) {
            if (!(maxIdleSeconds > 0)) return;
            throttle.periodMs = Math.min(THROTTLE_MS, (maxIdleSeconds * 1000) / 12);
            busy.setPeriod(Math.min(BUSY_MS, (maxIdleSeconds * 1000) / 4));
        },
    };
}

module.exports = { activate, THROTTLE_MS, BUSY_MS };
