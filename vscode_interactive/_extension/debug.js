'use strict';
// The `debugpy` debug type without any marketplace extension.
//
// "Post-mortem: inspect the failure" attaches to the debugger the job started on loopback
// when the task failed (vscode_interactive/_debug): that server speaks the Debug Adapter
// Protocol itself, so VS Code connects to it directly. "Interactive Debugging" and
// "Resume Task" launch a program: the adapter is debugpy's own, run from the job's
// interpreter (`python -m debugpy.adapter`, from the pip-installed debugpy).
//
// When the Python Debugger extension (ms-python.debugpy) is installed it serves this type,
// and a second DebugAdapterDescriptorFactory for the same type is an error in VS Code, so
// this part registers nothing then. package.json contributes the type statically as well
// (VS Code merges two contributions of one type into one debugger: no duplicate entry), and
// breakpoints in Python files, which VS Code refuses in a language no debugger declares.

const PYTHON_DEBUGGER = 'ms-python.debugpy';
const DEBUG_TYPE = 'debugpy';
const ENV_PYTHON = 'VSCODE_INTERACTIVE_PYTHON';

// How to reach an adapter for `configuration` (VS Code-free, so Node can test it):
// {kind: 'server', host, port} or {kind: 'executable', command, args}.
function adapterFor(configuration, env, defaultInterpreter) {
    const connect = configuration.connect;
    if (configuration.request === 'attach' && connect && connect.port) {
        return { kind: 'server', host: connect.host || '127.0.0.1', port: Number(connect.port) };
    }
    if (configuration.request === 'attach' && configuration.port) {
        return { kind: 'server', host: configuration.host || '127.0.0.1', port: Number(configuration.port) };
    }
    let python = configuration.python;
    if (Array.isArray(python)) python = python[0];
    python = python || env[ENV_PYTHON] || defaultInterpreter || 'python3';
    return { kind: 'executable', command: python, args: ['-m', 'debugpy.adapter'] };
}

// Whether this extension should serve the type: only when the Python Debugger is absent.
function shouldServe(getExtension) {
    return !getExtension(PYTHON_DEBUGGER);
}

function activate(context) {
    const vscode = require('vscode');
    if (!shouldServe((id) => vscode.extensions.getExtension(id))) return false;
    const factory = {
        createDebugAdapterDescriptor(session) {
            const settings = vscode.workspace.getConfiguration('python');
            const adapter = adapterFor(
                session.configuration, process.env, settings.get('defaultInterpreterPath'));
            if (adapter.kind === 'server') return new vscode.DebugAdapterServer(adapter.port, adapter.host);
            return new vscode.DebugAdapterExecutable(adapter.command, adapter.args);
        },
    };
    context.subscriptions.push(
        vscode.debug.registerDebugAdapterDescriptorFactory(DEBUG_TYPE, factory));
    return true;
}

module.exports = { activate, adapterFor, shouldServe, DEBUG_TYPE, PYTHON_DEBUGGER };
