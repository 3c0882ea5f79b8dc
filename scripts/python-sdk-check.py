"""Drives mem0-mcp with the official Python MCP SDK (PyPI `mcp`), which validates every response
against the protocol types and each tool's output schema: lists the tools and calls every one,
aliases included, on the embedded database and, given a URL, on PostgreSQL.

    python3 -m venv .venv && .venv/bin/pip install 'mcp>=2.3'
    MEM0_TOKEN=… MEM0_USER_ID=… .venv/bin/python scripts/python-sdk-check.py target/debug/mem0-mcp [postgresql://…]

With `--http URL` it drives a running team server (`serve --http`) with the SDK's Streamable
HTTP client instead, sending MEM0_TOKEN and MEM0_USER_ID as X-MCP-Token / X-MCP-UserID:

    MEM0_TOKEN=… MEM0_USER_ID=… python scripts/python-sdk-check.py --http http://127.0.0.1:13370/mcp/
"""
import asyncio
import os
import sys
import tempfile
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

async def main(binary, env):
    params = StdioServerParameters(command=binary, args=[], env=env)
    async with stdio_client(params) as (r, w):
        await exercise(r, w)

async def main_http(url):
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client
    headers = {"X-MCP-Token": os.environ["MEM0_TOKEN"], "X-MCP-UserID": os.environ["MEM0_USER_ID"]}
    async with create_mcp_http_client(headers=headers) as http:
        async with streamable_http_client(url, http_client=http) as streams:
            await exercise(streams[0], streams[1])

async def exercise(r, w):
        async with ClientSession(r, w) as s:
            init = await s.initialize()
            tools = await s.list_tools()
            names = sorted(t.name for t in tools.tools)
            print("tools:", names)
            add = await s.call_tool("add_memory", {"content": "py client fact pnpm-lock.yaml", "tags": ["py"], "metadata": {"a": 1}})
            assert not add.is_error, add
            mid = add.structured_content["memory"]["id"]
            calls = [
                ("search_memories", {"query": "pnpm-lock.yaml"}),
                ("list_memories", {"limit": 5}),
                ("get_memory", {"id": mid}),
                ("update_memory", {"id": mid, "content": "py client fact updated"}),
                ("memory_history", {"id": mid}),
                ("memory_status", {}),
                ("delete_memory", {"id": mid}),
                ("delete_all_memories", {"confirm": True, "dry_run": True}),
                ("add_coding_preference", {"text": "alias works"}),
                ("search_coding_preferences", {"query": "alias"}),
                ("get_all_coding_preferences", {}),
            ]
            for name, args in calls:
                res = await s.call_tool(name, args)
                assert not res.is_error, (name, res)
                assert res.structured_content is not None and "scope" in res.structured_content, name
            bad = await s.call_tool("get_memory", {"id": "nope"})
            assert bad.is_error
            print("ok:", init.server_info.name, init.server_info.version, init.protocol_version)

if sys.argv[1] == "--http":
    asyncio.run(main_http(sys.argv[2]))
    sys.exit(0)
binary = os.path.abspath(sys.argv[1])
base = {"PATH": os.environ["PATH"], "HOME": tempfile.mkdtemp(), "MEM0_DATA_DIR": tempfile.mkdtemp(),
        "PROJECT_ID_MODE": "manual", "PROJECT_ID": "py", "MEM0_LOG": "warn"}
# A token for PostgreSQL (`mem0-mcp token create`) is passed through from the environment.
credentials = {k: os.environ[k] for k in ("MEM0_TOKEN", "MEM0_USER_ID") if k in os.environ}
asyncio.run(main(binary, base))
if len(sys.argv) > 2:
    asyncio.run(main(binary, base | credentials | {"MEM0_DATABASE_URL": sys.argv[2]}))
