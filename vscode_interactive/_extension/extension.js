'use strict';
// The library's own extension (vscode_interactive/_extension). Plain CommonJS, no build.
// Each part lives in its own module and is activated from here; a part that serves only a
// running session gets `session` (null outside one).
const vscode = require('vscode');
const { sessionFromEnvironment } = require('./channel');
const activity = require('./activity');
const status = require('./status');
const resume = require('./resume');
const abort = require('./abort');
const debug = require('./debug');
const postMortem = require('./postmortem');

function activateSession(context, session) {
    let view = null;
    const send = async (kind) => {
        try {
            const reply = await session.send('activity', { kind });
            if (reply && reply.ok && view) view.update(reply.status);
            if (reply && reply.ok && reporter) reporter.configure(reply.status && reply.status.max_idle_seconds);
        } catch (error) {
            if (view) view.lost(error);
        }
    };
    const reporter = activity.activate(context, send);
    const resumer = resume.activate(context, session);
    abort.activate(context, session);
    const actions = {
        keepWorking: () => reporter.reportNow('keep-working'),
        resume: () => resumer.resume(),
    };
    context.subscriptions.push(
        vscode.commands.registerCommand('vscode-interactive.keepWorking', actions.keepWorking));
    view = status.activate(context, session, actions);
    reporter.reportNow('window'); // a window with the extension connected: a person opened it
}

function activate(context) {
    debug.activate(context); // the debugpy debug type, in a session or not
    const session = sessionFromEnvironment(process.env);
    if (!session) return;
    postMortem.activate(context); // F5: the held failure first, whatever Run and Debug selected
    activateSession(context, session);
}

function deactivate() {}

module.exports = { activate, deactivate };
