"""The MCP face: the guidance as tools and resources for assistants that call tools over MCP."""
