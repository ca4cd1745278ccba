"""The MCP server: an agent drives research (validate, train, backtest, compare) through it.

A thin client of the backend's public API (:class:`ktrdr.client.ApiClient`, the bodies of
:mod:`ktrdr.core.api_models`), built on the official MCP Python SDK (the ``mcp`` extra).
No compute imports: it runs on the backend image.

    python -m ktrdr.mcp                      # stdio: what an agent launches
    python -m ktrdr.mcp --transport http     # streamable HTTP on KTRDR_MCP_HOST:KTRDR_MCP_PORT
    ktrdr mcp [--transport http]             # the same, from the command line

It reaches the backend at ``KTRDR_API_URL`` and sends ``KTRDR_API_TOKEN`` on; over HTTP
it requires that same token from its clients when one is configured.
"""
