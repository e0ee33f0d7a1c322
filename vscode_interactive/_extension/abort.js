'use strict';
// "Abort job": the same confirmation as `vscode-interactive abort`, then the channel's
// "abort" request: the IDE stops and the job ends with its latest failure.
const vscode = require('vscode');

const ABORT = 'Abort';

async function abort(session) {
    const pid = session.jobPid ? ` (pid ${session.jobPid})` : '';
    const choice = await vscode.window.showWarningMessage(
        'Abort the job?',
        {
            modal: true,
            detail: `This stops the IDE (unsaved editor changes are lost) and ends the job${pid} ` +
                `with its latest failure, without calling ${session.job} again.`,
        },
        ABORT);
    if (choice !== ABORT) return false;
    try {
        const reply = await session.send('abort');
        if (reply && reply.ok) {
            vscode.window.showInformationMessage(`Aborted: ${reply.message}`);
            return true;
        }
        vscode.window.showErrorMessage(`Not aborted: ${(reply && reply.message) || 'no reason given'}`);
    } catch (error) {
        vscode.window.showErrorMessage(`Not aborted: ${error.message}`);
    }
    return false;
}

function activate(context, session) {
    context.subscriptions.push(
        vscode.commands.registerCommand('vscode-interactive.abort', () => abort(session)));
}

module.exports = { activate, abort };
