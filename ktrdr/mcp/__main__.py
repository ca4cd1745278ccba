"""``python -m ktrdr.mcp``: see :mod:`ktrdr.mcp.entry`."""

import sys

if __name__ == "__main__":
    try:
        from ktrdr.mcp.entry import main
    except ModuleNotFoundError as error:
        if (error.name or "").split(".")[0] != "mcp":
            raise
        print(
            "python -m ktrdr.mcp: the MCP server needs the mcp extra (the MCP SDK is not "
            "installed): uv sync --extra mcp",
            file=sys.stderr,
        )
        raise SystemExit(2) from error
    main()
