"""The library's own VS Code extension: plain CommonJS package data, packed on demand.

The JavaScript files and ``package.json`` beside this module are the extension itself (no
npm build, no network); :mod:`._pack` turns them into a deterministic ``.vsix`` whose
version carries a hash of their content, so the installer recognises it by identity in
``extensions.json`` like any other extension. Nothing is imported here.
"""
