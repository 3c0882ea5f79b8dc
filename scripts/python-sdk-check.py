"""Drives mem0-mcp with the official Python MCP SDK (PyPI `mcp`), which validates every response
against the protocol types and each tool's output schema: lists the tools and calls every one,
aliases included, lists and reads the resources and gets the prompts, on the embedded database
and, given a URL, on PostgreSQL.

    python3 -m venv .venv && .venv/bin/pip install 'mcp>=2.3'
    MEM0_TOKEN=… MEM0_USER_ID=… .venv/bin/python scripts/python-sdk-check.py target/debug/mem0-mcp [postgresql://…]

With `--http URL` it drives a running team server (`serve --http`) with the SDK's Streamable
HTTP client instead, sending MEM0_TOKEN and MEM0_USER_ID as X-MCP-Token / X-MCP-UserID:

    MEM0_TOKEN=… MEM0_USER_ID=… python scripts/python-sdk-check.py --http http://127.0.0.1:13370/mcp/
"""
import asyncio
import json
import os
import sys
import tempfile
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

async def main(binary, env):
    params = StdioServerParameters(command=binary, args=[], env=env)
    async with stdio_client(params) as (r, w):
        await exercise(r, w, resources=True)

async def main_http(url):
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client
    headers = {"X-MCP-Token": os.environ["MEM0_TOKEN"], "X-MCP-UserID": os.environ["MEM0_USER_ID"]}
    async with create_mcp_http_client(headers=headers) as http:
        async with streamable_http_client(url, http_client=http) as streams:
            await exercise(streams[0], streams[1], resources=True)

async def exercise(r, w, resources):
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
            if resources:
                await exercise_resources(s)
            print("ok:", init.server_info.name, init.server_info.version, init.protocol_version)

async def exercise_resources(s):
            kept = await s.call_tool("add_memory", {"content": "py resource fact", "expires_at": "2099-01-01T00:00:00Z"})
            kid = kept.structured_content["memory"]["id"]
            resources = await s.list_resources()
            uris = [str(r.uri) for r in resources.resources]
            assert uris[0] == "mem0://status" and f"mem0://memories/{kid}" in uris, uris
            templates = await s.list_resource_templates()
            assert templates.resource_templates[0].uri_template == "mem0://memories/{id}", templates
            status = json.loads((await s.read_resource("mem0://status")).contents[0].text)
            assert status["expiring_within_7_days"] == 0 and status["count"] >= 1, status
            one = json.loads((await s.read_resource(f"mem0://memories/{kid}")).contents[0].text)
            assert one["memory"]["expires_at"] == "2099-01-01T00:00:00.000000Z", one
            prompts = sorted(p.name for p in (await s.list_prompts()).prompts)
            assert prompts == ["recall", "remember"], prompts
            recall = await s.get_prompt("recall", {"topic": "pnpm"})
            assert "search_memories" in recall.messages[0].content.text, recall
            remember = await s.get_prompt("remember", {"fact": "we use pnpm"})
            assert "add_memory" in remember.messages[0].content.text, remember

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
