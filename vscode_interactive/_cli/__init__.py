"""One module per ``vscode-interactive`` subcommand; see :mod:`vscode_interactive.cli`."""
