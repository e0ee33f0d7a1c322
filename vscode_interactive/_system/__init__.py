"""The real adapters behind the Protocols in :mod:`vscode_interactive._ports`, split by concern.

Only these modules touch ``time``, ``subprocess``, ``os.environ``, ``signal`` and the network;
each adapter is thin: no decisions, only effects. Import the module you need; this
``__init__`` imports nothing, so naming the package costs nothing.

* :mod:`._os`: clock, environment, signals, wakeup (self-pipe), ``PATH``;
* :mod:`._processes`: process groups and commands (argv lists, never a shell);
* :mod:`._network`: artifact fetches, ``/healthz``, free ports, the IDE windows' CLI sockets;
* :mod:`._files`: the one atomic write, private secrets, log tails.
"""
