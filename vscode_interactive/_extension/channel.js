'use strict';
// The session's channel: the same-user Unix socket the waiting job listens on
// (vscode_interactive/_supervision/_channel.py). One request per connection, one JSON line
// each way. The job sets VSCODE_INTERACTIVE_CHANNEL in code-server's environment, which the
// extension host inherits: a socket path, or "@name" for a Linux abstract socket.
const net = require('net');

const ENV_CHANNEL = 'VSCODE_INTERACTIVE_CHANNEL';
const ENV_JOB = 'VSCODE_INTERACTIVE_JOB';
const ENV_JOB_PID = 'VSCODE_INTERACTIVE_JOB_PID';
const TIMEOUT_MS = 5000;
const MAX_REPLY = 64 * 1024;

function socketAddress(value) {
    return value.startsWith('@') ? '\0' + value.slice(1) : value;
}

function request(address, message, timeoutMs = TIMEOUT_MS) {
    return new Promise((resolve, reject) => {
        const socket = net.createConnection(socketAddress(address));
        let data = '';
        let settled = false;
        const finish = (error, reply) => {
            if (settled) return;
            settled = true;
            socket.destroy();
            if (error) reject(error);
            else resolve(reply);
        };
        socket.setEncoding('utf8');
        socket.setTimeout(timeoutMs, () => finish(new Error(`no answer within ${timeoutMs} ms`)));
        socket.on('connect', () => socket.write(JSON.stringify(message) + '\n'));
        socket.on('data', (chunk) => {
            data += chunk;
            const end = data.indexOf('\n');
            if (end >= 0 || data.length > MAX_REPLY) {
                try {
                    finish(null, JSON.parse(end >= 0 ? data.slice(0, end) : data));
                } catch (error) {
                    finish(new Error(`malformed answer: ${data.slice(0, 80)}`));
                }
            }
        });
        socket.on('error', (error) => finish(error));
        socket.on('close', () => finish(new Error('the job closed the connection without answering')));
    });
}

// The session this extension host belongs to, or null outside a vscode-interactive session.
function sessionFromEnvironment(env) {
    const address = (env[ENV_CHANNEL] || '').trim();
    if (!address) return null;
    const pid = Number.parseInt(env[ENV_JOB_PID] || '', 10);
    const window = `${process.pid}-${Date.now().toString(36)}`;
    return {
        address,
        job: (env[ENV_JOB] || '').trim() || 'the job',
        jobPid: Number.isFinite(pid) ? pid : null,
        window,
        send(command, fields = {}) {
            return request(address, { command, window, ...fields });
        },
    };
}

module.exports = { request, sessionFromEnvironment, socketAddress, ENV_CHANNEL, ENV_JOB, ENV_JOB_PID };
