'use strict';
// What the status bar says, free of the VS Code API (tests/test_extension_js.py runs it
// under Node).

function formatDuration(seconds) {
    const s = Math.max(0, Math.round(seconds));
    if (s < 120) return `${s} s`;
    const minutes = Math.round(s / 60);
    if (minutes < 120) return `${minutes} min`;
    const hours = Math.floor(minutes / 60);
    const rest = minutes % 60;
    return rest ? `${hours} h ${rest} min` : `${hours} h`;
}

// Pure: what the countdown item says, given the last status and the seconds elapsed since.
function describe(job, status, elapsedSeconds) {
    if (!status) return { text: `$(watch) ${job}`, left: null, state: 'connecting' };
    if (status.state && status.state !== 'running') {
        return { text: `$(debug-stop) ${job}: stopping`, left: 0, state: status.state };
    }
    const left = Math.max(0, Number(status.seconds_left) - elapsedSeconds);
    return { text: `$(watch) ${job} · idle stop in ${formatDuration(left)}`, left, state: 'running' };
}

module.exports = { describe, formatDuration };
