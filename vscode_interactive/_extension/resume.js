'use strict';
// "Resume job": the same confirmation as the generated resume script, then the channel's
// "resume" request. Unsaved editors can be saved first (the job runs the saved source).
const vscode = require('vscode');

const SAVE_AND_RESUME = 'Save All and Resume';
const RESUME = 'Resume';

function question(session) {
    const pid = session.jobPid ? ` (pid ${session.jobPid})` : '';
    return 'This stops the IDE (save your files first: unsaved editor changes are lost) and ' +
        `resumes the job${pid}, which calls ${session.job} again with its original inputs.`;
}

async function resume(session) {
    const dirty = vscode.workspace.textDocuments.filter((document) => document.isDirty);
    const choices = dirty.length ? [SAVE_AND_RESUME, RESUME] : [RESUME];
    const choice = await vscode.window.showWarningMessage(
        'Resume now?', { modal: true, detail: question(session) }, ...choices);
    if (!choice) return false;
    if (choice === SAVE_AND_RESUME && !(await vscode.workspace.saveAll(false))) {
        vscode.window.showErrorMessage('Not resumed: some files could not be saved.');
        return false;
    }
    try {
        const reply = await session.send('resume');
        if (reply && reply.ok) {
            vscode.window.showInformationMessage(`Resumed: ${reply.message}`);
            return true;
        }
        vscode.window.showErrorMessage(`Not resumed: ${(reply && reply.message) || 'no reason given'}`);
    } catch (error) {
        vscode.window.showErrorMessage(`Not resumed: ${error.message}`);
    }
    return false;
}

function activate(context, session) {
    context.subscriptions.push(
        vscode.commands.registerCommand('vscode-interactive.resume', () => resume(session)));
    return { resume: () => resume(session) };
}

module.exports = { activate, question, resume };
