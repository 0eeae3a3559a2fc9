"""The official MCP SDK's client, starting `procure-ai mcp` over stdio: a helper for the tests that use it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import anyio
from conftest import ROOT
from mcp import Client, StdioServerParameters


def server_params(data_dir: Path, *flags: str) -> StdioServerParameters:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PROCURE_AI_DATA_DIR": str(data_dir)}
    return StdioServerParameters(command=sys.executable, args=["-m", "assistant.cli", "mcp", *flags], env=env, cwd=str(ROOT))


def with_client(data_dir: Path, work, *flags: str, mode: str = "auto"):
    """Start `procure-ai mcp` over `data_dir`, run `await work(client)`, and return what it returns."""

    async def main():
        async with Client(server_params(data_dir, *flags), mode=mode, read_timeout_seconds=120) as client:
            return await work(client)

    return anyio.run(main)


def call_mcp(data_dir: Path, calls: list[tuple[str, dict]], *flags: str):
    """Each (tool, arguments) called in one session, in order: their results."""

    async def work(client):
        return [await client.call_tool(name, arguments) for name, arguments in calls]

    return with_client(data_dir, work, *flags)
