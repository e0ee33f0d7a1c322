'use strict';
// F5 starts "Post-mortem: inspect the failure" while the job holds its failure for a debugger.
//
// The workspace file lists that configuration first, but when the user's project has its own
// .vscode/launch.json, Run and Debug pre-selects the project's first configuration (folder
// launch configurations come before the workspace file's), and a selection remembered from an
// earlier session of the same workspace file wins as well; no setting chooses it. So
// package.json binds F5 to START while CONTEXT_KEY is true and no debug session runs (an
// extension's binding outranks VS Code's own F5), and this part keeps CONTEXT_KEY true from
// activation until a Post-mortem session has started: later F5 presses are VS Code's again
// (continue, or the selected configuration).
//
// VS Code's API starts a configuration by name only from a folder's launch.json, not from the
// workspace file's `launch`, so START passes the configuration itself. When it is missing (the
// job holds no failure, or the debugger could not listen), START is VS Code's plain F5.

const POST_MORTEM_NAME = 'Post-mortem: inspect the failure';
const CONTEXT_KEY = 'vscodeInteractive.postMortemPending';
const START = 'vscode-interactive.startPostMortem';
const PLAIN_F5 = 'workbench.action.debug.start';

// The first configuration named `name` in `sources` ([{folder, configurations}], in order),
// as {folder, configuration}, or null. VS Code-free, so Node can test it.
function locate(sources, name) {
    for (const { folder, configurations } of sources) {
        if (!Array.isArray(configurations)) continue;
        const configuration = configurations.find(
            (item) => item !== null && typeof item === 'object' && item.name === name);
        if (configuration) return { folder, configuration };
    }
    return null;
}

// Where launch configurations live: the workspace file's `launch` (ours; it resolves
// ${workspaceFolder} against the first folder), then each folder's .vscode/launch.json.
function launchSources(vscode) {
    const folders = vscode.workspace.workspaceFolders || [];
    const inspected = vscode.workspace.getConfiguration('launch').inspect('configurations');
    const sources = [{ folder: folders[0], configurations: inspected && inspected.workspaceValue }];
    for (const folder of folders) {
        const own = vscode.workspace.getConfiguration('launch', folder.uri).inspect('configurations');
        sources.push({ folder, configurations: own && own.workspaceFolderValue });
    }
    return sources;
}

async function start(vscode) {
    const found = locate(launchSources(vscode), POST_MORTEM_NAME);
    if (!found) return vscode.commands.executeCommand(PLAIN_F5);
    return vscode.debug.startDebugging(found.folder, found.configuration);
}

// Registers START and keeps CONTEXT_KEY; `vscode` is injectable for tests.
function activate(context, vscode = require('vscode')) {
    let started = false;
    const refresh = () => {
        const pending = !started && locate(launchSources(vscode), POST_MORTEM_NAME) !== null;
        Promise.resolve(vscode.commands.executeCommand('setContext', CONTEXT_KEY, pending))
            .catch(() => {}); // no context key: F5 stays VS Code's own
    };
    context.subscriptions.push(
        vscode.commands.registerCommand(START, () => start(vscode)),
        vscode.debug.onDidStartDebugSession((session) => {
            if (started || !session.configuration || session.configuration.name !== POST_MORTEM_NAME) return;
            started = true;
            refresh();
        }),
        vscode.workspace.onDidChangeConfiguration((event) => {
            if (event.affectsConfiguration('launch')) refresh();
        }));
    refresh();
}

module.exports = { activate, locate, start, CONTEXT_KEY, POST_MORTEM_NAME, START, PLAIN_F5 };
