# The few names of flytekit (no py.typed) that vscode_interactive._compat._flytekit uses.
